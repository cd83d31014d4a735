"""Shift handovers: the window's counts (hand fixtures in an estate of their own), the
window from the previous handover, acknowledging once and only by someone else, the
pages (record, list with the unacknowledged on top, search, acknowledge, PDF)."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import timedelta

import pytest
from PIL import Image
from pypdf import PdfReader

import sync
from sync import Command, Invalid
from webapp.domain import handovers
from webapp.domain.handlers import HANDLERS

from .conftest import NOW
from .fileflow import image, store
from .pages import Page

H = timedelta(hours=1)


def uid(db, username: str) -> int:
    return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]


def apply(db, kind: str, target: str, user: str, now=NOW, op_id: str | None = None,
          **payload):
    cmd = Command(op_id=op_id or str(uuid.uuid4()), kind=kind, target=target,
                  payload=payload, user_id=uid(db, user), device_id="test")
    return sync.apply(db, cmd, HANDLERS, now)


def record(db, user="desk", now=NOW, **extra):
    fields = {"estate_id": 1, "post": "desk", "happened": "夜间平稳，2栋电梯困人已解救。",
              "open_items": "3栋水泵待修", "checked": ["keys", "radios"], **extra}
    return apply(db, "handover.record", f"estate:{fields['estate_id']}", user, now, **fields)


def fresh_estate(db) -> int:
    """An estate with nothing in it, for counts made by hand."""
    return int(db["estates"].insert({"code": "HO", "name": "交接测试苑"}).last_pk)


def job(db, estate: int, n: int, received, status="new", **extra) -> None:
    db["jobs"].insert({"number": f"HO{n}", "estate_id": estate, "reporter_name": "陈",
                       "reporter_phone": "13800000000", "source": "phone",
                       "category": "plumbing", "department": "maintenance",
                       "job_class": "small", "description": "漏水", "status": status,
                       "received_at": received.isoformat(), "updated_at": NOW.isoformat(),
                       **extra})


def complaint(db, estate: int, n: int, received, status="new") -> None:
    db["complaints"].insert({"number": f"HC{n}", "estate_id": estate, "channel": "phone",
                             "complainant_name": "王", "contact": "13900000000",
                             "identity": "owner", "category": "service", "level": "ordinary",
                             "content": "噪音", "status": status,
                             "received_at": received.isoformat(),
                             "updated_at": NOW.isoformat()})


def test_the_window_counts_what_happened_in_it(db):
    estate = fresh_estate(db)
    start = NOW - 12 * H
    job(db, estate, 1, NOW - 2 * H)  # not dispatched within 5 minutes: overdue
    job(db, estate, 5, NOW - timedelta(minutes=2))  # its 5 minutes still running
    job(db, estate, 2, NOW - 3 * H, status="assigned", dispatched_at=(NOW - 2 * H).isoformat())
    job(db, estate, 3, NOW - 30 * H, status="closed")  # before the window, closed
    job(db, estate, 4, NOW - 40 * H, status="accepted")  # old and open: overdue by now
    complaint(db, estate, 1, NOW - H)
    complaint(db, estate, 2, NOW - 20 * H, status="closed")
    db["feedback"].insert({"estate_id": estate, "place_type": "area", "place_id": 1,
                           "category": "litter", "at": (NOW - H).isoformat(), "op_id": "f1"})
    db["feedback"].insert({"estate_id": estate, "place_type": "area", "place_id": 1,
                           "category": "litter", "at": (NOW - 13 * H).isoformat(),
                           "op_id": "f2"})
    got = handovers.summary(db, estate, start.isoformat(), NOW)
    assert got["jobs_opened"] == 3
    assert got["jobs_dispatched"] == 1
    assert got["jobs_open"] == 4
    assert got["complaints_opened"] == 1
    assert got["complaints_open"] == 1
    assert got["feedback_received"] == 1
    # Jobs 1 (not dispatched), 2 (not on site within 30 minutes) and 4; not job 5 yet.
    assert got["jobs_overdue"] == 3
    later = handovers.summary(db, estate, start.isoformat(), NOW + H)
    assert later["jobs_overdue"] == 4 and later["jobs_opened"] == 3


def test_a_handover_covers_the_time_since_the_previous_one_of_its_post(db):
    first = record(db, now=NOW - 8 * H)
    assert first.status == "applied", first.result
    row = handovers.get(db, first.result["handover_id"])
    assert row["window_start"] == (NOW - 20 * H).isoformat()
    second = record(db, now=NOW)
    row = handovers.get(db, second.result["handover_id"])
    assert row["window_start"] == (NOW - 8 * H).isoformat()
    assert set(row["summary"]) == set(handovers.SUMMARY)
    assert [c[0] for c in row["checklist"] if c[2]] == ["keys", "radios"]
    # Another post's window is its own.
    guard = record(db, user="guard", post="security")
    assert handovers.get(db, guard.result["handover_id"])["window_start"] == \
        (NOW - 12 * H).isoformat()


def test_a_post_not_ones_own_and_an_empty_record_are_refused(db):
    with pytest.raises(Invalid) as wrong:
        record(db, user="guard", post="desk")
    assert "post" in wrong.value.errors
    with pytest.raises(Invalid) as empty:
        record(db, happened="  ")
    assert "happened" in empty.value.errors
    manager = record(db, user="manager")
    assert manager.status == "rejected"
    assert db.execute("SELECT count(*) FROM handovers").fetchone()[0] == 0


def add_desk(db, username="desk3") -> None:
    user = db["users"].insert({"username": username, "password_hash": "x",
                               "display_name": "夜班前台", "department": "service",
                               "role": "desk", "locale": "zh_CN", "active": 1}).last_pk
    db["user_estates"].insert({"user_id": user, "estate_id": 1})


def test_acknowledged_once_and_only_by_someone_else(db, tmp_path):
    add_desk(db)
    handover = record(db).result["handover_id"]
    own_sig = store(db, tmp_path, image("PNG"), "desk")
    own = apply(db, "handover.acknowledge", f"handover:{handover}", "desk",
                signature_image=own_sig)
    assert own.status == "rejected" and own.result["reason"] == "forbidden"
    with pytest.raises(Invalid) as unsigned:
        apply(db, "handover.acknowledge", f"handover:{handover}", "desk3")
    assert "signature" in unsigned.value.errors
    sig = store(db, tmp_path, image("PNG", colour="blue"), "desk3")
    op_id = str(uuid.uuid4())
    first = apply(db, "handover.acknowledge", f"handover:{handover}", "desk3", op_id=op_id,
                  signature_image=sig)
    assert first.status == "applied", first.result
    again = apply(db, "handover.acknowledge", f"handover:{handover}", "desk3", op_id=op_id,
                  signature_image=sig)
    assert again.status == "duplicate"
    second = apply(db, "handover.acknowledge", f"handover:{handover}", "desk3",
                   signature_image=sig)
    assert second.status == "rejected" and second.result["reason"] == "illegal_transition"
    row = handovers.get(db, handover)
    assert row["acknowledged_by"] == uid(db, "desk3") and row["signature_sha256"] == sig
    assert db.execute("SELECT count(*) FROM audit_log WHERE entity = 'handover'"
                      " AND action = 'acknowledge'").fetchone()[0] == 1


def test_another_post_may_not_acknowledge(db, tmp_path):
    handover = record(db).result["handover_id"]
    sig = store(db, tmp_path, image("PNG"), "guard")
    out = apply(db, "handover.acknowledge", f"handover:{handover}", "guard",
                signature_image=sig)
    assert out.status == "rejected"
    assert handovers.get(db, handover)["acknowledged_at"] is None


def test_the_log_puts_the_unacknowledged_first_and_searches_text(db, tmp_path):
    add_desk(db)
    old = record(db, now=NOW - 5 * H, happened="配电房巡查正常").result["handover_id"]
    acked = record(db, now=NOW - 2 * H, happened="消防演练").result["handover_id"]
    newest = record(db, now=NOW - H, happened="快递柜故障").result["handover_id"]
    sig = store(db, tmp_path, image("PNG"), "desk3")
    assert apply(db, "handover.acknowledge", f"handover:{acked}", "desk3",
                 signature_image=sig).status == "applied"
    rows = handovers.listing(db, [1], ["desk"])
    assert [r["id"] for r in rows] == [newest, old, acked]
    assert [r["id"] for r in handovers.listing(db, [1], ["desk"], "配电房")] == [old]
    assert handovers.listing(db, [1], ["security"]) == []
    assert handovers.listing(db, [2], ["desk"]) == []


# --- pages


def png_data_url() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (60, 20), "white").save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def record_page(client, **extra):
    data = {"op_id": str(uuid.uuid4()), "estate_id": "1", "post": "desk",
            "happened": "夜班：2栋电梯困人已解救", "open_items": "3栋水泵待修",
            "checked_keys": "1", "checked_logbooks": "1", **extra}
    return client.post("/handovers/new", data=data)


def test_record_shows_what_the_app_knows_and_keeps_a_mistake(client, auth):
    auth.login("desk")
    page = Page(client.get("/handovers/new").get_data(as_text=True))
    assert {d["data-count"] for d in page.find("data-count")} == set(handovers.SUMMARY)
    bad = record_page(client, happened="", open_items="记得交钥匙")
    assert bad.status_code == 422
    page = Page(bad.get_data(as_text=True))
    assert page.errors["happened"] and page.textareas["open_items"] == "记得交钥匙"
    good = record_page(client)
    assert good.status_code == 303
    page = Page(client.get(good.headers["Location"]).get_data(as_text=True))
    assert page.find("data-handover-page")[0]["data-acknowledged"] == "no"
    assert page.text("data-field", "open_items") == "3栋水泵待修"
    assert {d["data-checked"]: d["data-ok"] for d in page.find("data-checked")} == {
        "keys": "yes", "radios": "no", "logbooks": "yes", "access_cards": "no"}
    # The writer is not offered the pad for their own handover.
    assert not page.find("data-signature-pad")


def test_the_next_shift_acknowledges_with_a_signature(app, client, auth):
    with app.app_context():
        from webapp.db import get_db
        add_desk(get_db())
    from werkzeug.security import generate_password_hash
    with app.app_context():
        from webapp.db import get_db
        get_db().execute("UPDATE users SET password_hash = ? WHERE username = 'desk3'",
                         [generate_password_hash("pw-desk3", "scrypt:1024:8:1")])
        get_db().conn.commit()
    auth.login("desk")
    url = record_page(client).headers["Location"]
    handover_id = int(url.rsplit("/", 1)[1])
    auth.logout()
    auth.login("desk3", "pw-desk3")
    listed = Page(client.get("/handovers").get_data(as_text=True))
    assert listed.find("data-handover-row")[0]["data-acknowledged"] == "no"
    page = Page(client.get(url).get_data(as_text=True))
    assert page.find("data-signature-pad")
    unsigned = client.post(f"{url}/acknowledge", data={"op_id": str(uuid.uuid4())})
    assert unsigned.status_code == 422
    signed = client.post(f"{url}/acknowledge", data={
        "op_id": str(uuid.uuid4()), "signature_data": png_data_url(), "strokes": "[]"})
    assert signed.status_code == 303
    page = Page(client.get(url).get_data(as_text=True))
    assert page.find("data-handover-page")[0]["data-acknowledged"] == "yes"
    img = page.find("data-ack-signature")[0]["src"]
    shown = client.get(img)
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    shown.close()
    again = client.post(f"{url}/acknowledge", data={
        "op_id": str(uuid.uuid4()), "signature_data": png_data_url(), "strokes": "[]"})
    assert again.status_code == 409
    pdf = client.get(f"/handovers/{handover_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "3栋水泵待修" in text and "夜班前台" in text


def test_search_and_who_sees_the_log(client, auth):
    auth.login("desk")
    record_page(client, happened="快递柜故障已报修")
    record_page(client, happened="消防通道畅通")
    found = Page(client.get("/handovers?q=快递柜").get_data(as_text=True))
    assert len(found.find("data-handover-row")) == 1
    partial = client.get("/handovers?q=消防", headers={"HX-Request": "true"})
    assert "<html" not in partial.get_data(as_text=True)
    assert len(Page(partial.get_data(as_text=True)).find("data-handover-row")) == 1
    auth.logout()
    auth.login("supervisor")
    assert len(Page(client.get("/handovers").get_data(as_text=True))
               .find("data-handover-row")) == 2
    auth.logout()
    auth.login("guard")  # another post: not theirs to read
    assert Page(client.get("/handovers").get_data(as_text=True)).find("data-handover-row") == []
    auth.logout()
    auth.login("desk2")  # another estate: 404
    assert client.get("/handovers/1").status_code == 404
    auth.logout()
    auth.login("cleaner")
    assert client.get("/handovers").status_code == 403


def test_another_post_chosen_asks_for_its_window_again(client, auth):
    auth.login("supervisor")  # stands in for any post
    page = Page(client.get("/handovers/new").get_data(as_text=True))
    assert page.find("data-handover-known")[0]["data-handover-known"] == "1:desk"
    assert [o["data-post"] for o in page.find("data-post")] == list(handovers.POSTS)
    partial = client.get("/handovers/new?estate_id=1&post=security",
                         headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert "<html" not in body and "<form" not in body
    found = Page(body)
    assert found.find("data-handover-known")[0]["data-handover-known"] == "1:security"
    assert len(found.find("data-count")) == len(handovers.SUMMARY)


def test_an_estate_may_keep_its_own_checklist(db):
    out = apply(db, "handover.checklist", "estate:1", "manager", estate_id=1,
                items="钥匙\n对讲机\n\n消防控制室记录本\n钥匙")
    assert out.status == "applied", out.result
    assert handovers.checklist(db, 1) == [("item1", "钥匙"), ("item2", "对讲机"),
                                          ("item3", "消防控制室记录本")]
    assert handovers.checklist(db, 2) == list(handovers.CHECKLIST.items())
    made = record(db, checked=["item3"]).result["handover_id"]
    assert handovers.get(db, made)["checklist"] == [
        ["item1", "钥匙", False], ["item2", "对讲机", False], ["item3", "消防控制室记录本", True]]
    with pytest.raises(Invalid):
        apply(db, "handover.checklist", "estate:1", "manager", estate_id=1,
              items="\n".join(f"物品{i}" for i in range(21)))
    assert apply(db, "handover.checklist", "estate:1", "desk", estate_id=1,
                 items="钥匙").status == "rejected"
    apply(db, "handover.checklist", "estate:1", "manager", estate_id=1, items="")
    assert handovers.checklist(db, 1) == list(handovers.CHECKLIST.items())


def test_the_checklist_page_saves_and_the_form_offers_it(client, auth):
    auth.login("manager")
    page = Page(client.get("/handovers/checklist?estate_id=1").get_data(as_text=True))
    assert page.textareas["items"].splitlines() == ["钥匙", "对讲机", "记录本", "门禁卡"]
    too_long = client.post("/handovers/checklist", data={
        "op_id": str(uuid.uuid4()), "estate_id": "1", "items": "很" * 31})
    assert too_long.status_code == 422
    assert Page(too_long.get_data(as_text=True)).textareas["items"] == "很" * 31
    saved = client.post("/handovers/checklist", data={
        "op_id": str(uuid.uuid4()), "estate_id": "1", "items": "车库钥匙\n巡更棒"})
    assert saved.status_code == 303
    auth.logout()
    auth.login("desk")
    form = Page(client.get("/handovers/new").get_data(as_text=True))
    assert [c["data-check"] for c in form.find("data-check")] == ["item1", "item2"]


def test_the_form_reads_only_the_persons_own_estates_checklist(client, auth):
    """The estate id comes from the form: another estate's list is never shown."""
    auth.login("admin")  # serves both demo estates
    for estate, items in (("1", "一号钥匙"), ("2", "二号钥匙")):
        saved = client.post("/handovers/checklist", data={
            "op_id": str(uuid.uuid4()), "estate_id": estate, "items": items})
        assert saved.status_code == 303
    auth.logout()
    auth.login("desk")  # estate 1 only
    form = Page(client.get("/handovers/new?estate_id=2").get_data(as_text=True))
    shown = form.text("data-handover-checklist")
    assert "一号钥匙" in shown and "二号钥匙" not in shown
