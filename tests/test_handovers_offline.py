"""Shift handovers from a phone's outbox: recorded and acknowledged through /sync/batch
exactly once, at the time the person acted, the shift counted by the server for the
window that ended then; the pages a post's phone keeps (manifest) and the forms that
queue (data-outbox)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from webapp.auth import utcnow
from webapp.db import connect
from webapp.domain import handovers

from .fileflow import image
from .pages import Page

ORIGIN = {"Origin": "http://localhost"}
H = timedelta(hours=1)


def db_of(app):
    return connect(app.config["DATABASE"], app.config["RECORDS_KEY"])


def add_guard(app, username: str) -> None:
    """Another guard of the first estate, with the demo guard's password."""
    db = db_of(app)
    try:
        guard = db.execute("SELECT password_hash FROM users WHERE username = 'guard'"
                           ).fetchone()[0]
        user = db["users"].insert({"username": username, "password_hash": guard,
                                   "display_name": "夜班保安", "department": "security",
                                   "role": "guard", "locale": "zh_CN", "active": 1}).last_pk
        db["user_estates"].insert({"user_id": user, "estate_id": 1})
        db.conn.commit()
    finally:
        db.close()


def item(kind: str, target: str, fields: dict, at: datetime, op_id: str | None = None):
    return {"op_id": op_id or str(uuid.uuid4()), "kind": kind, "target": target,
            "fields": fields, "device_time": at.isoformat() + "Z", "queued": True,
            "user_id": None}


def batch(client, *items):
    return client.post("/sync/batch", headers=ORIGIN, json={
        "device_id": "post-phone", "sent_at": utcnow().isoformat() + "Z",
        "commands": list(items)}).json["results"]


FIELDS = {"estate_id": "1", "post": "security", "happened": "夜间巡逻无异常，东门道闸已报修。",
          "open_items": "东门道闸待修", "checked_keys": "1", "checked_radios": "1"}


def test_a_handover_recorded_with_no_signal_counts_once_at_the_time_it_was_made(
        app, client, auth):
    auth.login("guard")
    acted = (utcnow() - 3 * H).replace(microsecond=0)
    queued = item("handover.record", "handover:new", FIELDS, acted)
    # A report that came in after the guard handed over, before the phone found signal.
    db = db_of(app)
    db["jobs"].insert({"number": "HOLATE", "estate_id": 1, "reporter_name": "陈",
                       "reporter_phone": "13800000000", "source": "phone",
                       "category": "plumbing", "department": "maintenance",
                       "job_class": "small", "description": "漏水", "status": "new",
                       "received_at": (acted + H).isoformat(),
                       "updated_at": (acted + H).isoformat()})
    db.conn.commit()
    (first,) = batch(client, queued)
    assert first["status"] == "applied", first
    (again,) = batch(client, queued)  # the phone did not hear the answer: sent again
    assert again["status"] == "duplicate"
    rows = list(db.query("SELECT * FROM handovers WHERE recorded_by ="
                         " (SELECT id FROM users WHERE username = 'guard')"))
    assert len(rows) == 1
    row = handovers.get(db, rows[0]["id"])
    assert first["redirect"] == f"/handovers/{row['id']}"
    assert row["recorded_at"] == acted.isoformat()
    assert [c[0] for c in row["checklist"] if c[2]] == ["keys", "radios"]
    # Counted by the server for the window that ended when the guard handed over.
    start = row["window_start"]
    assert row["summary"]["jobs_opened"] == \
        handovers.summary(db, 1, start, acted)["jobs_opened"]
    assert handovers.summary(db, 1, start, utcnow())["jobs_opened"] == \
        row["summary"]["jobs_opened"] + 1
    assert db.execute("SELECT count(*) FROM commands WHERE op_id = ?",
                      [queued["op_id"]]).fetchone()[0] == 1
    db.close()


def test_an_empty_handover_from_the_outbox_is_invalid_and_stores_nothing(app, client, auth):
    auth.login("guard")
    (answer,) = batch(client, item("handover.record", "handover:new",
                                   {**FIELDS, "happened": " "}, utcnow()))
    assert answer["status"] == "invalid" and answer["errors"]["happened"]
    db = db_of(app)
    assert db.execute("SELECT count(*) FROM handovers").fetchone()[0] == 0
    db.close()


def signature(client) -> str:
    data = image("PNG", colour="blue")
    sha = hashlib.sha256(data).hexdigest()
    assert client.put(f"/sync/files/{sha}", data=data, headers=ORIGIN).status_code == 201
    return sha


def test_the_incoming_guard_signs_with_no_signal_once_and_a_second_is_refused(
        app, client, auth):
    add_guard(app, "guard2")
    add_guard(app, "guard3")
    auth.login("guard")
    (made,) = batch(client, item("handover.record", "handover:new", FIELDS, utcnow() - H))
    handover_id = int(made["redirect"].rsplit("/", 1)[1])
    auth.logout()

    auth.login("guard2")
    manifest = client.get("/sync/manifest", headers=ORIGIN).json
    page = f"/handovers/{handover_id}"
    assert {"/handovers/new", "/handovers", page} <= set(manifest["pages"])
    # The form has a version too: a refresh with nothing new does not fetch it again.
    assert page in manifest["versions"]
    form_version = manifest["versions"]["/handovers/new"]
    assert client.get("/sync/manifest", headers=ORIGIN).json["versions"][
        "/handovers/new"] == form_version
    log_version = manifest["versions"]["/handovers"]
    signed_at = (utcnow() - timedelta(minutes=20)).replace(microsecond=0)
    ack = item("handover.acknowledge", f"handover:{handover_id}",
               {"signature_image": signature(client), "strokes": "[[1,2]]"}, signed_at)
    assert [a["status"] for a in batch(client, ack)] == ["applied"]
    assert [a["status"] for a in batch(client, ack)] == ["duplicate"]
    db = db_of(app)
    row = handovers.get(db, handover_id)
    assert row["acknowledged_name"] == "夜班保安" and row["acknowledged_at"] == \
        signed_at.isoformat()
    assert row["signature_strokes"] == "[[1,2]]"
    assert db.execute("SELECT count(*) FROM commands WHERE op_id = ?",
                      [ack["op_id"]]).fetchone()[0] == 1
    db.close()
    after = client.get("/sync/manifest", headers=ORIGIN).json
    assert page not in after["pages"]  # nothing left to sign
    assert after["versions"]["/handovers"] != log_version
    auth.logout()
    auth.login("guard")  # a new handover of the post starts the next shift's window
    batch(client, item("handover.record", "handover:new", FIELDS, utcnow()))
    auth.logout()
    auth.login("guard2")
    assert client.get("/sync/manifest", headers=ORIGIN).json["versions"][
        "/handovers/new"] != form_version
    auth.logout()

    auth.login("guard3")  # signed on another phone, also with no signal
    (late,) = batch(client, item("handover.acknowledge", f"handover:{handover_id}",
                                 {"signature_image": signature(client), "strokes": "[]"},
                                 utcnow()))
    assert late["status"] == "rejected" and "已" in late["message"]


def test_the_writer_keeps_the_form_not_their_own_handover_to_sign(app, client, auth):
    auth.login("guard")
    (made,) = batch(client, item("handover.record", "handover:new", FIELDS, utcnow()))
    pages = client.get("/sync/manifest", headers=ORIGIN).json["pages"]
    assert "/handovers/new" in pages and made["redirect"] not in pages
    auth.logout()
    auth.login("cleaner")  # records no handover: keeps none of these
    pages = client.get("/sync/manifest", headers=ORIGIN).json["pages"]
    assert not [p for p in pages if p.startswith("/handovers")]


def test_the_forms_queue_in_the_outbox(client, auth):
    add = {"data-outbox", "data-target"}
    auth.login("guard")
    form = Page(client.get("/handovers/new").get_data(as_text=True))
    (record,) = [d for d in form.data if d.get("data-command") == "handover.record"]
    assert add <= set(record) and record["data-target"] == "handover:new"
    assert "data-return-answer" in record  # sent with signal: opens what was made
    assert {d["data-check"]: d["name"] for d in form.data if "data-check" in d} == {
        k: f"checked_{k}" for k in handovers.CHECKLIST}  # a box each: one field each
    (happened,) = [d for d in form.data if d.get("data-field") == "happened"]
    assert "required" in happened  # no signal: the phone checks what the server would
    made = client.post("/handovers/new", data={**FIELDS, "op_id": str(uuid.uuid4())})
    assert made.status_code == 303
    auth.logout()
    auth.login("sec_lead")  # the supervisor stands in for the security post
    page = Page(client.get(made.headers["Location"]).get_data(as_text=True))
    (ack,) = [d for d in page.data if d.get("data-command") == "handover.acknowledge"]
    assert add <= set(ack) and ack["data-target"] == made.headers["Location"].replace(
        "/handovers/", "handover:")
