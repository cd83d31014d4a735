"""A field worker opens read-only a job that is not theirs but that they were told of: an
emergency of their department not dispatched yet, or a job whose steps from their phone
were refused once it went to someone else. Nothing to work on, the reporter masked."""

from __future__ import annotations

import uuid

import pytest

import sync
from webapp.db import connect
from webapp.domain import notifications
from webapp.domain.handlers import HANDLERS

from .conftest import NOW
from .pages import Page


def command(app, username, kind, target, replayed=False, **payload):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    try:
        user = db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]
        cmd = sync.Command(op_id=str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                           user_id=user, device_id="test", replayed=replayed)
        return sync.apply(db, cmd, HANDLERS, NOW, on_rejected=notifications.refused)
    finally:
        db.close()


def report(app, job_class):
    out = command(app, "desk", "job.create", "job:new", estate_id=1, unit_id=1,
                  reporter_name="陈先生", reporter_phone="13800001234", source="phone",
                  category="plumbing", job_class=job_class, description="水管爆裂",
                  photos=[])
    assert out.status == "applied", out.result
    return out.result["job_id"]


def page_of(client, job_id):
    response = client.get(f"/jobs/{job_id}")
    return response.status_code, Page(response.get_data(as_text=True))


def test_an_emergency_opens_read_only_for_the_department_s_technicians(app, client, auth):
    job = report(app, "emergency")
    auth.login("tech")
    code, page = page_of(client, job)
    assert code == 200
    assert page.find("data-read-only") and page.find("data-job-page")
    assert not page.find("data-job-steps") and not page.find("data-command")
    assert page.find("data-masked") and "13800001234" not in page.text("data-reporter")
    # Opening it opened the notification that led there.
    (opened,) = connect(app.config["DATABASE"]).execute(
        "SELECT n.opened_at FROM notifications n JOIN announcements a ON a.id ="
        " n.announcement_id JOIN users u ON u.id = n.user_id WHERE a.target = ?"
        " AND u.username = 'tech'", [f"job:{job}"]).fetchone()
    assert opened is not None
    # A step on it is still refused: reading is not working on it.
    assert client.post(f"/jobs/{job}/claim", data={}).status_code == 404


@pytest.mark.parametrize("who", ["guard", "tech3"])
def test_a_worker_never_told_of_it_finds_no_such_job(app, client, auth, who):
    job = report(app, "emergency")  # maintenance's; the guard is security, tech3 elsewhere
    auth.login(who)
    assert client.get(f"/jobs/{job}").status_code == 404


def test_an_ordinary_report_stays_the_desk_s_until_dispatched(app, client, auth):
    job = report(app, "small")
    auth.login("tech")
    assert client.get(f"/jobs/{job}").status_code == 404


def test_a_refused_step_shows_its_worker_what_and_why_on_the_reassigned_job(app, client,
                                                                             auth):
    job = report(app, "small")
    ids = dict(connect(app.config["DATABASE"]).execute(
        "SELECT username, id FROM users WHERE username IN ('tech', 'tech2')").fetchall())
    for kind, user, payload in [("job.dispatch", "desk", {"to": f"user:{ids['tech']}"}),
                                ("job.accept", "tech", {}),
                                ("job.reassign", "desk", {"to": f"user:{ids['tech2']}"})]:
        assert command(app, user, kind, f"job:{job}", **payload).status == "applied"
    # 王师傅 arrived with no signal; his step reaches the server after the reassignment.
    out = command(app, "tech", "job.arrive", f"job:{job}", replayed=True)
    assert out.status == "rejected" and out.result["reason"] == "not_assignee"
    (note,) = connect(app.config["DATABASE"]).execute(
        "SELECT n.id FROM notifications n JOIN announcements a ON a.id = n.announcement_id"
        " WHERE a.kind = 'step.refused' AND n.user_id = ?", [ids["tech"]]).fetchone()
    auth.login("tech")
    opened = client.post(f"/notifications/{note}/open", data={"op_id": str(uuid.uuid4())})
    assert opened.status_code in (302, 303) and opened.headers["Location"].endswith(
        f"/jobs/{job}")
    code, page = page_of(client, job)
    assert code == 200 and page.find("data-read-only")
    [refused] = page.find("data-refused")
    assert refused["data-refused"] == "job.arrive"
    assert "此单已派给其他人" in page.text("data-refused")
    assert not page.find("data-form", "resolve") and not page.find("data-job-steps")
    # 李师傅, whose job it is, works on it as before.
    auth.logout()
    auth.login("tech2")
    code, page = page_of(client, job)
    assert code == 200 and not page.find("data-read-only") and page.find("data-job-steps")


def test_the_photos_of_a_job_read_only_are_readable_too(db, tmp_path):
    from webapp.domain import access, people

    from .fileflow import image, store
    from .jobflow import run

    def job_with_photo(job_class, colour):
        sha = store(db, tmp_path, image(colour=colour), "desk")
        out = run(db, "desk", "job.create", "job:new", estate_id=1, unit_id=1,
                  reporter_name="陈", reporter_phone="13800001234", source="phone",
                  category="plumbing", job_class=job_class, description="水管爆裂",
                  photos=[sha])
        assert out.status == "applied", out.result
        return sha

    def readable(username, sha):
        user = people.get_user(db, db.execute("SELECT id FROM users WHERE username = ?",
                                              [username]).fetchone()[0])
        return access.readable_file(db, user, people.estate_ids(db, user["id"]), sha)

    emergency, ordinary = job_with_photo("emergency", "red"), job_with_photo("small", "blue")
    assert readable("tech", emergency) and not readable("guard", emergency)
    assert not readable("tech", ordinary)
