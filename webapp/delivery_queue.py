"""The deliveries' queue, one piece for every channel (Web Push, 企业微信 robots): which
queued deliveries are due, holding them for one pass (a lease), and trying again later
with back-off. No Flask: push.py and wecom.py call it with the clock.

A pass claims what is due in one write transaction and moves its `next_at` on by the
lease before anything is sent: another pass (a second worker thread, the next tick)
leaves it alone, and a worker that dies mid-send leaves it to come due again when the
lease ends, sent once more rather than lost. What the pass learns is then recorded:
done (the channel's own status), or queued again at `next_at` after a back-off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from .domain.transactions import write_tx


def iso(moment: datetime) -> str:
    """A queue time as stored: naive UTC to the second."""
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Retry:
    """A channel's back-off: the first wait, doubled after each failed try, capped."""

    first: timedelta
    longest: timedelta

    def after(self, attempts: int, at_least: timedelta | None = None) -> timedelta:
        """The wait after the `attempts`-th failed try; `at_least` (a service's
        Retry-After) wins when longer, within the cap."""
        delay = min(self.first * 2 ** max(attempts - 1, 0), self.longest)
        if at_least is not None:
            delay = max(delay, min(at_least, self.longest))
        return delay


def claim(db: Database, channel: str, now: datetime, *, lease: timedelta, limit: int,
          count_try: bool = False) -> list[dict[str, Any]]:
    """The channel's queued deliveries due at `now`, oldest due first, held until
    now + lease: id, announcement_id, notification_id, address_id and attempts (with this
    try counted when `count_try`: a channel that counts every try, not only failures)."""
    with write_tx(db):
        cursor = db.execute(
            "SELECT id, announcement_id, notification_id, address_id, attempts FROM deliveries"
            " WHERE status = 'queued' AND next_at <= ? AND channel = ?"
            " ORDER BY next_at, id LIMIT ?", [iso(now), channel, limit])
        keys = [d[0] for d in cursor.description]
        rows = [dict(zip(keys, row, strict=True)) for row in cursor]
        db.conn.executemany(
            "UPDATE deliveries SET next_at = ?, attempts = attempts + ? WHERE id = ?",
            [(iso(now + lease), int(count_try), r["id"]) for r in rows])
    for r in rows:
        r["attempts"] += int(count_try)
    return rows


def later(db: Database, ids: Iterable[int], until: datetime, error: str | None = None) -> None:
    """Queue these deliveries again at `until` (a back-off, a full minute, quiet hours),
    with the reason when there is one."""
    with write_tx(db):
        db.conn.executemany(
            "UPDATE deliveries SET next_at = ?, error = coalesce(?, error) WHERE id = ?",
            [(iso(until), error, i) for i in ids])
