"""The manager's figures home at a million jobs: `python -m bench.figures_home`.

Builds, in bulk SQL after the app's own migrations, 50 estates of 25 buildings of 80
units, 1,000,000 jobs over the last year (20,000 per estate: the issue's size), one
in 20 reworked, some cancelled, and 50,000 complaints; a manager of estate 1 and one of
all 50. Then it asks the home (`/figures`, last month, a whole one, with its cards, trends and hot
spots: every figure registered) through the app's test client, signed in, and times
the whole request: render included, no network.

Targets (issue 13): one estate's home p95 ≤ 100 ms; all 50 estates' ≤ 1 s. The figures
go into docs/BENCHMARKS.md between the figures-home markers.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database
from werkzeug.security import generate_password_hash

from webapp import create_app
from webapp.db import connect, migrate, pool
from webapp.domain import periods

from . import reference
from .doc import run_row, runs_table, write_section

BEGIN, END = "<!-- figures-home:start -->", "<!-- figures-home:end -->"
ESTATES, BUILDINGS, UNITS, JOBS, COMPLAINTS = 50, 25, 80, 1_000_000, 50_000
TARGET_ONE_MS, TARGET_ALL_MS = 100.0, 1000.0
RUNS = 20
PASSWORD = "bench-password"
CATEGORIES = ("plumbing", "electrical", "doors_windows", "public_facility", "lift", "other")


def build(db: Database, now: datetime) -> float:
    t0 = time.perf_counter()
    year = 365 * 24 * 3600
    with db.atomic():
        db.execute(
            """WITH RECURSIVE e(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM e WHERE i < ?)
               INSERT INTO estates (id, code, name) SELECT i, 'F' || i, '指标小区' || i FROM e""",
            [ESTATES])
        db.execute(
            f"""WITH RECURSIVE b(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM b WHERE i < ?)
               INSERT INTO buildings (id, estate_id, name)
               SELECT i + 1, i / {BUILDINGS} + 1, (i % {BUILDINGS} + 1) || '栋' FROM b""",
            [ESTATES * BUILDINGS - 1])
        db.execute(
            f"""WITH RECURSIVE u(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM u WHERE i < ?)
               INSERT INTO units (id, estate_id, building_id, number, floor)
               SELECT i + 1, i / {UNITS * BUILDINGS} + 1, i / {UNITS} + 1,
                 (i % {UNITS} / 4 + 1) * 100 + i % 4 + 1, i % {UNITS} / 4 + 1 FROM u""",
            [ESTATES * BUILDINGS * UNITS - 1])
        db.execute(
            f"""WITH RECURSIVE j(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM j WHERE i < ?)
               INSERT INTO jobs (id, number, estate_id, unit_id, reporter_name, reporter_phone,
                 source, category, department, job_class, description, status, received_at,
                 completed_at, closed_at, rework_count, updated_at)
               SELECT i, 'J' || i, e, (e - 1) * {UNITS * BUILDINGS} + (i / {ESTATES} * 7919)
                   % {UNITS * BUILDINGS} + 1, '住户', '13800000000', 'phone',
                 json_extract(?, '$[' || (i % 6) || ']'), 'maintenance', 'small', '漏水',
                 CASE WHEN i % 97 = 0 THEN 'cancelled' ELSE 'closed' END, r, r, r,
                 CASE WHEN i % 20 = 0 THEN 1 ELSE 0 END, r
               FROM (SELECT i, i % {ESTATES} + 1 AS e, strftime('%Y-%m-%dT%H:%M:%S', ?,
                 '-' || ((i * 104729) % {year}) || ' seconds') AS r FROM j)""",
            [JOBS, str(list(CATEGORIES)).replace("'", '"'), now.isoformat()])
        db.execute(
            f"""WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
               INSERT INTO complaints (id, number, estate_id, unit_id, channel,
                 complainant_name, contact, identity, category, level, content, status,
                 received_at, updated_at)
               SELECT i, 'C' || i, e, (e - 1) * {UNITS * BUILDINGS} + (i / {ESTATES} * 31)
                   % {UNITS * BUILDINGS} + 1, 'phone', '住户', '13800000000', 'owner',
                 'repairs', 'minor', '慢', 'closed', r, r
               FROM (SELECT i, i % {ESTATES} + 1 AS e, strftime('%Y-%m-%dT%H:%M:%S', ?,
                 '-' || ((i * 104729) % {year}) || ' seconds') AS r FROM c)""",
            [COMPLAINTS, now.isoformat()])
        hashed = generate_password_hash(PASSWORD, "scrypt:1024:8:1")
        for uid, name in ((1, "mgr_one"), (2, "mgr_all")):
            db["users"].insert({"id": uid, "username": name, "password_hash": hashed,
                                "display_name": name, "department": "management",
                                "role": "manager", "active": 1})
        db.execute("INSERT INTO user_estates (user_id, estate_id) VALUES (1, 1)")
        db.execute("INSERT INTO user_estates (user_id, estate_id) SELECT 2, id FROM estates")
    db.execute("ANALYZE")
    return time.perf_counter() - t0


def measure(path: str, username: str) -> tuple[list[float], int, int]:
    """The home's server times (ms) over RUNS requests after one warm-up, its HTML size
    and gzip -9 size."""
    app = create_app({"DATABASE": path, "SECRET_KEY": "bench", "RECORDS_KEY": "bench",
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}
                       ).status_code in (302, 303)
    url = "/figures?period=" + periods.parse("", datetime.utcnow()).previous().key
    first = client.get(url)
    assert first.status_code == 200, first.status_code
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    pool(app).close()
    return times, len(first.data), len(gzip.compress(first.data, 9))


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def main() -> None:
    mach, ref = reference.machine(), reference.measure()
    now = datetime.utcnow().replace(microsecond=0) - timedelta(minutes=1)
    # `--keep PATH`: build the data set there once and reuse it (to profile a change).
    keep = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else None
    with tempfile.TemporaryDirectory(prefix="bench-figures-") as tmp:
        path = keep or str(Path(tmp) / "figures.db")
        db = connect(path)
        migrate(db)
        if not db["jobs"].count:
            print(f"building {JOBS:,} jobs ...", flush=True)
            built = build(db, now)
            print(f"  built in {built:.1f} s", flush=True)
        db.close()
        rows, p95s = [], []
        for who, label, target in (("mgr_one", "one estate (20,000 jobs a year)",
                                    TARGET_ONE_MS),
                                   ("mgr_all", f"all {ESTATES} estates", TARGET_ALL_MS)):
            times, raw, packed = measure(path, who)
            ok = p95(times) <= target
            p95s.append(p95(times))
            rows.append(f"| {label} | {statistics.median(times):.0f} ms | {p95(times):.0f} ms "
                        f"| {ref.of(p95(times) / 1000)} "
                        f"| ≤ {target:.0f} ms {'met' if ok else 'MISSED'} | {raw / 1024:.1f} KB"
                        f" / {packed / 1024:.1f} KB |")
            print(rows[-1], flush=True)
    section = "\n".join([
        reference.opening(mach, ref),
        "",
        f"{JOBS:,} jobs over a year in {ESTATES} estates, {COMPLAINTS:,} complaints; "
        f"`/figures` (last month) through the test client, {RUNS} requests after a warm-up.",
        "",
        "| Home for | median | p95 | p95 ÷ reference | Target | HTML raw / gzip -9 |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        runs_table(BEGIN, END, "p95: one estate; all estates", run_row(
            mach["cpu"], "; ".join(f"{x:.0f} ms" for x in p95s), ref,
            "; ".join(ref.of(x / 1000) for x in p95s))),
    ])
    write_section(BEGIN, END, "Manager's figures home", section)
    print(section)


if __name__ == "__main__":
    main()
