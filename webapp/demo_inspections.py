"""Demo inspections: the six checklists, today's round for 郑主管, and yesterday's visit to
the car park that found a fault (its job not made yet: the inspection page offers it)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlite_utils import Database

import sync

from .domain.handlers import HANDLERS

M, S, C = "maintenance", "security", "cleaning"
TEMPLATES = [
    ("户内交房验收", "unit", [
        ("入户门及门锁开关顺畅", M), ("门窗开关灵活，密封完好，玻璃无破损", M),
        ("墙面、顶棚无裂缝、空鼓、渗水", M), ("地面平整，瓷砖无空鼓、破损", M),
        ("水龙头、管道无渗漏，下水通畅", M), ("插座、开关、灯具通电正常", M),
        ("可视对讲、门铃正常", S), ("户内清洁，无装修垃圾", C), ("水、电、燃气表读数已记录", M),
    ]),
    ("楼道及楼梯巡查", "corridor", [
        ("楼道灯、应急照明正常", M), ("安全出口标识完好、亮灯", M),
        ("消防通道畅通，无杂物堆放", S), ("防火门关闭，闭门器完好", M),
        ("楼梯扶手、踏步完好", M), ("地面、墙面、扶手清洁", C), ("单元门禁、门锁正常", S),
        ("无乱贴小广告", C),
    ]),
    ("设备机房巡查", "plant_room", [
        ("设备运行声音、温度正常", M), ("仪表读数在正常范围", M), ("管道、阀门无渗漏", M),
        ("配电柜指示正常，无焦糊味", M), ("机房门锁闭，警示标识完好", S),
        ("排水、通风、照明良好", M), ("机房整洁，无杂物", C), ("运行记录已填写", M),
    ]),
    ("电梯巡查", "lift", [
        ("轿厢照明、风扇正常", M), ("按钮、楼层显示正常", M), ("紧急呼叫（五方通话）畅通", M),
        ("开关门顺畅，防夹装置有效", M), ("平层准确，运行无异响", M),
        ("年检合格证在有效期内并张贴", M), ("轿厢内清洁，无小广告", C), ("监控摄像头正常", S),
    ]),
    ("消防设施巡查", "fire", [
        ("灭火器在位，压力在绿区，在有效期内", S), ("消火栓箱完好，水带、水枪齐全", S),
        ("消火栓水压正常", M), ("烟感、喷淋头无遮挡、无损坏", M),
        ("应急照明、疏散指示正常", M), ("消防通道、安全出口畅通", S),
        ("消防控制室值班记录齐全", S),
    ]),
    ("园区及车库巡查", "grounds", [
        ("道路路面平整无破损", M), ("路灯、车库照明正常", M), ("排水沟、井盖完好，无积水", M),
        ("绿化修剪整齐，无枯死", C), ("垃圾桶清洁，垃圾及时清运", C),
        ("车辆停放有序，消防通道无占用", S), ("道闸、监控、岗亭设施正常", S),
        ("标识标牌完好", M),
    ]),
]
# Today's round: common areas and equipment of 翠湖花园 by name, and one unit to hand over.
ROUND = ["地下车库", "1号电梯", "1栋消防栓", "1号水泵房水泵"]
ROUND_UNIT = "1栋-101"


def _apply(db: Database, user_id: int, kind: str, target: str, now: datetime,
           **payload) -> dict:
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                       user_id=user_id, device_id="demo")
    outcome = sync.apply(db, cmd, HANDLERS, now)
    assert outcome.status == "applied", (kind, outcome.result)
    return outcome.result


def _place_ref(db: Database, name: str) -> str | None:
    for table, place_type in (("common_areas", "area"), ("equipment", "equipment")):
        row = db.execute(f"SELECT id FROM {table} WHERE estate_id = 1 AND name = ?",
                         [name]).fetchone()
        if row:
            return f"{place_type}:{row[0]}"
    return None


def load_inspections(db: Database, users: dict[str, int], now: datetime) -> None:
    admin, supervisor = users["admin"], users["supervisor"]
    for name, kind, rows in TEMPLATES:
        _apply(db, admin, "inspection.template_save", "template:new", now - timedelta(days=30),
               name=name, place_kind=kind, active=True,
               items=[{"id": "", "text": t, "department": d, "active": True} for t, d in rows])
    # Yesterday: some of the car park's lights were out.
    garage = _place_ref(db, "地下车库")
    assert garage is not None
    template = db.execute("SELECT id FROM inspection_templates WHERE place_kind = 'grounds'"
                          ).fetchone()[0]
    items = [r[0] for r in db.execute("SELECT id FROM inspection_items WHERE template_id = ? "
                                      "ORDER BY position", [template])]
    results = {str(i): {"result": "pass", "note": "", "photos": [], "job": False} for i in items}
    results[str(items[1])] = {"result": "fail", "note": "B2层3盏灯不亮", "photos": [],
                              "job": False}
    results[str(items[3])] = {"result": "na", "note": "车库内无绿化", "photos": [], "job": False}
    yesterday = now - timedelta(days=1)
    _apply(db, supervisor, "inspection.record", garage, yesterday, template_id=str(template),
           visited_at=(yesterday - timedelta(minutes=12)).isoformat(),
           items=[str(i) for i in items], results=results)
    for name in ROUND:
        ref = _place_ref(db, name)
        if ref:
            _apply(db, supervisor, "inspection.round_add", "round:new", now, place=ref)
    _apply(db, supervisor, "inspection.round_add", "round:new", now, estate_id=1,
           unit=ROUND_UNIT)
