"""One job's life in the generated company: its steps from the report to its final
status, with times, actors, notes and audit entries. A mixin of the generator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.domain.jobs import CATEGORIES

from .company import (
    CANCEL_REASONS,
    DAY,
    HOUR,
    MATERIALS,
    MINUTE,
    PAUSE_REASONS,
    REOPEN_REASONS,
    WORK,
    iso,
)


class _Stop(Exception):
    """The next step of a job would happen after `now`."""


WORKER = -1  # placeholder actor: the job's worker, chosen once its final status is known


class JobLife:
    """The parts of `Builder` that play out one job."""

    def life(self, i: int, number: str, desk: int, source: str) -> tuple[dict, list[tuple]]:
        """One job's history up to its final status (or `now`, if sooner).

        Returns the job's fields and its events: (action, time, actor, detail, note,
        photos); actor WORKER and '%d' in a detail stand for the worker.
        """
        rng, r, now = self.rng, self.rng.random, self.now
        target, klass, t0 = self.target[i], self.klass[i], self.times[i]
        category = self.category[i]
        dept = CATEGORIES[category][1]
        job: dict[str, Any] = {"status": "new", "version": 1, "rework_count": 0, "t": t0,
                               "dept": dept}
        photos = 1 if r() < (0.6 if source == "qr" else 0.05) else 0
        events: list[tuple] = [("create", t0, desk, f'{{"number":"{number}"}}', None, photos)]

        def at(dt: float) -> int:
            t = job["t"] + int(dt)
            if t > now:
                raise _Stop
            job["t"] = t
            return t

        def step(action: str, actor: int, detail: str = "{}", note: tuple | None = None,
                 photos: int = 0, **fields: Any) -> None:
            job.update(fields)
            job["version"] += 1
            events.append((action, job["t"], actor, detail, note, photos))

        emergency, medium = klass == "emergency", klass == "medium"
        try:
            if target == "new":
                return job, events
            if target == "cancelled" and r() < 0.5:
                reason = rng.choice(CANCEL_REASONS)
                at(rng.randint(5 * MINUTE, 10 * HOUR))
                step("cancel", desk, f'{{"reason":"{reason}"}}', ("cancel", reason),
                     status="cancelled", cancel_reason=reason)
                return job, events
            at(rng.randint(MINUTE, 5 * MINUTE) if emergency
               else rng.randint(2 * MINUTE, 30 * MINUTE))
            job["dispatched_at"] = job["t"]
            if target == "pooled" or (target != "assigned" and r() < 0.1):
                step("dispatch", desk, f'{{"pool":"{dept}","reason":""}}', status="pooled")
                if target == "pooled":
                    return job, events
                at(rng.randint(5 * MINUTE, 2 * HOUR))
                step("claim", WORKER, status="accepted", accepted_at=job["t"])
            else:
                step("dispatch", desk, '{"assignee_id":%d,"reason":""}', status="assigned")
                if target == "assigned":
                    return job, events
                at(rng.randint(MINUTE, 20 * MINUTE))
                step("accept", WORKER, status="accepted", accepted_at=job["t"])
            if target == "cancelled":
                reason = rng.choice(CANCEL_REASONS)
                at(rng.randint(10 * MINUTE, 5 * HOUR))
                step("cancel", desk, f'{{"reason":"{reason}"}}', ("cancel", reason),
                     status="cancelled", cancel_reason=reason)
                return job, events
            if target == "accepted":
                return job, events
            self._visit(job, events, target, emergency, medium, at, step)
            if job["status"] == "closed" and r() < 0.015:  # rework
                reason = rng.choice(REOPEN_REASONS)
                at(rng.randint(DAY, 7 * DAY))
                step("reopen", desk, f'{{"reason":"{reason}","requested_by":"resident"}}',
                     ("reopen", reason), status="assigned", rework_count=1,
                     reopened_at=job["t"], accepted_at=None, arrived_at=None,
                     completed_at=None, closed_at=None, agreed_at=None, pause_reason=None)
                at(rng.randint(MINUTE, 30 * MINUTE))
                step("accept", WORKER, status="accepted", accepted_at=job["t"])
                self._visit(job, events, "closed", emergency, medium, at, step)
        except _Stop:
            pass
        return job, events

    def _visit(self, job: dict, events: list, target: str, emergency: bool, medium: bool,
               at: Callable[[float], int], step: Callable[..., None]) -> None:
        """From accepted: on site, maybe paused, done, signed off."""
        rng, r = self.rng, self.rng.random
        pause = target == "paused" or r() < 0.06
        arrive_in = (rng.randint(5 * MINUTE, 25 * MINUTE) if emergency
                     else rng.randint(10 * MINUTE, 2 * HOUR) if not medium
                     else rng.randint(30 * MINUTE, DAY))
        pause_first = pause and r() < 0.5  # the resident asks for another time first
        if pause_first:
            self._pause(job, at, step, rng.randint(5 * MINUTE, HOUR))
            if target == "paused":
                return
            at(rng.randint(-10 * MINUTE, 20 * MINUTE) + (job["agreed_t"] - job["t"]))
        else:
            at(arrive_in)
        step("arrive", WORKER, status="arrived", arrived_at=job["t"])
        if target == "arrived":
            return
        if pause and not pause_first:
            self._pause(job, at, step, rng.randint(10 * MINUTE, HOUR))
            if target == "paused":
                return
            at(rng.randint(-10 * MINUTE, 20 * MINUTE) + (job["agreed_t"] - job["t"]))
            step("arrive", WORKER, status="arrived", arrived_at=job["t"])
        at(rng.randint(20 * MINUTE, 4 * HOUR) if not medium else rng.randint(2 * HOUR, 3 * DAY))
        work, materials = rng.choice(WORK[job["dept"]]), rng.choice(MATERIALS)
        photos = rng.randint(1, 3) if r() < 0.7 else 0
        note = ("work", work + (f"\n{materials}" if materials else ""))
        step("complete", WORKER, f'{{"photos":{photos}}}', note, photos,
             status="completed", completed_at=job["t"], work_done=work, materials=materials)
        if target == "completed":
            return
        at(rng.randint(0, 10 * MINUTE) if r() < 0.8 else rng.randint(HOUR, 2 * DAY))
        outcome = "signed" if r() < 0.82 else "absent" if r() < 0.72 else "refused"
        job["signature"] = outcome
        step("signoff", WORKER, f'{{"outcome":"{outcome}","record_hash":"%s"}}',
             status="closed", closed_at=job["t"])

    def _pause(self, job: dict, at: Callable[[float], int], step: Callable[..., None],
               after: int) -> None:
        rng = self.rng
        at(after)
        reason = rng.choice(PAUSE_REASONS)
        agreed = job["t"] + rng.randint(2 * HOUR, 3 * DAY)
        job["agreed_t"] = agreed
        step("pause", WORKER, f'{{"reason":"{reason}","agreed_at":"{iso(agreed)}"}}',
             ("pause", reason), status="paused", agreed_at=agreed, pause_reason=reason)
