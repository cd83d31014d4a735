"""Who hears of a shift handover: the incoming shift when it is recorded (the estate's
people whose own post it is, not the writer, not the supervisors), and the post's
supervisor once when it is still unacknowledged after the estate's hours (the scan,
with a pinned `now`)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import sync
from sync import Command
from webapp.domain import notification_scan, notifications, settings
from webapp.domain.handlers import HANDLERS

from .conftest import NOW
from .fileflow import image, store
from .test_notifications import told

H = timedelta(hours=1)


def uid(db, username: str) -> int:
    return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]


def add_user(db, username: str, role: str, department: str, estate: int = 1) -> None:
    user = db["users"].insert({"username": username, "password_hash": "x",
                               "display_name": username, "department": department,
                               "role": role, "locale": "zh_CN", "active": 1}).last_pk
    db["user_estates"].insert({"user_id": user, "estate_id": estate})


def apply(db, kind: str, target: str, user: str, now=NOW, acted_at=None, **payload):
    cmd = Command(op_id=str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                  user_id=uid(db, user), device_id="test", acted_at=acted_at,
                  replayed=acted_at is not None)
    return sync.apply(db, cmd, HANDLERS, now)


def record(db, user: str, post: str, now=NOW, acted_at=None) -> int:
    out = apply(db, "handover.record", "handover:new", user, now, acted_at, estate_id=1,
                post=post, happened="夜间平稳，2栋电梯困人已解救。", checked=["keys"])
    assert out.status == "applied", out.result
    return out.result["handover_id"]


def test_a_guards_handover_tells_the_other_guards_of_the_estate(db):
    add_user(db, "guard2", "guard", "security")
    add_user(db, "guard3", "guard", "security", estate=2)  # another estate
    handover = record(db, "guard", "security")
    # Not the writer, not the supervisors (they hear only of one left unacknowledged).
    assert told(db, "handover.recorded", f"handover:{handover}") == {"guard2": False}


def test_a_plant_room_handover_tells_the_estates_technicians(db):
    handover = record(db, "tech", "plant_room")
    # tech3 serves the other estate; the maintenance supervisor is not told.
    assert told(db, "handover.recorded", f"handover:{handover}") == {"tech2": False}


def test_the_incoming_shift_may_mute_it_and_it_reads_in_chinese(db):
    add_user(db, "desk3", "desk", "service")
    add_user(db, "desk4", "desk", "service")
    db["notify_prefs"].insert({"user_id": uid(db, "desk4"),
                               "muted": '["handover.recorded"]'})
    handover = record(db, "desk", "desk")
    assert told(db, "handover.recorded", f"handover:{handover}") == {"desk3": False}
    (params,) = db.execute("SELECT params FROM announcements WHERE target = ?",
                           [f"handover:{handover}"]).fetchone()
    title, body = notifications.render("handover.recorded", json.loads(params),
                                       "zh_CN")
    assert title == "客服交班待你确认" and body.startswith("林客服：夜间平稳")
    assert notifications.link(f"handover:{handover}") == f"/handovers/{handover}"


def test_an_invalid_handover_tells_nobody(db):
    before = db.execute("SELECT count(*) FROM announcements").fetchone()[0]
    out = None
    try:
        out = apply(db, "handover.record", "handover:new", "guard", estate_id=1,
                    post="security", happened="")
    except sync.Invalid:
        pass
    assert out is None
    assert db.execute("SELECT count(*) FROM announcements").fetchone()[0] == before


def reminders(db, handover: int) -> list[dict[str, bool]]:
    rows = db.execute("SELECT id FROM announcements WHERE kind = 'handover.unacknowledged'"
                      " AND target = ?", [f"handover:{handover}"]).fetchall()
    return [told(db, "handover.unacknowledged", f"handover:{handover}") for _ in rows]


def test_unacknowledged_after_two_hours_reminds_the_posts_supervisor_once(db):
    handover = record(db, "guard", "security")
    notification_scan.scan(db, NOW + 2 * H - timedelta(minutes=1))
    assert reminders(db, handover) == []
    notification_scan.scan(db, NOW + 2 * H)
    # The security post's supervisor, not the maintenance or cleaning ones.
    assert reminders(db, handover) == [{"sec_lead": False}]
    notification_scan.scan(db, NOW + 3 * H)
    assert len(reminders(db, handover)) == 1


def test_an_acknowledged_handover_reminds_nobody(db, tmp_path):
    add_user(db, "guard2", "guard", "security")
    handover = record(db, "guard", "security")
    sig = store(db, tmp_path, image("PNG"), "guard2")
    out = apply(db, "handover.acknowledge", f"handover:{handover}", "guard2",
                now=NOW + H, signature_image=sig, strokes="[]")
    assert out.status == "applied", out.result
    notification_scan.scan(db, NOW + 3 * H)
    assert reminders(db, handover) == []


def test_the_hours_are_the_estates_setting_and_no_supervisor_means_the_managers(db):
    settings.save(db, 1, {"handover_reminder_hours": 1})
    desk = record(db, "desk", "desk")  # the service department has no supervisor here
    plant = record(db, "tech", "plant_room")
    notification_scan.scan(db, NOW + H)
    assert reminders(db, desk) == [{"manager": False}]
    assert reminders(db, plant) == [{"supervisor": False}]


def test_a_handover_sent_late_from_a_phone_is_reminded_of_at_the_next_scan(db):
    # Handed over with no signal three hours before the phone reached the server.
    late = record(db, "guard", "security", now=NOW, acted_at=NOW - 3 * H)
    notification_scan.scan(db, NOW + timedelta(minutes=1))
    assert reminders(db, late) == [{"sec_lead": False}]
    # One whose hour passed more than a day ago is not news (the log shows it).
    stale = record(db, "guard", "security", now=NOW, acted_at=NOW - 27 * H)
    notification_scan.scan(db, NOW + timedelta(minutes=2))
    assert reminders(db, stale) == []
