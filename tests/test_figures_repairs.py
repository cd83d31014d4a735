"""The repairs and technicians' figures against a small world worked out by hand, and the
per-job facts they count: written by the job's commands and by migration 0030's
backfill, both agreeing with deadlines.job_deadlines."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import datetime, timedelta

import pytest
from sqlite_utils import Database

from webapp.db import migrate
from webapp.domain import callbacks, deadlines, figures, job_facts, periods, records, settings
from webapp.domain.notification_reading import told
from webapp.migrations import migrations

from .conftest import NOW as CMD_NOW
from .jobflow import job_in, run, step, uid

NOW = datetime(2026, 12, 7, 2, 0)  # Monday 7 December, 10:00 local
NOV = "2026-11"

# Each job of the hand-made world: estate (0: F1, 1: F2), unit (its estate's 1栋, or
# None), technician (0..2), class, and its history as the job row and visits hold it.
JOBS = {
    # Paused by the customer: on time from the agreed time, late from the report (done
    # 26 h after it). Two trips, so not fixed at the first visit.
    "J1": dict(estate=0, unit=True, tech=0, klass="small", received="11-02T01:00",
               dispatched="11-02T01:02", first_arrived="11-02T01:20", agreed="11-03T02:00",
               arrived="11-03T02:10", completed="11-03T03:00", status="closed"),
    # On time; its callback was answered unsatisfied: not passed.
    "J2": dict(estate=0, unit=True, tech=0, klass="small", received="11-05T01:00",
               dispatched="11-05T01:03", arrived="11-05T01:25", completed="11-05T02:00",
               status="closed"),
    # Reopened ten days after completion: rework; its second visit is done too.
    "J3": dict(estate=0, unit=True, tech=0, klass="small", received="11-10T01:00",
               dispatched="11-10T01:01", arrived="11-10T01:09", completed="11-10T02:00",
               reopened="11-20T00:00", again=("11-20T01:00", "11-20T02:00"),
               status="completed"),
    # Reopened 30 days and an hour after completion: past the window, not rework; but
    # reopened, so not fixed at the first visit. No unit.
    "J4": dict(estate=0, unit=False, tech=1, klass="small", received="11-06T01:00",
               dispatched="11-06T01:01", arrived="11-06T01:09", completed="11-06T02:00",
               reopened="12-06T03:00", status="assigned"),
    # Done, reopened, then cancelled: reported, but counted in no rate.
    "J5": dict(estate=0, unit=True, tech=1, klass="small", received="11-07T01:00",
               dispatched="11-07T01:01", arrived="11-07T01:09", completed="11-07T02:00",
               reopened="11-08T00:00", status="cancelled"),
    # An emergency told late (10 min) and reached late (40 min > 15).
    "J6": dict(estate=0, unit=True, tech=1, klass="emergency", received="11-12T01:00",
               dispatched="11-12T01:10", arrived="11-12T01:40", completed="11-12T03:00",
               status="closed"),
    # An emergency in the other estate, in time everywhere.
    "J7": dict(estate=1, unit=True, tech=2, klass="emergency", received="11-13T01:00",
               dispatched="11-13T01:02", arrived="11-13T01:08", completed="11-13T01:58",
               status="closed"),
    # December: emergencies not reached, one past its 15 minutes, one not yet; neither
    # dispatched (the notify figure leaves the second out too).
    "J8": dict(estate=0, unit=True, tech=None, klass="emergency", received="12-07T01:00",
               status="new"),
    "J9": dict(estate=0, unit=True, tech=None, klass="emergency", received="12-07T01:58",
               status="new"),
}


def t(text: str | None) -> str | None:
    return f"2026-{text}:00" if text else None


def _world(db: Database) -> dict:
    """The world above, inserted as rows (no facts: the caller works them out)."""
    estates = [db["estates"].insert({"code": c, "name": c}).last_pk for c in ("F1", "F2")]
    units = []
    for e in estates:  # both estates have a 1栋
        b = db["buildings"].insert({"estate_id": e, "name": "1栋"}).last_pk
        units.append(db["units"].insert({"estate_id": e, "building_id": b,
                                         "number": "101"}).last_pk)
    techs = [db["users"].insert({"username": f"fig{i}", "password_hash": "-",
                                 "display_name": f"师傅{i}", "department": "maintenance",
                                 "role": "technician"}).last_pk for i in range(3)]
    ids = {}
    for number, j in JOBS.items():
        second = j.get("again") or (None, None)
        current = {"arrived_at": t(second[0]), "completed_at": t(second[1])} \
            if j.get("reopened") else {"arrived_at": t(j.get("arrived")),
                                       "completed_at": t(j.get("completed"))}
        job_id = db["jobs"].insert({
            "number": number, "estate_id": estates[j["estate"]],
            "unit_id": units[j["estate"]] if j["unit"] else None, "reporter_name": "王",
            "reporter_phone": "13800000000", "source": "phone", "category": "plumbing",
            "department": "maintenance", "job_class": j["klass"], "description": "漏水",
            "status": j["status"],
            "assignee_id": techs[j["tech"]] if j["tech"] is not None else None,
            "received_at": t(j["received"]), "dispatched_at": t(j.get("dispatched")),
            "agreed_at": None if j.get("reopened") else t(j.get("agreed")),
            "reopened_at": t(j.get("reopened")), "rework_count": int("reopened" in j),
            "updated_at": t(j["received"]), **current}).last_pk
        ids[number] = job_id
        if j.get("reopened"):
            db["job_visits"].insert({
                "job_id": job_id, "visit": 1, "assignee_id": techs[j["tech"]],
                "arrived_at": t(j["arrived"]), "agreed_at": t(j.get("agreed")),
                "completed_at": t(j["completed"]), "reopened_at": t(j["reopened"]),
                "op_id": f"visit-{number}"})
        for k, at in enumerate(a for a in (j.get("first_arrived"), j.get("arrived")) if a):
            db["audit_log"].insert({"at": t(at), "action": "arrive", "entity": "job",
                                    "entity_id": job_id, "op_id": f"arrive-{number}-{k}",
                                    "detail": "{}"})
    for number, satisfied in (("J1", 1), ("J2", 0)):  # callbacks that reached the resident
        task = db["callback_tasks"].insert({
            "estate_id": estates[0], "kind": "information", "source": "job",
            "source_id": ids[number], "created_at": t("11-06T00:00"),
            "due_at": t("11-07T00:00"), "latest_at": t("11-14T00:00"),
            "status": "done"}).last_pk
        db["callback_records"].insert({"task_id": task, "method": "phone", "reached": 1,
                                       "satisfied": satisfied, "at": t("11-06T01:00"),
                                       "op_id": f"cb-{number}",
                                       "ratings": json.dumps({})})
    return {"estates": estates, "ids": ids, "techs": techs}


def _ids(db: Database, records: figures.Records) -> set[str]:
    numbers = {r[0] for r in db.execute(
        f"SELECT number FROM jobs WHERE id IN ({records.sql})", records.params)}
    assert len(numbers) == records.count(db)
    return numbers


@pytest.fixture
def world(db):
    w = _world(db)
    job_facts.backfill(db, NOW)
    return w


def _scope(db, w, period=NOV, which=(0, 1)):
    return figures.scope(db, [w["estates"][i] for i in which], periods.parse(period, NOW),
                         NOW)


EXPECTED = {  # key: (value, counted, out of, the jobs counted)
    "on_time": (83.3, 5, 6, {"J1", "J2", "J3", "J4", "J7"}),
    "on_time_raw": (66.7, 4, 6, {"J2", "J3", "J4", "J7"}),
    "emergency_arrival": (50.0, 1, 2, {"J7"}),
    "notified_in_time": (83.3, 5, 6, {"J1", "J2", "J3", "J4", "J7"}),
    "pass_rate": (66.7, 4, 6, {"J1", "J4", "J6", "J7"}),
    "rework_rate": (16.7, 1, 6, {"J3"}),
    "first_time_fix": (50.0, 3, 6, {"J2", "J6", "J7"}),
}
DONE = {"J1", "J2", "J3", "J4", "J6", "J7"}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_figure_counts_what_was_worked_out_by_hand(db, world, key):
    value, num, den, counted = EXPECTED[key]
    result = figures.evaluate(db, key, _scope(db, world)).result
    assert (result.value, result.numerator, result.denominator) == (value, num, den)
    assert _ids(db, result.records) == counted
    assert len(_ids(db, result.base)) == den
    if key not in ("emergency_arrival", "notified_in_time"):
        assert _ids(db, result.base) == DONE  # J5 is cancelled: never counted


def test_the_waiting_counts_only_once_its_minutes_have_passed(db, world):
    sc = _scope(db, world, "2026-12")
    arrival = figures.evaluate(db, "emergency_arrival", sc).result
    assert (arrival.value, _ids(db, arrival.base)) == (0.0, {"J8"})
    notified = figures.evaluate(db, "notified_in_time", sc).result
    assert _ids(db, notified.base) == {"J8"} and notified.numerator == 0


def test_a_write_since_is_counted(db, world):
    """The cards share one pass over the jobs, kept only while nothing was written."""
    sc = _scope(db, world)
    assert figures.evaluate(db, "on_time", sc).result.value == 83.3
    db.execute("UPDATE jobs SET on_time = 1 WHERE number = 'J6'")
    assert figures.evaluate(db, "on_time", sc).result.value == 100.0


def test_the_rework_window_is_the_estates_setting(db, world):
    settings.save(db, world["estates"][0], {"rework_window_days": 31})
    result = figures.evaluate(db, "rework_rate", _scope(db, world)).result
    assert _ids(db, result.records) == {"J3", "J4"}  # J4's 30 days and an hour now count


def test_one_estate_and_the_target(db, world):
    ev = figures.evaluate(db, "on_time", _scope(db, world, which=(1,)))
    assert (ev.result.value, ev.target, ev.meets) == (100.0, 95, True)
    ev = figures.evaluate(db, "rework_rate", _scope(db, world))
    assert ev.meets is False  # 16.7 % against at most 2 %


def _table(db, w, key, which=(0, 1)):
    return {r.label: r.cells for r in figures.TABLES[key].fn(db, _scope(db, w, which=which))}


def test_buildings_of_the_same_name_in_two_estates_are_two_rows(db, world):
    rows = _table(db, world, "jobs_by_building")
    assert set(rows) == {"F1 · 1栋", "F2 · 1栋", "No unit (common areas)"}
    f1 = rows["F1 · 1栋"]
    assert [c.numerator for c in f1] == [5, 4, 3, 1]  # J1-3, J5, J6; done J1-3, J6
    assert _ids(db, f1[0].records) == {"J1", "J2", "J3", "J5", "J6"}
    assert _ids(db, f1[2].records) == {"J1", "J2", "J3"}
    assert _ids(db, f1[3].records) == {"J3"} and f1[3].value == 25.0
    assert _ids(db, rows["F2 · 1栋"][1].records) == {"J7"}
    assert _ids(db, rows["No unit (common areas)"][1].records) == {"J4"}
    assert set(_table(db, world, "jobs_by_building", which=(1,))) == {"1栋"}


def test_category_and_source_rows_sum_to_the_figures(db, world):
    for key in ("jobs_by_category", "jobs_by_source"):
        rows = _table(db, world, key)
        assert sum(cells[0].numerator for cells in rows.values()) == 7  # all reported
        assert sum(cells[1].numerator for cells in rows.values()) == len(DONE)


def test_times_by_class_median_and_90th_percentile(db, world):
    rows = _table(db, world, "repair_times")
    # Small: arrivals 10 (from the agreed time), 25, 9, 9; completions all 60.
    assert [c.value for c in rows["Small repair"]] == [9.5, 25.0, 60.0, 60.0]
    # Emergency: arrivals 40 and 8; completions 120 and 58.
    assert [c.value for c in rows["Emergency repair"]] == [24.0, 40.0, 89.0, 120.0]
    assert _ids(db, rows["Emergency repair"][0].records) == {"J6", "J7"}
    assert [c.value for c in rows["Medium repair"]] == [None] * 4


def test_per_technician(db, world):
    rows = _table(db, world, "technicians")
    first = rows["师傅0"]  # J1, J2, J3
    assert [c.numerator for c in first] == [3, 3, 1, 1]
    assert (first[3].value, first[3].denominator) == (50.0, 2)  # J1 satisfied, J2 not
    assert _ids(db, first[3].records) == {"J1"} and _ids(db, first[3].base) == {"J1", "J2"}
    second = rows["师傅1"]  # J4, J6 (J5 cancelled)
    assert _ids(db, second[0].records) == {"J4", "J6"}
    assert (second[1].value, second[3].value) == (50.0, None)
    assert list(rows) == ["师傅0", "师傅1", "师傅2"]  # most done first


def _facts(db, job_id):
    row = db.execute(f"SELECT {', '.join(job_facts.COLUMNS)} FROM jobs WHERE id = ?",
                     [job_id]).fetchone()
    return dict(zip(job_facts.COLUMNS, row, strict=True))


def test_the_migration_backfills_what_the_facts_say(db, world):
    """Rows written before migration 0030, then migrated: the same facts."""
    old = Database(sqlite3.connect(":memory:"))
    migrations.apply(old, stop_before="0030_figures_job_facts")
    w = _world(old)
    migrate(old)

    def facts(database, ids, techs):
        out = _facts(database, ids)
        if out["first_completed_by"] is not None:
            out["first_completed_by"] = techs.index(out["first_completed_by"])
        return out

    for number in JOBS:
        assert facts(old, w["ids"][number], w["techs"]) \
            == facts(db, world["ids"][number], world["techs"]), number
    assert _facts(db, world["ids"]["J1"])["first_arrived_at"] == t("11-02T01:20")


def _agree_with_deadlines(db, job_id):
    """The stored on-time facts are deadlines.job_deadlines' verdicts on the first visit."""
    job = dict(db["jobs"].get(job_id))
    visits = list(db.query("SELECT * FROM job_visits WHERE job_id = ? ORDER BY visit",
                           [job_id]))
    first = visits[0] if visits else job
    rules = settings.estate_settings(db, job["estate_id"])
    _, arrive, complete = deadlines.job_deadlines({**job, **{
        k: first[k] for k in ("agreed_at", "arrived_at", "completed_at")},
        "reopened_at": None, "status": first.get("status")}, rules, CMD_NOW)
    _, arrive_raw, complete_raw = deadlines.job_deadlines({
        **job, "agreed_at": None, "reopened_at": None, "arrived_at": job["first_arrived_at"],
        "completed_at": first["completed_at"]}, rules, CMD_NOW)
    assert job["on_time"] == int(arrive.met and complete.met)
    assert job["on_time_raw"] == int(arrive_raw.met and complete_raw.met)
    notify = deadlines.job_deadlines(job, rules, CMD_NOW)[0]
    assert told(db, job, notify.due)["met"] == bool(job["notified_in_time"])
    return job


def test_the_commands_write_the_facts(db):
    """A job paused by the customer, done, signed off and reopened through the command
    path: its facts, the backfill's and the deadlines' verdicts agree."""
    later = CMD_NOW + timedelta(days=1, minutes=5)  # the pause's agreed time is CMD_NOW + 1 day
    job_id = job_in(db, "paused")  # received, dispatched, accepted, paused at CMD_NOW
    assert step(db, job_id, "job.arrive", now=later).status == "applied"
    assert _facts(db, job_id)["arrive_minutes"] == 5.0
    for kind in ("job.complete", "job.signoff"):
        assert step(db, job_id, kind, now=later + timedelta(hours=1)).status == "applied"
    done = _facts(db, job_id)
    assert (done["on_time"], done["on_time_raw"], done["first_trip_fix"]) == (1, 0, 1)
    assert done["complete_minutes"] == 65.0
    assert done["first_completed_by"] == uid(db, "tech")
    assert step(db, job_id, "job.reopen", now=later + timedelta(days=2)).status == "applied"
    job = _agree_with_deadlines(db, job_id)
    assert job["reopened_after_minutes"] == 2 * 1440 - 60
    assert {k: job[k] for k in job_facts.COLUMNS if k != "reopened_after_minutes"} \
        == {k: done[k] for k in job_facts.COLUMNS if k != "reopened_after_minutes"}
    db.execute(f"UPDATE jobs SET {', '.join(f'{c} = NULL' for c in job_facts.COLUMNS)}")
    job_facts.backfill(db, CMD_NOW)
    assert _facts(db, job_id) == {k: job[k] for k in job_facts.COLUMNS}


def test_a_second_trip_is_not_a_first_time_fix(db):
    job_id = job_in(db, "arrived")
    for kind, at in (("job.pause", CMD_NOW), ("job.arrive", CMD_NOW + timedelta(days=1, minutes=1)),
                     ("job.complete", CMD_NOW + timedelta(days=1, minutes=30))):
        assert step(db, job_id, kind, now=at).status == "applied"
    job = _agree_with_deadlines(db, job_id)
    assert (job["first_trip_fix"], job["first_arrived_at"]) == (0, CMD_NOW.isoformat())


def test_arriving_early_for_the_agreed_time_is_on_time(db):
    """Paused for another day, back ten minutes before the agreed time: on time, 0 minutes
    to arrive (not -10); the backfill agrees."""
    job_id = job_in(db, "paused")
    agreed = datetime.fromisoformat(db["jobs"].get(job_id)["agreed_at"])
    assert _facts(db, job_id)["arrive_on_time"] is None  # still waiting for the appointment
    for kind, at in (("job.arrive", agreed - timedelta(minutes=10)),
                     ("job.complete", agreed + timedelta(minutes=20))):
        assert step(db, job_id, kind, now=at).status == "applied"
    job = _agree_with_deadlines(db, job_id)
    assert (job["arrive_on_time"], job["on_time"], job["arrive_minutes"],
            job["complete_minutes"]) == (1, 1, 0.0, 20.0)
    db.execute(f"UPDATE jobs SET {', '.join(f'{c} = NULL' for c in job_facts.COLUMNS)}")
    job_facts.backfill(db, CMD_NOW)
    assert _facts(db, job_id) == {k: job[k] for k in job_facts.COLUMNS}


def test_migration_0038_settles_early_arrivals_again(db):
    """Facts and due times stored by the old rule (an arrival before the agreed time did
    not count), then migrated: as the rule says now."""
    done, open_ = job_in(db, "paused"), job_in(db, "paused")
    agreed = datetime.fromisoformat(db["jobs"].get(done)["agreed_at"])
    early = agreed - timedelta(minutes=10)
    for job_id, kinds in ((done, ("job.arrive", "job.complete")), (open_, ("job.arrive",))):
        for kind in kinds:
            assert step(db, job_id, kind, now=early).status == "applied"
    right = {j: _facts(db, j) for j in (done, open_)}
    right_due = db.execute("SELECT next_due_name FROM jobs WHERE id = ?", [open_]).fetchone()
    assert right[done]["on_time"] == 1 and right_due == ("complete",)
    db.execute("UPDATE jobs SET arrive_on_time = NULL, arrive_minutes = NULL, on_time = 0,"
               " next_due_name = 'arrive' WHERE id IN (?, ?)", [done, open_])
    db.execute("DELETE FROM _sqlite_migrations WHERE name = '0038_deadlines_early_arrival'")
    migrate(db)
    assert {j: _facts(db, j) for j in (done, open_)} == right
    assert db.execute("SELECT next_due_name FROM jobs WHERE id = ?",
                      [open_]).fetchone() == right_due


def test_a_callback_record_settles_what_the_callback_heard(db):
    """Through the callback commands: not reached, then reached and unsatisfied."""
    job_id = job_in(db, "closed")
    task = next(db.query("SELECT id FROM callback_tasks WHERE source = 'job' AND"
                         " source_id = ?", [job_id]))["id"]
    assert _facts(db, job_id)["callback_answer"] is None
    out = run(db, "desk", "callback.record", f"callback:{task}", method="phone", reached="0")
    assert out.status == "applied" and _facts(db, job_id)["callback_answer"] is None
    out = run(db, "desk", "callback.record", f"callback:{task}", method="phone",
              reached="1", ratings={"overall": 2}, comments="还在漏水")
    assert out.status == "applied" and _facts(db, job_id)["callback_answer"] == 0
    estate = db["jobs"].get(job_id)["estate_id"]
    sc = figures.scope(db, [estate], periods.parse("2026-11", CMD_NOW), CMD_NOW)
    result = figures.evaluate(db, "pass_rate", sc).result
    assert job_id in {r[0] for r in db.execute(result.base.sql, result.base.params)}
    assert job_id not in {r[0] for r in db.execute(result.records.sql, result.records.params)}


def test_an_answer_with_no_ratings_is_left_out_of_satisfaction(db):
    """Reached with no ratings (a signature on site, the ratings beside it skipped): not
    counted either way, as the estate's satisfaction leaves it out; a rated answer then
    counts."""
    job_id = job_in(db, "closed")
    task = callbacks.get_task(db, next(db.query(
        "SELECT id FROM callback_tasks WHERE source = 'job' AND source_id = ?", [job_id]))["id"])
    row = {"method": "signature", "reached": 1, "ratings": {}, "satisfied": None,
           "comments": "", "signer_name": "陈", "signature_sha256": None,
           "at": CMD_NOW.isoformat(), "user_id": None}
    records.add_callback(db, task, row, str(uuid.uuid4()))
    assert _facts(db, job_id)["callback_answer"] is None
    records.add_callback(db, task, {**row, "method": "phone", "ratings": {"overall": 5},
                                    "satisfied": 1}, str(uuid.uuid4()))
    assert _facts(db, job_id)["callback_answer"] == 1
