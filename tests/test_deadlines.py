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
    j = job(arrived_at=arrived.isoformat(), agreed_at=agreed.isoformat())
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
    d = by_name(job_deadlines({**j, "completed_at": done.isoformat()}, DEFAULTS, done))
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
