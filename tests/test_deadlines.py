"""Deadline maths with a pinned `now`, including the customer-caused restart."""

from datetime import datetime, timedelta

import pytest

from webapp.domain.deadlines import job_deadlines, next_due
from webapp.domain.settings import SETTINGS

DEFAULTS = {s.key: s.default for s in SETTINGS}
RECEIVED = datetime(2026, 11, 10, 9, 0)


def job(**kw):
    base = {"received_at": RECEIVED.isoformat(), "job_class": "small"}
    base.update(kw)
    return base


def by_name(deadlines):
    return {d.name: d for d in deadlines}


@pytest.mark.parametrize(
    "job_class, arrive_min, complete",
    [
        ("emergency", 15, timedelta(hours=24)),
        ("small", 30, timedelta(hours=24)),
        ("medium", 30, timedelta(days=3)),
    ],
)
def test_due_times_follow_class_and_defaults(job_class, arrive_min, complete):
    d = by_name(job_deadlines(job(job_class=job_class), DEFAULTS, RECEIVED))
    assert d["notify"].due == RECEIVED + timedelta(minutes=5)
    assert d["arrive"].due == RECEIVED + timedelta(minutes=arrive_min)
    assert d["complete"].due == RECEIVED + complete


def test_estate_settings_override_defaults():
    settings = {**DEFAULTS, "arrive_ordinary_minutes": 45, "complete_small_hours": 8}
    d = by_name(job_deadlines(job(), settings, RECEIVED))
    assert d["arrive"].due == RECEIVED + timedelta(minutes=45)
    assert d["complete"].due == RECEIVED + timedelta(hours=8)


def test_time_left_and_breach_at_pinned_now():
    now = RECEIVED + timedelta(minutes=20)
    d = by_name(job_deadlines(job(dispatched_at=(RECEIVED + timedelta(minutes=3)).isoformat()),
                              DEFAULTS, now))
    assert d["notify"].met and not d["notify"].breached
    assert d["arrive"].remaining == timedelta(minutes=10)
    assert not d["arrive"].breached
    later = RECEIVED + timedelta(minutes=31)
    d = by_name(job_deadlines(job(), DEFAULTS, later))
    assert d["arrive"].breached
    assert d["arrive"].remaining == timedelta(minutes=-1)
    assert d["notify"].breached  # never dispatched


def test_done_late_is_a_breach_even_after_the_fact():
    done = RECEIVED + timedelta(hours=30)
    d = by_name(job_deadlines(job(completed_at=done.isoformat()), DEFAULTS, done))
    assert d["complete"].breached and not d["complete"].met
    assert d["complete"].remaining == timedelta(0)


def test_customer_caused_delay_restarts_the_clock_from_the_agreed_time():
    arrived = RECEIVED + timedelta(minutes=20)
    agreed = RECEIVED + timedelta(days=2)
    j = job(arrived_at=arrived.isoformat(), agreed_at=agreed.isoformat(), status="paused")
    # Two days later, without the restart the small repair would be 24 h overdue.
    now = agreed + timedelta(hours=5)
    d = by_name(job_deadlines(j, DEFAULTS, now))
    assert d["complete"].due == agreed + timedelta(hours=24)
    assert not d["complete"].breached
    # The technician must come again at the agreed time; the earlier arrival no longer counts.
    assert d["arrive"].due == agreed + timedelta(minutes=30)
    assert d["arrive"].done_at is None and d["arrive"].breached
    # Completed before the agreed deadline counts as on time.
    done = agreed + timedelta(hours=23)
    d = by_name(job_deadlines({**j, "status": "completed", "arrived_at": agreed.isoformat(),
                               "completed_at": done.isoformat()}, DEFAULTS, done))
    assert d["complete"].met


def test_reopen_restarts_the_clock():
    reopened = RECEIVED + timedelta(days=5)
    d = by_name(job_deadlines(job(reopened_at=reopened.isoformat()), DEFAULTS,
                              reopened + timedelta(hours=1)))
    assert d["complete"].due == reopened + timedelta(hours=24)


def test_next_due_is_the_earliest_open_deadline():
    now = RECEIVED + timedelta(minutes=10)
    ds = job_deadlines(job(dispatched_at=(RECEIVED + timedelta(minutes=2)).isoformat()),
                       DEFAULTS, now)
    assert next_due(ds).name == "arrive"
    done = job(dispatched_at=RECEIVED.isoformat(), arrived_at=RECEIVED.isoformat(),
               completed_at=RECEIVED.isoformat())
    assert next_due(job_deadlines(done, DEFAULTS, now)) is None


# An appointment at 14:00 local (06:00 UTC) two days after the report; ordinary: on site
# by 14:30 local.
AGREED = RECEIVED + timedelta(days=2, hours=-3)
DUE = AGREED + timedelta(minutes=30)


def appointment(status, arrived=None, **kw):
    return job(agreed_at=AGREED.isoformat(), status=status,
               arrived_at=arrived.isoformat() if arrived else None, **kw)


@pytest.mark.parametrize("minutes", [-10, -1, 0, 20, 30])
def test_arriving_for_the_agreed_time_early_or_within_the_window_is_on_time(minutes):
    """13:50 for 14:00 has served the resident on time, as 14:00 and 14:30 have."""
    arrived = AGREED + timedelta(minutes=minutes)
    now = DUE + timedelta(hours=1)
    d = by_name(job_deadlines(appointment("arrived", arrived), DEFAULTS, now))
    assert d["arrive"].due == DUE
    assert d["arrive"].done_at == arrived
    assert d["arrive"].met and not d["arrive"].breached
    assert d["arrive"].remaining == timedelta(0)


def test_arriving_past_the_arrival_deadline_is_late():
    arrived = DUE + timedelta(minutes=1)
    d = by_name(job_deadlines(appointment("arrived", arrived), DEFAULTS, arrived))
    assert d["arrive"].breached and not d["arrive"].met


@pytest.mark.parametrize("now, left", [
    (AGREED - timedelta(minutes=10), timedelta(minutes=40)),  # before the agreed time
    (AGREED, timedelta(minutes=30)),                          # at it
    (AGREED + timedelta(minutes=20), timedelta(minutes=10)),  # after it, in the window
])
def test_waiting_for_the_appointment_is_not_yet_late(now, left):
    d = by_name(job_deadlines(appointment("paused"), DEFAULTS, now))
    assert d["arrive"].done_at is None and not d["arrive"].breached
    assert d["arrive"].remaining == left


def test_nobody_at_the_door_past_the_arrival_deadline_is_a_breach():
    now = DUE + timedelta(minutes=1)
    d = by_name(job_deadlines(appointment("paused"), DEFAULTS, now))
    assert d["arrive"].breached and d["arrive"].remaining == timedelta(minutes=-1)


@pytest.mark.parametrize("status", ["paused", "assigned", "accepted", "pooled", "new"])
def test_the_trip_before_the_pause_is_not_the_appointments_arrival(status):
    """On site at 09:20, paused for another day (or handed to someone else since): the
    job still waits for someone at the agreed time."""
    before = RECEIVED + timedelta(minutes=20)
    d = by_name(job_deadlines(appointment(status, before), DEFAULTS, AGREED))
    assert d["arrive"].done_at is None
    assert d["arrive"].remaining == timedelta(minutes=30)
    d = by_name(job_deadlines(appointment(status, before), DEFAULTS, DUE + timedelta(seconds=1)))
    assert d["arrive"].breached


def test_done_before_the_agreed_time_is_on_time():
    arrived, done = AGREED - timedelta(minutes=10), AGREED - timedelta(minutes=2)
    d = by_name(job_deadlines(appointment("completed", arrived, completed_at=done.isoformat(),
                                          dispatched_at=RECEIVED.isoformat()), DEFAULTS, done))
    assert d["arrive"].met and d["complete"].met
    assert next_due(list(d.values())) is None


def test_the_waiting_statuses_are_the_open_ones_before_arriving():
    """The state machine's: every open status but `arrived`, and arrive starts from some."""
    from webapp.domain import deadlines, jobs

    assert deadlines.AWAITING_ARRIVAL == set(jobs.OPEN_STATUSES) - {"arrived"}
    assert jobs.TRANSITIONS["job.arrive"] < deadlines.AWAITING_ARRIVAL
