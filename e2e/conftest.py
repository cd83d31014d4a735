"""Browser tests against a real server: gunicorn on a free port, a temp DB with the demo
estate, Debian's Chromium with a Pixel 5 viewport."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

import sync
from webapp.auth import utcnow
from webapp.db import connect
from webapp.demo import DEMO_PASSWORD
from webapp.domain.handlers import HANDLERS

ROOT = Path(__file__).resolve().parent.parent
# Two cores run the server, the browser and the tests: give the page time to settle.
expect.set_options(timeout=15_000)

# Playwright's offline switch does not reach service workers: a worker woken by
# Background Sync, or one refreshing its pages, would still talk to the server while a
# test says there is no signal. With the workers' network events on (read when the
# driver starts), an offline context also fails its workers' requests.
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")


def _no_signal_for_workers(route: Route) -> None:
    if route.request.service_worker is not None:
        route.abort("internetdisconnected")
    else:
        route.fallback()


def _set_offline(self: BrowserContext, offline: bool) -> None:
    _playwright_set_offline(self, offline)
    if offline:
        self.route("**/*", _no_signal_for_workers)
    else:
        self.unroute("**/*", _no_signal_for_workers)


_playwright_set_offline = BrowserContext.set_offline
BrowserContext.set_offline = _set_offline  # type: ignore[method-assign]
BIN = ROOT / ".venv" / "bin"
CHROMIUM = "/usr/bin/chromium"


@dataclass
class Server:
    url: str
    database: str
    files_dir: str
    records_key: str = ""  # the server's, so that set-up commands can seal sign-offs

    def user_id(self, username: str) -> int:
        db = connect(self.database)
        try:
            return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]
        finally:
            db.close()

    def query(self, sql: str, params: list | None = None) -> list[dict]:
        db = connect(self.database)
        try:
            return list(db.query(sql, params or []))
        finally:
            db.close()

    def command(self, username: str, kind: str, target: str, **payload) -> dict:
        """Apply a command through the same path the server uses (set-up, not under test)."""
        db = connect(self.database, self.records_key or None)
        try:
            cmd = sync.Command(
                op_id=str(uuid.uuid4()),
                kind=kind,
                target=target,
                payload=payload,
                user_id=self.user_id(username),
                device_id="e2e",
            )
            outcome = sync.apply(db, cmd, HANDLERS, utcnow())
        finally:
            db.close()
        assert outcome.status == "applied", (kind, outcome.result)
        return outcome.result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer within {timeout}s:\n{log.read_text()}")


def demo_env(tmp: Path) -> dict[str, str]:
    """A temp DB with the demo estate loaded, and the environment to serve it."""
    env = {
        **os.environ,
        "WUYE_DATABASE": str(tmp / "wuye.db"),
        "WUYE_FILES_DIR": str(tmp / "files"),
        "WUYE_SECRET_KEY": "e2e-" + uuid.uuid4().hex,
        "WUYE_RECORDS_KEY": "e2e-records-" + uuid.uuid4().hex,
        "WUYE_HUEY_FILE": str(tmp / "huey.db"),
        "WUYE_VAPID_KEY_FILE": str(tmp / "vapid_private.pem"),
        # The push service the browser tests' phones subscribe at (stubbed in the page).
        "WUYE_PUSH_SERVICE_HOSTS": '["push.example.com"]',
    }
    subprocess.run(
        [str(BIN / "flask"), "--app", "webapp", "demo"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def start_gunicorn(
    env: dict[str, str], port: int, log: Path, own_group: bool = False
) -> subprocess.Popen:
    """gunicorn, up and answering; with `own_group`, in a process group of its own (its
    workers included) that can be killed at once."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "webapp:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}", proc, log)
    except BaseException:
        stop_gunicorn(proc)
        raise
    return proc


def stop_gunicorn(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """The delivery worker (`flask worker`, huey's consumer) on the same DB and queue."""
    with log.open("ab") as out:
        proc = subprocess.Popen([str(BIN / "flask"), "--app", "webapp", "worker"], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while b"consumer" not in log.read_bytes().lower() or proc.poll() is not None:
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_gunicorn(proc)
            raise RuntimeError(f"the worker did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return proc


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """Migrate and load the demo into a temp DB, then serve it with gunicorn and run the
    delivery worker beside it, as `make run` does."""
    tmp = tmp_path_factory.mktemp("server")
    env = demo_env(tmp)
    port = free_port()
    proc = start_gunicorn(env, port, tmp / "server.log")
    try:
        consumer = start_worker(env, tmp / "worker.log")
    except BaseException:
        stop_gunicorn(proc)
        raise
    try:
        yield Server(f"http://127.0.0.1:{port}", env["WUYE_DATABASE"], env["WUYE_FILES_DIR"],
                     env["WUYE_RECORDS_KEY"])
    finally:
        stop_gunicorn(consumer)
        stop_gunicorn(proc)


def group_alive(pgid: int) -> bool:
    """Whether a process of this group still runs (zombies do not count)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state, _ppid, pgrp = fh.read().rsplit(")", 1)[1].split()[:3]
        except OSError:
            continue
        if int(pgrp) == pgid and state != "Z":
            return True
    return False


@dataclass
class OwnServer(Server):
    """A server of one test's own, which the test may kill and start again on the same
    port with the same DB and files (the session server is shared and stays up)."""

    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        assert self.proc is None and self.log is not None
        self.proc = start_gunicorn(self.env, self.port, self.log, own_group=True)

    def kill(self) -> None:
        """SIGKILL to gunicorn and its workers at once: no graceful shutdown. Returns when
        every process of the group is gone, so nothing is written after it returns (a
        worker finishing a write in the kernel outlives the master by a moment)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        deadline = time.monotonic() + 10
        while group_alive(self.proc.pid):
            assert time.monotonic() < deadline, "gunicorn's workers outlived SIGKILL"
            time.sleep(0.01)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            stop_gunicorn(self.proc)
            self.proc = None


@pytest.fixture
def own_server(tmp_path) -> OwnServer:
    """A fresh demo DB served by a gunicorn this test controls."""
    env = demo_env(tmp_path)
    port = free_port()
    srv = OwnServer(
        f"http://127.0.0.1:{port}",
        env["WUYE_DATABASE"],
        env["WUYE_FILES_DIR"],
        env["WUYE_RECORDS_KEY"],
        port=port,
        env=env,
        log=tmp_path / "server.log",
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def base_url(server: Server) -> str:
    return server.url


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(playwright, base_url: str) -> dict:
    return {
        **playwright.devices["Pixel 5"],
        "base_url": base_url,
        "locale": "zh-CN",
        "accept_downloads": True,
    }


def draw_signature(page: Page) -> None:
    """The resident signs with a finger: one stroke across the pad; at a job's sign-off,
    after one tap on how satisfied they are (asked beside the signature)."""
    rating = page.locator("[data-form=signoff] [data-rating=overall] input[value='5']")
    if rating.count() and rating.is_visible():
        rating.check()
    pad = page.locator("[data-signature-pad]")
    expect(pad).to_be_visible()
    # On a phone the pad may be below the fold: bring it on screen, where the finger is.
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.1, y + h * 0.7)
    page.mouse.down()
    for fx, fy in ((0.25, 0.3), (0.4, 0.75), (0.55, 0.25), (0.7, 0.7), (0.9, 0.35)):
        page.mouse.move(x + w * fx, y + h * fy, steps=6)
    page.mouse.up()


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form and wait until the app has left it."""
    page.goto("/login")
    form = page.locator("[data-form=login]")
    form.locator("[name=username]").fill(username)
    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-logout]")).to_be_visible()
