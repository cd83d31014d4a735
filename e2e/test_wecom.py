"""An administrator sets up a 企业微信 robot on a phone and sends it a test message; the
message reaches the robot's webhook (a local stand-in) with a link that opens the
robots page, which then shows it went out."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, expect

from webapp import wecom
from webapp.auth import utcnow
from webapp.db import connect

from .conftest import OwnServer, demo_env, free_port, login


class Webhook(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append(body)  # type: ignore[attr-defined]
        data = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    server.received = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def robot_server(tmp_path):
    """A server of this test's own that lets a robot's webhook be plain http on loopback."""
    env = {**demo_env(tmp_path), "WUYE_WECOM_HTTP_HOSTS": '["127.0.0.1"]'}
    port = free_port()
    srv = OwnServer(f"http://127.0.0.1:{port}", env["WUYE_DATABASE"], env["WUYE_FILES_DIR"],
                    env["WUYE_RECORDS_KEY"], port=port, env=env, log=tmp_path / "server.log")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def test_an_admin_adds_a_robot_and_its_test_message_arrives(
        browser: Browser, browser_context_args: dict, robot_server: OwnServer, webhook):
    context = browser.new_context(**{**browser_context_args, "base_url": robot_server.url})
    page = context.new_page()
    try:
        login(page, "admin")
        page.goto("/admin")
        page.locator("[data-estate=CH] [data-nav=robots]").click()
        page.locator("[data-action=new-robot]").click()
        form = page.locator("[data-form=robot]")
        form.locator("[name=name]").fill("维修群")
        form.locator("[name=department]").select_option("maintenance")
        url = f"http://127.0.0.1:{webhook.server_port}/cgi-bin/webhook/send?key=e2e"
        form.locator("[name=url]").fill(url)
        form.locator("button[type=submit]").click()

        robot = page.locator("[data-list=robots] [data-robot]")
        expect(robot).to_have_count(1)
        expect(robot).to_contain_text("维修群")
        expect(robot.locator("[data-unofficial]")).to_be_visible()
        robot.locator("[data-action=test-robot]").click()
        expect(page.locator("[data-done=test]")).to_be_visible()
        expect(page.locator("[data-queued]")).to_contain_text("1")

        # The worker's turn.
        db = connect(robot_server.database)
        try:
            sent = wecom.deliver_due(db, utcnow(), message=None, base_url=robot_server.url,
                                     timeout=2)
        finally:
            db.close()
        assert sent == 1
        [body] = webhook.received
        assert body["msgtype"] == "markdown"
        content = body["markdown"]["content"]
        assert content.startswith("**测试消息**\n企业微信机器人「维修群」已连通。")
        link = re.search(r"\((http[^)]+)\)$", content).group(1)
        assert link == f"{robot_server.url}/admin/estates/1/robots"

        page.goto(link)
        expect(page.locator("[data-last-ok]")).to_be_visible()
        expect(page.locator("[data-queued]")).to_have_count(0)
        expect(page.locator("[data-list=robot-failures] [data-delivery]")).to_have_count(0)
    finally:
        context.close()
