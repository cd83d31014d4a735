"""Phones that replay commands, and their clock offset at last contact."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database


def seen(db: Database, device_id: str, user_id: int, offset: float, now: datetime,
         user_agent: str) -> None:
    if not device_id:
        return
    db.execute(
        """INSERT INTO devices (id, user_id, clock_offset_seconds, last_seen, user_agent)
           VALUES (?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id,
           clock_offset_seconds = excluded.clock_offset_seconds,
           last_seen = excluded.last_seen, user_agent = excluded.user_agent""",
        [device_id, user_id, offset, now.isoformat(timespec="seconds"), user_agent[:200]],
    )
