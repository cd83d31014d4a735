"""Push delivery at a burst: `python -m bench.notify`.

1,000 queued push deliveries (100 phones, 10 messages each, on the demo estate's
technicians) are sent by `push.deliver_due` as the worker runs it: VAPID-signed,
encrypted for each phone (aes128gcm), POSTed to a local threaded HTTP server that
stands in for the push service and answers 201, and each recorded as accepted.
The time is from the first pass to the last delivery recorded.

Target: 1,000 messages within 60 s, so that a burst (a storm's emergencies) still
reaches phones well inside the desk's 5-minute notify deadline. The figures go into
docs/BENCHMARKS.md between the push-delivery markers.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from werkzeug.security import generate_password_hash

from webapp import push
from webapp.db import connect, migrate
from webapp.demo import load

from . import RECORDS_KEY, reference
from .doc import run_row, runs_table, write_section

BEGIN, END = "<!-- push-delivery:start -->", "<!-- push-delivery:end -->"
PHONES, PER_PHONE = 100, 10
TARGET_SECONDS = 60.0
NOW = datetime(2026, 11, 10, 9, 0)


class Accept(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as push services do

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.count += 1
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def message(db, announcement, locale):
    """A stand-in for the notifications' texts: the sending is what is measured."""
    number = json.loads(announcement["params"])["number"]
    return {"title": f"新派工单 {number}", "body": "3栋1单元502 厨房漏水，请尽快上门",
            "url": "/jobs/" + announcement["target"].split(":")[1]}


def queue(db, port: int) -> None:
    users = [r[0] for r in db.execute("SELECT id FROM users WHERE role = 'technician'")]
    with db.conn:
        for p in range(PHONES):
            point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint)
            sub = db["push_subscriptions"].insert({
                "user_id": users[p % len(users)], "endpoint": f"http://127.0.0.1:{port}/p/{p}",
                "p256dh": b64(point), "auth": b64(os.urandom(16)),
                "created_at": NOW.isoformat()}).last_pk
            for m in range(PER_PHONE):
                a = db["announcements"].insert({
                    "kind": "job.dispatched", "target": f"job:{p * PER_PHONE + m + 1}",
                    "params": json.dumps({"number": f"W2611100{p:03d}{m}"}),
                    "urgent": int(m == 0), "created_at": NOW.isoformat()}).last_pk
                n = db["notifications"].insert({
                    "announcement_id": a, "user_id": users[p % len(users)], "personal": 1,
                    "created_at": NOW.isoformat()}).last_pk
                db["deliveries"].insert({"announcement_id": a, "notification_id": n,
                                         "channel": "push", "address_id": sub,
                                         "next_at": NOW.isoformat()})


def run(tmp: Path) -> dict:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    server.count = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    db = connect(str(tmp / "notify.db"), RECORDS_KEY)
    try:
        migrate(db)
        load(db, NOW, password_hash=generate_password_hash("x", "scrypt:1024:8:1"))
        queue(db, server.server_address[1])
        vapid = push.vapid_keys(tmp / "vapid.pem")
        start = time.perf_counter()
        passes, sent = 0, 0
        while True:
            passes += 1
            got = push.deliver_due(db, NOW, message=message, vapid=vapid)
            sent += got
            if not got:
                break
        seconds = time.perf_counter() - start
        statuses = dict(db.execute("SELECT status, count(*) FROM deliveries GROUP BY status")
                        .fetchall())
    finally:
        db.close()
        server.shutdown()
        server.server_close()
    return {"seconds": seconds, "sent": sent, "received": server.count,
            "statuses": statuses, "passes": passes}


def main() -> None:
    mach, ref = reference.machine(), reference.measure()
    tmp = Path(tempfile.mkdtemp(prefix="wuye-notify-bench-"))
    try:
        r = run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = PHONES * PER_PHONE
    ok = r["seconds"] <= TARGET_SECONDS and r["sent"] == r["received"] == total \
        and r["statuses"] == {"accepted": total}
    print(f"push: {r['sent']} accepted of {total} in {r['seconds']:.2f} s "
          f"({r['sent'] / r['seconds']:.0f}/s)", flush=True)
    text = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {reference.header(mach, ref)}\n\n"
        "| measure | result | ÷ reference | target | |\n|---|---|---|---|---|\n"
        f"| {total:,} push messages ({PHONES} phones × {PER_PHONE}) sent by "
        f"`push.deliver_due` (VAPID-signed, aes128gcm-encrypted, one HTTP/1.1 connection "
        f"kept) to a local endpoint answering 201, each recorded accepted "
        f"| {r['seconds']:.2f} s ({r['sent'] / r['seconds']:,.0f}/s; "
        f"{1000 * r['seconds'] / total:.1f} ms each) | {ref.of(r['seconds'])} "
        f"| ≤ {TARGET_SECONDS:.0f} s | {'pass' if ok else 'FAIL'} |\n\n"
        + runs_table(BEGIN, END, f"{total:,} push messages", run_row(
            mach["cpu"], f"{r['seconds']:.2f} s", ref, ref.of(r["seconds"]))) + "\n"
    )
    write_section(BEGIN, END, "Push delivery", text)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
