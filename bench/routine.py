"""Routine callback plans at size: `python -m bench.routine`.

Builds, in bulk SQL after the app's own migrations, estates of 10,000 households
(25 buildings x 20 floors x 20 units, one resident each) with what the draw reads:
information callbacks this month, key-customer flags, complaints and closed
medium repairs. Then it times `routine.make_plan` (one transaction: read, draw,
write the plan and its tasks):

1. one estate, a year of monthly plans (January to December, each against the
   plans before it), and the first plan of a year made as late as November, when
   the service centre and the departments catch up on the whole year at once;
2. 100 such estates, each making November's plan, in one database.

Targets: a plan under 1 s; 100 estates under 30 s in all. The figures go into
docs/BENCHMARKS.md between the routine markers; the rest of that file is left as
it is.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from webapp.db import connect, migrate
from webapp.domain import months, routine

from . import reference
from .doc import run_row, runs_table, write_section

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- routine:start -->", "<!-- routine:end -->"
ZONE = ZoneInfo("Asia/Shanghai")

BUILDINGS, FLOORS, PER_FLOOR = 25, 20, 20  # 10,000 households an estate
HOUSEHOLDS = BUILDINGS * FLOORS * PER_FLOOR
ESTATES = 100
TARGET_ONE = 1.0  # seconds for one plan
TARGET_HUNDRED = 30.0  # seconds for 100 estates' plans
INFORMED = 300  # information callbacks this month, per estate
FLAGGED = 100  # units flagged unpaid fees or important owner
COMPLAINTS = 400
MEDIUM_JOBS = 150


def build(db: Database, estates: int) -> float:
    """Estates of HOUSEHOLDS households and their callback history; seconds taken."""
    t0 = time.perf_counter()
    n = HOUSEHOLDS
    with db.atomic():
        db.execute(
            """WITH RECURSIVE e(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM e WHERE i < ?)
               INSERT INTO estates (id, code, name) SELECT i, 'B' || i, '基准小区' || i FROM e""",
            [estates])
        db.execute(
            """WITH RECURSIVE b(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM b WHERE i < ? - 1)
               INSERT INTO buildings (id, estate_id, name)
               SELECT i + 1, i / ? + 1, (i % ? + 1) || '栋' FROM b""",
            [estates * BUILDINGS, BUILDINGS, BUILDINGS])
        db.execute(
            """WITH RECURSIVE u(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM u WHERE i < ? - 1)
               INSERT INTO units (id, estate_id, building_id, number, floor)
               SELECT i + 1, i / ? + 1, i / ? + 1,
                      (i / ? % ? + 1) || printf('%02d', i % ? + 1), i / ? % ? + 1 FROM u""",
            [estates * n, n, FLOORS * PER_FLOOR, PER_FLOOR, FLOORS, PER_FLOOR, PER_FLOOR,
             FLOORS])
        db.execute(
            """INSERT INTO residents (unit_id, name, phone)
               SELECT id, '住户' || id, '13' || printf('%09d', id) FROM units""")
        # Spread over each estate with multiplicative steps, so the same few units
        # are not always the ones picked.
        db.execute(
            f"""WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k
                                       WHERE i < {estates * INFORMED} - 1)
                INSERT INTO callback_tasks (estate_id, kind, source, source_id, unit_id,
                    created_at, due_at, latest_at, status)
                SELECT i / {INFORMED} + 1, 'information', 'job', i,
                       (i / {INFORMED}) * {n} + (i * 7919) % {n} + 1,
                       '2026-11-0' || (i % 9 + 1) || 'T02:00:00', '2026-11-10T02:00:00',
                       '2026-11-19T02:00:00', 'open' FROM k""")
        db.execute(
            f"""WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k
                                       WHERE i < {estates * FLAGGED} - 1)
                INSERT OR IGNORE INTO unit_flags (unit_id, flag)
                SELECT (i / {FLAGGED}) * {n} + (i * 104729) % {n} + 1,
                       CASE i % 2 WHEN 0 THEN 'unpaid_fees' ELSE 'important_owner' END
                FROM k""")
        db.execute(
            f"""WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k
                                       WHERE i < {estates * COMPLAINTS} - 1)
                INSERT INTO complaints (number, estate_id, unit_id, channel, complainant_name,
                    contact, identity, category, level, content, status, received_at,
                    updated_at)
                SELECT 'BC' || i, i / {COMPLAINTS} + 1,
                       (i / {COMPLAINTS}) * {n} + (i * 31) % 600 + 1, 'phone', '陈', '138',
                       'owner', 'service', 'minor', '噪音', 'closed',
                       '2026-' || printf('%02d', i % 10 + 1) || '-15T02:00:00',
                       '2026-11-01T00:00:00' FROM k""")
        db.execute(
            f"""WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k
                                       WHERE i < {estates * MEDIUM_JOBS} - 1)
                INSERT INTO jobs (number, estate_id, unit_id, reporter_name, reporter_phone,
                    source, category, department, job_class, description, status,
                    received_at, closed_at, updated_at)
                SELECT 'BJ' || i, i / {MEDIUM_JOBS} + 1,
                       (i / {MEDIUM_JOBS}) * {n} + (i * 6151) % {n} + 1, '陈', '138', 'phone',
                       'walls_roof', 'maintenance', 'medium', '渗水', 'closed',
                       '2026-10-01T02:00:00', '2026-' || printf('%02d', i % 11 + 1)
                       || '-05T02:00:00', '2026-11-01T00:00:00' FROM k""")
    db.execute("ANALYZE")
    return time.perf_counter() - t0


def timed_plan(db: Database, estate_id: int, month: str, seed: int) -> tuple[float, int]:
    year, mon = months.parse_month(month)
    now = datetime(year, mon, 10, 1, 0)
    t0 = time.perf_counter()
    plan, created = routine.make_plan(db, estate_id, month, seed, now, ZONE)
    elapsed = time.perf_counter() - t0
    assert created
    return elapsed, sum(v["planned"] for v in plan.samplers.values())


def one_estate(workdir: Path) -> dict:
    db = connect(str(workdir / "one.db"))
    migrate(db)
    built = build(db, 2)  # the second estate makes its year's first plan in November
    year = []
    for i in range(12):
        month = months.month_name(2027, i + 1)
        year.append((month, *timed_plan(db, 1, month, i)))
    t0 = time.perf_counter()
    same = routine.verify(db, routine.plan_for(db, 1, "2027-12").id)
    verify_s = time.perf_counter() - t0
    late, late_tasks = timed_plan(db, 2, "2026-11", 99)
    db.close()
    return {"built": built, "year": year, "late": late, "late_tasks": late_tasks,
            "verify": verify_s, "verified": same}


def hundred_estates(workdir: Path) -> dict:
    db = connect(str(workdir / "hundred.db"))
    migrate(db)
    built = build(db, ESTATES)
    times, tasks = [], 0
    t0 = time.perf_counter()
    for estate_id in range(1, ESTATES + 1):
        elapsed, planned = timed_plan(db, estate_id, "2026-11", estate_id)
        times.append(elapsed)
        tasks += planned
    total = time.perf_counter() - t0
    size = os.path.getsize(workdir / "hundred.db")
    db.close()
    return {"built": built, "times": times, "total": total, "tasks": tasks, "bytes": size}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def report(one: dict, hundred: dict, m: dict[str, str], ref: reference.Reference,
           took: float) -> str:
    year_times = [t for _m, t, _n in one["year"]]
    slowest_one = max(year_times + [one["late"]])
    h = hundred["times"]
    ok_one = slowest_one < TARGET_ONE
    ok_hundred = hundred["total"] < TARGET_HUNDRED
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · `python -m bench.routine` took "
        f"{took:.0f} s · **{int(ok_one) + int(ok_hundred)} of 2 targets met**.",
        "",
        f"- {reference.header(m, ref)} Database files in a temporary directory, WAL, as the"
        " app opens them.",
        f"- **Data:** estates of {HOUSEHOLDS:,} households ({BUILDINGS} buildings × {FLOORS}"
        f" floors × {PER_FLOOR} units, one resident each); per estate {INFORMED} information"
        f" callbacks this month, {FLAGGED} flagged units, {COMPLAINTS} complaints,"
        f" {MEDIUM_JOBS} closed medium repairs. Built in {one['built']:.1f} s (two estates)"
        f" and {hundred['built']:.1f} s (100 estates, {hundred['bytes'] / 1e6:,.0f} MB).",
        "",
        "| Target | Measured | ÷ reference | Result |",
        "|---|---|---|---|",
        f"| one plan for 10,000 households < {TARGET_ONE:.0f} s | slowest {ms(slowest_one)}"
        f" (of 13) | {ref.of(slowest_one)} | {'pass' if ok_one else '**FAIL**'} |",
        f"| 100 estates' plans < {TARGET_HUNDRED:.0f} s in all | {hundred['total']:.1f} s"
        f" | {ref.of(hundred['total'])} | {'pass' if ok_hundred else '**FAIL**'} |",
        "",
        runs_table(BEGIN, END, "100 estates' plans", run_row(
            m["cpu"], f"{hundred['total']:.1f} s ({hundred['tasks']:,} tasks)", ref,
            ref.of(hundred["total"]))),
        "",
        "One estate, a year of plans (each against the plans before it; the draw runs"
        " out of households in the autumn because the default quotas ask for 134 % of the"
        " households a year and none may repeat):",
        "",
        "| Month | Time | Households planned |",
        "|---|---|---|",
        *[f"| {month} | {ms(t)} | {n:,} |" for month, t, n in one["year"]],
        f"| 2026-11, the year's first plan (catching up) | {ms(one['late'])} |"
        f" {one['late_tasks']:,} |",
        "",
        f"Re-drawing December's plan from its seed for an auditor: {ms(one['verify'])}"
        f" ({'equal to' if one['verified'] else '**different from**'} the stored tasks).",
        "",
        f"100 estates, November's plan each (the year's first, so the largest:"
        f" {hundred['tasks']:,} tasks in all): {hundred['total']:.1f} s; per plan median"
        f" {ms(statistics.median(h))}, slowest {ms(max(h))}.",
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    write_section(BEGIN, END, "Routine callback plans", section)


def main() -> None:
    t0 = time.perf_counter()
    mach, ref = reference.machine(), reference.measure()
    with tempfile.TemporaryDirectory(prefix="bench-routine-") as tmp:
        workdir = Path(tmp)
        print(f"one estate of {HOUSEHOLDS:,} households ...", flush=True)
        one = one_estate(workdir)
        for month, t, n in one["year"]:
            print(f"  {month}: {ms(t)}, {n} households")
        print(f"  2026-11 (first plan of the year): {ms(one['late'])}, {one['late_tasks']}")
        print(f"  redraw: {ms(one['verify'])}, equal: {one['verified']}")
        print(f"{ESTATES} estates ...", flush=True)
        hundred = hundred_estates(workdir)
        print(f"  built in {hundred['built']:.1f} s; plans {hundred['total']:.1f} s in all,"
              f" slowest {ms(max(hundred['times']))}")
    section = report(one, hundred, mach, ref, time.perf_counter() - t0)
    write_doc(section)
    print(section)


if __name__ == "__main__":
    main()
