"""Web Push: the installation's keys, phones' subscriptions, and what deliver_due records
for each answer of the push service (an injected sender stands in for it)."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime, timedelta

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pywebpush import WebPushException

from webapp import create_app, push
from webapp.db import connect

from .conftest import NOW
from .pages import Page


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def browser_keys() -> dict[str, str]:
    """What a browser's PushSubscription holds: a P-256 public key and a 16-byte secret."""
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return {"p256dh": b64(point), "auth": b64(os.urandom(16))}


def subscription(endpoint="https://push.example.com/send/abc") -> dict:
    return {"endpoint": endpoint, "keys": browser_keys()}


def signed_in(app, username="tech"):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": "demo1234"})
    assert response.status_code == 302
    return client


def query(app, sql, params=()):
    db = connect(app.config["DATABASE"])
    try:
        return list(db.query(sql, list(params)))
    finally:
        db.close()


# --- VAPID keys -------------------------------------------------------------------------

def test_the_key_pair_is_made_once_and_kept_private(tmp_path):
    path = tmp_path / "vapid_private.pem"
    first = push.vapid_keys(path)
    again = push.vapid_keys(path)
    assert push.application_server_key(first) == push.application_server_key(again)
    assert os.stat(path).st_mode & 0o777 == 0o600
    raw = base64.urlsafe_b64decode(push.application_server_key(first) + "=")
    assert len(raw) == 65 and raw[0] == 4  # what PushManager.subscribe() takes


def test_the_account_page_offers_the_installations_key(app):
    page = Page(signed_in(app).get("/account/password").get_data(as_text=True))
    [box] = page.find("data-push")
    [button] = page.find("data-push-subscribe")
    assert button["tag"] == "button"
    assert box["data-push-key"] == push.application_server_key(
        push.vapid_keys(app.config["VAPID_KEY_FILE"]))
    # The same key on the next page and from another process's app (the worker's).
    page2 = Page(signed_in(app, "desk").get("/account/password").get_data(as_text=True))
    assert page2.find("data-push")[0]["data-push-key"] == box["data-push-key"]

    class Scripts(Page):
        def handle_starttag(self, tag, attrs):
            super().handle_starttag(tag, attrs)
            if tag == "script":
                self.scripts = [*getattr(self, "scripts", []), dict(attrs).get("src", "")]

    scripts = Scripts(signed_in(app).get("/account/password").get_data(as_text=True)).scripts
    assert any(src.startswith("/static/push.js") for src in scripts)


def test_contact_claim():
    assert push.contact("https://wuye.example.com") == "https://wuye.example.com"
    assert push.contact("https://192.168.1.5:8443") == "mailto:admin@localhost"
    assert push.contact("") == "mailto:admin@localhost"


# --- subscribe / unsubscribe ------------------------------------------------------------

def test_a_signed_in_user_subscribes_a_phone(app):
    client = signed_in(app)
    sub = subscription()
    response = client.post("/notifications/push", json=sub,
                           headers={"User-Agent": "Pixel 5"})
    assert response.status_code == 201
    [row] = query(app, "SELECT * FROM push_subscriptions")
    tech = query(app, "SELECT id FROM users WHERE username = 'tech'")[0]["id"]
    assert row["user_id"] == tech and row["endpoint"] == sub["endpoint"]
    assert row["p256dh"] == sub["keys"]["p256dh"] and row["auth"] == sub["keys"]["auth"]
    assert row["user_agent"] == "Pixel 5" and row["gone_at"] is None
    assert response.get_json() == {"id": row["id"]}


def test_a_person_keeps_the_newest_few_subscriptions(app):
    client = signed_in(app)
    for n in range(push.KEPT_PER_USER + 3):
        sub = subscription(f"https://push.example.com/send/{n}")
        assert client.post("/notifications/push", json=sub).status_code == 201
    live = query(app, "SELECT endpoint FROM push_subscriptions WHERE gone_at IS NULL")
    assert sorted(r["endpoint"] for r in live) == sorted(
        f"https://push.example.com/send/{n}" for n in range(3, push.KEPT_PER_USER + 3))


def test_signing_out_stops_the_pushes_to_ones_phones(app):
    client = signed_in(app)
    assert client.post("/notifications/push", json=subscription()).status_code == 201
    other = signed_in(app, "tech2")
    assert other.post("/notifications/push", json=subscription(
        "https://push.example.com/send/other")).status_code == 201
    assert client.post("/logout").status_code == 302
    rows = query(app, "SELECT u.username, s.gone_at FROM push_subscriptions s JOIN users u "
                      "ON u.id = s.user_id ORDER BY s.id")
    assert [(r["username"], r["gone_at"] is not None) for r in rows] == [
        ("tech", True), ("tech2", False)]


def test_the_same_phone_signed_in_as_someone_else_is_theirs_now(app):
    sub = subscription()
    assert signed_in(app).post("/notifications/push", json=sub).status_code == 201
    assert signed_in(app, "tech2").post("/notifications/push", json=sub).status_code == 201
    [row] = query(app, "SELECT u.username FROM push_subscriptions s"
                       " JOIN users u ON u.id = s.user_id")
    assert row["username"] == "tech2"


@pytest.mark.parametrize("bad", [
    None,
    {"endpoint": "http://push.example.com/x", "keys": browser_keys()},  # not https
    {"endpoint": "https://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": "BBBB"}},
    {"endpoint": "https://push.example.com/x",
     "keys": {**browser_keys(), "auth": b64(os.urandom(15))}},
    {"endpoint": "https://push.example.com/x",
     "keys": {"p256dh": b64(b"\x02" + os.urandom(64)), "auth": b64(os.urandom(16))}},
    {"endpoint": "https://u:p@push.example.com/x", "keys": browser_keys()},
    {"endpoint": "https://push.example.com/" + "x" * 1000, "keys": browser_keys()},
    {"endpoint": ["https://push.example.com/x"], "keys": browser_keys()},
])
def test_a_subscription_that_is_not_one_is_refused(app, bad):
    response = signed_in(app).post("/notifications/push", json=bad)
    assert response.status_code == 422
    assert query(app, "SELECT count(*) AS n FROM push_subscriptions")[0]["n"] == 0


def test_subscribing_needs_a_sign_in_and_the_forms_token(app, client, tmp_path):
    response = client.post("/notifications/push", json=subscription())
    assert response.status_code in (302, 401)
    guarded = create_app({**app.config, "WTF_CSRF_ENABLED": True, "TESTING": True})
    phone = guarded.test_client()
    login = Page(phone.get("/login").get_data(as_text=True))
    assert phone.post("/login", data={"username": "tech", "password": "demo1234",
                                      "csrf_token": login.values["csrf_token"]}
                      ).status_code == 302
    assert phone.post("/notifications/push", json=subscription()).status_code == 400
    page = Page(phone.get("/account/password").get_data(as_text=True))
    token = page.find("data-push")[0]["data-push-csrf"]
    response = phone.post("/notifications/push", json=subscription(),
                          headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_unsubscribe_stops_ones_own_phone_only(app):
    mine, theirs = subscription(), subscription("https://push.example.com/send/other")
    tech = signed_in(app)
    tech.post("/notifications/push", json=mine)
    signed_in(app, "tech2").post("/notifications/push", json=theirs)
    assert tech.post("/notifications/push/unsubscribe",
                     json={"endpoint": theirs["endpoint"]}).status_code == 204
    assert tech.post("/notifications/push/unsubscribe",
                     json={"endpoint": mine["endpoint"]}).status_code == 204
    gone = {r["endpoint"]: r["gone_at"] for r in query(app, "SELECT * FROM push_subscriptions")}
    assert gone[mine["endpoint"]] is not None and gone[theirs["endpoint"]] is None
    # Subscribing again turns it back on.
    tech.post("/notifications/push", json=mine)
    assert query(app, "SELECT gone_at FROM push_subscriptions WHERE endpoint = ?",
                 [mine["endpoint"]])[0]["gone_at"] is None


# --- deliver_due ------------------------------------------------------------------------

class Answer:
    def __init__(self, status: int, retry_after: str | None = None):
        self.status_code, self.reason, self.text = status, "", ""
        self.headers = {"Retry-After": retry_after} if retry_after else {}


class PushService:
    """An injected sender with pywebpush's signature: answers in turn, records calls."""

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), []

    def __call__(self, **kw):
        self.calls.append(kw)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        if answer.status_code > 202:  # as pywebpush does
            raise WebPushException("Push failed", response=answer)
        return answer


def message(db, announcement, locale):
    assert locale == "zh_CN"
    params = json.loads(announcement["params"])
    return {"title": f"新工单 {params['number']}", "body": "请尽快处理",
            "url": announcement["target"].replace("job:", "/jobs/")}


def queue(db, username="tech", *, urgent=False, sub=None, unread_before=0, at=NOW):
    """An announcement told to one person with a push delivery to their phone, as the
    notifications module writes them; returns the delivery's id."""
    user = db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]
    if sub is None:
        sub = push.subscribe(db, user, {"endpoint": f"https://push.example.com/{os.urandom(4).hex()}",
                                        **browser_keys()}, "", at)
    # The demo's own news for this person read: the badge counts only what is made here.
    db.execute("UPDATE notifications SET read_at = ? WHERE user_id = ?", [at.isoformat(), user])
    for _ in range(unread_before):
        older = db["announcements"].insert({"kind": "job.dispatched", "target": "job:1",
                                            "created_at": at.isoformat()}).last_pk
        db["notifications"].insert({"announcement_id": older, "user_id": user,
                                    "created_at": at.isoformat()})
    a = db["announcements"].insert({"kind": "job.dispatched", "target": "job:7",
                                    "params": json.dumps({"number": "W-7"}),
                                    "urgent": int(urgent), "created_at": at.isoformat()}).last_pk
    n = db["notifications"].insert({"announcement_id": a, "user_id": user, "personal": 1,
                                    "created_at": at.isoformat()}).last_pk
    return db["deliveries"].insert({"announcement_id": a, "notification_id": n,
                                    "channel": "push", "address_id": sub,
                                    "next_at": at.isoformat()}).last_pk


@pytest.fixture
def vapid(tmp_path):
    return push.vapid_keys(tmp_path / "vapid.pem")


def deliver(db, vapid, service, at=NOW):
    return push.deliver_due(db, at, message=message, vapid=vapid, send=service)


def row(db, delivery):
    return next(db.query("SELECT * FROM deliveries WHERE id = ?", [delivery]))


def test_accepted_with_the_message_the_badge_and_the_urgency(db, vapid):
    # The demo's own notifications read first: the badge counts what follows.
    db.execute("UPDATE notifications SET read_at = ?", [NOW.isoformat()])
    d = queue(db, urgent=True, unread_before=2)
    service = PushService(Answer(201))
    assert deliver(db, vapid, service) == 1
    [call] = service.calls
    payload = json.loads(call["data"])
    assert payload["title"] == "新工单 W-7" and payload["url"] == "/jobs/7"
    assert payload["badge"] == 3  # the two before and this one, all unread
    assert call["headers"]["Urgency"] == "high" and call["ttl"] == push.TTL_SECONDS
    assert call["vapid_private_key"] is vapid and call["vapid_claims"]["sub"]
    r = row(db, d)
    assert (r["status"], r["attempts"], r["sent_at"], r["error"]) == \
        ("accepted", 1, NOW.isoformat(), None)
    assert db.execute("SELECT last_ok_at FROM push_subscriptions").fetchone()[0] == \
        NOW.isoformat()
    # Sent once: nothing is due any more.
    assert deliver(db, vapid, service) == 0 and len(service.calls) == 1


def test_not_urgent_is_normal_and_not_yet_due_waits(db, vapid):
    later = queue(db, at=NOW + timedelta(minutes=5))  # e.g. the end of quiet hours
    d = queue(db)
    service = PushService(Answer(201))
    deliver(db, vapid, service)
    assert [json.loads(c["data"])["url"] for c in service.calls] == ["/jobs/7"]
    assert service.calls[0]["headers"]["Urgency"] == "normal"
    assert row(db, d)["status"] == "accepted" and row(db, later)["status"] == "queued"
    deliver(db, vapid, service, NOW + timedelta(minutes=5))
    assert row(db, later)["status"] == "accepted"


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_marked_and_not_tried_again(db, vapid, status):
    first = queue(db)
    sub = db.execute("SELECT address_id FROM deliveries WHERE id = ?", [first]).fetchone()[0]
    second = queue(db, sub=sub)
    service = PushService(Answer(status))
    assert deliver(db, vapid, service) == 0
    assert len(service.calls) == 1  # the second is not sent to a gone address
    for d in (first, second):
        assert row(db, d)["status"] == "failed" and "gone" in row(db, d)["error"]
    assert db.execute("SELECT gone_at FROM push_subscriptions WHERE id = ?",
                      [sub]).fetchone()[0] == NOW.isoformat()


def test_too_many_requests_waits_as_asked_then_goes(db, vapid):
    d = queue(db)
    service = PushService(Answer(429, retry_after="120"), Answer(201))
    assert deliver(db, vapid, service) == 0
    r = row(db, d)
    assert (r["status"], r["attempts"]) == ("queued", 1) and r["error"].startswith("429")
    assert r["next_at"] == (NOW + timedelta(seconds=120)).isoformat()
    assert deliver(db, vapid, service, NOW + timedelta(seconds=119)) == 0
    assert deliver(db, vapid, service, NOW + timedelta(seconds=120)) == 1
    r = row(db, d)
    assert (r["status"], r["attempts"], r["error"]) == ("accepted", 2, None)


def test_server_errors_and_no_answer_back_off_until_the_last_try(db, vapid):
    d = queue(db)
    service = PushService(Answer(503), requests.ConnectionError("refused"), Answer(500))
    at, waits, errors = NOW, [], []
    for _ in range(push.MAX_ATTEMPTS - 1):
        deliver(db, vapid, service, at)
        r = row(db, d)
        assert r["status"] == "queued"
        nxt = datetime.fromisoformat(r["next_at"])
        waits.append(nxt - at)
        errors.append(r["error"])
        at = nxt
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(waits) == push.LONGEST_RETRY
    assert errors[0].startswith("503") and errors[1].startswith("ConnectionError")
    # Not yet due: nothing is sent early.
    assert deliver(db, vapid, service, at - timedelta(seconds=1)) == 0
    deliver(db, vapid, service, at)
    r = row(db, d)
    assert r["status"] == "failed" and r["error"].startswith(f"gave up after {push.MAX_ATTEMPTS}")
    assert len(service.calls) == push.MAX_ATTEMPTS


def test_a_refusal_is_recorded_with_the_reason(db, vapid):
    d = queue(db)
    deliver(db, vapid, PushService(Answer(413)))
    assert row(db, d)["status"] == "failed" and row(db, d)["error"].startswith("413")


def test_a_crash_mid_send_loses_nothing(db, vapid):
    d = queue(db)
    with pytest.raises(RuntimeError):
        deliver(db, vapid, PushService(RuntimeError("worker killed")))
    r = row(db, d)
    assert r["status"] == "queued" and r["next_at"] == (NOW + push.LEASE).isoformat()
    assert deliver(db, vapid, PushService(Answer(201)), NOW + push.LEASE) == 1
    assert row(db, d)["status"] == "accepted"


def test_a_message_that_cannot_be_made_fails_alone(db, vapid):
    bad, good = queue(db), queue(db)
    db.execute("UPDATE announcements SET params = '{}' WHERE id = (SELECT announcement_id"
               " FROM deliveries WHERE id = ?)", [bad])
    service = PushService(Answer(201))
    assert deliver(db, vapid, service) == 1
    assert row(db, bad)["status"] == "failed" and "KeyError" in row(db, bad)["error"]
    assert row(db, good)["status"] == "accepted"


def test_a_gone_phone_gets_nothing(db, vapid):
    d = queue(db)
    sub = db.execute("SELECT address_id FROM deliveries WHERE id = ?", [d]).fetchone()[0]
    user = db.execute("SELECT user_id, endpoint FROM push_subscriptions WHERE id = ?",
                      [sub]).fetchone()
    assert push.unsubscribe(db, user[0], user[1], NOW)
    service = PushService(Answer(201))
    assert deliver(db, vapid, service) == 0 and service.calls == []
    assert row(db, d)["status"] == "failed"


def test_a_phone_now_signed_in_as_someone_else_gets_nothing_meant_for_the_first(db, vapid):
    d = queue(db, "tech")
    sub = db.execute("SELECT address_id FROM deliveries WHERE id = ?", [d]).fetchone()[0]
    endpoint, p256dh, auth = db.execute(
        "SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE id = ?", [sub]).fetchone()
    tech2 = db.execute("SELECT id FROM users WHERE username = 'tech2'").fetchone()[0]
    push.subscribe(db, tech2, {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}, "", NOW)
    service = PushService(Answer(201))
    assert deliver(db, vapid, service) == 0 and service.calls == []
    assert row(db, d)["status"] == "failed" and "another user" in row(db, d)["error"]


@pytest.mark.parametrize("endpoint", [
    "https://127.0.0.1/x",  # the server itself
    "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
    "https://intranet.example.cn/admin",  # any other host the server can reach
    "https://fcm.googleapis.com.evil.example/x",  # a service's name inside another
])
def test_a_subscription_names_a_push_service_not_any_host(app, endpoint):
    # The worker POSTs to the endpoint: any signed-in phone could otherwise make the
    # server send requests into its own network.
    response = signed_in(app).post("/notifications/push", json=subscription(endpoint))
    assert response.status_code == 422
    assert query(app, "SELECT count(*) AS n FROM push_subscriptions")[0]["n"] == 0


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/abc",
    "https://updates.push.services.mozilla.com/wpush/v2/abc",
    "https://web.push.apple.com/QGuQ",
    "https://wns2-par02p.notify.windows.com/w/?token=abc",
])
def test_the_browsers_push_services_are_taken(app, endpoint):
    app.config["PUSH_SERVICE_HOSTS"] = list(push.PUSH_SERVICES)  # the default
    assert signed_in(app).post("/notifications/push",
                               json=subscription(endpoint)).status_code == 201
