"""Web Push over the wire: a local HTTP server stands in for the push service. The phone's
subscription (keys the test holds) is sent through the page's endpoint, the worker's
`deliver` task sends with pywebpush, and the test checks the request as a push service
and a phone would: the VAPID token's signature, then the body decrypted to the link."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from webapp import push, worker
from webapp.db import connect
from webapp.domain.transactions import write_tx

from .conftest import NOW
from .test_push import signed_in


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushServiceHandler(BaseHTTPRequestHandler):
    received: list[dict]

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append({"path": self.path, "headers": dict(self.headers),
                                     "body": body})
        self.send_response(self.server.answer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def push_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), PushServiceHandler)
    server.received, server.answer = [], 201
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def verify_vapid(authorization: str, audience: str) -> dict:
    """Check `vapid t=<JWT>, k=<key>` as a push service does (RFC 8292): an ES256 JWT
    signed with the key given, for this service, not expired. Returns the claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
    header, claims, signature = parts["t"].split(".")
    raw = unb64(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):  # and a token altered is refused
        key.verify(der, f"{header}.{claims}x".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(unb64(header)) == {"typ": "JWT", "alg": "ES256"}
    decoded = json.loads(unb64(claims))
    assert decoded["aud"] == audience
    assert time.time() < decoded["exp"] <= time.time() + 24 * 3600
    return {**decoded, "k": parts["k"]}


def test_a_message_reaches_the_push_service_signed_and_decrypts_to_the_link(app, push_service):
    app.config["PUSH_HTTP_ENDPOINTS"] = True  # the local stand-in speaks plain http
    app.config["PUSH_SERVICE_HOSTS"] = ["127.0.0.1"]
    # The phone: its own key pair and auth secret, as PushManager.subscribe() makes them.
    phone_key = ec.generate_private_key(ec.SECP256R1())
    auth_secret = os.urandom(16)
    port = push_service.server_address[1]
    endpoint = f"http://127.0.0.1:{port}/wpush/v2/phone-1"
    response = signed_in(app).post("/notifications/push", json={
        "endpoint": endpoint,
        "keys": {"p256dh": b64(phone_key.public_key().public_bytes(
                     Encoding.X962, PublicFormat.UncompressedPoint)),
                 "auth": b64(auth_secret)}})
    assert response.status_code == 201
    sub_id = response.get_json()["id"]

    db = connect(app.config["DATABASE"])
    try:
        user = db.execute("SELECT user_id FROM push_subscriptions WHERE id = ?",
                          [sub_id]).fetchone()[0]
        job = db.execute("SELECT id, number FROM jobs ORDER BY id LIMIT 1").fetchone()
        with write_tx(db):
            # The demo's own news for this person read: the badge is this message's alone.
            db.execute("UPDATE notifications SET read_at = ? WHERE user_id = ?",
                       [NOW.isoformat(), user])
            a = db["announcements"].insert({
                "kind": "job.dispatched", "target": f"job:{job[0]}", "urgent": 1,
                "params": json.dumps({"number": job[1]}), "created_at": NOW.isoformat()}).last_pk
            n = db["notifications"].insert({"announcement_id": a, "user_id": user,
                                            "personal": 1, "created_at": NOW.isoformat()}).last_pk
            d = db["deliveries"].insert({"announcement_id": a, "notification_id": n,
                                         "channel": "push", "address_id": sub_id,
                                         "next_at": NOW.isoformat()}).last_pk
    finally:
        db.close()

    def message(db, announcement, locale):
        number = json.loads(announcement["params"])["number"]
        return {"title": f"新派工单 {number}", "body": "请确认接单",
                "url": "/jobs/" + announcement["target"].split(":")[1]}

    # The worker as it runs, but in immediate mode and with the real sender (pywebpush).
    app.extensions["channels"] = worker.Channels(message=message, robots=None,
                                                 now=lambda: NOW)
    w = worker.worker(app)
    w.huey.immediate = True
    w.deliver()

    [request] = push_service.received
    assert request["path"] == "/wpush/v2/phone-1"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    claims = verify_vapid(headers["authorization"], f"http://127.0.0.1:{port}")
    vapid = push.vapid_keys(app.config["VAPID_KEY_FILE"])
    assert claims["k"] == push.application_server_key(vapid)  # the page's key
    assert claims["sub"].startswith(("mailto:", "https://"))
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == str(push.TTL_SECONDS) and headers["urgency"] == "high"

    # What only the phone can read: its private key and auth secret decrypt the body.
    plain = http_ece.decrypt(request["body"], private_key=phone_key, auth_secret=auth_secret,
                             version="aes128gcm")
    payload = json.loads(plain)
    assert payload["url"] == f"/jobs/{job[0]}"
    assert payload["title"] == f"新派工单 {job[1]}" and payload["badge"] == 1
    # Someone else's keys cannot.
    with pytest.raises(Exception):  # noqa: B017 (http_ece raises cryptography's errors)
        http_ece.decrypt(request["body"], private_key=ec.generate_private_key(ec.SECP256R1()),
                         auth_secret=auth_secret, version="aes128gcm")

    db = connect(app.config["DATABASE"])
    try:
        assert db.execute("SELECT status, attempts FROM deliveries WHERE id = ?",
                          [d]).fetchone() == ("accepted", 1)
    finally:
        db.close()


def test_a_gone_answer_from_the_service_marks_the_subscription(app, push_service):
    app.config["PUSH_HTTP_ENDPOINTS"] = True
    app.config["PUSH_SERVICE_HOSTS"] = ["127.0.0.1"]
    push_service.answer = 410
    phone_key = ec.generate_private_key(ec.SECP256R1())
    endpoint = f"http://127.0.0.1:{push_service.server_address[1]}/gone"
    assert signed_in(app).post("/notifications/push", json={
        "endpoint": endpoint,
        "keys": {"p256dh": b64(phone_key.public_key().public_bytes(
                     Encoding.X962, PublicFormat.UncompressedPoint)),
                 "auth": b64(os.urandom(16))}}).status_code == 201
    db = connect(app.config["DATABASE"])
    try:
        from .test_worker import insert_delivery  # a second phone, answered the same way
        d = insert_delivery(db)
        db.execute("UPDATE deliveries SET address_id = (SELECT id FROM push_subscriptions"
                   " WHERE endpoint = ?) WHERE id = ?", [endpoint, d])
        db.conn.commit()
        vapid = push.vapid_keys(app.config["VAPID_KEY_FILE"])
        assert push.deliver_due(db, NOW, vapid=vapid, message=lambda *a: {
            "title": "t", "body": "", "url": "/"}) == 0
        assert db.execute("SELECT status FROM deliveries WHERE id = ?", [d]).fetchone()[0] \
            == "failed"
        assert db.execute("SELECT gone_at FROM push_subscriptions WHERE endpoint = ?",
                          [endpoint]).fetchone()[0] == NOW.isoformat()
    finally:
        db.close()
    assert len(push_service.received) == 1
