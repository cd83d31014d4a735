"""Versions of the pages a phone keeps: they change when, and only when, what a page
shows changes (domain/page_versions.py, the manifest's `versions`).

The view tests render every kept page before and after a change and compare it,
without what differs on every render (the CSRF token, the countdown text), with the
change of its version."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from webapp.db import connect
from webapp.domain import jobs, page_versions, people, settings

from .conftest import NOW
from .jobflow import job_in, new_job, run, step, uid

ORIGIN = {"Origin": "http://localhost"}


# --- The domain functions, on an in-memory database with a pinned clock.

def tech_jobs(db):
    tech = people.get_user(db, uid(db, "tech"))
    assert tech is not None
    return jobs.my_jobs(db, tech, people.estate_ids(db, tech["id"]))


def test_a_step_moves_only_that_jobs_version(db):
    a, b = job_in(db, "accepted"), job_in(db, "accepted")
    before = page_versions.job_pages(db, tech_jobs(db))
    step(db, a, "job.arrive", now=NOW)
    after = page_versions.job_pages(db, tech_jobs(db))
    assert after[a] != before[a]
    assert after[b] == before[b]
    assert page_versions.job_pages(db, tech_jobs(db)) == after  # stable when nothing moves


def test_a_note_or_a_photo_moves_the_version_with_the_same_row(db):
    job = job_in(db, "arrived")
    rows = tech_jobs(db)  # the row as read before: only what hangs off it changes
    before = page_versions.job_pages(db, rows)[job]
    db.execute("INSERT INTO job_notes (job_id, user_id, kind, text, at, op_id) "
               "VALUES (?, ?, 'note', '加一句', ?, 'x')", [job, uid(db, "tech"), NOW.isoformat()])
    with_note = page_versions.job_pages(db, rows)[job]
    assert with_note != before
    db.execute("INSERT INTO files (sha256, mime, size, created_at) VALUES ('ab', 'image/jpeg',"
               " 1, ?)", [NOW.isoformat()])
    db.execute("INSERT INTO job_photos (job_id, sha256, stage, op_id) VALUES (?, 'ab', 'work',"
               " 'y')", [job])
    assert page_versions.job_pages(db, rows)[job] not in (before, with_note)


def test_the_list_version_follows_its_rows_and_the_hidden_pool(db):
    rows = tech_jobs(db)
    version = page_versions.job_list(rows, 0)
    assert page_versions.job_list(tech_jobs(db), 0) == version
    assert page_versions.job_list(rows, 3) != version
    job_in(db, "assigned")
    assert page_versions.job_list(tech_jobs(db), 0) != version


def test_a_unit_moves_with_any_job_on_it_and_its_residents(db):
    unit = new_job(db)  # on unit 1, not dispatched: not the technician's
    versions = page_versions.unit_pages(db, [1, 2], {1, 2})
    step(db, unit, "job.cancel")
    after = page_versions.unit_pages(db, [1, 2], {1, 2})
    assert after[1] != versions[1] and after[2] == versions[2]
    db.execute("UPDATE residents SET phone = '13900000000' WHERE unit_id = 2")
    assert page_versions.unit_pages(db, [1, 2], {1, 2})[2] != after[2]


def longer_windows() -> dict[str, str]:
    """The settings form with the arrive and complete windows doubled."""
    return {s.key: str(s.default * 2 if s.key.startswith(("arrive", "complete_")) else s.default)
            for s in settings.SETTINGS}


def test_reference_data_moves_with_settings_and_staff(db):
    before = page_versions.reference(db, [1])
    out = run(db, "manager", "estate.settings", "estate:1", **longer_windows())
    assert out.status == "applied", out.result
    assert page_versions.reference(db, [1]) != before
    other = page_versions.reference(db, [2])
    run(db, "manager", "estate.settings", "estate:1", **{s.key: str(s.default)
                                                         for s in settings.SETTINGS})
    # Another estate's settings change nothing of estate 2's pages.
    assert page_versions.reference(db, [2]) == other


def test_printing_labels_leaves_every_kept_page_as_it_was(db):
    db.execute("DELETE FROM qr_tokens WHERE place_type = 'unit' AND place_id > 300")
    before = page_versions.reference(db, [1])
    out = run(db, "admin", "place.issue", "estate:1")
    assert out.status == "applied" and out.result["issued"], out.result
    assert page_versions.reference(db, [1]) == before


# --- Through the app: the pages as the phone fetches them.

class Shown(HTMLParser):
    """A page as a reader sees it: tags, attributes and text, less what changes on every
    render (the CSRF token; the time left, which the page counts down itself; the bell's
    unread count and the handover form's preview of the shift, counted for each request:
    a kept copy's are as old as the copy)."""

    def __init__(self, html: str):
        super().__init__()
        self.out: list[tuple] = []
        self.skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("name") == "csrf_token":
            a["value"] = "-"
        if "hx-headers" in a:
            a["hx-headers"] = "-"
        if "data-due" in a:  # ok/overdue: the page sets it from the clock
            a["data-due"] = "-"
            a["class"] = "-"
        if "data-bell" in a:  # the unread count: read on each request, as the token is
            a["data-unread-count"] = "-"
            a["class"] = "-"
        if self.skip or "data-due-text" in a or "data-bell" in a or "data-preview" in a:
            self.skip += 1
        self.out.append((tag, sorted(a.items())))

    def handle_endtag(self, tag):
        if self.skip:
            self.skip -= 1
        self.out.append(("/", tag))

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.out.append(data.strip())


def kept(client) -> dict[str, tuple[str, list]]:
    """url -> (version, the page as shown) for every kept page that has a version."""
    manifest = client.get("/sync/manifest", headers=ORIGIN).get_json()
    out = {}
    for url in manifest["pages"]:
        response = client.get(url)
        if response.status_code == 200 and url in manifest["versions"]:
            out[url] = (manifest["versions"][url], Shown(response.get_data(as_text=True)).out)
    return out


def compare(before, after, strict: bool = True) -> tuple[set[str], set[str]]:
    """The pages whose content changed and those whose version changed (present in
    both). A changed page always has a new version; `strict`: and only a changed one."""
    shown = {u for u in before.keys() & after.keys() if before[u][1] != after[u][1]}
    moved = {u for u in before.keys() & after.keys() if before[u][0] != after[u][0]}
    assert shown <= moved, f"stale: {sorted(shown - moved)}"
    if strict:
        assert moved == shown, f"refetched for nothing: {sorted(moved - shown)}"
    return shown, moved


@pytest.fixture
def appdb(app):
    db = connect(app.config["DATABASE"])
    yield db
    db.close()


def test_versions_change_when_and_only_when_the_pages_do(app, client, auth, appdb):
    db = appdb
    accepted, assigned, other = (job_in(db, "accepted"), job_in(db, "assigned"),
                                 job_in(db, "accepted"))
    auth.login("tech")
    first = kept(client)
    assert {f"/jobs/{accepted}", f"/jobs/{accepted}/sign", "/jobs/mine", "/units/1",
            "/offline", "/outbox", "/feedback/new", "/feedback/mine", "/scan"} <= first.keys()
    again = kept(client)
    assert compare(first, again) == (set(), set())

    assert step(db, accepted, "job.arrive").status == "applied"  # a step
    after_step = kept(client)
    shown, _ = compare(again, after_step)
    assert {f"/jobs/{accepted}", f"/jobs/{accepted}/sign", "/jobs/mine"} <= shown
    assert f"/jobs/{other}" not in shown

    dispatched = new_job(db)  # a dispatch: a new job on the list and on unit 1
    assert step(db, dispatched, "job.dispatch").status == "applied"
    after_dispatch = kept(client)
    shown, _ = compare(after_step, after_dispatch)
    assert {"/jobs/mine", "/units/1"} <= shown and f"/jobs/{dispatched}" in after_dispatch

    assert step(db, assigned, "job.reassign").status == "applied"  # to tech2: off the list
    assert step(db, other, "job.cancel").status == "applied"  # a cancellation
    after_moves = kept(client)
    shown, _ = compare(after_dispatch, after_moves)
    assert "/jobs/mine" in shown
    assert f"/jobs/{assigned}" not in after_moves and f"/jobs/{other}" not in after_moves

    # Settings: the deadlines on the pages move.
    assert run(db, "manager", "estate.settings", "estate:1", **longer_windows()).status \
        == "applied"
    after_settings = kept(client)
    compare(after_moves, after_settings, strict=False)
    assert all(after_moves[u][0] != after_settings[u][0] for u in after_settings)


def test_a_new_language_or_another_person_changes_every_version(app, client, auth, appdb):
    job_in(appdb, "accepted")
    auth.login("tech")
    before = kept(client)
    client.post("/locale", data={"locale": "en", "next": "/jobs/mine"})
    english = kept(client)
    shown, moved = compare(before, english)
    assert moved == before.keys()
    auth.logout()
    auth.login("tech2")  # the same estate: many of the same pages
    other = kept(client)
    assert all(other[u][0] != english[u][0] for u in other.keys() & english.keys())


def test_another_workers_job_on_the_unit_moves_only_the_unit(app, client, auth, appdb):
    mine = job_in(appdb, "accepted")  # tech's, on unit 1
    theirs = job_in(appdb, "accepted")
    assert step(appdb, theirs, "job.reassign").status == "applied"  # tech2's, unit 1 too
    auth.login("tech")
    before = kept(client)
    assert step(appdb, theirs, "job.accept", username="tech2").status == "applied"
    after = kept(client)
    shown, moved = compare(before, after)
    assert moved == {"/units/1"}
    assert f"/jobs/{mine}" in after


def test_the_desks_kept_pages_move_with_the_headers_feedback_count(client, auth, appdb):
    auth.login("desk")
    first = kept(client)
    assert "/offline" in first and "/outbox" in first
    appdb.execute("INSERT INTO feedback (estate_id, category, note, user_id, at, op_id)"
                  " SELECT 1, category, '新的反馈', user_id, at, 'new-fb' FROM feedback LIMIT 1")
    appdb.conn.commit()
    shown, _moved = compare(first, kept(client), strict=False)  # the web manifest moves too
    assert {"/offline", "/outbox"} <= shown
