"""QR labels and the QR landing page: `python -m bench.places`.

Builds, after the demo data, an estate of 1,000 places (10 buildings × 98 units, 10 common
areas, 10 pieces of equipment) with no codes yet, then:

1. the label PDF for the whole estate as a manager asks for it (GET /places/labels.pdf):
   the first time issues the 1,000 codes through the command path, the second time only
   renders; target ≤ 10 s;
2. the server time of a scanned code, in process (Flask's test client, SQLite file, WAL):
   signed out (the public page with its report form) and signed in (the redirect to the
   place page), p50 and p95 over random codes of the estate.

The figures go into docs/BENCHMARKS.md between the places markers; the rest of that file
is left as it is.
"""

from __future__ import annotations

import io
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader
from werkzeug.security import generate_password_hash

from webapp import create_app
from webapp.db import connect, migrate
from webapp.demo import DEMO_PASSWORD, load

from . import RECORDS_KEY, reference
from .doc import run_row, runs_table, write_section

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
BEGIN, END = "<!-- places:start -->", "<!-- places:end -->"
BUILDINGS, UNITS, AREAS, EQUIPMENT = 10, 98, 10, 10
PLACES = BUILDINGS * UNITS + AREAS + EQUIPMENT
TARGET_PDF = 10.0  # issue "Fast on the slower machines too"
REQUESTS = 400


def build(path: str) -> int:
    """The demo, plus an estate of PLACES places served by the demo's manager and desk."""
    db = connect(path, RECORDS_KEY)
    migrate(db)
    load(db, datetime.now(UTC).replace(tzinfo=None),
         password_hash=generate_password_hash(DEMO_PASSWORD, "scrypt:1024:8:1"))
    with db.atomic():
        estate = db.execute("INSERT INTO estates (code, name) VALUES ('QR', '基准花园')").lastrowid
        for b in range(1, BUILDINGS + 1):
            bid = db.execute("INSERT INTO buildings (estate_id, name) VALUES (?,?)",
                             [estate, f"{b}栋"]).lastrowid
            for n in range(UNITS):
                db.execute("INSERT INTO units (estate_id, building_id, number, floor)"
                           " VALUES (?,?,?,?)", [estate, bid, f"{n // 4 + 1}{n % 4 + 1:02d}",
                                                 n // 4 + 1])
        for i in range(AREAS):
            db.execute("INSERT INTO common_areas (estate_id, name) VALUES (?,?)",
                       [estate, f"{i + 1}号楼道"])
        for i in range(EQUIPMENT):
            db.execute("INSERT INTO equipment (estate_id, name, kind) VALUES (?,?, 'plant_room')",
                       [estate, f"{i + 1}号水泵"])
        for username in ("manager", "desk"):
            db.execute("INSERT INTO user_estates (user_id, estate_id) SELECT id, ? FROM users"
                       " WHERE username = ?", [estate, username])
    db.close()
    return estate


def signed_in(app, username: str):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    return client


def labels(app, estate: int) -> dict:
    client = signed_in(app, "manager")
    out = {}
    for run in ("first", "again"):
        t0 = time.perf_counter()
        response = client.get(f"/places/labels.pdf?estate_id={estate}")
        out[run] = time.perf_counter() - t0
        assert response.status_code == 200, response.status_code
    out["pages"] = len(PdfReader(io.BytesIO(response.data)).pages)
    out["mb"] = len(response.data) / 1e6
    return out


def landing(app, estate: int) -> dict:
    db = connect(app.config["DATABASE"], RECORDS_KEY)
    tokens = [r["token"] for r in db.query(
        "SELECT t.token FROM qr_tokens t JOIN units u ON t.place_type = 'unit'"
        " AND u.id = t.place_id WHERE u.estate_id = ? AND t.revoked_at IS NULL", [estate])]
    db.close()
    rng = random.Random(7)
    out = {}
    for who, client, status in (("signed out", app.test_client(), 200),
                                ("signed in", signed_in(app, "desk"), 302)):
        times = []
        for _ in range(REQUESTS):
            token = rng.choice(tokens)
            t0 = time.perf_counter()
            response = client.get(f"/q/{token}")
            times.append(time.perf_counter() - t0)
            assert response.status_code == status, (who, response.status_code)
        times.sort()
        out[who] = {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95)]}
    return out


def write_doc(section: str) -> None:
    write_section(BEGIN, END, "QR labels and the landing page", section)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    mach, ref = reference.machine(), reference.measure()
    with tempfile.TemporaryDirectory(prefix="bench-places-") as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "DATABASE": f"{tmp}/wuye.db", "FILES_DIR": f"{tmp}/files"})
        estate = build(app.config["DATABASE"])
        print(f"label PDF for {PLACES:,} places ...", flush=True)
        pdf = labels(app, estate)
        print(f"  {pdf['first']:.1f} s (codes issued), {pdf['again']:.1f} s again", flush=True)
        land = landing(app, estate)
        for who, t in land.items():
            print(f"  /q/<token> {who}: p50 {ms(t['p50'])}, p95 {ms(t['p95'])}")
    ok = pdf["first"] <= TARGET_PDF and pdf["again"] <= TARGET_PDF
    out, inn = land["signed out"], land["signed in"]
    section = "\n".join([
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {reference.header(mach, ref)} In"
        " process (Flask's test client), SQLite file, WAL.",
        "",
        "| measure | result | ÷ reference | target | |",
        "|---|---|---|---|---|",
        f"| label PDF, {PLACES:,} places ({pdf['pages']} A4 pages, {pdf['mb']:.1f} MB),"
        f" codes issued in the same request | {pdf['first']:.1f} s | {ref.of(pdf['first'])}"
        f" | ≤ {TARGET_PDF:.0f} s | {'pass' if pdf['first'] <= TARGET_PDF else '**FAIL**'} |",
        f"| the same PDF again (codes exist) | {pdf['again']:.1f} s | {ref.of(pdf['again'])}"
        f" | ≤ {TARGET_PDF:.0f} s | {'pass' if pdf['again'] <= TARGET_PDF else '**FAIL**'} |",
        f"| `/q/<token>` signed out: the public page ({REQUESTS} random codes) |"
        f" p50 {ms(out['p50'])}, p95 {ms(out['p95'])} | p95 {ref.of(out['p95'])} | | |",
        f"| `/q/<token>` signed in: redirect to the place page ({REQUESTS} random codes) |"
        f" p50 {ms(inn['p50'])}, p95 {ms(inn['p95'])} | p95 {ref.of(inn['p95'])} | | |",
        "",
        runs_table(BEGIN, END, f"Label PDF, {PLACES:,} places, codes issued", run_row(
            mach["cpu"], f"{pdf['first']:.1f} s", ref, ref.of(pdf["first"]))),
    ])
    write_doc(section)
    print(section)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
