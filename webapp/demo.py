"""The demo estate that `make run` loads: Chinese names, every role, jobs in every state."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlite_utils import Database

import sync

from .auth import hash_password, utcnow
from .db import get_db, migrate
from .demo_inspections import load_inspections
from .demo_places import load_places
from .domain import notification_scan, settings
from .domain.handlers import HANDLERS

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建"
    "华志强海燕红梅玉兰凤英文博子涵欣怡浩然梓萱宇轩雨桐"
)
DEMO_PASSWORD = "demo1234"

# username, name, department, role, estates (indexes)
STAFF = [
    ("admin", "系统管理员", "management", "admin", (0, 1)),
    ("manager", "周经理", "management", "manager", (0, 1)),
    ("desk", "林客服", "service", "desk", (0,)),
    ("desk2", "何客服", "service", "desk", (1,)),
    ("callback", "唐回访", "service", "callback", (0, 1)),
    ("supervisor", "郑主管", "maintenance", "supervisor", (0,)),
    # Security and cleaning have a supervisor each, who take their department's
    # routine callbacks.
    ("sec_lead", "冯队长", "security", "supervisor", (0,)),
    ("clean_lead", "韩主管", "cleaning", "supervisor", (0,)),
    ("tech", "王师傅", "maintenance", "technician", (0,)),
    ("tech2", "李师傅", "maintenance", "technician", (0,)),
    ("tech3", "赵师傅", "maintenance", "technician", (1,)),
    ("guard", "孙保安", "security", "guard", (0,)),
    ("cleaner", "钱阿姨", "cleaning", "cleaner", (0,)),
]
ESTATES = [("CH", "翠湖花园", "滨江路88号", 4, 20, 4), ("JX", "锦绣家园", "人民路12号", 1, 6, 4)]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def load_people(db: Database, rng: random.Random, password_hash: str) -> dict[str, int]:
    estate_ids = []
    for code, name, address, buildings, floors, per_floor in ESTATES:
        eid = db.execute("INSERT INTO estates (code, name, address) VALUES (?,?,?)",
                         [code, name, address]).lastrowid
        estate_ids.append(eid)
        for b in range(1, buildings + 1):
            bid = db.execute("INSERT INTO buildings (estate_id, name) VALUES (?,?)",
                             [eid, f"{b}栋"]).lastrowid
            for f in range(1, floors + 1):
                for n in range(1, per_floor + 1):
                    uid = db.execute(
                        "INSERT INTO units (estate_id, building_id, number, floor)"
                        " VALUES (?,?,?,?)",
                        [eid, bid, f"{f}{n:02d}", f]).lastrowid
                    db.execute(
                        "INSERT INTO residents (unit_id, name, phone, is_owner) VALUES (?,?,?,1)",
                        [uid, _name(rng), f"13{rng.randrange(10**9):09d}"])
        db.execute("INSERT INTO common_areas (estate_id, name, kind) VALUES (?,?,?)",
                   [eid, "地下车库", "area"])
        db.execute("INSERT INTO common_areas (estate_id, name, kind) VALUES (?,?,?)",
                   [eid, "1号电梯", "equipment"])
    users = {}
    for username, name, dept, role, estates in STAFF:
        uid = db.execute(
            "INSERT INTO users (username, password_hash, display_name, department, role, phone)"
            " VALUES (?,?,?,?,?,?)",
            [username, password_hash, name, dept, role, f"139{rng.randrange(10**8):08d}"],
        ).lastrowid
        users[username] = uid
        for i in estates:
            db.execute("INSERT INTO user_estates (user_id, estate_id) VALUES (?,?)",
                       [uid, estate_ids[i]])
    return users


def _cmd(db: Database, user: int, kind: str, target: str, now: datetime, **payload) -> dict:
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                       user_id=user, device_id="demo")
    outcome = sync.apply(db, cmd, HANDLERS, now)
    assert outcome.status == "applied", (kind, outcome.result)
    return outcome.result


PROBLEMS = [
    ("plumbing", "small", "厨房水龙头漏水"),
    ("electrical", "emergency", "整户停电，跳闸合不上"),
    ("doors_windows", "small", "入户门锁芯卡住"),
    ("walls_roof", "medium", "卫生间顶部渗水，需查楼上"),
    ("plumbing", "emergency", "楼道水管爆裂"), ("lift", "small", "电梯按钮不亮"),
    ("security", "small", "单元门禁刷卡无反应"), ("cleaning", "small", "楼道有垃圾未清理"),
    ("electrical", "small", "阳台灯不亮"), ("greening", "small", "楼前草坪枯黄"),
]
# The furthest state each demo job reaches, so every state is on show.
PATHS = ["new", "pooled", "assigned", "accepted", "arrived", "paused", "completed", "closed",
         "cancelled", "closed", "arrived", "assigned", "closed", "closed"]


def load_jobs(db: Database, users: dict[str, int], rng: random.Random, now: datetime) -> None:
    units = [r["id"] for r in db.query("SELECT id FROM units WHERE estate_id = 1")]
    estate1 = 1
    workers = {"maintenance": "tech", "security": "guard", "cleaning": "cleaner"}
    for i, path in enumerate(PATHS):
        category, job_class, text = PROBLEMS[i % len(PROBLEMS)]
        t = now - timedelta(hours=len(PATHS) - i, minutes=rng.randrange(50))
        unit = rng.choice(units)
        res = next(iter(db.query("SELECT name, phone FROM residents WHERE unit_id = ?", [unit])))
        job = _cmd(db, users["desk"], "job.create", "job:new", t, estate_id=estate1,
                   unit_id=unit, reporter_name=res["name"][0], reporter_phone=res["phone"],
                   source=rng.choice(["phone", "walk_in", "qr"]), category=category,
                   job_class=job_class, description=text, photos=[])
        target = f"job:{job['job_id']}"
        if path == "new":
            continue
        if path == "cancelled":
            _cmd(db, users["desk"], "job.cancel", target, t + timedelta(minutes=2),
                 reason="住户已自行修好")
            continue
        dept = {"security": "security", "cleaning": "cleaning", "greening": "cleaning"}.get(
            category, "maintenance")
        worker = users[workers[dept]]
        if path == "pooled":
            _cmd(db, users["desk"], "job.dispatch", target, t + timedelta(minutes=3),
                 to=f"pool:{dept}")
            continue
        _cmd(db, users["desk"], "job.dispatch", target, t + timedelta(minutes=3),
             to=f"user:{worker}")
        steps = ["assigned", "accepted", "arrived", "paused", "completed", "closed"]
        for n, step in enumerate(steps[1: steps.index(path) + 1], start=1):
            at = t + timedelta(minutes=5 + 10 * n)
            if step == "accepted":
                _cmd(db, worker, "job.accept", target, at)
            elif step == "arrived":
                _cmd(db, worker, "job.arrive", target, at)
            elif step == "paused":
                if path != "paused":
                    continue
                _cmd(db, worker, "job.pause", target, at, reason="住户要求改天上门",
                     agreed_at=(now + timedelta(days=1)).isoformat(timespec="seconds"))
            elif step == "completed":
                _cmd(db, worker, "job.complete", target, at, work_done="已更换配件并测试正常",
                     materials="配件1个", photos=[])
            elif step == "closed":
                _cmd(db, worker, "job.signoff", target, at, outcome="absent", reason="住户不在家")


COMPLAINTS = [
    # category, level, content, how far it gets
    ("cleaning", "minor", "楼道垃圾三天没人收", "new"),
    ("service", "important", "前台客服态度冷淡，不理睬住户", "verified"),
    ("repairs", "important", "报修两次漏水都没修好", "dispatched"),
    ("security", "major", "车库车辆被刮，监控说坏了", "escalated"),
    ("neighbours", "minor", "楼上装修噪音太大", "explained"),
    ("facilities", "minor", "小区路灯不亮", "answered"),
    ("parking", "minor", "访客车位被长期占用", "closed"),
]


def load_complaints(db: Database, users: dict[str, int], rng: random.Random,
                    now: datetime) -> None:
    units = [r["id"] for r in db.query("SELECT id FROM units WHERE estate_id = 1")]
    for i, (category, level, content, goal) in enumerate(COMPLAINTS):
        t = now - timedelta(hours=30 - 3 * i)
        unit = rng.choice(units)
        res = next(iter(db.query("SELECT name, phone FROM residents WHERE unit_id = ?", [unit])))
        cid = _cmd(db, users["desk"], "complaint.create", "complaint:new", t, estate_id=1,
                   unit_id=unit, complainant_name=res["name"], contact=res["phone"],
                   channel=rng.choice(["phone", "walk_in", "email"]), identity="owner",
                   category=category, level=level, content=content, photos=[])["complaint_id"]
        target = f"complaint:{cid}"
        if goal == "new":
            continue
        _cmd(db, users["desk"], "complaint.verify", target, t + timedelta(minutes=20),
             verification="电话核实，情况属实")
        if goal == "verified":
            continue
        if goal == "explained":
            _cmd(db, users["desk"], "complaint.route", target, t + timedelta(minutes=40),
                 path="not_ours", reason="属邻里纠纷", pointed_channel="社区居委会")
            continue
        if goal == "escalated":
            _cmd(db, users["desk"], "complaint.route", target, t + timedelta(minutes=40),
                 path="difficult", reason="涉及赔偿")
            continue
        _cmd(db, users["desk"], "complaint.route", target, t + timedelta(minutes=40),
             path="ordinary", reason="转相关部门处理",
             to="dept:" + {"repairs": "maintenance", "facilities": "maintenance",
                           "parking": "security"}.get(category, "cleaning"))
        if goal == "dispatched":
            continue
        _cmd(db, users["desk"], "complaint.answer", target, t + timedelta(hours=2),
             outcome="已处理", solution="当日处理完毕", prevention="纳入日常巡查")
        if goal == "closed":
            _cmd(db, users["desk"], "complaint.follow_up", target, t + timedelta(hours=4),
                 satisfied="1", note="住户表示满意")


def load_callbacks(db: Database, users: dict[str, int], now: datetime) -> None:
    """Record some of the open callbacks, so the lists show every state."""
    tasks = list(db.query("SELECT id FROM callback_tasks WHERE status = 'open' ORDER BY id"))
    if tasks:
        _cmd(db, users["desk"], "callback.record", f"callback:{tasks[0]['id']}", now,
             method="phone", reached="1", ratings={"attitude": 5, "quality": 4,
                                                   "timeliness": 5, "overall": 5},
             comments="师傅很专业")
    if len(tasks) > 1:
        _cmd(db, users["desk"], "callback.record", f"callback:{tasks[1]['id']}", now,
             method="phone", reached="0")


FEEDBACK = [
    # who, estate, place (common area name, or building and room), category, note, desk step
    ("cleaner", 1, "地下车库", "litter", "B2层车位旁堆着装修垃圾", None),
    ("cleaner", 1, "1号电梯", "odour", "轿厢里有异味", None),
    ("guard", 1, "地下车库", "damage", "入口道闸抬杆卡住", None),
    ("cleaner", 1, ("1栋", "101"), "remark", "住户说楼道灯晚上不亮", "answer"),
    ("cleaner", 1, "1号电梯", "other", "按钮面板上贴了小广告", "close"),
    ("cleaner", 1, "地下车库", "pests", "垃圾房附近发现老鼠", None),
    ("tech3", 2, "地下车库", "litter", "出口坡道有散落垃圾", None),
]


def load_feedback(db: Database, users: dict[str, int], now: datetime) -> None:
    """Environment feedback from the field, some of it handled by the desk."""
    for n, (who, estate, place, category, note, step) in enumerate(FEEDBACK):
        at = now - timedelta(hours=6 - n)
        if isinstance(place, tuple):
            building = db.execute("SELECT id FROM buildings WHERE estate_id = ? AND name = ?",
                                  [estate, place[0]]).fetchone()[0]
            where = {"place": "unit", "building_id": str(building), "unit_number": place[1]}
        else:
            area = db.execute("SELECT id FROM common_areas WHERE estate_id = ? AND name = ?",
                              [estate, place]).fetchone()[0]
            where = {"place": f"area:{area}"}
        fid = _cmd(db, users[who], "feedback.create", "feedback:new", at, **where,
                   category=category, note=note, photos=[])["feedback_id"]
        later = at + timedelta(minutes=20)
        if step == "answer":
            _cmd(db, users["desk"], "feedback.answer", f"feedback:{fid}", later,
                 answer="已通知维修部检修楼道灯")
        elif step == "close":
            _cmd(db, users["desk"], "feedback.close", f"feedback:{fid}", later, note="已清理")


def load(db: Database, now: datetime, seed: int = 7, password_hash: str | None = None) -> None:
    rng = random.Random(seed)
    with db.atomic():
        users = load_people(db, rng, password_hash or hash_password(DEMO_PASSWORD))
    load_jobs(db, users, rng, now)
    load_complaints(db, users, rng, now)
    load_callbacks(db, users, now)
    load_places(db, users, now)
    load_inspections(db, users, now)
    load_feedback(db, users, now)
    load_team_callbacks(db, users, rng, now)
    load_notifications(db, now)


def load_notifications(db: Database, now: datetime) -> None:
    """The demo's commands told people of their jobs; those already taken up have been
    read and opened (when accepted), and the scan adds the warnings due now, so each
    bell shows what is still news."""
    with db.atomic():
        db.execute(
            "UPDATE notifications SET read_at = j.accepted_at, opened_at = j.accepted_at"
            " FROM announcements a JOIN jobs j ON 'job:' || j.id = a.target"
            " WHERE a.id = notifications.announcement_id AND j.accepted_at IS NOT NULL"
            " AND j.assignee_id = notifications.user_id")
    notification_scan.scan(db, now)


def load_team_callbacks(db: Database, users: dict[str, int], rng: random.Random,
                        now: datetime) -> None:
    """锦绣家园 has a callback team: its repairs' callbacks wait in 唐回访's list."""
    estate = db.execute("SELECT id FROM estates WHERE code = 'JX'").fetchone()[0]
    settings.save(db, estate, {"callback_policy": 1})
    units = [r["id"] for r in db.query("SELECT id FROM units WHERE estate_id = ?", [estate])]
    for i, (text, work) in enumerate((("卫生间地漏堵塞", "疏通地漏"), ("客厅灯不亮", "更换灯管"),
                                      ("阳台推拉门卡住", "调整滑轮"))):
        t = now - timedelta(hours=6 - i)
        unit = rng.choice(units)
        res = next(iter(db.query("SELECT name, phone FROM residents WHERE unit_id = ?", [unit])))
        job = _cmd(db, users["desk2"], "job.create", "job:new", t, estate_id=estate,
                   unit_id=unit, reporter_name=res["name"][0], reporter_phone=res["phone"],
                   source="phone", category="plumbing", job_class="small", description=text,
                   photos=[])
        target = f"job:{job['job_id']}"
        _cmd(db, users["desk2"], "job.dispatch", target, t + timedelta(minutes=3),
             to=f"user:{users['tech3']}")
        for n, kind in enumerate(("job.accept", "job.arrive"), start=1):
            _cmd(db, users["tech3"], kind, target, t + timedelta(minutes=5 + 10 * n))
        _cmd(db, users["tech3"], "job.complete", target, t + timedelta(minutes=40),
             work_done=work, materials="", photos=[])
        _cmd(db, users["tech3"], "job.signoff", target, t + timedelta(minutes=45),
             outcome="absent", reason="住户不在家")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Migrate and load the demo estate (once; does nothing if data exists)."""
    db = get_db()
    migrate(db)
    if db["estates"].count:
        click.echo("demo data already present")
        return
    load(db, utcnow())
    click.echo(f"demo loaded; every account's password is {DEMO_PASSWORD}")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
