"""Job deadlines: one pure function from a job, the estate's settings and `now`.

The clock starts when the report is received. When the resident causes a delay
and a new time is agreed, the arrive and complete clocks restart from the
agreed time (docs/DOMAIN.md, "Customer-caused delay"). The arrival that counts
then is the one made for the appointment, early or not: a technician at the door
at 13:50 for 14:00 has served the resident on time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple


class Deadline(NamedTuple):
    """Immutable, as a frozen dataclass would be; a named tuple because lists make
    three per row and a frozen dataclass's __init__ costs four object.__setattr__."""

    name: str  # "notify", "arrive", "complete"
    due: datetime
    done_at: datetime | None
    now: datetime

    @property
    def met(self) -> bool:
        return self.done_at is not None and self.done_at <= self.due

    @property
    def breached(self) -> bool:
        end = self.done_at or self.now
        return end > self.due

    @property
    def remaining(self) -> timedelta:
        """Time left (negative when overdue); zero once done."""
        if self.done_at is not None:
            return timedelta(0)
        return self.due - self.now


def _dt(value: Any) -> datetime | None:
    if type(value) is str and value:  # how rows hold times: the common case first
        return datetime.fromisoformat(value)
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


# Multiplying these is a third of the cost of timedelta(minutes=n): lists compute
# deadlines for every row.
_MINUTE, _HOUR, _DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# The statuses a job waits in for someone to arrive (jobs.TRANSITIONS: arrive comes from
# accepted or paused; a pause or a reassign leads back here). After a restart, an
# arrival such a job still holds is from the trip before it, not for the agreed time.
AWAITING_ARRIVAL = frozenset({"new", "pooled", "assigned", "accepted", "paused"})


def arrive_window(job_class: str, settings: Mapping[str, int]) -> timedelta:
    key = "arrive_emergency_minutes" if job_class == "emergency" else "arrive_ordinary_minutes"
    return _MINUTE * settings[key]


def complete_window(job_class: str, settings: Mapping[str, int]) -> timedelta:
    if job_class == "emergency":
        return _HOUR * settings["complete_emergency_hours"]
    if job_class == "medium":
        return _DAY * settings["complete_medium_days"]
    return _HOUR * settings["complete_small_hours"]


def job_deadlines(
    job: Mapping[str, Any], settings: Mapping[str, int], now: datetime
) -> list[Deadline]:
    """The notify, arrive and complete deadlines of a job, evaluated at `now`.

    `job["status"]` tells a restarted job's arrival for the agreed time from one made
    before the pause; a job without one (an ended visit) has arrived for it."""
    received = _dt(job["received_at"])
    assert received is not None
    # The clock restarts at an agreed time (customer-caused delay) or a reopen.
    agreed, reopened = _dt(job.get("agreed_at")), _dt(job.get("reopened_at"))
    restarted = agreed is not None or reopened is not None
    start = max(t for t in (received, agreed, reopened) if t is not None) if restarted \
        else received
    arrived = _dt(job.get("arrived_at"))
    # Not "arrived before the start": the state machine makes the worker arrive again
    # after a pause, so an arrival on a job past that step is the appointment's, even
    # early (then met: it is before the due time). The pause stamps no time of its own.
    if restarted and job.get("status") in AWAITING_ARRIVAL:
        arrived = None
    return [
        Deadline(
            "notify",
            received + _MINUTE * settings["notify_minutes"],
            _dt(job.get("dispatched_at")),
            now,
        ),
        Deadline("arrive", start + arrive_window(job["job_class"], settings), arrived, now),
        Deadline(
            "complete",
            start + complete_window(job["job_class"], settings),
            _dt(job.get("completed_at")),
            now,
        ),
    ]


def next_due(deadlines: list[Deadline]) -> Deadline | None:
    """The first deadline still open: what the worker should watch (the earliest
    due; of equal ones the first)."""
    found = None
    for d in deadlines:
        if d.done_at is None and (found is None or d.due < found.due):
            found = d
    return found
