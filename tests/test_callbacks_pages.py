"""Callback pages: the clerk's list, the three-tap satisfied answer, unsatisfied → rework,
the record PDF and the month's statistics."""

import csv
import io
import uuid

from pypdf import PdfReader

from webapp.db import connect

from .pages import Page


def first_open_task(app, source="job"):
    db = connect(app.config["DATABASE"])
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
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT status FROM callback_tasks WHERE id = ?",
                      [task["id"]]).fetchone()[0] == "done"


def test_unsatisfied_phone_callback_reopens_the_job(app, client, auth):
    auth.login("desk")
    task = first_open_task(app)
    response = client.post(f"/callbacks/{task['id']}/record", data={
        "op_id": str(uuid.uuid4()), "method": "phone", "reached": "1", "rating_overall": "2",
        "comments": "还是漏水", "follow_up": "rework"})
    assert response.status_code == 303
    db = connect(app.config["DATABASE"])
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
    month = task["due_at"][:7]
    page = Page(client.get(f"/callbacks/stats?month={month}").get_data(as_text=True))
    assert page.find("data-dimension", "overall")
    rows = list(csv.reader(io.StringIO(
        client.get(f"/callbacks/stats.csv?month={month}").get_data(as_text=True).lstrip("\ufeff"))))
    measures = {r[1]: r[2] for r in rows[1:]}
    assert int(measures["due"]) >= 1 and "satisfaction.overall.average" in measures


def test_a_callback_team_estates_callbacks_wait_in_the_clerks_list(app, client, auth):
    """锦绣家园 gives its callbacks to the callback team (the demo's second estate)."""
    auth.login("callback")
    page = Page(client.get("/callbacks").get_data(as_text=True))
    db = connect(app.config["DATABASE"])
    team = [r[0] for r in db.execute(
        "SELECT id FROM callback_tasks WHERE pool = 'callback' AND status = 'open'")]
    assert team
    assert {d["data-task"] for d in page.find("data-task")} >= {str(t) for t in team}
