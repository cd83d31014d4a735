"""Old migrations are frozen: their backfills (0030's job facts, 0034's next due times) are
copies of the rules inside the migration files, and produce what the domain computes now
for the demo data (with a few more histories: a pause, a reopen, an estate's own
settings)."""

from datetime import timedelta

import pytest

from webapp.domain import board, job_facts
from webapp.migrations import m0030_figures_job_facts, m0034_board

from .conftest import NOW
from .jobflow import job_in, run, step

LATER = NOW + timedelta(days=2)


@pytest.fixture
def histories(db):
    """The demo data, plus jobs whose facts are not the plain case."""
    paused = job_in(db, "paused")
    step(db, paused, "job.arrive", now=NOW + timedelta(days=1, hours=1))
    reopened = job_in(db, "closed", job_class="emergency")
    step(db, reopened, "job.reopen", now=NOW + timedelta(hours=3))
    job_in(db, "accepted", job_class="medium")
    # Estate 1's own windows: the rules read the stored settings over the defaults.
    db.execute("INSERT OR REPLACE INTO estate_settings VALUES (1, 'arrive_ordinary_minutes',"
               " '7')")
    late = job_in(db, "arrived")
    run(db, "desk", "job.cancel", f"job:{job_in(db, 'new')}", reason="误报")
    return db, late


def _values(db, columns):
    return {r[0]: tuple(r[1:]) for r in db.execute(
        f"SELECT id, {', '.join(columns)} FROM jobs ORDER BY id")}


def _drop(db, columns):
    """The jobs table as it was before the step: without its columns (and the indexes
    that hold them)."""
    for (index,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND"
                               " tbl_name = 'jobs' AND sql IS NOT NULL").fetchall():
        held = {r[2] for r in db.execute(f"PRAGMA index_info({index})")}
        if held & set(columns):
            db.execute(f"DROP INDEX {index}")
    for column in columns:
        db.execute(f"ALTER TABLE jobs DROP COLUMN {column}")


def test_0030_backfills_the_facts_the_domain_settles_now(histories):
    db, late = histories
    db.execute(f"UPDATE jobs SET {', '.join(f'{c} = NULL' for c in job_facts.COLUMNS)}")
    job_facts.backfill(db, LATER)  # the domain's rules, as they are now
    expected = _values(db, job_facts.COLUMNS)
    _drop(db, job_facts.COLUMNS)
    m0030_figures_job_facts.figures_job_facts(db)
    assert _values(db, job_facts.COLUMNS) == expected
    # Not a comparison of empty columns: the histories settled facts of each kind.
    facts = dict(zip(job_facts.COLUMNS, expected[late], strict=True))
    assert facts["arrive_on_time"] == 1 and facts["notified_in_time"] == 1
    columns = list(zip(*expected.values(), strict=True))
    for name, values in zip(job_facts.COLUMNS, columns, strict=True):
        if name != "callback_answer":  # the demo's callbacks are on complaints
            assert any(v is not None for v in values), name
    assert 0 in columns[job_facts.COLUMNS.index("on_time_raw")]


def test_0034_backfills_the_next_due_time_the_domain_stores_now(histories):
    db, late = histories
    due = ("next_due_at", "next_due_name")
    db.execute("UPDATE jobs SET next_due_at = NULL, next_due_name = NULL")
    board.backfill(db, LATER)
    expected = _values(db, due)
    _drop(db, due)
    m0034_board.board_due_order(db)
    assert _values(db, due) == expected
    assert expected[late][1] == "complete"  # arrived: next is completing the work
    names = {name for _, name in expected.values()}
    assert {"notify", "arrive", "complete", None} <= names


def test_the_frozen_deadlines_are_the_domain_s_today(histories):
    """Migration 0030's frozen deadline copy agrees with deadlines.job_deadlines for every
    job (so migration 0034, which uses it, does too)."""
    from webapp.domain.deadlines import job_deadlines
    from webapp.domain.settings import estate_settings

    db, _ = histories
    rules = m0030_figures_job_facts.estate_rules(db)
    for job in db.query("SELECT * FROM jobs"):
        frozen = m0030_figures_job_facts.deadlines_of(job, rules[job["estate_id"]])
        now = job_deadlines(job, estate_settings(db, job["estate_id"]), LATER)
        assert frozen == [(d.name, d.due, d.done_at) for d in now], job["id"]
