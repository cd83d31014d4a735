"""Callback pages: the clerk's list, the three-tap satisfied answer, unsatisfied → rework,
the record PDF and the month's statistics."""

import io
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from webapp.db import connect

from .pages import Page


def first_open_task(app, source="job"):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    row = next(db.query("SELECT * FROM callback_tasks WHERE status = 'open' AND source = ? "
                        "AND next_try_at IS NULL ORDER BY id", [source]))
    db.close()
    return row


def test_the_list_shows_the_clerks_open_callbacks(app, client, auth):
    auth.login("desk")  # the demo estate's policy: whoever received the item calls back
    task = first_open_task(app)
    page = Page(client.get("/callbacks").get_data(as_text=True))
    assert page.find("data-task", str(task["id"]))


def test_satisfied_takes_one_tap_on_the_task_page(app, client, auth):
    auth.login("desk")
    task = first_open_task(app)
    page = Page(client.get(f"/callbacks/{task['id']}").get_data(as_text=True))
    quick = page.forms["callback.record"]  # the first form on the page is the quick one
    assert quick["reached"] == "1" and quick["method"] == "phone"
    response = client.post(f"/callbacks/{task['id']}/record",
                           data={**quick, "op_id": str(uuid.uuid4())})
    assert response.status_code == 303
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    assert db.execute("SELECT status FROM callback_tasks WHERE id = ?",
                      [task["id"]]).fetchone()[0] == "done"


def test_unsatisfied_phone_callback_reopens_the_job(app, client, auth):
    auth.login("desk")
    task = first_open_task(app)
    response = client.post(f"/callbacks/{task['id']}/record", data={
        "op_id": str(uuid.uuid4()), "method": "phone", "reached": "1", "rating_overall": "2",
        "comments": "还是漏水", "follow_up": "rework"})
    assert response.status_code == 303
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job = next(db.query("SELECT status, rework_count FROM jobs WHERE id = ?",
                        [task["source_id"]]))
    assert job["status"] in ("assigned", "new") and job["rework_count"] == 1


def test_missing_ratings_are_explained_and_the_comment_kept(app, client, auth):
    auth.login("desk")
    task = first_open_task(app)
    response = client.post(f"/callbacks/{task['id']}/record", data={
        "op_id": str(uuid.uuid4()), "method": "phone", "reached": "1", "comments": "没说"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["ratings"] == "请至少记录总体满意度。"
    assert page.textareas["comments"] == "没说"


def test_record_pdf_and_statistics(app, client, auth):
    auth.login("desk")
    task = first_open_task(app)
    client.post(f"/callbacks/{task['id']}/record", data={
        "op_id": str(uuid.uuid4()), "method": "phone", "reached": "1", "rating_overall": "5",
        "rating_attitude": "4", "comments": "很好"})
    pdf = client.get(f"/callbacks/{task['id']}/record.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "回访记录" in text and "很好" in text
    assert "已核验：记录与签署时一致。" in text  # the record checked with the records key
    # The statistics moved to the figures' callbacks area, which the desk sees.
    moved = client.get("/callbacks/stats")
    assert moved.status_code == 302 and "/figures/callbacks" in moved.headers["Location"]
    (link,) = Page(client.get("/callbacks").get_data(as_text=True)).find("data-figures-link")
    assert link["href"] == "/figures/callbacks"


def test_a_callback_team_estates_callbacks_wait_in_the_clerks_list(app, client, auth):
    """锦绣家园 gives its callbacks to the callback team (the demo's second estate)."""
    auth.login("callback")
    page = Page(client.get("/callbacks").get_data(as_text=True))
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    team = [r[0] for r in db.execute(
        "SELECT id FROM callback_tasks WHERE pool = 'callback' AND status = 'open'")]
    assert team
    assert {d["data-task"] for d in page.find("data-task")} >= {str(t) for t in team}
    # The clerk serves both estates: each task says which one it belongs to.
    names = dict(db.execute("SELECT id, name FROM estates"))
    rows = page.find("data-estate")
    assert len(rows) == len(page.find("data-task"))
    for estate_id, name in names.items():
        if page.find("data-estate", str(estate_id)):
            assert page.text("data-estate", str(estate_id)) == name


def test_a_clerk_of_one_estate_is_not_told_its_name_on_every_row(client, auth):
    auth.login("desk")
    page = Page(client.get("/callbacks").get_data(as_text=True))
    assert page.find("data-task") and not page.find("data-estate")


def add_pool_tasks(app, n, due):
    """`n` open tasks in the callback team's pool, all due at once, as a routine plan
    makes them."""
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    for i in range(n):
        db.execute(
            "INSERT INTO callback_tasks (estate_id, kind, contact_name, pool, created_at,"
            " due_at, latest_at, status) VALUES (2, 'routine', ?, 'callback', ?, ?, ?, 'open')",
            [f"住户{i}", due, due, due])
    db.conn.commit()
    db.close()


def test_the_list_counts_its_tasks_and_show_more_reaches_every_one(app, client, auth):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    before = db.execute("SELECT count(*) FROM callback_tasks WHERE status = 'open'"
                        " AND pool = 'callback'").fetchone()[0]
    db.close()
    add_pool_tasks(app, 147, (datetime.now(UTC) + timedelta(days=1)).isoformat(
        timespec="seconds").replace("+00:00", ""))
    auth.login("callback")
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    expected = [str(r[0]) for r in db.execute(
        "SELECT id FROM callback_tasks WHERE status = 'open' AND pool = 'callback'"
        " ORDER BY due_at, id")]
    db.close()
    assert len(expected) == before + 147  # the demo's and the plan's
    page = Page(client.get("/callbacks").get_data(as_text=True))
    assert page.find("data-due-count")[0]["data-due-count"] == str(len(expected))
    seen = [d["data-task"] for d in page.find("data-task")]
    assert seen == expected[:50]
    while page.find("data-more"):
        url = page.find("data-more-link")[0]["hx-get"]
        assert page.find("data-more-link")[0]["href"] == url
        page = Page(client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True))
        assert not page.has_html and not page.find("data-list")
        assert not page.find("data-due-count") and not page.find("data-empty")
        seen += [d["data-task"] for d in page.find("data-task")]
    assert seen == expected
    # Without scripts the same link opens a page of the next tasks.
    plain = Page(client.get(url).get_data(as_text=True))
    assert plain.has_html
    assert [d["data-task"] for d in plain.find("data-task")] == expected[100:]


def test_odd_show_more_cursors_start_at_the_top(client, auth):
    auth.login("callback")
    top = Page(client.get("/callbacks").get_data(as_text=True)).find("data-task")
    for query in ("after=abc&after_due=2026-11-10T00:00:00", "after=5&after_due=yesterday",
                  "after=99999999999999999999&after_due=2026-11-10T00:00:00", "after=3"):
        response = client.get(f"/callbacks?{query}")
        assert response.status_code == 200, query
        assert Page(response.get_data(as_text=True)).find("data-task") == top, query


def local(stamp: str) -> str:
    return datetime.fromisoformat(stamp).replace(tzinfo=UTC).astimezone(
        ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")


def test_the_list_confirms_a_saved_callback(app, client, auth):
    auth.login("desk")
    task = first_open_task(app)
    page = Page(client.get(f"/callbacks/{task['id']}").get_data(as_text=True))
    # The outbox (with scripts) returns to the same address as the plain post.
    assert {d["data-return"] for d in page.find("data-return")} == {
        f"/callbacks?saved={task['id']}"}
    response = client.post(f"/callbacks/{task['id']}/record",
                           data={**page.forms["callback.record"], "op_id": str(uuid.uuid4())})
    assert response.status_code == 303
    assert parse_qs(urlsplit(response.location).query) == {"saved": [str(task["id"])]}
    listed = Page(client.get(response.location).get_data(as_text=True))
    assert listed.find("data-saved")[0]["data-saved"] == "done"
    assert task["contact_name"] in listed.text("data-saved")
    assert not listed.find("data-task", str(task["id"]))


def test_not_reached_says_when_the_task_comes_back(app, client, auth):
    auth.login("desk")
    task = first_open_task(app)
    response = client.post(f"/callbacks/{task['id']}/record", data={
        "op_id": str(uuid.uuid4()), "method": "phone", "reached": "0"})
    assert response.status_code == 303
    listed = Page(client.get(response.location).get_data(as_text=True))
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    next_try = db.execute("SELECT next_try_at FROM callback_tasks WHERE id = ?",
                          [task["id"]]).fetchone()[0]
    db.close()
    assert listed.find("data-saved")[0]["data-saved"] == "retry"
    assert local(next_try) in listed.text("data-saved")
    assert not listed.find("data-task", str(task["id"]))


def test_no_confirmation_for_what_is_not_saved_or_not_yours(app, client, auth):
    auth.login("desk")
    waiting = first_open_task(app)  # still in the phone's outbox: nothing saved yet
    other = next(connect(app.config["DATABASE"], app.config["RECORDS_KEY"]).query(
        "SELECT id FROM callback_tasks WHERE estate_id = 2"))  # the desk serves estate 1
    for saved in (waiting["id"], other["id"], "x", 99999999999999999999):
        page = Page(client.get(f"/callbacks?saved={saved}").get_data(as_text=True))
        assert not page.find("data-saved"), saved
        assert page.find("data-task", str(waiting["id"]))


def test_tries_are_counted_in_english_plurals(app, client, auth):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    one, two = [r[0] for r in db.execute(
        "SELECT id FROM callback_tasks WHERE status = 'open' AND estate_id = 1 ORDER BY id"
        " LIMIT 2")]
    db.execute("UPDATE callback_tasks SET attempts = 1 WHERE id = ?", [one])
    db.execute("UPDATE callback_tasks SET attempts = 2 WHERE id = ?", [two])
    db.conn.commit()
    db.close()
    auth.login("desk")
    client.post("/locale", data={"locale": "en"})
    listed = Page(client.get("/callbacks").get_data(as_text=True))
    assert listed.text("data-attempts", "1") == "1 try so far"
    assert listed.text("data-attempts", "2") == "2 tries so far"
    due = int(listed.find("data-due-count")[0]["data-due-count"])
    assert due > 1 and listed.text("data-due-count") == f"{due} callbacks to do"
    task = Page(client.get(f"/callbacks/{one}").get_data(as_text=True))
    assert task.text("data-attempts") == "1 try so far"


def test_the_old_statistics_go_to_the_figures_callbacks_area(client, auth):
    auth.login("manager")
    assert Page(client.get("/callbacks").get_data(as_text=True)).find("data-figures-link")
    moved = client.get("/callbacks/stats?month=2026-11")
    assert moved.headers["Location"] == "/figures/callbacks?period=2026-11"
    assert client.get("/callbacks/stats.csv?month=2026-11").headers["Location"] == \
        "/figures/callbacks/figures.csv?period=2026-11"
