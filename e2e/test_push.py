"""Web Push in the phone's browser: the account page's button subscribes (the browser's
push service stubbed: the test machine reaches none), and the service worker shows a
pushed message (delivered through the DevTools protocol) with the app's badge count."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from uuid import uuid4

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import Page, expect

from webapp import create_app, worker
from webapp.auth import utcnow
from webapp.db import connect
from webapp.domain.transactions import write_tx

from .conftest import Server, login


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# PushManager.subscribe() reaches the browser vendor's push service; here it answers with
# a subscription of keys made by the test, and records the key the page asked with.
STUB = """
(() => {
  const fake = %s;
  PushManager.prototype.getSubscription = function () {
    return Promise.resolve(window.__pushSubscribed ? window.__pushSubscribed : null);
  };
  PushManager.prototype.subscribe = function (options) {
    window.__pushKey = Array.from(new Uint8Array(options.applicationServerKey));
    window.__pushSubscribed = {
      endpoint: fake.endpoint, toJSON: () => fake,
      unsubscribe: () => { window.__pushSubscribed = null; return Promise.resolve(true); }
    };
    return Promise.resolve(window.__pushSubscribed);
  };
})();
"""


def test_a_tap_subscribes_this_phone_and_the_server_keeps_it(page: Page, server: Server):
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint)
    endpoint = f"https://push.example.com/send/{os.urandom(6).hex()}"
    fake = {"endpoint": endpoint, "keys": {"p256dh": b64(point), "auth": b64(os.urandom(16))}}
    page.context.grant_permissions(["notifications"])
    page.add_init_script(STUB % json.dumps(fake))
    login(page, "tech2")
    page.goto("/account/password")
    box = page.locator("[data-push]")
    expect(box).to_be_visible()
    page.locator("[data-push-subscribe]").click()
    expect(box.locator("[data-push-status]")).to_have_text("本手机的消息通知已开启。")
    expect(box.locator("[data-push-unsubscribe]")).to_be_visible()
    [row] = server.query("SELECT * FROM push_subscriptions WHERE endpoint = ?", [endpoint])
    assert row["user_id"] == server.user_id("tech2") and row["gone_at"] is None
    # The page asked with the installation's key (the one the server signs with).
    key = bytes(page.evaluate("window.__pushKey"))
    assert b64(key) == box.get_attribute("data-push-key") and key[0] == 4

    page.locator("[data-push-unsubscribe]").click()
    expect(box.locator("[data-push-status]")).to_have_text("本手机的消息通知已关闭。")
    [row] = server.query("SELECT gone_at FROM push_subscriptions WHERE endpoint = ?",
                         [endpoint])
    assert row["gone_at"] is not None


def test_the_service_worker_shows_a_pushed_message(page: Page, server: Server):
    page.context.grant_permissions(["notifications"])
    login(page, "tech")
    page.goto("/account/password")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not any(not r["isDeleted"] for r in registrations):
        assert time.monotonic() < deadline, "no service worker registration"
        page.wait_for_timeout(100)
    [registration] = [r for r in registrations if not r["isDeleted"]][:1]
    payload = {"title": "新派工单 W-7", "body": "3栋502 厨房漏水", "url": "/jobs/7",
               "tag": "announcement-7", "badge": 2}
    cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": server.url + "/", "registrationId": registration["registrationId"],
        "data": json.dumps(payload, ensure_ascii=False)})
    shown = "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns =>" \
        " ns.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"
    deadline = time.monotonic() + 10
    while not (found := page.evaluate(shown)):
        assert time.monotonic() < deadline, "the pushed message was not shown"
        page.wait_for_timeout(100)
    assert found == [{"title": "新派工单 W-7", "body": "3栋502 厨房漏水",
                      "tag": "announcement-7", "url": "/jobs/7"}]


def test_the_running_worker_takes_an_enqueued_delivery_within_seconds(server: Server, tmp_path):
    """The worker the server runs (`flask worker`), not immediate mode: a `deliver`
    enqueued in huey's file is taken within seconds. The phone had turned notifications
    off, so the delivery is recorded failed without being sent."""
    db = connect(server.database)
    try:
        user = server.user_id("tech3")
        with write_tx(db):
            sub = db["push_subscriptions"].insert({
                # Its own endpoint each time: the server's database outlives a rerun.
                "user_id": user, "endpoint": f"https://push.example.com/send/off/{uuid4()}",
                "p256dh": "x", "auth": "y", "created_at": utcnow().isoformat(),
                "gone_at": utcnow().isoformat()}).last_pk
            a = db["announcements"].insert({"kind": "job.dispatched", "target": "job:1",
                                            "created_at": utcnow().isoformat()}).last_pk
            n = db["notifications"].insert({"announcement_id": a, "user_id": user,
                                            "created_at": utcnow().isoformat()}).last_pk
            d = db["deliveries"].insert({"announcement_id": a, "notification_id": n,
                                         "channel": "push", "address_id": sub,
                                         "next_at": utcnow().isoformat()}).last_pk
    finally:
        db.close()
    # As the web process does after a request that queued it: one row in huey's file.
    web = create_app({"DATABASE": server.database, "SECRET_KEY": "e2e", "RECORDS_KEY": "e2e",
                      "FILES_DIR": str(tmp_path / "files"),
                      "HUEY_FILE": str(Path(server.database).parent / "huey.db")})
    started = time.monotonic()
    worker.worker(web).deliver()
    while (found := server.query("SELECT status, error FROM deliveries WHERE id = ?", [d])
           ) == [{"status": "queued", "error": None}]:
        # Seconds, not the minute's tick; a loaded 2-core machine runs the whole suite.
        assert time.monotonic() - started < 15, "the worker did not take the task"
        time.sleep(0.1)
    assert found == [{"status": "failed", "error": "subscription gone"}]
