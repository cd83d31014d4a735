"""The production stack as a phone meets it: deploy/serve.sh starts gunicorn behind Caddy
with Caddy's own CA on a name that is not localhost; Chromium trusts exactly that CA
(through its NSS database, never by ignoring certificate errors), the service worker runs
over HTTPS, and work done offline reaches the server once."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Error, expect

from webapp import https

from .conftest import ROOT, Server, demo_env, free_port, group_alive, login
from .offline import (
    audit_rows,
    cache_for_offline,
    command_counts,
    complete_offline,
    expect_pending,
    jpeg,
    new_job,
    outbox_items,
    sha,
)

HOST = "wuye.test"  # not localhost: no browser exemption for insecure origins applies
ADDRESS = "127.0.0.2"  # where Chromium's resolver rule and the test's connections go


class ResolvedHTTPS(http.client.HTTPSConnection):
    """HTTPS to HOST at ADDRESS, verified against the given CA only."""

    def __init__(self, port: int, tls: ssl.SSLContext):
        super().__init__(HOST, port, timeout=5, context=tls)
        self.tls = tls

    def connect(self) -> None:
        raw = socket.create_connection((ADDRESS, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=HOST)


@dataclass
class Stack:
    server: Server
    https_port: int
    http_port: int
    ca: Path
    proc: subprocess.Popen
    log: Path

    def get(self, path: str, secure: bool = True) -> http.client.HTTPResponse:
        if secure:
            conn: http.client.HTTPConnection = ResolvedHTTPS(
                self.https_port, ssl.create_default_context(cafile=self.ca))
        else:
            conn = http.client.HTTPConnection(ADDRESS, self.http_port, timeout=5)
        port = self.https_port if secure else self.http_port
        try:  # closed on failure too: the stack is asked until it answers
            conn.request("GET", path, headers={"Host": f"{HOST}:{port}"})
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        return response


def wait_for_stack(stack: Stack, timeout: float = 30) -> None:
    """Caddy has made its CA and a certificate, and gunicorn answers through it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.proc.poll() is not None:
            raise RuntimeError(f"serve.sh exited:\n{stack.log.read_text()}")
        try:
            if stack.ca.exists() and stack.get("/login").status == 200:
                return
        except (OSError, ssl.SSLError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the stack did not answer within {timeout}s:\n{stack.log.read_text()}")


@pytest.fixture
def stack(tmp_path) -> Iterator[Stack]:
    env = demo_env(tmp_path)
    https_port, http_port, app_port = free_port(), free_port(), free_port()
    data = tmp_path / "caddy"
    env.update(WUYE_DOMAIN=HOST, WUYE_CADDY_TLS="internal", WUYE_HTTPS_PORT=str(https_port),
               WUYE_HTTP_PORT=str(http_port), WUYE_GUNICORN_BIND=f"127.0.0.1:{app_port}",
               WUYE_CADDY_DATA=str(data),
               # Litestream runs gunicorn as its child, replicating to a folder.
               WUYE_REPLICA_URL=(tmp_path / "replica").as_uri())
    log = tmp_path / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([str(ROOT / "deploy" / "serve.sh")], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"https://{HOST}:{https_port}"
    s = Stack(Server(url, env["WUYE_DATABASE"], env["WUYE_FILES_DIR"], env["WUYE_RECORDS_KEY"]),
              https_port, http_port, data / https.ROOT_CERT, proc, log)
    try:
        wait_for_stack(s)
        yield s
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def trusting_home(tmp_path: Path, ca: Path | None) -> Path:
    """A home folder whose NSS database (Chromium on Linux reads $HOME/.pki/nssdb) trusts
    `ca` as an authority for web sites, and nothing else added."""
    home = tmp_path / ("home" if ca else "home-untrusting")
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
    if ca:
        subprocess.run(["certutil", "-A", "-d", f"sql:{nssdb}", "-n", "wuye test CA",
                        "-t", "C,,", "-i", str(ca)], check=True)
    return home


def launch(playwright, launch_args: dict, home: Path):
    args = [*launch_args["args"], f"--host-resolver-rules=MAP {HOST} {ADDRESS}"]
    return playwright.chromium.launch(**{**launch_args, "args": args},
                                      env={**os.environ, "HOME": str(home)})


def test_the_caddy_stack_serves_https_and_the_root_certificate_over_http(stack: Stack):
    secure = stack.get("/login")
    assert secure.status == 200
    assert secure.getheader("Strict-Transport-Security") is None  # Caddy's own CA: no HSTS
    # Neither Caddy nor gunicorn names itself; the app's headers pass through.
    assert secure.getheader("Server") is None
    assert "frame-ancestors 'none'" in secure.getheader("Content-Security-Policy")
    assert "Secure" in secure.getheader("Set-Cookie", "")
    # Plain http: everything is sent to https, except the root certificate.
    plain = stack.get("/jobs/mine?x=1", secure=False)
    assert plain.status == 308
    assert plain.getheader("Server") is None
    assert plain.getheader("Location") == f"{stack.server.url}/jobs/mine?x=1"
    ca = http.client.HTTPConnection(ADDRESS, stack.http_port, timeout=5)
    ca.request("GET", https.CA_PATH, headers={"Host": f"{HOST}:{stack.http_port}"})
    response = ca.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == https.CA_MIMETYPE
    assert response.read() == stack.ca.read_bytes()
    ca.close()


def test_offline_work_over_https_reaches_the_server_once(
    playwright, browser_type_launch_args, browser_context_args, stack: Stack, tmp_path
):
    server = stack.server
    job_id = new_job(server, description="HTTPS离线工单")
    photo = jpeg((180, 90, 20))
    context_args = {**browser_context_args, "base_url": server.url}

    # Without the CA in its store, the browser refuses the site: the trust below is real.
    untrusting = launch(playwright, browser_type_launch_args, trusting_home(tmp_path, None))
    try:
        with pytest.raises(Error, match="ERR_CERT_AUTHORITY_INVALID"):
            untrusting.new_context(**context_args).new_page().goto("/login")
    finally:
        untrusting.close()

    browser = launch(playwright, browser_type_launch_args, trusting_home(tmp_path, stack.ca))
    try:
        # The administrator's page for connecting phones fits a phone's screen.
        admin = browser.new_context(**context_args)
        admin_page = admin.new_page()
        login(admin_page, "admin")
        admin_page.goto("/admin/connect")
        expect(admin_page.locator("[data-fingerprint]")).to_be_visible()
        assert admin_page.evaluate(
            "document.documentElement.scrollWidth <= innerWidth"), "the page scrolls sideways"
        admin.close()

        ctx = browser.new_context(**context_args)
        page = ctx.new_page()
        login(page, "tech")
        assert page.evaluate("[location.protocol, window.isSecureContext]") == ["https:", True]
        cache_for_offline(page)
        assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == (
            f"{server.url}/sw.js")

        ctx.set_offline(True)
        complete_offline(page, job_id, "更换阀芯", photo, "陈小明")
        expect_pending(page, 2)
        saved = outbox_items(page)
        op_ids = [i["op_id"] for i in saved]
        assert [(i["kind"], i["state"]) for i in saved] == [
            ("job.complete", "saved"), ("job.signoff", "saved")]
        assert command_counts(server, op_ids) == {}

        ctx.set_offline(False)
        page.goto("/outbox")
        expect_pending(page, 0, timeout=20_000)
        expect(page.locator("[data-outbox-list] li[data-state-now=synced]")).to_have_count(2)
        page.goto("/outbox")  # another load sends nothing more
        expect_pending(page, 0)
    finally:
        browser.close()

    assert command_counts(server, op_ids) == {op: 1 for op in op_ids}
    assert audit_rows(server, op_ids) == {op_ids[0]: ["complete"], op_ids[1]: ["signoff"]}
    (job,) = server.query("SELECT status, work_done FROM jobs WHERE id = ?", [job_id])
    assert job == {"status": "closed", "work_done": "更换阀芯"}
    assert server.query("SELECT sha256, op_id FROM job_photos WHERE job_id = ?", [job_id]) == [
        {"sha256": sha(photo), "op_id": op_ids[0]}]

    # The replica that serve.sh's Litestream keeps has the job as the server has it, once
    # its sync interval has passed.
    restored = tmp_path / "restored.db"
    deadline = time.monotonic() + 15
    while True:
        restored.unlink(missing_ok=True)
        subprocess.run([str(ROOT / ".venv/bin/litestream"), "restore", "-o", str(restored),
                        (tmp_path / "replica").as_uri()], check=True, capture_output=True)
        copy = Server(server.url, str(restored), server.files_dir)
        found = copy.query("SELECT status FROM jobs WHERE id = ?", [job_id])
        if found == [{"status": "closed"}] or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert found == [{"status": "closed"}]
    assert command_counts(copy, op_ids) == {op: 1 for op in op_ids}


def group_commands(pgid: int) -> list[str]:
    """The command lines of the processes of this group."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                pgrp = int(fh.read().rsplit(")", 1)[1].split()[2])
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pgrp == pgid:
            found.append(cmdline)
    return found


def test_serve_stops_gunicorn_caddy_and_the_worker_together(stack: Stack):
    # The delivery worker runs beside them: huey's consumer, its queue in the instance's
    # configured file.
    deadline = time.monotonic() + 15
    while not any("flask worker" in c for c in group_commands(stack.proc.pid)):
        assert time.monotonic() < deadline, group_commands(stack.proc.pid)
        time.sleep(0.1)
    stack.proc.send_signal(signal.SIGTERM)
    assert stack.proc.wait(timeout=20) == 0
    deadline = time.monotonic() + 10
    while group_alive(stack.proc.pid):
        assert time.monotonic() < deadline, "a child of serve.sh outlived it"
        time.sleep(0.05)
    with pytest.raises(OSError):
        stack.get("/login")
