"""The board's order (what is due first, or newest first) and the stored due time it sorts
by: the same as the deadlines' next_due after every kind of command, kept by settings
changes, and filled in by the migration."""

from datetime import timedelta

import pytest

from webapp.db import connect
from webapp.domain import board
from webapp.domain.deadlines import job_deadlines, next_due
from webapp.domain.jobs import OPEN_STATUSES, TRANSITIONS
from webapp.domain.settings import estate_settings
from webapp.migrations import m0034_board

from .conftest import NOW
from .jobflow import job_in, new_job, run, step
from .pages import Page
from .placeflow import Text

LEGAL = [(kind, s) for kind, froms in TRANSITIONS.items() for s in sorted(froms)]
HOUR, MINUTE = timedelta(hours=1), timedelta(minutes=1)


def stored(db, job_id):
    """The stored next due time and its deadline's name, or None."""
    due, name = db.execute("SELECT next_due_at, next_due_name FROM jobs WHERE id = ?",
                           [job_id]).fetchone()
    return None if due is None and name is None else (due, name)


def expected_due(db, job_id, now=NOW):
    """The deadline rule itself, straight from deadlines.py (not board.py's copy of it)."""
    job = next(db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
    if job["status"] not in OPEN_STATUSES:
        return None
    d = next_due(job_deadlines(job, estate_settings(db, job["estate_id"]), now))
    return (d.due.isoformat(timespec="seconds"), d.name) if d else None


def assert_all_stored(db):
    wrong = [(r["id"], r["status"], stored(db, r["id"]), expected_due(db, r["id"]))
             for r in db.query("SELECT id, status FROM jobs")
             if stored(db, r["id"]) != expected_due(db, r["id"])]
    assert wrong == []


@pytest.mark.parametrize("kind, from_status", LEGAL)
def test_the_stored_due_time_is_next_due_after_every_command(db, kind, from_status):
    job_id = job_in(db, from_status)
    out = step(db, job_id, kind, now=NOW + 2 * HOUR)
    assert out.status == "applied", out.result
    assert stored(db, job_id) == expected_due(db, job_id)
    if from_status != "cancelled" and kind not in ("job.complete", "job.signoff",
                                                   "job.cancel"):
        assert stored(db, job_id) is not None, "an open job always has something due"
    assert_all_stored(db)


@pytest.mark.parametrize("kind, from_status", [("job.arrive", "accepted"),
                                              ("job.dispatch", "new")])
def test_a_step_reads_the_job_and_its_settings_once_and_writes_them_once(db, kind,
                                                                        from_status):
    """The figures' facts and the board's due time are settled together (job_facts.settle):
    one read of the job's row and the estate's settings after the step's change, one
    write of what it settled."""
    job_id = job_in(db, from_status)
    statements = []
    db.conn.set_trace_callback(statements.append)
    try:
        out = step(db, job_id, kind, now=NOW + 2 * HOUR)
    finally:
        db.conn.set_trace_callback(None)
    assert out.status == "applied", out.result
    settings_reads = [s for s in statements if "FROM estate_settings" in s]
    due_writes = [s for s in statements if "next_due_at = " in s]
    assert len(settings_reads) == 1, settings_reads
    assert len(due_writes) == 1 and "first_arrived_at" in due_writes[0], due_writes
    assert stored(db, job_id) == expected_due(db, job_id) is not None


def test_a_complaint_s_job_and_a_job_from_inspection_keep_it_too(db):
    out = run(db, "desk", "complaint.create", "complaint:new", estate_id=1, unit_id=5,
              complainant_name="黄女士", contact="13700000000", channel="phone",
              identity="owner", category="facilities", level="minor", content="楼道灯坏了",
              photos=[])
    run(db, "desk", "complaint.route", f"complaint:{out.result['complaint_id']}",
        path="ordinary", reason="维修责任", to="dept:maintenance")
    job_id = db.execute("SELECT job_id FROM complaints WHERE id = ?",
                        [out.result["complaint_id"]]).fetchone()[0]
    # Pooled: dispatched, so the next due is arriving on site.
    assert stored(db, job_id) == expected_due(db, job_id) is not None
    assert_all_stored(db)


def test_settings_changes_recompute_the_estate_s_open_jobs(db):
    job_id = job_in(db, "accepted")  # arrive due: accepted + 30 min by default
    before = stored(db, job_id)
    values = {**estate_settings(db, 1), "arrive_ordinary_minutes": 90}
    out = run(db, "admin", "estate.settings", "estate:1", **{k: str(v) for k, v in
                                                             values.items()})
    assert out.status == "applied", out.result
    after = stored(db, job_id)
    assert after != before and after == expected_due(db, job_id)
    assert_all_stored(db)


def test_the_migration_fills_in_every_open_job(db):
    opened, done = job_in(db, "arrived"), job_in(db, "closed")
    db.execute("DROP INDEX jobs_next_due")
    db.execute("ALTER TABLE jobs DROP COLUMN next_due_at")
    db.execute("ALTER TABLE jobs DROP COLUMN next_due_name")
    m0034_board.board_due_order(db)
    assert stored(db, opened) == expected_due(db, opened) is not None
    assert stored(db, done) is None
    assert_all_stored(db)
    plan = " ".join(r[3] for r in db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE estate_id = 1 AND next_due_at IS NOT"
        " NULL ORDER BY next_due_at, id LIMIT 25"))
    assert "jobs_next_due" in plan and "TEMP B-TREE" not in plan


def hand_fixtures(db):
    """Six jobs of estate 1, made at given times (NOW pinned; default windows: notify 5
    min, on site 15 min emergency / 30 min ordinary, small repair done in 24 h)."""
    def made(at, **kw):
        return new_job_at(db, at, **kw)

    old_closed = made(NOW - 3 * HOUR)
    for kind in ("job.dispatch", "job.accept", "job.arrive", "job.complete", "job.signoff"):
        step(db, old_closed, kind, now=NOW - 3 * HOUR)
    undispatched = made(NOW - 2 * HOUR)  # notify due NOW-1:55: the most overdue
    emergency = made(NOW - HOUR, job_class="emergency")
    for kind in ("job.dispatch", "job.accept"):  # on site due NOW-0:45
        step(db, emergency, kind, now=NOW - HOUR)
    on_site = made(NOW - 10 * MINUTE)  # completion due NOW+23:50
    for kind in ("job.dispatch", "job.accept", "job.arrive"):
        step(db, on_site, kind, now=NOW - 10 * MINUTE)
    fresh = made(NOW - 5 * MINUTE)  # notify due NOW: not yet overdue
    cancelled = made(NOW - MINUTE)
    step(db, cancelled, "job.cancel", now=NOW - MINUTE)
    return {"old_closed": old_closed, "undispatched": undispatched, "emergency": emergency,
            "on_site": on_site, "fresh": fresh, "cancelled": cancelled}


def new_job_at(db, at, job_class="small"):
    out = run(db, "desk", "job.create", "job:new", now=at, estate_id=1, unit_id=1,
              reporter_name="陈", reporter_phone="13800000000", source="phone",
              category="plumbing", job_class=job_class, description="水龙头漏水", photos=[])
    assert out.status == "applied", out.result
    return out.result["job_id"]


def names(rows, jobs):
    by_id = {v: k for k, v in jobs.items()}
    return [by_id[r["id"]] for r in rows if r["id"] in by_id]


def test_due_first_puts_the_overdue_on_top_then_by_due_time_then_the_rest_newest(db):
    jobs = hand_fixtures(db)
    rows = board.board(db, [1], "all", "", limit=10_000)
    assert names(rows, jobs) == ["undispatched", "emergency", "fresh", "on_site",
                                 "cancelled", "old_closed"]
    # Every due row of the estate comes before every row with nothing due.
    dues = [r["next_due_at"] for r in rows]
    assert None not in dues[:dues.index(None)] and set(dues[dues.index(None):]) == {None}
    assert dues[:dues.index(None)] == sorted(dues[:dues.index(None)])
    open_rows = board.board(db, [1], "open", "", limit=10_000)
    assert names(open_rows, jobs) == ["undispatched", "emergency", "fresh", "on_site"]


def test_newest_first_is_the_other_choice(db):
    jobs = hand_fixtures(db)
    rows = board.board(db, [1], "all", "", limit=10_000, order="new")
    assert names(rows, jobs) == ["cancelled", "fresh", "on_site", "emergency",
                                 "undispatched", "old_closed"]


def test_due_first_continues_after_the_last_row_shown(db):
    jobs = hand_fixtures(db)
    whole = [r["id"] for r in board.board(db, [1], "all", "", limit=10_000)]
    seen: list[int] = []
    more: dict = {}
    while True:
        after = (more["due"], more["after"]) if "after" in more else None
        page = board.board(db, [1], "all", "", limit=4, before=more.get("before"),
                           after=after)
        seen += [r["id"] for r in page]
        if len(page) < 4:
            break
        more = board.more_args(page[-1], "due")
    assert seen == whole and set(jobs.values()) <= set(seen)


def test_a_search_pages_newest_first_in_either_order(app, client, auth):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    for _ in range(30):  # the first page's last row is open: it has a due time
        new_job(db)
    expected = [r[0] for r in db.execute(
        "SELECT number FROM jobs WHERE estate_id IN (SELECT estate_id FROM user_estates"
        " WHERE user_id = (SELECT id FROM users WHERE username = 'desk'))"
        " AND number LIKE '%J%' ORDER BY id DESC").fetchall()]
    db.close()
    assert len(expected) > 25
    auth.login("desk")
    page = Page(client.get("/jobs?status=all&q=J").get_data(as_text=True))
    seen = [d["data-job"] for d in page.find("data-job")]
    for _ in range(10):  # a cursor that went back to the top would loop
        if not page.find("data-more-link"):
            break
        url = page.find("data-more-link")[0]["hx-get"]
        assert "before=" in url and "due=" not in url
        page = Page(client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True))
        seen += [d["data-job"] for d in page.find("data-job")]
    assert seen == expected


def test_the_board_page_keeps_the_order_in_its_address(client, auth):
    auth.login("desk")
    page = Page(client.get("/jobs?order=new").get_data(as_text=True))
    assert page.find("data-board-order")
    assert [o["data-order"] for o in page.find("data-order") if "selected" in o] == ["new"]
    assert "order=new" in page.find("data-live-query")[0]["data-live-query"]
    # An order the board does not know is the default, not an error.
    odd = client.get("/jobs?order=sideways&due=yesterday&after=7")
    assert odd.status_code == 200
    assert "order=due" in Page(odd.get_data(as_text=True)).find("data-live-query")[0][
        "data-live-query"]


def test_a_public_report_stores_its_due_time(app, client):
    from .placeflow import report, token

    app.config["PUBLIC_REPORT_MIN_SECONDS"] = 0  # a person takes longer than a test
    assert report(client, token(app)).status_code in (200, 303)
    db = connect(app.config["DATABASE"])
    try:
        (job_id,) = db.execute("SELECT max(id) FROM jobs").fetchone()
        assert stored(db, job_id) is not None
        assert_all_stored(db)
    finally:
        db.close()


def test_an_unopened_job_counts_its_notify_deadline(db):
    job_id = new_job(db)
    assert stored(db, job_id) == ((NOW + 5 * MINUTE).isoformat(timespec="seconds"), "notify")


def test_the_rows_badges_from_the_stored_time_match_the_deadline_rule(db):
    hand_fixtures(db)
    rows = board.shown_due(board.board(db, [1], "all", "", limit=10_000), NOW)
    assert any(r["next_due"] for r in rows) and any(r["next_due"] is None for r in rows)
    for r in rows:
        job = next(db.query("SELECT * FROM jobs WHERE id = ?", [r["id"]]))
        rule = (next_due(job_deadlines(job, estate_settings(db, 1), NOW))
                if job["status"] in OPEN_STATUSES else None)
        assert r["next_due"] == rule, r["number"]


def test_a_board_row_prints_what_people_typed_as_text(app, client, auth):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    out = run(db, "desk", "job.create", "job:new", estate_id=1, unit_id=1,
              reporter_name="陈", reporter_phone="13800000000", source="phone",
              category="plumbing", job_class="small", description="<b>水管</b> & 漏水",
              photos=[])
    db.execute("UPDATE jobs SET flagged = 1 WHERE id = ?", [out.result["job_id"]])
    db.conn.commit()
    db.close()
    auth.login("desk")
    page = Page(client.get("/jobs?order=new").get_data(as_text=True))
    [row] = [d for d in page.find("data-job") if d["data-job"] == out.result["number"]]
    assert "flagged" in row["class"] and page.find("data-flagged")
    # Escaped: shown as typed, not read as markup.
    html = client.get("/jobs?order=new").get_data(as_text=True)
    assert "<b>水管</b> & 漏水" in str(Text(html)) and "<b>水管" not in html
