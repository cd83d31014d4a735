"""Information callbacks: deadlines on the working-day calendar, who calls back, the record,
and what an unsatisfied answer turns into."""

import uuid
from datetime import date, datetime, timedelta

import pytest

import sync
from webapp.domain import callbacks, workdays

from .conftest import NOW
from .jobflow import job_in, run, step, uid


def set_(db, key, value):
    db.execute("INSERT OR REPLACE INTO estate_settings VALUES (1, ?, ?)", [key, str(value)])


def task_for_job(db, job_id):
    return next(db.query("SELECT * FROM callback_tasks WHERE source = 'job' AND source_id = ?",
                         [job_id]))


def test_working_days_skip_weekends_and_holidays_and_count_make_up_days():
    # Friday 2026-09-25 10:00 Beijing = 02:00 UTC; the National Day week follows.
    start = datetime(2026, 9, 25, 2, 0)
    plain = workdays.end_of_working_days(start, 7, {})
    assert plain == datetime(2026, 10, 6, 16, 0)  # end of Tue 6 Oct, Beijing
    holidays = {date(2026, 10, d): False for d in range(1, 9)}
    holidays[date(2026, 9, 27)] = True  # a Sunday made a working day (调休)
    with_holidays = workdays.end_of_working_days(start, 7, holidays)
    # Mon 28, Tue 29, Wed 30 Sep, Sun 27 Sep, then Fri 9, Mon 12, Tue 13 Oct.
    assert with_holidays == datetime(2026, 10, 13, 16, 0)


def test_callback_is_due_within_24_hours_and_never_after_7_working_days(db):
    job_id = job_in(db, "closed")
    task = task_for_job(db, job_id)
    closed = datetime.fromisoformat(task["created_at"])
    assert datetime.fromisoformat(task["due_at"]) == closed + timedelta(hours=24)
    set_(db, "callback_hours", 400)
    later = task_for_job(db, job_in(db, "closed"))
    assert later["due_at"] == later["latest_at"]  # capped by the working-day limit


def test_a_holiday_moves_the_latest_date(db):
    for d in range(11, 25):
        db.execute("INSERT INTO estate_calendar VALUES (1, ?, 0, '假期')",
                   [date(2026, 11, d).isoformat()])
    task = task_for_job(db, job_in(db, "closed"))
    assert task["latest_at"] == "2026-12-03T16:00:00"


@pytest.mark.parametrize("policy, expect", [(0, "receiver"), (1, "team")])
def test_who_calls_back_follows_the_estate_policy(db, policy, expect):
    set_(db, "callback_policy", policy)
    task = task_for_job(db, job_in(db, "closed"))
    if expect == "receiver":
        assert task["assignee_id"] == uid(db, "desk") and task["pool"] is None
    else:
        assert task["assignee_id"] is None and task["pool"] == "callback"


def test_a_signature_on_site_counts_as_the_callback_where_the_estate_says_so(db):
    job_id = job_in(db, "completed")
    png = "a" * 64
    db.execute("INSERT INTO files (sha256, mime, size, created_at) VALUES (?, 'image/png', 1,"
               " '2026-01-01')", [png])
    db.execute("INSERT INTO file_uploads (sha256, user_id, size, at) VALUES (?,?,1,"
               " '2026-01-01')", [png, uid(db, "tech")])  # the technician sent it
    step(db, job_id, "job.signoff", {"outcome": "signed", "signer_name": "陈",
                                     "signature_image": png})
    assert task_for_job(db, job_id)["status"] == "done"
    set_(db, "signature_counts_as_callback", 0)
    other = job_in(db, "completed")
    step(db, other, "job.signoff", {"outcome": "signed", "signer_name": "陈",
                                    "signature_image": png})
    assert task_for_job(db, other)["status"] == "open"


def record(db, task_id, who="desk", **payload):
    return run(db, who, "callback.record", f"callback:{task_id}", **payload)


def test_not_reached_keeps_the_task_open_with_its_next_try(db):
    task = task_for_job(db, job_in(db, "closed"))
    out = record(db, task["id"], method="phone", reached="0")
    assert out.status == "applied"
    fresh = callbacks.get_task(db, task["id"])
    assert fresh["status"] == "open" and fresh["attempts"] == 1
    assert fresh["next_try_at"] == (NOW + timedelta(hours=4)).isoformat()
    user = dict(next(db.query("SELECT * FROM users WHERE username='desk'")))
    assert task["id"] not in [t["id"] for t in callbacks.today(db, user, [1], NOW)]
    later = NOW + timedelta(hours=5)
    assert task["id"] in [t["id"] for t in callbacks.today(db, user, [1], later)]


def test_a_satisfied_answer_closes_the_task_with_a_record_hash(db):
    task = task_for_job(db, job_in(db, "closed"))
    out = record(db, task["id"], method="phone", reached="1",
                 ratings={"attitude": 5, "quality": 5, "timeliness": 4, "overall": 5})
    assert out.result["satisfied"] is True and out.result["record_hash"].startswith("v2:")
    assert callbacks.get_task(db, task["id"])["status"] == "done"


def test_door_to_door_needs_the_residents_signature(db):
    task = task_for_job(db, job_in(db, "closed"))
    with pytest.raises(sync.Invalid) as info:
        record(db, task["id"], method="visit", reached="1", ratings={"overall": 5})
    assert {"signer_name", "signature"} <= set(info.value.errors)


def test_unsatisfied_turns_into_rework_in_one_step(db):
    job_id = job_in(db, "closed")
    task = task_for_job(db, job_id)
    out = record(db, task["id"], method="phone", reached="1", ratings={"overall": 2},
                 comments="还在漏水", follow_up="rework")
    assert out.status == "applied" and out.result["follow_up"] == "job"
    job = next(db.query("SELECT status, rework_count FROM jobs WHERE id = ?", [job_id]))
    assert job == {"status": "assigned", "rework_count": 1}


def test_unsatisfied_turns_into_a_linked_complaint(db):
    task = task_for_job(db, job_in(db, "closed"))
    out = record(db, task["id"], method="phone", reached="1", ratings={"overall": 1},
                 comments="师傅态度差", follow_up="complaint")
    cid = out.result["follow_up_id"]
    c = next(db.query("SELECT * FROM complaints WHERE id = ?", [cid]))
    assert c["channel"] == "callback" and c["source_callback_id"] == task["id"]
    assert c["content"] == "师傅态度差"


def test_satisfied_answers_cannot_open_rework(db):
    task = task_for_job(db, job_in(db, "closed"))
    with pytest.raises(sync.Invalid):
        record(db, task["id"], method="phone", reached="1", ratings={"overall": 5},
               follow_up="rework")


def test_a_second_record_on_a_done_task_is_kept_but_changes_nothing(db):
    task = task_for_job(db, job_in(db, "closed"))
    record(db, task["id"], method="phone", reached="1", ratings={"overall": 5})
    again = record(db, task["id"], who="callback", method="sms", reached="1",
                   ratings={"overall": 4})
    assert again.result["already_done"] is True
    assert len(callbacks.records(db, task["id"])) == 2


def test_another_persons_task_is_refused_online_and_kept_from_the_outbox(db):
    task = task_for_job(db, job_in(db, "closed"))
    assert task["assignee_id"] == uid(db, "desk")  # the receiver calls back (policy 0)
    online = record(db, task["id"], who="callback", method="phone", reached="1",
                    ratings={"overall": 5})
    assert online.status == "rejected" and online.result["reason"] == "not_yours"
    assert callbacks.records(db, task["id"]) == []
    assert callbacks.get_task(db, task["id"])["status"] == "open"
    # The same call made with no signal arrives later: it happened, so it is kept.
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind="callback.record",
                       target=f"callback:{task['id']}", payload={
                           "method": "phone", "reached": "1", "ratings": {"overall": 4}},
                       user_id=uid(db, "callback"), device_id="phone", replayed=True)
    from webapp.domain.handlers import HANDLERS
    assert sync.apply(db, cmd, HANDLERS, NOW).status == "applied"
    done = callbacks.get_task(db, task["id"])
    assert done["status"] == "done" and done["assignee_id"] == uid(db, "desk")
    [kept] = callbacks.records(db, task["id"])
    assert kept["user_id"] == uid(db, "callback")


def test_the_manager_may_record_on_any_task_of_the_estate(db):
    task = task_for_job(db, job_in(db, "closed"))
    out = record(db, task["id"], who="manager", method="phone", reached="1",
                 ratings={"overall": 5})
    assert out.status == "applied" and out.result["status"] == "done"


def test_a_disabled_account_cannot_record_even_from_a_queued_phone(db):
    task = task_for_job(db, job_in(db, "closed"))
    db.execute("UPDATE users SET active = 0 WHERE username = 'desk'")
    out = record(db, task["id"], method="phone", reached="1", ratings={"overall": 5})
    assert out.status == "rejected" and out.result["reason"] == "forbidden"
    assert callbacks.get_task(db, task["id"])["status"] == "open"


def pool_tasks(db, n, due: datetime, estate_id=2, pool="callback"):
    """`n` open tasks for a pool, all due at once (as a routine plan makes them)."""
    stamp = due.isoformat()
    for i in range(n):
        db.execute(
            "INSERT INTO callback_tasks (estate_id, kind, contact_name, pool, created_at,"
            " due_at, latest_at, status) VALUES (?, 'routine', ?, ?, ?, ?, ?, 'open')",
            [estate_id, f"住户{i}", pool, NOW.isoformat(), stamp, stamp])


def clerk(db):
    user = dict(next(db.query("SELECT * FROM users WHERE username = 'callback'")))
    estates = [r[0] for r in db.execute(
        "SELECT estate_id FROM user_estates WHERE user_id = ? ORDER BY estate_id", [user["id"]])]
    return user, estates


def test_the_list_pages_by_due_time_and_no_task_is_skipped_or_repeated(db):
    # Ties across both page edges, and ids out of due order: the later due first.
    pool_tasks(db, 60, NOW + timedelta(days=2))
    pool_tasks(db, 60, NOW + timedelta(days=1))
    pool_tasks(db, 10, NOW + timedelta(days=3))
    user, estates = clerk(db)
    expected = [t["id"] for t in callbacks.today(db, user, estates, NOW, limit=10_000)]
    assert callbacks.due_count(db, user, estates, NOW) == len(expected) == 133
    seen, after = [], None
    while True:
        page = callbacks.today(db, user, estates, NOW, limit=50, after=after)
        if not page:
            break
        seen += [t["id"] for t in page]
        after = (page[-1]["due_at"], page[-1]["id"])
        # The clerk finishes a few of the tasks shown before asking for more: an offset
        # would now jump over as many of the next ones.
        db.execute(f"UPDATE callback_tasks SET status = 'done' WHERE id IN "
                   f"({','.join('?' * 5)})", [t["id"] for t in page[:5]])
    assert seen == expected
    dues = [callbacks.get_task(db, i)["due_at"] for i in seen]
    assert dues == sorted(dues)


def test_what_the_list_confirms_after_a_callback(db):
    done, retry, untouched = (task_for_job(db, job_in(db, "closed")) for _ in range(3))
    record(db, done["id"], method="phone", reached="1", ratings={"overall": 5})
    record(db, retry["id"], method="phone", reached="0")
    assert callbacks.saved_state(callbacks.get_task(db, done["id"]), NOW) == "done"
    assert callbacks.saved_state(callbacks.get_task(db, retry["id"]), NOW) == "retry"
    # Still in the phone's outbox: nothing to confirm yet.
    assert callbacks.saved_state(callbacks.get_task(db, untouched["id"]), NOW) is None
    # Once its next try has come, it is simply on the list again.
    later = NOW + timedelta(hours=5)
    assert callbacks.saved_state(callbacks.get_task(db, retry["id"]), later) is None
