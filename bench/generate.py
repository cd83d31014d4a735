"""Build the benchmark database: a large property-management company, in bulk SQL.

50 estates, 100,000 units (25 buildings of 20 floors each), one resident per
unit, 30 staff per estate, and 1,000,000 jobs over two years with what the app
itself would have written for them: the job row, the audit trail of every step,
the notes, the photo and signature records. Open jobs are mostly recent; a
small share of old jobs is stuck (paused, awaiting sign-off, never accepted),
as in real data.

The schema comes from the app's own migrations (webapp.db.migrate). Rows go in
with executemany inside one transaction. The result is cached in bench/out/,
keyed by VERSION: bump it whenever the data this module makes changes.
"""

from __future__ import annotations

import bisect
import calendar
import json
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from webapp.auth import hash_password, utcnow
from webapp.db import connect, migrate
from webapp.domain.jobs import ACTIVE_FIELD_STATUSES, CATEGORIES

VERSION = 1
OUT = Path(__file__).resolve().parent / "out"
PASSWORD = "bench-pass-1234"
SEED = 20251

ESTATES = 50
BUILDINGS = 25  # per estate
FLOORS = 20
PER_FLOOR = 4  # 25 x 20 x 4 = 2,000 units an estate, 100,000 in all
JOBS = 1_000_000
DAYS = 730
MEASURED_OPEN = 20  # open jobs of the measured technician

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
    "electrical": ["整户停电,跳闸合不上", "阳台灯不亮", "插座冒火花", "卫生间排风扇不转",
                   "客厅开关面板松动", "空调插座没电"],
    "doors_windows": ["入户门锁芯卡住", "卧室窗户关不严", "纱窗破损", "阳台推拉门脱轨",
                      "入户门闭门器漏油"],
    "walls_roof": ["卫生间顶部渗水,需查楼上", "外墙渗水,卧室墙面发霉", "客厅墙面开裂",
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


def db_path(out: Path = OUT) -> Path:
    return out / f"company-v{VERSION}.db"


def meta_path(out: Path = OUT) -> Path:
    return out / f"company-v{VERSION}.json"


def ensure(out: Path = OUT, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The cached data set's description, building it first if needed."""
    path, meta = db_path(out), meta_path(out)
    if path.exists() and meta.exists():
        info = json.loads(meta.read_text())
        info["cached"] = True
        log(f"using cached data set {path.name} (built {info['generated_at']}, "
            f"{info['generation_seconds']:.0f} s)")
        return info
    out.mkdir(parents=True, exist_ok=True)
    log(f"building the data set {path.name}; this takes a few minutes once")
    info = Builder(log).build(path)
    meta.write_text(json.dumps(info, ensure_ascii=False, indent=2))
    info["cached"] = False
    return info


def iso(t: int) -> str:
    return (EPOCH + timedelta(seconds=t)).isoformat()


class Picker:
    """Weighted choice with one random number."""

    def __init__(self, rng: random.Random, weights: dict[str, float]):
        self.rng = rng
        self.keys = list(weights)
        total, self.cum = 0.0, []
        for w in weights.values():
            total += w
            self.cum.append(total)
        self.total = total

    def __call__(self) -> str:
        return self.keys[bisect.bisect_right(self.cum, self.rng.random() * self.total)]


class _Stop(Exception):
    """The next step of a job would happen after `now`."""


WORKER = -1  # placeholder actor: the job's worker, chosen once its final status is known


class Builder:
    def __init__(self, log: Callable[[str], None]):
        self.log = log
        self.rng = random.Random(SEED)
        now = utcnow().replace(microsecond=0)
        self.now_dt = now
        self.now = calendar.timegm(now.timetuple())
        self.strokes = [self._strokes() for _ in range(64)]

    # -- helpers ------------------------------------------------------------

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{h[16:20]}-{h[20:]}"

    def _sha(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def _name(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

    def _strokes(self) -> str:
        """A signature_pad stroke list, thinned (real ones are 5-20 KB)."""
        rng, strokes = self.rng, []
        for _ in range(3):
            x, y, pts = rng.uniform(20, 200), rng.uniform(40, 120), []
            for i in range(6):
                x, y = x + rng.uniform(-8, 20), y + rng.uniform(-12, 12)
                pts.append({"x": round(x, 1), "y": round(y, 1), "pressure": 0.5, "time": i * 16})
            strokes.append({"penColor": "black", "points": pts})
        return json.dumps(strokes, separators=(",", ":"))

    # -- people and places --------------------------------------------------

    def people(self, conn: sqlite3.Connection) -> None:
        rng = self.rng
        names = [p + s for s in ESTATE_SUFFIX for p in ESTATE_PREFIX]
        estates = [(e, f"E{e:02d}", names[e - 1],
                    f"{ROADS[e % len(ROADS)]}{rng.randrange(1, 500)}号")
                   for e in range(1, ESTATES + 1)]
        conn.executemany("INSERT INTO estates (id, code, name, address) VALUES (?,?,?,?)", estates)
        buildings, units, residents, areas, settings = [], [], [], [], []
        self.units: dict[int, range] = {}
        self.resident: list[tuple[str, str]] = [("", "")]  # by unit id
        bid = uid = 0
        for e in range(1, ESTATES + 1):
            first = uid + 1
            for b in range(1, BUILDINGS + 1):
                bid += 1
                buildings.append((bid, e, f"{b}栋"))
                for f in range(1, FLOORS + 1):
                    for n in range(1, PER_FLOOR + 1):
                        uid += 1
                        units.append((uid, e, bid, f"{f}{n:02d}", f))
                        name, phone = self._name(), f"13{rng.randrange(10**9):09d}"
                        self.resident.append((name, phone))
                        residents.append((uid, uid, name, phone, int(rng.random() < 0.8)))
            self.units[e] = range(first, uid + 1)
            for i, (area, kind) in enumerate([("地下车库", "area"), ("中心花园", "area"),
                                              ("1号电梯", "equipment"), ("2号电梯", "equipment"),
                                              ("消防泵房", "equipment")]):
                areas.append((e * 10 + i, e, area, kind))
            if e % 5 == 0:
                settings += [(e, "arrive_ordinary_minutes", "45"),
                             (e, "complete_small_hours", "48")]
        conn.executemany("INSERT INTO buildings (id, estate_id, name) VALUES (?,?,?)", buildings)
        conn.executemany("INSERT INTO units (id, estate_id, building_id, number, floor)"
                         " VALUES (?,?,?,?,?)", units)
        conn.executemany("INSERT INTO residents (id, unit_id, name, phone, is_owner)"
                         " VALUES (?,?,?,?,?)", residents)
        conn.executemany("INSERT INTO common_areas (id, estate_id, name, kind) VALUES (?,?,?,?)",
                         areas)
        conn.executemany("INSERT INTO estate_settings (estate_id, key, value) VALUES (?,?,?)",
                         settings)

        t = time.monotonic()
        pw = hash_password(PASSWORD)  # once: scrypt is slow by design
        self.log(f"  password hashed once in {time.monotonic() - t:.2f} s")
        users, links = [], []
        self.staff: dict[tuple[int, str], list[int]] = {}
        self.measured: dict[str, int] = {}

        def add(username: str, display: str, dept: str, role: str, estates: list[int]) -> int:
            uid = len(users) + 1
            users.append((uid, username, pw, display, dept, role, f"139{rng.randrange(10**8):08d}"))
            links.extend((uid, e) for e in estates)
            return uid

        add("admin", "系统管理员", "management", "admin", list(range(1, ESTATES + 1)))
        per_region = ESTATES // REGIONS
        for r in range(REGIONS):
            add(f"region{r + 1}", self._name() + "总监", "management", "manager",
                list(range(r * per_region + 1, (r + 1) * per_region + 1)))
        for e in range(1, ESTATES + 1):
            for role, dept, count, _ in STAFF:
                for i in range(1, count + 1):
                    username = f"e{e:02d}-{role}{i}"
                    if e == 1 and i == 1 and role in ("technician", "desk"):
                        username = "bench_tech" if role == "technician" else "bench_desk"
                    uid = add(username, self._name(), dept, role, [e])
                    self.staff.setdefault((e, role), []).append(uid)
                    if username.startswith("bench_"):
                        self.measured[username] = uid
        conn.executemany("INSERT INTO users (id, username, password_hash, display_name,"
                         " department, role, phone) VALUES (?,?,?,?,?,?,?)", users)
        conn.executemany("INSERT INTO user_estates (user_id, estate_id) VALUES (?,?)", links)
        self.counts = {"estates": ESTATES, "buildings": len(buildings), "units": len(units),
                       "residents": len(residents), "users": len(users)}

    # -- jobs ---------------------------------------------------------------

    def plan(self) -> None:
        """Pass 1: when, where, what, and the status each job ends in."""
        rng, now = self.rng, self.now
        first_day = now // DAY - DAYS + 1
        hours = list(range(24))
        times = []
        while len(times) < JOBS:
            day = first_day + rng.randrange(DAYS)
            hour = rng.choices(hours, weights=HOUR_WEIGHTS)[0]
            t = day * DAY + hour * HOUR + rng.randrange(HOUR)
            if t < now - 60:
                times.append(t)
        times.sort()
        self.times = times
        category = Picker(rng, CATEGORY_WEIGHTS)
        klass = Picker(rng, CLASS_WEIGHTS)
        by_age = [(limit, Picker(rng, mix)) for limit, mix in STATUS_BY_AGE]
        self.estate = [rng.randrange(1, ESTATES + 1) for _ in range(JOBS)]
        self.category = [category() for _ in range(JOBS)]
        self.klass = [klass() for _ in range(JOBS)]
        target = []
        for t in times:
            age = now - t
            for limit, pick in by_age:
                if age < limit:
                    target.append(pick())
                    break
        self.target = target
        # The measured technician's open jobs: one in each field state, then any.
        candidates: dict[str, list[int]] = {}
        for i in range(JOBS):
            if (self.estate[i] == 1 and CATEGORIES[self.category[i]][1] == "maintenance"
                    and target[i] in ACTIVE_FIELD_STATUSES and now - times[i] > DAY):
                candidates.setdefault(target[i], []).append(i)
        chosen = {rng.choice(c) for c in candidates.values()}
        rest = [i for c in candidates.values() for i in c if i not in chosen]
        chosen.update(rng.sample(rest, min(len(rest), MEASURED_OPEN - len(chosen))))
        self.bench_jobs = chosen

    def life(self, i: int, number: str, desk: int, source: str) -> tuple[dict, list[tuple]]:
        """One job's history up to its final status (or `now`, if sooner).

        Returns the job's fields and its events: (action, time, actor, detail, note,
        photos); actor WORKER and '%d' in a detail stand for the worker.
        """
        rng, r, now = self.rng, self.rng.random, self.now
        target, klass, t0 = self.target[i], self.klass[i], self.times[i]
        category = self.category[i]
        dept = CATEGORIES[category][1]
        job: dict[str, Any] = {"status": "new", "version": 1, "rework_count": 0, "t": t0,
                               "dept": dept}
        photos = 1 if r() < (0.6 if source == "qr" else 0.05) else 0
        events: list[tuple] = [("create", t0, desk, f'{{"number":"{number}"}}', None, photos)]

        def at(dt: float) -> int:
            t = job["t"] + int(dt)
            if t > now:
                raise _Stop
            job["t"] = t
            return t

        def step(action: str, actor: int, detail: str = "{}", note: tuple | None = None,
                 photos: int = 0, **fields: Any) -> None:
            job.update(fields)
            job["version"] += 1
            events.append((action, job["t"], actor, detail, note, photos))

        emergency, medium = klass == "emergency", klass == "medium"
        try:
            if target == "new":
                return job, events
            if target == "cancelled" and r() < 0.5:
                reason = rng.choice(CANCEL_REASONS)
                at(rng.randint(5 * MINUTE, 10 * HOUR))
                step("cancel", desk, f'{{"reason":"{reason}"}}', ("cancel", reason),
                     status="cancelled", cancel_reason=reason)
                return job, events
            at(rng.randint(MINUTE, 5 * MINUTE) if emergency
               else rng.randint(2 * MINUTE, 30 * MINUTE))
            job["dispatched_at"] = job["t"]
            if target == "pooled" or (target != "assigned" and r() < 0.1):
                step("dispatch", desk, f'{{"pool":"{dept}","reason":""}}', status="pooled")
                if target == "pooled":
                    return job, events
                at(rng.randint(5 * MINUTE, 2 * HOUR))
                step("claim", WORKER, status="accepted", accepted_at=job["t"])
            else:
                step("dispatch", desk, '{"assignee_id":%d,"reason":""}', status="assigned")
                if target == "assigned":
                    return job, events
                at(rng.randint(MINUTE, 20 * MINUTE))
                step("accept", WORKER, status="accepted", accepted_at=job["t"])
            if target == "cancelled":
                reason = rng.choice(CANCEL_REASONS)
                at(rng.randint(10 * MINUTE, 5 * HOUR))
                step("cancel", desk, f'{{"reason":"{reason}"}}', ("cancel", reason),
                     status="cancelled", cancel_reason=reason)
                return job, events
            if target == "accepted":
                return job, events
            self._visit(job, events, target, emergency, medium, at, step)
            if job["status"] == "closed" and r() < 0.015:  # rework
                reason = rng.choice(REOPEN_REASONS)
                at(rng.randint(DAY, 7 * DAY))
                step("reopen", desk, f'{{"reason":"{reason}","requested_by":"resident"}}',
                     ("reopen", reason), status="assigned", rework_count=1,
                     reopened_at=job["t"], accepted_at=None, arrived_at=None,
                     completed_at=None, closed_at=None, agreed_at=None, pause_reason=None)
                at(rng.randint(MINUTE, 30 * MINUTE))
                step("accept", WORKER, status="accepted", accepted_at=job["t"])
                self._visit(job, events, "closed", emergency, medium, at, step)
        except _Stop:
            pass
        return job, events

    def _visit(self, job: dict, events: list, target: str, emergency: bool, medium: bool,
               at: Callable[[float], int], step: Callable[..., None]) -> None:
        """From accepted: on site, maybe paused, done, signed off."""
        rng, r = self.rng, self.rng.random
        pause = target == "paused" or r() < 0.06
        arrive_in = (rng.randint(5 * MINUTE, 25 * MINUTE) if emergency
                     else rng.randint(10 * MINUTE, 2 * HOUR) if not medium
                     else rng.randint(30 * MINUTE, DAY))
        pause_first = pause and r() < 0.5  # the resident asks for another time first
        if pause_first:
            self._pause(job, at, step, rng.randint(5 * MINUTE, HOUR))
            if target == "paused":
                return
            at(rng.randint(-10 * MINUTE, 20 * MINUTE) + (job["agreed_t"] - job["t"]))
        else:
            at(arrive_in)
        step("arrive", WORKER, status="arrived", arrived_at=job["t"])
        if target == "arrived":
            return
        if pause and not pause_first:
            self._pause(job, at, step, rng.randint(10 * MINUTE, HOUR))
            if target == "paused":
                return
            at(rng.randint(-10 * MINUTE, 20 * MINUTE) + (job["agreed_t"] - job["t"]))
            step("arrive", WORKER, status="arrived", arrived_at=job["t"])
        at(rng.randint(20 * MINUTE, 4 * HOUR) if not medium else rng.randint(2 * HOUR, 3 * DAY))
        work, materials = rng.choice(WORK[job["dept"]]), rng.choice(MATERIALS)
        photos = rng.randint(1, 3) if r() < 0.7 else 0
        note = ("work", work + (f"\n{materials}" if materials else ""))
        step("complete", WORKER, f'{{"photos":{photos}}}', note, photos,
             status="completed", completed_at=job["t"], work_done=work, materials=materials)
        if target == "completed":
            return
        at(rng.randint(0, 10 * MINUTE) if r() < 0.8 else rng.randint(HOUR, 2 * DAY))
        outcome = "signed" if r() < 0.82 else "absent" if r() < 0.72 else "refused"
        job["signature"] = outcome
        step("signoff", WORKER, f'{{"outcome":"{outcome}","record_hash":"%s"}}',
             status="closed", closed_at=job["t"])

    def _pause(self, job: dict, at: Callable[[float], int], step: Callable[..., None],
               after: int) -> None:
        rng = self.rng
        at(after)
        reason = rng.choice(PAUSE_REASONS)
        agreed = job["t"] + rng.randint(2 * HOUR, 3 * DAY)
        job["agreed_t"] = agreed
        step("pause", WORKER, f'{{"reason":"{reason}","agreed_at":"{iso(agreed)}"}}',
             ("pause", reason), status="paused", agreed_at=agreed, pause_reason=reason)

    def jobs(self, conn: sqlite3.Connection) -> None:
        """Pass 2: each job's row, audit trail, notes, photos and signature."""
        rng, r = self.rng, self.rng.random
        source = Picker(rng, SOURCE_WEIGHTS)
        bench_tech = self.measured["bench_tech"]
        job_cols = ("id, number, estate_id, unit_id, reporter_name, reporter_phone, source,"
                    " category, department, job_class, description, status, assignee_id,"
                    " received_by, received_at, dispatched_at, accepted_at, arrived_at,"
                    " agreed_at, reopened_at, pause_reason, completed_at, work_done, materials,"
                    " closed_at, cancel_reason, rework_count, flagged, version, updated_at")
        sql = {
            "jobs": f"INSERT INTO jobs ({job_cols}) VALUES ({','.join('?' * 30)})",
            "files": "INSERT INTO files (sha256, mime, size, created_at) VALUES (?,?,?,?)",
            "photos": "INSERT INTO job_photos (job_id, sha256, stage, op_id) VALUES (?,?,?,?)",
            "signatures": "INSERT INTO signatures (job_id, signer_name, outcome, reason,"
                          " strokes, image_sha256, signed_at, record_hash, op_id)"
                          " VALUES (?,?,?,?,?,?,?,?,?)",
            "notes": "INSERT INTO job_notes (job_id, user_id, kind, text, at, op_id)"
                     " VALUES (?,?,?,?,?,?)",
            "audit": "INSERT INTO audit_log (at, user_id, device_id, replayed, action, entity,"
                     " entity_id, op_id, detail) VALUES (?,?,?,?,?,'job',?,?,?)",
        }
        rows: dict[str, list[tuple]] = {k: [] for k in sql}
        self.counts.update({k: 0 for k in sql})
        status_mix: Counter[str] = Counter()
        day, seq = -1, 0
        numbers: dict[int, str] = {}
        started = time.monotonic()

        def flush() -> None:
            for key in ("files", "jobs", "photos", "signatures", "notes", "audit"):
                conn.executemany(sql[key], rows[key])
                self.counts[key] += len(rows[key])
                rows[key].clear()

        for i in range(JOBS):
            job_id, t0, estate = i + 1, self.times[i], self.estate[i]
            if t0 // DAY != day:
                day, seq = t0 // DAY, 0
                numbers[day] = "J" + (EPOCH + timedelta(days=day)).strftime("%Y%m%d") + "-"
            seq += 1
            number = f"{numbers[day]}{seq:04d}"
            category = self.category[i]
            dept = CATEGORIES[category][1]
            src = source()
            units = self.units[estate]
            unit = units[rng.randrange(len(units))]
            rname, rphone = self.resident[unit]
            if r() >= UNIT_SHARE[category]:
                unit = None
            reporter = rname[0] + ("先生" if r() < 0.5 else "女士")
            desk = rng.choice(self.staff[(estate, "desk")])
            job, events = self.life(i, number, desk, src)
            status = job["status"]
            status_mix[status] += 1
            worker = None
            if any(e[2] == WORKER or "%d" in e[3] for e in events):
                pool = self.staff[(estate, WORKER_ROLE[dept])]
                if i in self.bench_jobs:
                    worker = bench_tech
                else:
                    worker = rng.choice(pool)
                    while worker == bench_tech and status in ACTIVE_FIELD_STATUSES:
                        worker = rng.choice(pool)
            description = rng.choice(PROBLEMS[category]) + rng.choice(DETAILS)
            flagged = int(r() < 0.0005)
            if flagged:
                events.append(("flag", job["t"], worker or desk,
                               '{"reason":"not_assignee","kind":"job.complete"}', None, 0))
            device = f"phone-{worker}" if worker else ""
            for action, t, actor, detail, note, photos in events:
                op_id, when = self._uuid(), iso(t)
                field = actor == WORKER
                actor = worker if field else actor
                if "%d" in detail:
                    detail = detail % worker
                if action == "signoff":
                    record_hash = self._sha()
                    detail = detail % record_hash
                    outcome, image, strokes = job["signature"], None, None
                    if outcome == "signed":
                        image, strokes = self._sha(), rng.choice(self.strokes)
                        rows["files"].append((image, "image/png", rng.randint(4000, 20000), when))
                    rows["signatures"].append((
                        job_id, rname if outcome == "signed" else "", outcome,
                        "" if outcome == "signed" else ("住户不在家" if outcome == "absent"
                                                        else "住户拒绝签字"),
                        strokes, image, when, record_hash, op_id))
                for _ in range(photos):
                    sha = self._sha()
                    rows["files"].append((sha, "image/jpeg", rng.randint(60_000, 600_000), when))
                    rows["photos"].append((job_id, sha,
                                           "intake" if action == "create" else "completion",
                                           op_id))
                if note:
                    rows["notes"].append((job_id, actor, note[0], note[1], when, op_id))
                replayed = int(field and r() < 0.03)
                rows["audit"].append((when, actor, device if field else "", replayed, action,
                                      job_id, op_id, detail))
            times = {k: iso(job[k]) if job.get(k) else None
                     for k in ("dispatched_at", "accepted_at", "arrived_at", "agreed_at",
                               "reopened_at", "completed_at", "closed_at")}
            assignee = worker if status not in ("new", "pooled") else None
            rows["jobs"].append((
                job_id, number, estate, unit, reporter, rphone, src, category, dept,
                self.klass[i], description, status, assignee, desk, iso(t0),
                times["dispatched_at"], times["accepted_at"], times["arrived_at"],
                times["agreed_at"], times["reopened_at"], job.get("pause_reason"),
                times["completed_at"], job.get("work_done"), job.get("materials"),
                times["closed_at"], job.get("cancel_reason"), job["rework_count"], flagged,
                job["version"], iso(job["t"]),
            ))
            if job_id % 50_000 == 0:
                flush()
                if job_id % 200_000 == 0:
                    self.log(f"  {job_id:,} jobs ({time.monotonic() - started:.0f} s)")
        flush()
        self.status_mix = dict(status_mix.most_common())

    # -- the whole ------------------------------------------------------------

    def build(self, path: Path) -> dict[str, Any]:
        started = time.monotonic()
        tmp = path.with_name(path.name + ".tmp")
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        db = connect(str(tmp))
        migrate(db)
        conn = db.conn
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-1000000")  # 1 GB while building
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN")
        self.people(conn)
        self.log(f"  people and places ({time.monotonic() - started:.0f} s)")
        self.plan()
        self.log(f"  plan of {JOBS:,} jobs ({time.monotonic() - started:.0f} s)")
        self.jobs(conn)
        conn.execute("COMMIT")
        self.log(f"  committed ({time.monotonic() - started:.0f} s)")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        tmp.rename(path)
        seconds = time.monotonic() - started
        bench_tech = self.measured["bench_tech"]
        self.log(f"  done in {seconds:.0f} s, {path.stat().st_size / 1e9:.2f} GB")
        return {
            "version": VERSION,
            "generated_at": self.now_dt.isoformat() + "Z",
            "generation_seconds": round(seconds, 1),
            "size_bytes": path.stat().st_size,
            "password": PASSWORD,
            "counts": {**self.counts, "jobs_open_per_technician": MEASURED_OPEN},
            "status_mix": self.status_mix,
            "users": {"tech": {"username": "bench_tech", "id": bench_tech},
                      "desk": {"username": "bench_desk", "id": self.measured["bench_desk"]},
                      "regional_manager": {"username": "region1"}},
            "tech_open_jobs": sorted(i + 1 for i in self.bench_jobs),
        }


if __name__ == "__main__":
    ensure()
