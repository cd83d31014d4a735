"""The admin's robot pages: adding and checking a webhook, the test message, failures
shown in Chinese and sent again, who may see them."""

from __future__ import annotations

import json
import uuid

import pytest

from webapp import wecom
from webapp.db import connect
from webapp.domain import robots

from .conftest import NOW
from .pages import Page
from .test_wecom import BASE, OFFICIAL, Robot, add_hook, message, queue

NEW = {"name": "维修群", "department": "maintenance", "url": OFFICIAL, "active": "1"}
OWN = "请粘贴机器人自己的地址：https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"


def post(client, path, **data):
    return client.post(path, data={"op_id": str(uuid.uuid4()), **data})


def rows(app, sql, params=()):
    db = connect(app.config["DATABASE"])
    found = list(db.query(sql, params))
    db.close()
    return found


@pytest.mark.parametrize("user", ["admin", "manager"])
def test_an_admin_or_manager_adds_a_robot_audited_without_its_key(app, client, auth, user):
    auth.login(user)
    assert post(client, "/admin/estates/1/robots/new", **NEW).status_code == 303
    [hook] = rows(app, "SELECT * FROM robot_hooks")
    assert (hook["estate_id"], hook["department"], hook["name"], hook["url"], hook["active"]) \
        == (1, "maintenance", "维修群", OFFICIAL, 1)
    [entry] = rows(app, "SELECT * FROM audit_log WHERE entity = 'robot'")
    assert "key=" not in entry["detail"] and entry["entity_id"] == hook["id"]
    page = Page(client.get("/admin/estates/1/robots").get_data(as_text=True))
    assert page.text("data-robot", str(hook["id"])).startswith("维修群")
    assert not page.find("data-unofficial")


@pytest.mark.parametrize("user", ["desk", "callback", "supervisor", "tech"])
def test_other_roles_may_not_see_or_set_robots(client, auth, user):
    auth.login(user)
    assert client.get("/admin/estates/1/robots").status_code == 403
    assert post(client, "/admin/estates/1/robots/new", **NEW).status_code == 403
    assert client.get("/admin").status_code == 403


def test_an_estate_the_admin_does_not_serve_is_not_found(app, client, auth):
    auth.login("manager")
    db = connect(app.config["DATABASE"])
    hook = add_hook(db, estate_id=2)
    db.execute("DELETE FROM user_estates WHERE estate_id = 2 AND user_id ="
               " (SELECT id FROM users WHERE username = 'manager')")
    db.conn.commit()
    db.close()
    assert client.get("/admin/estates/2/robots").status_code == 404
    assert client.get(f"/admin/estates/2/robots/{hook}").status_code == 404
    assert post(client, f"/admin/robots/{hook}/test").status_code == 404


@pytest.mark.parametrize("url, message", [
    ("", "请粘贴机器人的 Webhook 地址。"),
    ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1", OWN),
    ("http://127.0.0.1:9/x", OWN),
    # The worker posts where the address points: not into the server's own network.
    ("https://hooks.example.com/robot", OWN),
    ("https://169.254.169.254/latest/meta-data", OWN),
    ("https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=1", OWN),
    ("https://", "这不是一个网址。"),
    ("https://qyapi.weixin.qq.com:99999/cgi-bin/webhook/send", "这不是一个网址。"),
    ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a b", "这不是一个网址。"),
    ("https://qyapi.weixin.qq.com/?key=" + "k" * 500, "这不是一个网址。"),
    ("qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1", "这不是一个网址。"),
])
def test_a_webhook_address_must_be_the_robots_own(app, client, auth, url, message):
    auth.login("admin")
    response = post(client, "/admin/estates/1/robots/new", **{**NEW, "url": url})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors == {"url": message}
    assert page.values["name"] == "维修群" and page.values["url"] == url
    assert rows(app, "SELECT * FROM robot_hooks") == []


def test_plain_http_only_to_a_host_the_configuration_names(app, client, auth):
    app.config["WECOM_HTTP_HOSTS"] = ["127.0.0.1"]
    auth.login("admin")
    assert post(client, "/admin/estates/1/robots/new",
                **{**NEW, "url": "http://127.0.0.1:9/x"}).status_code == 303
    page = Page(client.get("/admin/estates/1/robots").get_data(as_text=True))
    assert page.find("data-unofficial")  # said plainly: not 企业微信's address


def test_the_test_button_queues_a_message_and_a_switched_off_robot_refuses(app, client, auth):
    auth.login("admin")
    post(client, "/admin/estates/1/robots/new", **NEW)
    [hook] = rows(app, "SELECT id FROM robot_hooks")
    response = post(client, f"/admin/robots/{hook['id']}/test")
    assert response.status_code == 303
    [d] = rows(app, "SELECT d.*, a.kind FROM deliveries d JOIN announcements a"
                    " ON a.id = d.announcement_id")
    assert (d["kind"], d["channel"], d["address_id"], d["status"]) == (
        "robot.test", "wecom", hook["id"], "queued")
    page = Page(client.get(response.headers["Location"]).get_data(as_text=True))
    assert page.find("data-done", "test")
    assert post(client, f"/admin/estates/1/robots/{hook['id']}",
                **{**NEW, "active": "0"}).status_code == 303
    page = Page(client.get("/admin/estates/1/robots").get_data(as_text=True))
    assert page.find("data-inactive") and not page.find("data-action", "test-robot")
    response = post(client, f"/admin/robots/{hook['id']}/test")
    assert response.status_code == 409
    assert Page(response.get_data(as_text=True)).notice == "这个机器人已关闭。"


def test_failures_are_shown_in_chinese_and_can_be_sent_again(app, client, auth):
    db = connect(app.config["DATABASE"])
    hook = add_hook(db)
    queue(db, hook, 2)
    robot = Robot([{"errcode": 45009, "errmsg": "api freq out of limit"}])
    wecom.deliver_due(db, NOW, message=message, post=robot, base_url=BASE)
    db.execute("UPDATE deliveries SET status = 'failed', attempts = 8, error = 'http:502'"
               " WHERE id = (SELECT min(id) FROM deliveries)")
    db.conn.commit()
    db.close()
    auth.login("admin")
    page = Page(client.get("/admin/estates/1/robots").get_data(as_text=True))
    assert "每分钟最多 20 条" in page.text("data-last-error")
    failed, waiting = sorted(page.find("data-delivery"), key=lambda d: d["data-delivery"])
    assert (failed["data-status"], waiting["data-status"]) == ("failed", "queued")
    assert "HTTP 502" in page.text("data-delivery", failed["data-delivery"])
    assert "尝试 8 次后失败" in page.text("data-delivery", failed["data-delivery"])
    assert page.text("data-failed") == "失败：1"
    response = post(client, f"/admin/robots/{hook}/retry")
    assert response.status_code == 303
    assert [(r["status"], r["attempts"]) for r in rows(app, "SELECT * FROM deliveries")] == [
        ("queued", 0), ("queued", 0)]
    [entry] = rows(app, "SELECT detail FROM audit_log WHERE action = 'retry'")
    assert json.loads(entry["detail"]) == {"deliveries": 1}


def test_describe_knows_each_kind_of_error():
    assert robots.describe(None) is None
    for error in ("errcode:45009 x", "errcode:93000 x", "errcode:40008 bad", "http:500",
                  "timeout", "network:refused", "off", "answer:not JSON"):
        msgid, params = robots.describe(error)
        assert msgid % params
