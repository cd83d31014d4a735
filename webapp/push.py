"""Web Push: the installation's VAPID keys, phones' subscriptions, and sending what is due.

No Flask here: the worker (webapp/worker.py) and the tests call `deliver_due` with a
database, `now`, the notifications' text (`message`) and a sender (`send`).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlite_utils import Database

from . import delivery_queue
from .domain.transactions import write_tx

Message = Callable[[Database, dict[str, Any], str], dict[str, str]]

# How long a push service keeps a message for a phone that is off, and how many times a
# message is tried before it is recorded as failed (429 and 5xx answers, no connection).
TTL_SECONDS = 24 * 3600
MAX_ATTEMPTS = 12  # about five hours of tries
# Back-off after a temporary failure: 30 s, 1, 2, 4 ... minutes, at most an hour.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# A delivery being sent is held this long (next_at moved on before the request): if the
# worker dies mid-send, the delivery comes due again then and is sent once more.
LEASE = timedelta(minutes=5)
BATCH = 200
CHANNEL = "push"
# The browsers' push services (Chrome's, Firefox's, Safari's, Edge's), by host name: a
# subscription's endpoint is where the worker POSTs, so it may name only these (config
# PUSH_SERVICE_HOSTS), never a host inside the server's own network.
PUSH_SERVICES = ("fcm.googleapis.com", "android.googleapis.com",
                 "push.services.mozilla.com", "push.apple.com", "notify.windows.com")


def vapid_keys(path: str | os.PathLike[str]) -> Vapid:
    """The installation's VAPID key pair, made on first use and kept in `path`.

    Every process (gunicorn's workers, the worker) may get here first: the file is
    created exclusively, and whoever loses the race reads the winner's key.
    """
    path = Path(path)
    if not path.exists():
        fresh = Vapid()
        fresh.generate_keys()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(fresh.private_pem())
    return Vapid.from_file(str(path))


def application_server_key(vapid: Vapid) -> str:
    """The public key as the browser's PushManager.subscribe() takes it (base64url)."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def contact(public_url: str) -> str:
    """The VAPID `sub` claim: the site's https address when it is a plain host name,
    else a mailto: address (push services may write to it about a misbehaving sender)."""
    parts = urlsplit(public_url)
    if parts.scheme == "https" and parts.hostname and "." in parts.hostname and not parts.port:
        return f"https://{parts.hostname}"
    return "mailto:admin@localhost"


class BadSubscription(ValueError):
    pass


_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def _b64url(value: Any, size: int) -> str:
    if not isinstance(value, str) or not _B64URL.match(value) or len(value) > 200:
        raise BadSubscription("key")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise BadSubscription("key") from None
    if len(raw) != size:
        raise BadSubscription("key")
    return value.rstrip("=")


def _push_service(host: str, services: Iterable[str]) -> bool:
    """The host is one of `services` or a name under one (updates.push.services.mozilla.com)."""
    host = host.lower().rstrip(".")
    return any(host == s or host.endswith("." + s) for s in services)


def parse_subscription(data: Any, allow_http: bool = False,
                       services: Iterable[str] = PUSH_SERVICES) -> dict[str, str]:
    """A browser's PushSubscription.toJSON(), checked: an https endpoint of a known push
    service (plain http only where allowed: a test's local push service), a P-256 public
    key and a 16-byte secret."""
    if not isinstance(data, dict):
        raise BadSubscription("subscription")
    endpoint, keys = data.get("endpoint"), data.get("keys")
    if not isinstance(endpoint, str) or len(endpoint) > 1000 or not isinstance(keys, dict):
        raise BadSubscription("endpoint")
    parts = urlsplit(endpoint)
    if parts.scheme not in (("https", "http") if allow_http else ("https",)) \
            or not parts.hostname or parts.username or parts.password \
            or not _push_service(parts.hostname, services):
        raise BadSubscription("endpoint")
    p256dh = _b64url(keys.get("p256dh"), 65)
    if base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))[0] != 4:
        raise BadSubscription("key")  # an uncompressed point starts with 0x04
    return {"endpoint": endpoint, "p256dh": p256dh, "auth": _b64url(keys.get("auth"), 16)}


KEPT_PER_USER = 5


def subscribe(db: Database, user_id: int, sub: dict[str, str], user_agent: str,
              now: datetime) -> int:
    """Keep a phone's subscription for this user. A browser keeps one subscription per
    site: signed in as someone else, the same endpoint now belongs to them."""
    with write_tx(db):
        db.execute(
            """INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent,
                   created_at) VALUES (?,?,?,?,?,?)
               ON CONFLICT(endpoint) DO UPDATE SET user_id = excluded.user_id,
                   p256dh = excluded.p256dh, auth = excluded.auth,
                   user_agent = excluded.user_agent, created_at = excluded.created_at,
                   gone_at = NULL""",
            [user_id, sub["endpoint"], sub["p256dh"], sub["auth"], user_agent[:300],
             now.isoformat()])
        # A person has a few phones and browsers, not hundreds: beyond the newest few each
        # message would fan out to every one of them.
        db.execute("""UPDATE push_subscriptions SET gone_at = ? WHERE user_id = ? AND
                      gone_at IS NULL AND id NOT IN (SELECT id FROM push_subscriptions
                      WHERE user_id = ? AND gone_at IS NULL ORDER BY created_at DESC, id DESC
                      LIMIT ?)""", [now.isoformat(), user_id, user_id, KEPT_PER_USER])
        return db.execute("SELECT id FROM push_subscriptions WHERE endpoint = ?",
                          [sub["endpoint"]]).fetchone()[0]


def unsubscribe(db: Database, user_id: int, endpoint: str, now: datetime) -> bool:
    """Stop sending to this phone (the user's own subscription only); its deliveries are
    kept as the record of what was sent."""
    with write_tx(db):
        cur = db.execute(
            "UPDATE push_subscriptions SET gone_at = ? WHERE endpoint = ? AND user_id = ?"
            " AND gone_at IS NULL", [now.isoformat(), endpoint, user_id])
        return cur.rowcount > 0


RETRY = delivery_queue.Retry(FIRST_RETRY, LONGEST_RETRY)


def retry_delay(attempts: int, retry_after: str | None = None) -> timedelta:
    """Back-off after the `attempts`-th failed try; a 429's Retry-After (seconds) wins
    when it asks for longer."""
    asked = (timedelta(seconds=int(retry_after))
             if retry_after and retry_after.strip().isdigit() else None)
    return RETRY.after(attempts, asked)


def _claim(db: Database, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The due push deliveries, held for this pass with this try counted
    (delivery_queue.claim), with what sending each needs: the phone's subscription, the
    announcement, the reader and their language."""
    held = delivery_queue.claim(db, CHANNEL, now, lease=LEASE, limit=limit, count_try=True)
    if not held:
        return []
    rows = {r["id"]: r for r in db.query(
        f"""SELECT d.id, d.notification_id, s.id AS sub_id, s.endpoint, s.p256dh,
                  s.auth, s.gone_at, s.user_id AS sub_user_id, n.user_id, u.locale,
                  a.id AS a_id, a.estate_id, a.kind, a.target, a.params, a.urgent,
                  a.department, a.op_id, a.dedupe, a.created_at
           FROM deliveries d
           JOIN push_subscriptions s ON s.id = d.address_id
           JOIN announcements a ON a.id = d.announcement_id
           LEFT JOIN notifications n ON n.id = d.notification_id
           LEFT JOIN users u ON u.id = COALESCE(n.user_id, s.user_id)
           WHERE d.id IN ({",".join("?" * len(held))})""", [r["id"] for r in held])}
    return [{**rows[h["id"]], "attempts": h["attempts"]} for h in held if h["id"] in rows]


def _payload(db: Database, row: dict[str, Any], message: Message) -> dict[str, Any]:
    announcement = {"id": row["a_id"], **{k: row[k] for k in (
        "estate_id", "kind", "target", "params", "urgent", "department", "op_id", "dedupe",
        "created_at")}}
    text = message(db, announcement, row["locale"] or "zh_CN")
    unread = db.execute(
        "SELECT count(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
        [row["user_id"]]).fetchone()[0] if row["user_id"] else 0
    return {"title": text["title"], "body": text.get("body", ""), "url": text.get("url", "/"),
            "tag": f"announcement-{row['a_id']}", "badge": unread,
            "notification_id": row["notification_id"]}


def _outcome(send: Callable[..., Any], row: dict[str, Any], data: str, vapid: Vapid,
             sub_claim: str, session: requests.Session) -> tuple[int | None, str, str | None]:
    """(HTTP status or None for no answer, reason, Retry-After)."""
    try:
        response = send(
            subscription_info={"endpoint": row["endpoint"],
                               "keys": {"p256dh": row["p256dh"], "auth": row["auth"]}},
            data=data, vapid_private_key=vapid, vapid_claims={"sub": sub_claim},
            ttl=TTL_SECONDS, timeout=10,
            headers={"Urgency": "high" if row["urgent"] else "normal"},
            requests_session=session)
    except WebPushException as exc:
        response = exc.response
        if response is None:
            return None, str(exc)[:200], None
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:200], None
    status = int(response.status_code)
    reason = f"{status} {getattr(response, 'reason', '') or ''}".strip()
    return status, reason, response.headers.get("Retry-After")


def deliver_due(db: Database, now: datetime, *, message: Message, vapid: Vapid,
                sub_claim: str = "mailto:admin@localhost",
                send: Callable[..., Any] = webpush, limit: int = BATCH) -> int:
    """Send the push deliveries that are queued and due; returns how many were accepted.

    Each is recorded: accepted (the push service took it, 201), failed with the reason
    (404/410: the subscription is gone, and marked so; another 4xx: the service refused
    it), or queued again with back-off (429, 5xx, no answer) until MAX_ATTEMPTS tries.
    """
    accepted, gone = 0, set()
    session = requests.Session()
    try:
        for row in _claim(db, now, limit):
            if row["gone_at"] or row["sub_id"] in gone:
                _record(db, row, "failed", now, "subscription gone")
                continue
            if row["user_id"] is not None and row["sub_user_id"] != row["user_id"]:
                # The phone was signed in as someone else since: not theirs to read.
                _record(db, row, "failed", now, "subscription now another user's")
                continue
            try:
                data = json.dumps(_payload(db, row, message), ensure_ascii=False)
            except Exception as exc:  # a message that cannot be rendered: say why, go on
                _record(db, row, "failed", now, f"message: {type(exc).__name__}: {exc}"[:200])
                continue
            status, reason, retry_after = _outcome(send, row, data, vapid, sub_claim, session)
            if status is not None and 200 <= status < 300:
                _record(db, row, "accepted", now)
                accepted += 1
            elif status in (404, 410):
                gone.add(row["sub_id"])
                _record(db, row, "failed", now, f"subscription gone ({reason})", gone=True)
            elif status is not None and 400 <= status < 500 and status != 429:
                _record(db, row, "failed", now, reason)
            elif row["attempts"] >= MAX_ATTEMPTS:
                _record(db, row, "failed", now, f"gave up after {row['attempts']} tries: {reason}")
            else:
                _record(db, row, "queued", now, reason,
                        next_at=now + retry_delay(row["attempts"], retry_after))
    finally:
        session.close()
    return accepted


def _record(db: Database, row: dict[str, Any], status: str, now: datetime,
            error: str | None = None, *, gone: bool = False,
            next_at: datetime | None = None) -> None:
    if status == "queued":
        delivery_queue.later(db, [row["id"]], next_at or now, error)
        return
    with write_tx(db):
        # sent_at: when the channel took the message (what "notified at" is measured by).
        db.execute("UPDATE deliveries SET status = ?, sent_at = ?, error = ? WHERE id = ?",
                   [status, now.isoformat() if status == "accepted" else None, error,
                    row["id"]])
        if status == "accepted":
            db.execute("UPDATE push_subscriptions SET last_ok_at = ? WHERE id = ?",
                       [now.isoformat(), row["sub_id"]])
        if gone:
            db.execute("UPDATE push_subscriptions SET gone_at = ? WHERE id = ?"
                       " AND gone_at IS NULL", [now.isoformat(), row["sub_id"]])
