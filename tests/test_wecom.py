"""企业微信 group robots: the messages sent (format, links, size), the robot's limit of 20
a minute (merging, waiting), back-off on errors with nothing lost. The admin's pages:
test_robots.py."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import url_for

from webapp import wecom
from webapp.domain import robots

from .conftest import NOW

BASE = "https://wuye.example/"
OFFICIAL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def add_hook(db, url=OFFICIAL, estate_id=1, active=1, name="维修群") -> int:
    return db.execute(
        "INSERT INTO robot_hooks (estate_id, name, url, active, created_at) VALUES (?,?,?,?,?)",
        [estate_id, name, url, active, NOW.isoformat()]).lastrowid


def queue(db, hook_id: int, n: int = 1, at: datetime = NOW, estate_id: int = 1) -> list[int]:
    """Announcements with a robot delivery each, as notifications.announce writes them."""
    ids = []
    for _ in range(n):
        a = db.execute(
            "INSERT INTO announcements (estate_id, kind, target, params, created_at)"
            " VALUES (?,?,?,?,?)", [estate_id, "job.dispatched", "job:0", "{}", at.isoformat()]
        ).lastrowid
        db.execute("UPDATE announcements SET target = ? WHERE id = ?", [f"job:{a}", a])
        db.execute("INSERT INTO deliveries (announcement_id, channel, address_id, next_at)"
                   " VALUES (?,?,?,?)", [a, "wecom", hook_id, at.isoformat()])
        ids.append(a)
    return ids


def message(db, announcement, locale):
    n = announcement["target"].partition(":")[2]
    return {"title": f"新工单 J-{n}", "body": f"1-502 厨房漏水（{locale}）", "url": f"/jobs/{n}"}


class Robot:
    """A stand-in for the webhook: records what it is sent, answers from a script."""

    def __init__(self, answers=()):
        self.sent: list[tuple[str, dict, float]] = []
        self.answers = list(answers)

    def __call__(self, url, body, timeout):
        self.sent.append((url, body, timeout))
        answer = self.answers.pop(0) if self.answers else {"errcode": 0, "errmsg": "ok"}
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def contents(self) -> list[str]:
        return [body["markdown"]["content"] for _url, body, _t in self.sent]


def deliveries(db) -> list[dict]:
    return list(db.query("SELECT * FROM deliveries ORDER BY id"))


def run(db, now=NOW, post=None):
    return wecom.deliver_due(db, now, message=message, post=post, base_url=BASE)


# --- the message ---------------------------------------------------------------------

def test_one_message_is_markdown_in_chinese_with_an_absolute_link(db):
    hook = add_hook(db)
    [a] = queue(db, hook)
    robot = Robot()
    assert run(db, post=robot) == 1
    [(url, body, timeout)] = robot.sent
    assert url == OFFICIAL and timeout <= 5
    assert body == {"msgtype": "markdown", "markdown": {
        "content": f"**新工单 J-{a}**\n1-502 厨房漏水（zh）\n[查看详情](https://wuye.example/jobs/{a})"}}
    [d] = deliveries(db)
    assert (d["status"], d["sent_at"], d["attempts"], d["error"]) == (
        "accepted", NOW.isoformat(), 1, None)
    assert robots.get(db, hook)["last_ok_at"] == NOW.isoformat()
    assert run(db, NOW + timedelta(minutes=5), post=robot) == 0  # sent once


def test_a_long_message_is_cut_to_the_robots_4096_bytes():
    item = wecom.Item(1, 0, "标题", "长" * 3000, "https://wuye.example/jobs/1")
    content = wecom.single(item)
    assert len(content.encode("utf-8")) <= wecom.MAX_BYTES
    assert content.endswith("[查看详情](https://wuye.example/jobs/1)") and "…" in content


@pytest.mark.parametrize(("compose", "links"), [
    (lambda item: wecom.single(item), 1),
    (lambda item: wecom.merged([item, item]), 2),
])
def test_what_people_typed_is_text_in_the_group_not_markdown(compose, links):
    # A resident's report from a QR code is posted to the staff's group: its words must
    # not become a link, a heading, a quote or coloured text there.
    typed = '漏水 [点此登记](https://evil.example/x) <font color="warning">急</font> **粗**'
    item = wecom.Item(1, 0, "# 新工单 [J-1](https://evil.example)", typed,
                      "https://wuye.example/jobs/1")
    content = compose(item)
    assert "evil.example" in content  # the words stay, as text
    assert "](https://evil.example" not in content and "<font" not in content
    assert "**粗**" not in content and not content.startswith("#")
    assert content.count("](https://wuye.example/jobs/1)") == links  # the app's own links


def test_the_test_message_links_to_the_robots_page(app, db):
    hook = add_hook(db)
    db.execute("INSERT INTO announcements (id, estate_id, kind, target, created_at)"
               " VALUES (900, 1, 'robot.test', ?, ?)", [f"robot:{hook}", NOW.isoformat()])
    db.execute("INSERT INTO deliveries (announcement_id, channel, address_id, next_at)"
               " VALUES (900, 'wecom', ?, ?)", [hook, NOW.isoformat()])
    robot = Robot()
    assert wecom.deliver_due(db, NOW, message=None, post=robot, base_url=BASE) == 1
    with app.test_request_context():
        path = url_for("admin.robots_list", estate_id=1)
    assert robot.contents == [
        f"**测试消息**\n企业微信机器人「维修群」已连通。\n[查看详情]({BASE[:-1]}{path})"]


# --- 20 a minute ---------------------------------------------------------------------

def test_more_due_than_the_minute_allows_are_merged_into_one_message(db):
    hook = add_hook(db)
    ids = queue(db, hook, 25)
    robot = Robot()
    assert run(db, post=robot) == 25
    [content] = robot.contents
    assert content.startswith("**25 条新通知**\n")
    for a in ids:
        assert content.count(f"[新工单 J-{a}](https://wuye.example/jobs/{a})") == 1
    rows = deliveries(db)
    assert {r["status"] for r in rows} == {"accepted"}
    carrier = rows[0]["id"]
    assert [r["merged_into"] for r in rows] == [None] + [carrier] * 24
    assert wecom.window(db, hook, NOW)[0] == 1  # one message of the minute's 20


def test_few_due_go_one_by_one(db):
    hook = add_hook(db)
    queue(db, hook, 3)
    robot = Robot()
    assert run(db, post=robot) == 3
    assert len(robot.sent) == 3 and not any("条新通知" in c for c in robot.contents)


def test_a_full_minute_waits_until_its_first_message_is_a_minute_old(db):
    hook = add_hook(db)
    robot = Robot()
    for second in range(20):
        queue(db, hook, 1, NOW + timedelta(seconds=second))
        run(db, NOW + timedelta(seconds=second), post=robot)
    assert len(robot.sent) == 20
    late = NOW + timedelta(seconds=30)
    queue(db, hook, 3, late)
    assert run(db, late, post=robot) == 0 and len(robot.sent) == 20
    waiting = [d for d in deliveries(db) if d["status"] == "queued"]
    assert {d["next_at"] for d in waiting} == {(NOW + timedelta(seconds=60)).isoformat()}
    assert {d["attempts"] for d in waiting} == {0}
    assert run(db, NOW + timedelta(seconds=60), post=robot) == 3
    assert len(robot.sent) == 21 and robot.contents[-1].startswith("**3 条新通知**")


def test_many_long_messages_are_merged_into_several_each_within_4096_bytes(db):
    hook = add_hook(db)
    ids = queue(db, hook, 60)

    def wordy(db, a, locale):
        return {**message(db, a, locale), "body": "楼道灯不亮，" * 60}

    robot = Robot()
    assert wecom.deliver_due(db, NOW, message=wordy, post=robot, base_url=BASE) == 60
    assert 1 < len(robot.sent) < 20
    assert all(len(c.encode("utf-8")) <= wecom.MAX_BYTES for c in robot.contents)
    every = "\n".join(robot.contents)
    assert all(every.count(f"/jobs/{a})") == 1 for a in ids)


# --- errors: back-off, nothing lost ----------------------------------------------------

def test_the_rate_limit_error_waits_a_minute_and_never_fails_a_message(db):
    hook = add_hook(db)
    queue(db, hook, 2)
    limited = {"errcode": 45009, "errmsg": "api freq out of limit"}
    robot = Robot([limited] * 50)
    now = NOW
    for _ in range(wecom.MAX_ATTEMPTS + 2):
        assert run(db, now, post=robot) == 0
        rows = deliveries(db)
        assert {r["status"] for r in rows} == {"queued"}
        assert {r["next_at"] for r in rows} == {(now + timedelta(minutes=1)).isoformat()}
        now += timedelta(minutes=1)
    assert len(robot.sent) == wecom.MAX_ATTEMPTS + 2  # the first refusal stops the run
    assert rows[0]["error"].startswith("errcode:45009")
    hook_row = robots.get(db, hook)
    assert hook_row["last_error"].startswith("errcode:45009") and hook_row["last_ok_at"] is None
    robot.answers = []
    assert run(db, now, post=robot) == 2
    assert {r["status"] for r in deliveries(db)} == {"accepted"}


def test_errors_back_off_and_fail_with_the_reason_after_the_last_attempt(db):
    hook = add_hook(db)
    queue(db, hook, 2)
    robot = Robot([wecom.SendError("timeout")] * wecom.MAX_ATTEMPTS)
    now = NOW
    for attempt in range(1, wecom.MAX_ATTEMPTS + 1):
        run(db, now, post=robot)
        first, second = deliveries(db)
        assert first["attempts"] == attempt and first["error"] == "timeout"
        # The robot does not answer: the next message waits as long, without a try.
        assert second["attempts"] == 0 and second["next_at"] == first["next_at"]
        if attempt < wecom.MAX_ATTEMPTS:
            assert first["status"] == "queued"
            assert datetime.fromisoformat(first["next_at"]) == now + wecom.backoff(attempt)
            now = datetime.fromisoformat(first["next_at"])
    assert first["status"] == "failed"
    assert wecom.backoff(1) == timedelta(minutes=1) and wecom.backoff(20) == wecom.MAX_BACKOFF
    assert run(db, now + timedelta(hours=2), post=robot) == 1  # the robot is back
    assert [d["status"] for d in deliveries(db)] == ["failed", "accepted"]


def test_an_error_answer_is_recorded_on_the_robot(db):
    hook = add_hook(db)
    queue(db, hook)
    run(db, post=Robot([{"errcode": 93000, "errmsg": "invalid webhook url"}]))
    assert robots.get(db, hook)["last_error"] == "errcode:93000 invalid webhook url"
    assert robots.get(db, hook)["last_error_at"] == NOW.isoformat()
    assert deliveries(db)[0]["attempts"] == 1


def test_a_switched_off_robot_sends_nothing_and_says_so(db):
    hook = add_hook(db, active=0)
    queue(db, hook)
    robot = Robot()
    assert run(db, post=robot) == 0 and robot.sent == []
    assert [(d["status"], d["error"]) for d in deliveries(db)] == [("failed", "off")]


def test_an_announcement_that_cannot_be_worded_does_not_hold_the_others_up(db):
    hook = add_hook(db)
    bad, good = queue(db, hook, 2)

    def picky(db, a, locale):
        if a["id"] == bad:
            raise KeyError("params")
        return message(db, a, locale)

    robot = Robot()
    assert wecom.deliver_due(db, NOW, message=picky, post=robot, base_url=BASE) == 1
    first, second = deliveries(db)
    assert first["status"] == "failed" and "KeyError" in first["error"]
    assert second["status"] == "accepted"


def test_a_run_leases_what_it_sends_so_a_second_run_does_not_send_it_too(db):
    hook = add_hook(db)
    queue(db, hook, 3)
    assert sum(len(v) for v in wecom._claim(db, NOW).values()) == 3
    assert wecom._claim(db, NOW) == {}
    # A run that died after claiming: the lease runs out and they are sent.
    robot = Robot()
    assert run(db, NOW + wecom.LEASE, post=robot) == 3


# --- against a robot over HTTP ---------------------------------------------------------

class RobotServer(ThreadingHTTPServer):
    """The webhook over HTTP: checks the JSON as 企业微信 does, and answers 45009 to a
    21st message within a minute of the test's clock (`others` are messages another
    system sent the same robot)."""

    def __init__(self, clock, others=(), slow=0.0):
        super().__init__(("127.0.0.1", 0), RobotHandler)
        self.clock = clock
        self.times = list(others)
        self.received: list[str] = []
        self.limited = 0
        self.bad: list[str] = []
        self.slow = slow

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_port}/cgi-bin/webhook/send?key=test"


class RobotHandler(BaseHTTPRequestHandler):
    server: RobotServer

    def log_message(self, *args):
        pass

    def do_POST(self):
        s = self.server
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        if s.slow:
            time.sleep(s.slow)  # answers too late: the sender has given up
            return
        try:
            body = json.loads(raw.decode("utf-8"))
            assert self.headers["Content-Type"].startswith("application/json")
            assert self.path == "/cgi-bin/webhook/send?key=test"
            assert body["msgtype"] == "markdown" and set(body) == {"msgtype", "markdown"}
            content = body["markdown"]["content"]
            assert isinstance(content, str) and len(content.encode("utf-8")) <= 4096
        except (AssertionError, KeyError, TypeError, ValueError) as exc:
            s.bad.append(repr(exc))
            answer = {"errcode": 40008, "errmsg": "invalid message type"}
        else:
            now = s.clock[0]
            s.times = [t for t in s.times if t > now - timedelta(seconds=60)]
            if len(s.times) >= 20:
                s.limited += 1
                answer = {"errcode": 45009, "errmsg": "api freq out of limit"}
            else:
                s.times.append(now)
                s.received.append(content)
                answer = {"errcode": 0, "errmsg": "ok"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def robot_server():
    servers = []

    def start(clock, **kwargs):
        server = RobotServer(clock, **kwargs)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("others", [0, 5], ids=["own robot", "shared robot"])
def test_thirty_in_a_burst_all_arrive_once_within_the_robots_limit(db, robot_server, others):
    clock = [NOW]
    server = robot_server(clock, others=[NOW] * others)
    hook = add_hook(db, url=server.url)
    ids = []
    # Thirty announcements, one a second; the worker runs every second.
    for second in range(300):
        clock[0] = NOW + timedelta(seconds=second)
        if second < 30:
            ids += queue(db, hook, 1, clock[0])
        wecom.deliver_due(db, clock[0], message=message, base_url=BASE, timeout=2)
    assert server.bad == []
    everything = "\n".join(server.received)
    for a in ids:  # every one arrived, once
        assert everything.count(f"(https://wuye.example/jobs/{a})") == 1, a
    assert {d["status"] for d in deliveries(db)} == {"accepted"}
    # Alone on its robot, the app never meets the limit: the ten past the minute's twenty
    # go out merged. Beside another sender, it is refused once, and waits a minute.
    assert (len(server.received), server.limited) == ((21, 0) if others == 0 else (30, 1))


def test_a_robot_that_does_not_answer_in_time_is_a_timeout_not_a_hang(db, robot_server):
    server = robot_server([NOW], slow=1.5)
    hook = add_hook(db, url=server.url)
    queue(db, hook)
    started = time.monotonic()
    assert wecom.deliver_due(db, NOW, message=message, base_url=BASE, timeout=0.3) == 0
    assert time.monotonic() - started < 1.2
    [d] = deliveries(db)
    assert (d["status"], d["attempts"], d["error"]) == ("queued", 1, "timeout")


def test_an_unreachable_robot_is_a_network_error(db, robot_server):
    server = robot_server([NOW])
    url = server.url
    server.shutdown()
    server.server_close()
    hook = add_hook(db, url=url)
    queue(db, hook)
    assert wecom.deliver_due(db, NOW, message=message, base_url=BASE, timeout=1) == 0
    assert deliveries(db)[0]["error"].startswith("network:")
