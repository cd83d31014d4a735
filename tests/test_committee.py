"""The owners' committee and residents' meetings: the chair's monthly and the members'
quarterly contacts, working-day reply deadlines on the estate's calendar, minutes due,
what is overdue; the commands' checks; the pages that record a contact and a submission."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

import sync
from sync import Command, Invalid
from webapp.domain import committee, settings
from webapp.domain.handlers import HANDLERS

from .conftest import NOW
from .pages import Page

# NOW is Tuesday 2026-11-10 (local 17:00): the fourth quarter; the third has ended.
TODAY = date(2026, 11, 10)


def user_id(db, username: str) -> int:
    return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]


def apply(db, command: str, target: str = "estate:1", user: str = "desk", now=NOW,
          **payload):
    cmd = Command(op_id=str(uuid.uuid4()), kind=command, target=target, payload=payload,
                  user_id=user_id(db, user), device_id="test")
    return sync.apply(db, cmd, HANDLERS, now)


def add_member(db, name: str, role: str = "member", since: str = "2026-06-01",
               estate_id: int = 1) -> int:
    user = "desk" if estate_id == 1 else "desk2"
    return apply(db, "committee.member", user=user, estate_id=estate_id, name=name,
                 role=role, contact="13900000000", since=since).result["member_id"]


def contact(db, member_id: int, day: str, method: str = "visit") -> None:
    outcome = apply(db, "committee.contact", member_id=member_id, contacted_on=day,
                    method=method, topics="电梯维修进度、停车收费")
    assert outcome.ok, outcome.result


def holiday(db, day: str, workday: int = 0) -> None:
    db.execute("INSERT INTO estate_calendar (estate_id, day, workday, name) VALUES (1,?,?,?)",
               [day, workday, "调休" if workday else "假日"])


# --- Due dates ------------------------------------------------------------------------------

def test_quarters():
    assert committee.quarter(date(2026, 11, 10)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert committee.quarter(date(2026, 2, 28)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert committee.quarter(date(2026, 6, 30)) == (date(2026, 4, 1), date(2026, 6, 30))
    assert committee.members_required(5, 50) == 3  # half, rounded up
    assert committee.members_required(4, 50) == 2


def test_the_chair_is_due_monthly_from_the_last_contact(db):
    chair = add_member(db, "王主任", "chair", since="2026-09-01")
    status = committee.contacts_status(db, 1, NOW)
    # Never contacted: due 30 days after taking office, long past.
    assert [(c["due"], c["overdue"]) for c in status["chairs"]] == [
        (date(2026, 10, 1), True)]
    contact(db, chair, "2026-10-12")
    (c,) = committee.contacts_status(db, 1, NOW)["chairs"]
    assert (c["due"], c["overdue"]) == (date(2026, 11, 11), False)
    # Due on the 11th: overdue from the 12th, local time.
    late = NOW + timedelta(days=1, hours=8)  # 2026-11-12 01:00 local
    (c,) = committee.contacts_status(db, 1, late)["chairs"]
    assert c["overdue"] and committee.overdue(db, 1, late)["chairs"][0]["id"] == chair
    # The estate's setting drives it.
    settings.save(db, 1, {"committee_chair_contact_days": 45})
    (c,) = committee.contacts_status(db, 1, late)["chairs"]
    assert (c["due"], c["overdue"]) == (date(2026, 11, 26), False)


def test_half_the_members_each_quarter(db):
    ids = [add_member(db, name) for name in ("甲", "乙", "丙", "丁", "戊")]
    add_member(db, "新人", since="2026-10-20")  # joined in this quarter only
    contact(db, ids[0], "2026-09-15")  # the third quarter: one of five
    contact(db, ids[1], "2026-10-15")
    contact(db, ids[1], "2026-11-02")  # twice counts once
    contact(db, ids[2], "2026-11-09")
    status = committee.contacts_status(db, 1, NOW)
    q, prev = status["quarter"], status["previous"]
    assert (q["first"], q["last"], q["members"], q["required"], q["done"]) == (
        date(2026, 10, 1), date(2026, 12, 31), 6, 3, 2)
    assert not q["overdue"]  # the quarter has not ended
    assert (prev["members"], prev["required"], prev["done"], prev["overdue"]) == (5, 3, 1, True)
    settings.save(db, 1, {"committee_members_quarter_pct": 20})
    prev = committee.contacts_status(db, 1, NOW)["previous"]
    assert (prev["required"], prev["overdue"]) == (1, False)


def test_a_reply_deadline_counts_working_days_on_the_estate_calendar(db):
    # Received Friday 6 November: ten working days end Friday 20 November.
    received = date(2026, 11, 6)
    assert committee.reply_due(received, 10, {}) == date(2026, 11, 20)
    sid = apply(db, "committee.submit", estate_id=1, title="关于车位收费的函",
                body="请物业说明收费依据。", received_on=str(received)).result["submission_id"]
    (s,) = committee.submissions(db, 1, NOW)
    assert s["id"] == sid and s["due"] == date(2026, 11, 20)
    # A holiday on Monday 16th pushes it to Monday 23rd; a make-up Saturday pulls it back.
    holiday(db, "2026-11-16")
    assert committee.submissions(db, 1, NOW)[0]["due"] == date(2026, 11, 23)
    holiday(db, "2026-11-14", workday=1)
    assert committee.submissions(db, 1, NOW)[0]["due"] == date(2026, 11, 20)


def test_overdue_submissions_and_minutes(db):
    old = apply(db, "committee.submit", estate_id=1, title="旧函", body="内容",
                received_on="2026-10-09").result["submission_id"]
    apply(db, "committee.submit", estate_id=1, title="新函", body="内容",
          received_on="2026-11-09")
    answered = apply(db, "committee.submit", estate_id=1, title="已复函", body="内容",
                     received_on="2026-10-08").result["submission_id"]
    assert apply(db, "committee.reply", f"submission:{answered}", reply="已答复",
                 replied_on="2026-10-30").ok  # due the 22nd: answered late
    meeting = apply(db, "committee.meeting", estate_id=1, kind="meeting", title="业主座谈会",
                    held_on="2026-11-01").result["meeting_id"]
    apply(db, "committee.meeting", estate_id=1, kind="activity", title="重阳节活动",
          held_on="2026-10-20")
    late = committee.overdue(db, 1, NOW)
    # 10 working days from Friday 9 October end on the 23rd: past; 9 November's are not.
    assert [s["id"] for s in late["submissions"]] == [old]
    # Minutes due 7 days after 1 November: the 8th; activities have none to publish.
    assert [m["id"] for m in late["meetings"]] == [meeting]
    assert apply(db, "committee.minutes", f"meeting:{meeting}", minutes="纪要",
                 published_on="2026-11-10").ok
    assert committee.overdue(db, 1, NOW)["meetings"] == []
    # Answered late shows as late on the list, but is no longer overdue work.
    row = next(s for s in committee.submissions(db, 1, NOW) if s["id"] == answered)
    assert (row["due"], row["overdue"]) == (date(2026, 10, 22), True)


# --- Commands -------------------------------------------------------------------------------

def test_bad_input_is_refused_and_nothing_stored(db):
    with pytest.raises(Invalid) as exc:
        apply(db, "committee.contact", member_id=999, contacted_on="2026-11-11",
              method="telepathy", topics=" ")
    assert set(exc.value.errors) == {"member_id", "contacted_on", "method", "topics"}
    with pytest.raises(Invalid) as exc:
        apply(db, "committee.submit", estate_id=2, title="x", body="y",
              received_on="2026-11-01")  # desk serves estate 1 only
    assert set(exc.value.errors) == {"estate_id"}
    assert db.execute("SELECT COUNT(*) FROM committee_contacts").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM committee_submissions").fetchone()[0] == 0


def test_a_reply_is_given_once_and_only_in_ones_estates(db):
    sid = apply(db, "committee.submit", estate_id=1, title="函", body="内容",
                received_on="2026-11-02").result["submission_id"]
    other = apply(db, "committee.reply", f"submission:{sid}", user="desk2", reply="答复",
                  replied_on="2026-11-10")
    assert not other.ok and other.result["reason"] == "forbidden"
    with pytest.raises(Invalid) as exc:
        apply(db, "committee.reply", f"submission:{sid}", reply="答复",
              replied_on="2026-11-01")
    assert "replied_on" in exc.value.errors  # before it arrived
    assert apply(db, "committee.reply", f"submission:{sid}", reply="答复",
                 replied_on="2026-11-10").ok
    again = apply(db, "committee.reply", f"submission:{sid}", reply="再答复",
                  replied_on="2026-11-10")
    assert not again.ok and again.result["reason"] == "illegal_transition"


# --- Pages ----------------------------------------------------------------------------------

def test_recording_a_contact_through_the_pages(app, client, auth):
    auth.login("desk")
    assert client.post("/committee/member", data={
        "estate_id": "1", "name": "王主任", "role": "chair", "contact": "13900000000",
        "since": "2026-01-01"}).status_code == 303
    page = Page(client.get("/committee").get_data(as_text=True))
    (member,) = page.find("data-member")
    form = client.get(f"/committee/contact?member={member['data-member']}")
    values = Page(form.get_data(as_text=True)).forms["committee.contact"]
    assert values["estate_id"] == "1" and values["contacted_on"]  # today by default
    sent = client.post("/committee/contact", data={
        "estate_id": "1", "member_id": member["data-member"], "method": "phone",
        "contacted_on": values["contacted_on"], "topics": "讨论电梯更换方案"})
    assert sent.status_code == 303
    page = Page(client.get(sent.headers["Location"]).get_data(as_text=True))
    (row,) = page.find("data-contact")
    assert "讨论电梯更换方案" in page.text("data-contact", row["data-contact"])
    (chair,) = page.find("data-chair-due")
    assert chair["data-overdue"] == "0"


def test_a_submission_with_bad_input_keeps_what_was_typed(app, client, auth):
    auth.login("desk")
    bad = client.post("/committee/submission", data={
        "estate_id": "1", "title": "关于绿化的函", "body": "请补种树木。",
        "received_on": "十一月三日"})
    assert bad.status_code == 422
    page = Page(bad.get_data(as_text=True))
    assert page.values["title"] == "关于绿化的函"
    assert page.textareas["body"] == "请补种树木。"
    assert page.values["received_on"] == "十一月三日"
    assert page.errors["received_on"]
    good = client.post("/committee/submission", data={
        "estate_id": "1", "title": "关于绿化的函", "body": "请补种树木。",
        "received_on": "2026-11-03"})
    assert good.status_code == 303
    page = Page(client.get("/committee").get_data(as_text=True))
    (row,) = page.find("data-submission")
    sid = row["data-submission"]
    detail = client.get(f"/committee/submissions/{sid}")
    assert "关于绿化的函" in Page(detail.get_data(as_text=True)).text("data-record-title")
    empty = client.post(f"/committee/submissions/{sid}", data={"reply": " ",
                                                               "replied_on": "2026-11-04"})
    assert empty.status_code == 422 and Page(empty.get_data(as_text=True)).errors["reply"]
    replied = client.post(f"/committee/submissions/{sid}", data={
        "reply": "已安排补种。", "replied_on": "2026-11-04"})
    assert replied.status_code == 303
    page = Page(client.get(f"/committee/submissions/{sid}").get_data(as_text=True))
    assert page.text("data-reply") == "已安排补种。"
    assert not page.find("data-command", "committee.reply")  # answered: no form
    assert client.get("/committee/minutes").status_code == 404  # no such form
    assert client.get(f"/committee/members/{sid}").status_code == 404
    # Another estate's desk: neither the record nor the estate.
    auth.login("desk2")
    assert client.get(f"/committee/submissions/{sid}").status_code == 404
    assert client.get("/committee?estate=1").status_code == 404
    own = Page(client.get("/committee").get_data(as_text=True))  # their estate's, empty
    assert own.find("data-submission") == []


# --- Reminders ------------------------------------------------------------------------------

def told(db) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in db.execute(
        "SELECT a.dedupe, u.username FROM announcements a JOIN notifications n"
        " ON n.announcement_id = a.id JOIN users u ON u.id = n.user_id"
        " WHERE a.kind = 'committee.due' ORDER BY a.id, u.username")]


def test_the_scan_reminds_before_work_falls_due_once(db):
    from webapp.domain import notification_scan

    chair = add_member(db, "王主任", "chair", since="2026-09-01")
    contact(db, chair, "2026-10-14")  # due 13 November: three days ahead is the lead
    sid = apply(db, "committee.submit", estate_id=1, title="函", body="内容",
                received_on="2026-11-09").result["submission_id"]  # due the 23rd
    early = NOW - timedelta(days=1)  # the 9th: the chair's due day is four days off
    notification_scan.scan(db, early)
    assert told(db) == []
    notification_scan.scan(db, NOW)
    notification_scan.scan(db, NOW + timedelta(minutes=1))  # once
    key = f"committee.due:1:chair:{chair}:2026-11-13"
    assert told(db) == [(key, "desk"), (key, "manager")]  # not desk2: another estate
    # The submission's day comes within the lead on the 20th; the chair's is not told again.
    notification_scan.scan(db, NOW + timedelta(days=10))
    assert [d for d, _ in told(db)][2:] == [f"committee.due:1:submission:{sid}:2026-11-23"] * 2
