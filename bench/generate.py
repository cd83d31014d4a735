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
from datetime import timedelta
from pathlib import Path
from typing import Any

from webapp.auth import hash_password, utcnow
from webapp.db import connect, migrate
from webapp.domain import board
from webapp.domain.jobs import ACTIVE_FIELD_STATUSES, CATEGORIES

from .company import (
    CATEGORY_WEIGHTS,
    CLASS_WEIGHTS,
    DAY,
    DETAILS,
    EPOCH,
    ESTATE_PREFIX,
    ESTATE_SUFFIX,
    GIVEN,
    HOUR,
    HOUR_WEIGHTS,
    PROBLEMS,
    REGIONS,
    ROADS,
    SOURCE_WEIGHTS,
    STAFF,
    STATUS_BY_AGE,
    SURNAMES,
    UNIT_SHARE,
    WORKER_ROLE,
    iso,
)
from .job_life import WORKER, JobLife

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


class Builder(JobLife):
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
        # What the app stores beside each open job (the board's due order); a data set
        # built before that column gets it from its migration instead.
        if "next_due_at" in db["jobs"].columns_dict:
            board.backfill(db, self.now_dt)
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
