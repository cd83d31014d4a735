"""The bell, the notifications page, opening one, marking read, preferences, and the job
page's notified line."""

import uuid
from datetime import timedelta

from webapp.domain import notification_reading, notifications

from .conftest import NOW
from .jobflow import new_job, step, uid
from .pages import Page


def post(client, url, **data):
    data.setdefault("op_id", str(uuid.uuid4()))
    return client.post(url, data=data)


def bell(client, url="/jobs/mine") -> int:
    """The unread count the header's bell shows (0 when it shows none)."""
    page = Page(client.get(url).get_data(as_text=True))
    [found] = page.find("data-bell")
    count = int(found["data-unread-count"])
    assert page.text("data-bell-count") == (str(count) if count else "")
    assert ("unread" in found["class"].split()) == bool(count)  # the count shows
    return count


def dispatch_new_job(client, auth, to="tech") -> int:
    from .test_jobs_pages import create

    auth.login("desk")
    job = create(client)
    tech = query_one(client, "SELECT id FROM users WHERE username = ?", [to])
    assert post(client, f"/jobs/{job}/dispatch", to=f"user:{tech}").status_code == 303
    auth.logout()
    return job


def query_one(client, sql, params=()):
    from webapp.db import connect

    db = connect(client.application.config["DATABASE"])
    try:
        return db.execute(sql, list(params)).fetchone()[0]
    finally:
        db.close()


def test_the_bell_counts_what_is_unread_and_the_page_opens_the_record(client, auth):
    auth.login("tech")
    before = bell(client)
    auth.logout()
    job = dispatch_new_job(client, auth)
    auth.login("tech")
    assert bell(client) == before + 1
    page = Page(client.get("/notifications").get_data(as_text=True))
    newest = page.find("data-notification")[0]
    assert "data-unread" in newest
    assert page.text("data-title").startswith("新工单")  # newest first
    response = post(client, f"/notifications/{newest['data-notification']}/open")
    assert response.status_code == 303 and response.headers["Location"] == f"/jobs/{job}"
    assert bell(client) == before
    page = Page(client.get("/notifications").get_data(as_text=True))
    assert "data-unread" not in page.find("data-notification")[0]


def test_another_users_notification_does_not_open(client, auth):
    dispatch_new_job(client, auth)
    theirs = query_one(client, "SELECT max(n.id) FROM notifications n JOIN users u"
                               " ON u.id = n.user_id WHERE u.username = 'tech'")
    auth.login("tech2")
    assert post(client, f"/notifications/{theirs}/open").status_code == 404
    assert query_one(client, "SELECT read_at FROM notifications WHERE id = ?",
                     [theirs]) is None


def test_the_notify_deadline_is_met_by_the_first_message_not_a_later_reassignment(db):
    from webapp.domain.deadlines import job_deadlines
    from webapp.domain.jobs import get_job
    from webapp.domain.settings import estate_settings

    job = new_job(db)
    assert step(db, job, "job.dispatch").status == "applied"  # at once: in time
    later = NOW + timedelta(days=2)
    assert step(db, job, "job.reassign", now=later).status == "applied"
    row = get_job(db, job)
    due = next(d.due for d in job_deadlines(row, estate_settings(db, 1), later)
               if d.name == "notify")
    told = notification_reading.told(db, row, due)
    assert told["met"] is True and told["at"] == NOW.isoformat(timespec="seconds")
    # A job left undispatched past the deadline, then pooled, was late.
    slow = new_job(db)
    step(db, slow, "job.dispatch", {"to": "pool:maintenance"}, now=NOW + timedelta(minutes=9))
    row = get_job(db, slow)
    due = next(d.due for d in job_deadlines(row, estate_settings(db, 1), NOW)
               if d.name == "notify")
    assert notification_reading.told(db, row, due)["met"] is False


def test_mark_all_read_empties_the_bell(client, auth):
    dispatch_new_job(client, auth)
    auth.login("tech")
    assert bell(client) >= 1
    assert post(client, "/notifications/read").status_code == 303
    assert bell(client) == 0
    assert not Page(client.get("/notifications").get_data(as_text=True)).find("data-unread")


def test_opening_the_job_directly_counts_as_opened_and_the_desk_sees_it(client, auth):
    job = dispatch_new_job(client, auth)
    auth.login("desk")
    page = Page(client.get(f"/jobs/{job}").get_data(as_text=True))
    assert page.find("data-told")[0]["data-told"] == "met"  # dispatched at once
    assert page.text("data-opened") == "尚未查看"
    auth.logout()
    auth.login("tech")
    # The phone's service worker keeping the page for offline use is not opening it.
    client.get(f"/jobs/{job}", headers={"Sec-Fetch-Dest": "empty"})
    assert query_one(client, "SELECT n.opened_at FROM notifications n JOIN announcements a"
                             " ON a.id = n.announcement_id WHERE a.target = ?",
                     [f"job:{job}"]) is None
    client.get(f"/jobs/{job}", headers={"Sec-Fetch-Dest": "document"})
    auth.logout()
    auth.login("desk")
    page = Page(client.get(f"/jobs/{job}").get_data(as_text=True))
    assert page.text("data-opened") != "尚未查看"
    opened = query_one(client, "SELECT n.opened_at FROM notifications n JOIN announcements a"
                               " ON a.id = n.announcement_id WHERE a.target = ?",
                       [f"job:{job}"])
    assert opened is not None


def test_preferences_mute_group_kinds_and_keep_quiet_hours(client, auth):
    auth.login("tech")
    page = Page(client.get("/account/password").get_data(as_text=True))
    assert page.find("data-notify-prefs")[0]["href"] == "/notifications/prefs"
    page = Page(client.get("/notifications/prefs").get_data(as_text=True))
    assert [d["data-mute"] for d in page.find("data-mute")] == list(notifications.MUTABLE)
    assert not page.find("data-mute", "job.dispatched")  # personal: not offered
    response = client.post("/notifications/prefs", data={
        "op_id": str(uuid.uuid4()), "muted": ["job.pooled", "job.emergency"],
        "quiet_from": "22:00", "quiet_until": "07:00"})
    assert response.status_code == 303
    page = Page(client.get("/notifications/prefs").get_data(as_text=True))
    assert {d["data-mute"] for d in page.find("data-mute") if "checked" in d} == {
        "job.pooled", "job.emergency"}
    assert page.values["quiet_from"] == "22:00" and page.values["quiet_until"] == "07:00"
    response = client.post("/notifications/prefs", data={
        "op_id": str(uuid.uuid4()), "muted": ["job.dispatched"], "quiet_from": "22:00"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["muted"] == "请从所列类别中选择。"


def test_the_page_shows_thirty_at_a_time_and_more_below(app, client, auth):
    from webapp.db import connect

    db = connect(app.config["DATABASE"])
    tech = uid(db, "tech")
    with db.conn:
        for i in range(40):
            notifications.announce(db, "job.dispatched", target="job:1", estate_id=1,
                                   params={"number": f"N{i:02d}", "place": "", "text": ""},
                                   now=NOW + timedelta(minutes=i), users=[tech])
    db.close()
    auth.login("tech")
    page = Page(client.get("/notifications").get_data(as_text=True))
    shown = page.find("data-notification")
    assert len(shown) == 30 and page.text("data-title") == "新工单N39"
    [more] = page.find("data-more-link")
    rest = Page(client.get(more["href"], headers={"HX-Request": "true"}).get_data(as_text=True))
    assert not rest.has_html and rest.text("data-title") == "新工单N09"
    ids = [int(d["data-notification"]) for d in shown + rest.find("data-notification")]
    assert ids == sorted(set(ids), reverse=True)  # newest first, none twice
