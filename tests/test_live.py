"""Live lists: the version a list a person keeps open asks for (views/live.py) is the one
its partial carries, moves when what the list shows moves, and not for changes the
reader may not see (other estates, other people's jobs)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from webapp.db import connect

from .conftest import RECORDS_KEY
from .jobflow import job_in, new_job, run, step, uid
from .pages import Page
from .test_feedback import area


class Live(HTMLParser):
    """The live regions of a page: their addresses, the version and query of the list
    shown, and the rows counted as shown."""

    def __init__(self, html: str):
        super().__init__()
        self.regions: list[dict[str, str]] = []
        self.version: str | None = None
        self.query: str | None = None
        self.jobs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if "data-live" in a:
            self.regions.append(a)
        if "data-live-version" in a:
            self.version, self.query = a["data-live-version"], a.get("data-live-query")
        if "data-job" in a:
            self.jobs.append(a["data-job"])


@pytest.fixture
def appdb(app):
    db = connect(app.config["DATABASE"], RECORDS_KEY)
    yield db
    db.close()


def version(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()["version"]


def shown(client, url: str) -> Live:
    response = client.get(url)
    assert response.status_code == 200
    return Live(response.get_data(as_text=True))


def test_my_jobs_move_with_a_dispatch_to_me_and_with_nothing_of_others(client, auth, appdb):
    db = appdb
    auth.login("tech")
    page = shown(client, "/jobs/mine")
    assert [(r["data-live"], r["data-live-list"]) for r in page.regions] == \
        [("/live/mine", "/jobs/mine")]
    first = version(client, "/live/mine")
    assert page.version == first  # the page shows the version the endpoint answers
    assert version(client, "/live/mine") == first  # nothing moved: the same

    job_in(db, "assigned")  # dispatched to tech
    dispatched = version(client, "/live/mine")
    assert dispatched != first
    # The list fetched again carries it, and shows the new job.
    partial = shown(client, "/jobs/mine")
    assert partial.version == dispatched

    # Another technician's job, a new job not dispatched, another estate's job and its
    # dispatch: nothing the technician's list shows.
    other = new_job(db)
    assert step(db, other, "job.dispatch", {"to": f"user:{uid(db, 'tech2')}"}).status \
        == "applied"
    new_job(db)
    out = run(db, "desk2", "job.create", "job:new", estate_id=2, unit_id=None,
              reporter_name="陈", reporter_phone="13800000000", source="phone",
              category="plumbing", job_class="small", description="漏水", photos=[])
    assert out.status == "applied", out.result
    job2 = out.result["job_id"]
    assert run(db, "desk2", "job.dispatch", f"job:{job2}", to="pool:maintenance").status \
        == "applied"
    assert version(client, "/live/mine") == dispatched

    # The department's pool of the technician's own estate shows on the list.
    job_in(db, "pooled")
    assert version(client, "/live/mine") != dispatched


def test_the_board_moves_with_its_own_estates_jobs_and_filter(client, auth, appdb):
    db = appdb
    auth.login("desk")
    page = shown(client, "/jobs")
    assert [(r["data-live"], r["data-live-list"], r["data-live-count"])
            for r in page.regions] == [("/live/board", "/jobs", "[data-job]")]
    assert page.query == "status=open&q=&order=due"
    first = version(client, "/live/board?status=open&q=")
    assert page.version == first
    cancelled = version(client, "/live/board?status=cancelled&q=")
    assert shown(client, "/jobs?status=cancelled").version == cancelled != first

    # A report in the other estate (not the desk's) moves nothing.
    out = run(db, "desk2", "job.create", "job:new", estate_id=2, unit_id=None,
              reporter_name="陈", reporter_phone="13800000000", source="phone",
              category="plumbing", job_class="small", description="漏水", photos=[])
    assert out.status == "applied", out.result
    assert version(client, "/live/board?status=open&q=") == first

    job = new_job(db)  # a new report in the desk's estate: on the open board
    assert version(client, "/live/board?status=open&q=") != first
    assert version(client, "/live/board?status=cancelled&q=") == cancelled
    step(db, job, "job.cancel")
    assert version(client, "/live/board?status=cancelled&q=") != cancelled


def test_the_board_fetched_again_keeps_the_rows_show_more_added(client, auth, appdb):
    db = appdb
    for _ in range(40):
        new_job(db)
    auth.login("desk")
    top = shown(client, "/jobs?status=all")
    assert len(top.jobs) == 25
    more = shown(client, "/jobs?status=all&shown=50")
    assert len(more.jobs) == 50 and more.jobs[:25] == top.jobs
    assert more.version == version(client, "/live/board?status=all&q=&shown=50")
    assert more.version != top.version
    # Never fewer than a page, nor past the most.
    assert len(shown(client, "/jobs?status=all&shown=3").jobs) == 25
    assert shown(client, "/jobs?status=all&shown=99999999").version == \
        version(client, "/live/board?status=all&shown=200")


def test_callbacks_move_when_a_task_leaves_the_list(client, auth, appdb):
    db = appdb
    auth.login("desk")
    page = shown(client, "/callbacks")
    assert [r["data-live"] for r in page.regions] == ["/live/callbacks"]
    first = version(client, "/live/callbacks")
    assert page.version == first
    html = client.get("/callbacks").get_data(as_text=True)
    task = db.execute("SELECT id FROM callback_tasks WHERE status = 'open' AND"
                      " assignee_id = ? ORDER BY due_at, id", [uid(db, "desk")]).fetchone()
    assert task is not None and f'data-task="{task[0]}"' in html
    out = run(db, "desk", "callback.record", f"callback:{task[0]}", method="phone",
              reached="0")
    assert out.status == "applied", out.result
    assert version(client, "/live/callbacks") != first


def test_the_feedback_queue_moves_with_its_estates_items(client, auth, appdb):
    db = appdb
    auth.login("desk")
    page = shown(client, "/feedback?status=new")
    assert page.query == "status=new"
    first = version(client, "/live/feedback?status=new")
    assert page.version == first
    everything = version(client, "/live/feedback")
    out = run(db, "tech3", "feedback.create", "feedback:new", place=area(db, estate=2),
              category="litter", note="垃圾", photos=[])
    assert out.status == "applied", out.result
    assert version(client, "/live/feedback") == everything  # another estate's
    out = run(db, "cleaner", "feedback.create", "feedback:new", place=area(db),
              category="litter", note="垃圾", photos=[])
    assert out.status == "applied", out.result
    assert version(client, "/live/feedback?status=new") != first
    assert version(client, "/live/feedback") != everything


def test_the_live_answer_carries_the_bells_count(app, client, auth):
    auth.login("tech")
    before = client.get("/live/mine").get_json()["unread"]
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = new_job(db)
    run(db, "desk", "job.dispatch", f"job:{job_id}", to=f"user:{uid(db, 'tech')}")
    db.conn.commit()
    db.close()
    assert client.get("/live/mine").get_json()["unread"] == before + 1


def test_a_page_with_no_list_asks_for_the_bell_alone(app, client, auth):
    auth.login("tech")
    page = Page(client.get("/outbox").get_data(as_text=True))
    assert page.find("data-bell-live", "/live/bell") and not page.find("data-live")
    before = client.get("/live/bell").get_json()["unread"]
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = new_job(db)
    run(db, "desk", "job.dispatch", f"job:{job_id}", to=f"user:{uid(db, 'tech')}")
    db.conn.commit()
    db.close()
    assert client.get("/live/bell").get_json() == {"unread": before + 1}
