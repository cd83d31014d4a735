"""Callback figures against a small hand-computed month (October 2026, Asia/Shanghai).

Estate F1's information callbacks (handled → done, UTC):
  T1 job, 10-12 02:00 → 10-12 08:00, reached, satisfied          (clerk A)
  T2 job, 10-13 02:00 → not reached 10-13 06:00, reached 10-15 03:00 (49 h), unsatisfied (A)
  T3 job, 09-30 18:00 (1 Oct local) → 10-14 04:00: in time only because 1-7 Oct are the
     estate's holidays (and Sat 10 Oct a make-up working day), satisfied        (A)
  T4 job, same handling → 10-16 01:00: past the 7th working day, unsatisfied    (B)
  T5 job, 10-30 02:00, open; not reached 10-30 05:00                            (B)
  T7 complaint, 10-20 02:00 → 10-20 10:00 follow-up, unsatisfied                (B)
Routine (plan of October): R1 manager's, done by A, satisfied; R2 manager's, done by A,
reached but not rated; R3 service centre's, still in the pool.
Estate F2: one job handled in October and called back within the hour.
"""

import json
import uuid
from datetime import datetime

import pytest

from webapp.domain import callbacks, figures, periods, records

NOW = datetime(2026, 11, 20, 2, 0)
OCTOBER = "2026-10"


def _ids(db, records):
    return {r[0] for r in db.execute(records.sql, records.params)}


def _user(db, name):
    return db["users"].insert({"username": f"fig-{name}", "password_hash": "x",
                               "display_name": name, "department": "service",
                               "role": "callback"}).last_pk


def _task(db, estate, source, handled, clerk, done=None):
    tid = callbacks.on_handled(
        db, estate_id=estate, source=source, source_id=1, unit_id=None, contact_name="王",
        contact_phone="13800000000", received_by=clerk, major=False,
        handled_at=datetime.fromisoformat(handled))
    if done:
        callbacks.close_task(db, tid, done, clerk)
    return tid


def _record(db, task, at, reached=True, ratings=None, user=None):
    """A callback record as every callback step stores one (records.add_callback)."""
    ratings = ratings or {}
    satisfied = callbacks.satisfied(ratings)
    records.add_callback(db, callbacks.get_task(db, task), {
        "method": "phone", "reached": int(reached), "ratings": ratings,
        "satisfied": None if satisfied is None else int(satisfied), "comments": "",
        "signer_name": "", "signature_sha256": None, "at": at, "user_id": user},
        str(uuid.uuid4()))


@pytest.fixture
def month(db):
    e1, e2 = (db["estates"].insert({"code": c, "name": c}).last_pk for c in ("F1", "F2"))
    for day in range(1, 8):
        db["estate_calendar"].insert({"estate_id": e1, "day": f"2026-10-0{day}", "workday": 0})
    db["estate_calendar"].insert({"estate_id": e1, "day": "2026-10-10", "workday": 1})
    a, b = _user(db, "甲"), _user(db, "乙")
    t = {
        "T1": _task(db, e1, "job", "2026-10-12T02:00:00", a, "2026-10-12T08:00:00"),
        "T2": _task(db, e1, "job", "2026-10-13T02:00:00", a, "2026-10-15T03:00:00"),
        "T3": _task(db, e1, "job", "2026-09-30T18:00:00", a, "2026-10-14T04:00:00"),
        "T4": _task(db, e1, "job", "2026-09-30T18:00:00", b, "2026-10-16T01:00:00"),
        "T5": _task(db, e1, "job", "2026-10-30T02:00:00", b),
        "T7": _task(db, e1, "complaint", "2026-10-20T02:00:00", b, "2026-10-20T10:00:00"),
        "X1": _task(db, e2, "job", "2026-10-12T02:00:00", a, "2026-10-12T02:30:00"),
    }
    _record(db, t["T1"], "2026-10-12T08:00:00",
            ratings={"attitude": 5, "quality": 4, "timeliness": 5, "overall": 5})
    _record(db, t["T2"], "2026-10-13T06:00:00", reached=False)
    _record(db, t["T2"], "2026-10-15T03:00:00",
            ratings={"attitude": 4, "quality": 2, "timeliness": 3, "overall": 3})
    _record(db, t["T3"], "2026-10-14T04:00:00", ratings={"overall": 4})
    _record(db, t["T4"], "2026-10-16T01:00:00", ratings={"attitude": 2, "overall": 2})
    _record(db, t["T5"], "2026-10-30T05:00:00", reached=False)
    _record(db, t["T7"], "2026-10-20T10:00:00",
            ratings={"attitude": 5, "communication": 2, "complaint_speed": 4, "overall": 3})
    _record(db, t["X1"], "2026-10-12T02:30:00", ratings={"overall": 5})
    quotas = {"samplers": {"manager": {"quota": 2, "planned": 2, "shortfall": 0},
                           "service": {"quota": 3, "planned": 1, "shortfall": 2}},
              "basis": {}}
    plan = db["routine_plans"].insert({
        "estate_id": e1, "month": OCTOBER, "seed": 1, "households": 100,
        "quotas": json.dumps(quotas), "created_at": "2026-09-30T16:00:00"}).last_pk
    for name, sampler, assignee, done in (("R1", "manager", a, "2026-10-25T03:00:00"),
                                          ("R2", "manager", a, "2026-10-26T03:00:00"),
                                          ("R3", "service", None, None)):
        t[name] = db["callback_tasks"].insert({
            "estate_id": e1, "kind": "routine", "sampler": sampler, "plan_id": plan,
            "assignee_id": assignee, "pool": None if assignee else "callback",
            "created_at": "2026-09-30T16:00:00", "due_at": "2026-10-31T15:59:59",
            "latest_at": "2026-10-31T15:59:59", "status": "done" if done else "open",
            "done_at": done}).last_pk
    _record(db, t["R1"], "2026-10-25T03:00:00",
            ratings={"attitude": 5, "communication": 4, "quality": 4, "overall": 5})
    _record(db, t["R2"], "2026-10-26T03:00:00")  # reached, the resident would not rate
    return db, e1, e2, a, b, t


def _scope(db, *estates, period=OCTOBER):
    return figures.scope(db, list(estates), periods.parse(period, NOW), NOW)


def test_the_seventh_working_day_follows_the_estates_calendar(month):
    db, e1, _e2, _a, _b, t = month
    # 1 Oct local: 8, 9, Sat 10 (make-up), 12, 13, 14, 15 October; ends 15 Oct local.
    assert db["callback_tasks"].get(t["T3"])["latest_at"] == "2026-10-15T16:00:00"


def test_callback_rates(month):
    db, e1, e2, *_, t = month
    sc = _scope(db, e1)
    expected = {
        # figure: (value, numerator ids, denominator ids)
        "callback_rate": (83.3, {"T1", "T2", "T3", "T4", "T7"},
                          {"T1", "T2", "T3", "T4", "T5", "T7"}),
        "callback_24h": (33.3, {"T1", "T7"}, {"T1", "T2", "T3", "T4", "T5", "T7"}),
        "callback_7wd": (66.7, {"T1", "T2", "T3", "T7"}, {"T1", "T2", "T3", "T4", "T5", "T7"}),
        "callback_not_reached": (33.3, {"T2", "T5"}, {"T1", "T2", "T3", "T4", "T5", "T7"}),
    }
    for key, (value, num, den) in expected.items():
        result = figures.evaluate(db, key, sc).result
        assert result.value == value, key
        assert _ids(db, result.records) == {t[n] for n in num}, key
        assert _ids(db, result.base) == {t[n] for n in den}, key
        assert (result.numerator, result.denominator) == (len(num), len(den)), key
    both = figures.evaluate(db, "callback_rate", _scope(db, e1, e2)).result
    assert (both.numerator, both.denominator) == (6, 7)


def test_a_callback_not_yet_due_is_not_counted_late(month):
    db, e1, _e2, a, *_ = month
    fresh = _task(db, e1, "job", "2026-11-19T20:00:00", a)  # due 20 Nov 20:00, open
    sc = _scope(db, e1, period="2026-11")
    assert figures.evaluate(db, "callback_rate", sc).result.denominator == 1
    on_time = figures.evaluate(db, "callback_24h", sc).result
    assert on_time.value is None and fresh not in _ids(db, on_time.base)


def test_satisfaction_overall_and_per_dimension(month):
    db, e1, *_, t = month
    sc = _scope(db, e1)
    ev = figures.evaluate(db, "satisfaction", sc)
    assert ev.result.value == 50.0 and ev.target == 85 and ev.meets is False
    assert _ids(db, ev.result.records) == {t["T1"], t["T3"], t["R1"]}
    # R2 reached the resident without a rating: not counted either way.
    assert _ids(db, ev.result.base) == {t[n] for n in ("T1", "T2", "T3", "T4", "T7", "R1")}
    dims = {  # dimension: (satisfied, rated)
        "attitude": ({"T1", "T2", "T7", "R1"}, {"T1", "T2", "T4", "T7", "R1"}),
        "communication": ({"R1"}, {"T7", "R1"}),
        "quality": ({"T1", "R1"}, {"T1", "T2", "R1"}),
        "timeliness": ({"T1"}, {"T1", "T2"}),
        "complaint_speed": ({"T7"}, {"T7"}),
        "overall": ({"T1", "T3", "R1"}, {"T1", "T2", "T3", "T4", "T7", "R1"}),
    }
    for dim, (num, den) in dims.items():
        result = figures.evaluate(db, f"satisfaction_{dim}", sc).result
        assert _ids(db, result.records) == {t[n] for n in num}, dim
        assert _ids(db, result.base) == {t[n] for n in den}, dim
        assert result.value == round(100 * len(num) / len(den), 1), dim


def test_only_the_last_rated_answer_counts_in_the_month_the_callback_was_done(month):
    db, e1, *_, t = month
    # T2 (done in October) is called again and is satisfied now: it counts once, satisfied.
    _record(db, t["T2"], "2026-10-28T03:00:00", ratings={"overall": 5})
    result = figures.evaluate(db, "satisfaction", _scope(db, e1)).result
    assert (result.numerator, result.denominator) == (4, 6)
    # A later answer in November still counts in October, where T2 was done.
    _record(db, t["T2"], "2026-11-02T03:00:00", ratings={"overall": 1})
    result = figures.evaluate(db, "satisfaction", _scope(db, e1)).result
    assert (result.numerator, result.denominator) == (3, 6)
    november = figures.evaluate(db, "satisfaction", _scope(db, e1, period="2026-11")).result
    assert november.denominator == 0 and november.value is None


def _table(db, key, sc):
    return {row.label: row for row in figures.TABLES[key].fn(db, sc)}


def test_month_statistics_by_kind(month):
    db, e1, *_, t = month
    rows = _table(db, "callback_month", _scope(db, e1))
    # Due in October: the six information callbacks (T3, T4 due 2 Oct local) and R1-R3.
    expected = {
        "Information callback": ({"T1", "T2", "T3", "T4", "T5", "T7"}, {"T1", "T7"},
                                 {"T2", "T3", "T4", "T5"}, {"T2", "T5"}, {"T5"}),
        "Routine callback": ({"R1", "R2", "R3"}, {"R1", "R2"}, {"R3"}, set(), {"R3"}),
    }
    for label, sets in expected.items():
        for cell, names in zip(rows[label].cells, sets, strict=True):
            assert _ids(db, cell.records) == {t[n] for n in names}, label
            assert cell.value == len(names)
    assert [c.value for c in rows["All callbacks"].cells] == [9, 4, 5, 2, 2]


def test_per_clerk(month):
    db, e1, _e2, a, b, t = month
    rows = _table(db, "callback_clerks", _scope(db, e1))
    assert [c.value for c in rows["甲"].cells] == [5, 5, 3]
    assert _ids(db, rows["甲"].cells[2].records) == {t["T1"], t["R1"], t["R2"]}
    assert [c.value for c in rows["乙"].cells] == [3, 2, 1]
    assert _ids(db, rows["乙"].cells[1].records) == {t["T4"], t["T7"]}
    pool = rows["In a pool, not taken"]
    assert pool.msgid and _ids(db, pool.cells[0].records) == {t["R3"]}


def test_routine_plans_per_sampler(month):
    db, e1, *_, t = month
    rows = _table(db, "routine_samplers", _scope(db, e1))
    assert set(rows) == {"Estate manager", "Service centre"}
    assert [c.value for c in rows["Estate manager"].cells] == [2, 2, 2, 0]
    assert [c.value for c in rows["Service centre"].cells] == [3, 1, 0, 1]
    assert _ids(db, rows["Service centre"].cells[3].records) == {t["R3"]}
    # A range starting mid-October does not hold October's plan.
    later = _table(db, "routine_samplers", _scope(db, e1, period="2026-10-15..2026-11-30"))
    assert later == {}


def test_an_answer_replayed_late_does_not_displace_a_later_one(db):
    """A clerk's "unsatisfied" made at 10:00 offline reaches the server after the desk's
    "satisfied" of 11:00: the task's answer stays the 11:00 one."""
    estate = db["estates"].insert({"code": "F9", "name": "F9"}).last_pk
    clerk = _user(db, "丙")
    task = _task(db, estate, "job", "2026-10-12T01:00:00", clerk)
    _record(db, task, "2026-10-12T03:00:00", ratings={"overall": 5}, user=clerk)
    _record(db, task, "2026-10-12T02:00:00", ratings={"overall": 1}, user=clerk)
    row = db["callback_tasks"].get(task)
    answer = db["callback_records"].get(row["answer_id"])
    assert (answer["at"], row["answer_satisfied"]) == ("2026-10-12T03:00:00", 1)
