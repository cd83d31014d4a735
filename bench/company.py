"""What the generated company is made of: staff, names, places, problems, and how
often each happens. The generator draws from these."""

from __future__ import annotations

from datetime import datetime, timedelta

DAY = 86400
HOUR = 3600
MINUTE = 60

# Staff of one estate: (role, department, how many, name suffix).
STAFF = [
    ("desk", "service", 3, ""),
    ("technician", "maintenance", 10, ""),
    ("guard", "security", 8, ""),
    ("cleaner", "cleaning", 6, ""),
    ("supervisor", "maintenance", 1, ""),
    ("callback", "service", 1, ""),
    ("manager", "management", 1, ""),
]
WORKER_ROLE = {"maintenance": "technician", "security": "guard", "cleaning": "cleaner"}
REGIONS = 5  # regional managers, 10 estates each; plus one admin over all

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志海燕红梅玉凤文博涵欣怡浩然梓萱宇轩雨桐"
)
ESTATE_PREFIX = "翠湖 锦绣 碧水 金色 阳光 华庭 绿地 滨江 紫荆 御景 星河 东方".split()
ESTATE_SUFFIX = "花园 家园 名苑 公馆 新城".split()
ROADS = "滨江路 人民路 解放路 建设路 中山路 和平路 长江路 黄河路 新华路 文化路".split()

CATEGORY_WEIGHTS = {
    "plumbing": 25, "electrical": 18, "doors_windows": 12, "walls_roof": 8, "lift": 5,
    "public_facility": 7, "security": 6, "parking": 3, "cleaning": 8, "greening": 3,
    "pests": 2, "other": 3,
}
# Share of a category's reports that concern one unit (the rest: common areas).
UNIT_SHARE = {
    "plumbing": 0.95, "electrical": 0.9, "doors_windows": 0.9, "walls_roof": 0.9,
    "lift": 0.1, "public_facility": 0.1, "security": 0.3, "parking": 0.2, "cleaning": 0.2,
    "greening": 0.05, "pests": 0.6, "other": 0.7,
}
CLASS_WEIGHTS = {"emergency": 8, "small": 75, "medium": 17}
SOURCE_WEIGHTS = {"phone": 58, "walk_in": 14, "qr": 22, "letter": 2, "email": 4}

PROBLEMS = {
    "plumbing": ["厨房水龙头漏水", "卫生间下水道堵塞", "马桶水箱一直流水", "热水器接口渗水",
                 "阳台地漏返味", "洗手盆下水管漏水", "楼道水管爆裂"],
    "electrical": ["整户停电，跳闸合不上", "阳台灯不亮", "插座冒火花", "卫生间排风扇不转",
                   "客厅开关面板松动", "空调插座没电"],
    "doors_windows": ["入户门锁芯卡住", "卧室窗户关不严", "纱窗破损", "阳台推拉门脱轨",
                      "入户门闭门器漏油"],
    "walls_roof": ["卫生间顶部渗水，需查楼上", "外墙渗水,卧室墙面发霉", "客厅墙面开裂",
                   "顶楼屋面漏水", "厨房吊顶脱落"],
    "lift": ["电梯按钮不亮", "电梯运行有异响", "电梯门关不上", "电梯困人"],
    "public_facility": ["楼道灯不亮", "单元门闭门器坏了", "小区路灯不亮", "信报箱门掉了",
                        "消防栓箱门损坏"],
    "security": ["单元门禁刷卡无反应", "监控画面黑屏", "楼下有陌生人逗留", "门禁对讲没声音"],
    "parking": ["车位被占用", "道闸抬不起来", "地库照明不足", "车辆被刮蹭"],
    "cleaning": ["楼道有垃圾未清理", "垃圾桶满了没人倒", "电梯轿厢有污渍", "楼梯扶手很脏"],
    "greening": ["楼前草坪枯黄", "树枝挡住窗户", "绿化带有积水", "树木需要修剪"],
    "pests": ["地下室有老鼠", "楼道蟑螂多", "花园蚊虫多,需要消杀"],
    "other": ["楼上噪音扰民", "快递柜无法开门", "需要开具证明", "公共区域有异味"],
}
DETAILS = ["", "", "", ",已持续两天", ",晚上在家", ",请尽快处理", ",家里有老人",
           ",上午方便", ",请先电话联系", ",下班后在家"]
WORK = {
    "maintenance": ["已更换配件并测试正常", "已疏通并试水正常", "已紧固并调试", "已更换开关面板",
                    "已处理渗漏点,观察两天", "已重新接线并通电测试"],
    "security": ["已重启设备,恢复正常", "已现场查看并处理", "已联系业主挪车", "已更换读卡器"],
    "cleaning": ["已清理干净", "已修剪并清运", "已消杀并放置药饵", "已清运垃圾"],
}
MATERIALS = ["", "", "配件1个", "水龙头1个", "开关面板1个", "生料带1卷", "角阀2个", "灯泡2个",
             "密封胶1支", "读卡器1个"]
PAUSE_REASONS = ["住户要求改天上门", "需要订购配件", "需查楼上住户,楼上不在家", "住户不在家"]
CANCEL_REASONS = ["住户已自行修好", "重复报修", "不属于物业维修范围", "住户取消"]
REOPEN_REASONS = ["修好后又漏水", "住户反映问题依旧", "回访不满意"]

# Final status by the job's age: (younger than, {status: weight}). Recent jobs are
# open; a small share of old jobs is stuck.
STATUS_BY_AGE: list[tuple[float, dict[str, float]]] = [
    (1 * HOUR, {"new": 30, "pooled": 8, "assigned": 32, "accepted": 18, "arrived": 12}),
    (1 * DAY, {"new": 2, "pooled": 4, "assigned": 8, "accepted": 14, "arrived": 12,
               "paused": 6, "completed": 20, "closed": 31, "cancelled": 3}),
    (7 * DAY, {"pooled": 0.5, "assigned": 2, "accepted": 3, "arrived": 2, "paused": 6,
               "completed": 8, "closed": 75.5, "cancelled": 3}),
    (30 * DAY, {"assigned": 0.3, "accepted": 0.5, "arrived": 0.2, "paused": 3,
                "completed": 2, "closed": 90.5, "cancelled": 3.5}),
    (float("inf"), {"assigned": 0.1, "accepted": 0.1, "paused": 0.3, "completed": 0.5,
                    "closed": 94.9, "cancelled": 4.1}),
]
# Reports by hour of day, UTC (the estates are in UTC+8: 08:00 local is 00 UTC).
HOUR_WEIGHTS = [10, 10, 10, 10, 7, 7, 9, 9, 9, 9, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3]

EPOCH = datetime(1970, 1, 1)


def iso(t: int) -> str:
    """Seconds since the epoch as the app's naive UTC ISO time."""
    return (EPOCH + timedelta(seconds=t)).isoformat()
