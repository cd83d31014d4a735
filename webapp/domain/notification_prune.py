"""Old messages removed: finished deliveries and read notifications past their retention.

Every message is recorded (issue 12), so the tables grow with every command; what a
person has read, and a delivery that has gone (accepted, failed, expired) long ago,
serve nobody. The worker's daily `prune` task (webapp/worker.py) deletes them in
batches, each batch its own short write transaction, so commands wait at most one batch.
Announcements stay: they are one row per event, and the scan's `dedupe` keys and the
job page's record of when the desk told someone read them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from .transactions import write_tx

RETENTION_DAYS = 90  # the default of config NOTIFY_RETENTION_DAYS
# Read notifications stay longer than deliveries: a job's page shows whom it told and
# when they opened it, and a worker told of a job may open it (access.READS_JOB), for as
# long as anyone looks back at a job: its year, and the yearly report's.
NOTIFICATION_DAYS = 400
BATCH = 1000


def _batches(db: Database, select: str, cutoff: str, batch: int, delete: list[str]) -> int:
    """Delete by batches of ids `select` lists (oldest first); how many."""
    done = 0
    while True:
        with write_tx(db):
            ids = [r[0] for r in db.execute(select + " ORDER BY id LIMIT ?", [cutoff, batch])]
            marks = ",".join("?" * len(ids))
            for statement in delete if ids else ():
                db.execute(statement.format(marks=marks), ids)
        done += len(ids)
        if len(ids) < batch:
            return done


def prune(db: Database, now: datetime, days: int = RETENTION_DAYS,
          batch: int = BATCH, notification_days: int = NOTIFICATION_DAYS) -> dict[str, int]:
    """Delete finished deliveries older than `days` and read notifications older than
    `notification_days` (never sooner than the deliveries); how many of each."""
    cutoff = (now - timedelta(days=days)).isoformat(timespec="seconds")
    kept_from = (now - timedelta(days=max(days, notification_days))).isoformat(
        timespec="seconds")
    deliveries = _batches(
        db, "SELECT id FROM deliveries WHERE status != 'queued'"
            " AND coalesce(sent_at, next_at) < ?", cutoff, batch,
        # A merged robot message names its carrier, sent at the same time: both go, and
        # the reference first, whichever batch the carrier falls in.
        ["UPDATE deliveries SET merged_into = NULL WHERE merged_into IN ({marks})",
         "DELETE FROM deliveries WHERE id IN ({marks})"])
    notifications = _batches(
        db, "SELECT id FROM notifications WHERE read_at IS NOT NULL AND created_at < ?",
        kept_from, batch,
        # A read notification's deliveries go with it (one still held for quiet hours
        # has nothing left to say).
        ["UPDATE deliveries SET merged_into = NULL WHERE merged_into IN (SELECT id FROM"
         " deliveries WHERE notification_id IN ({marks}))",
         "DELETE FROM deliveries WHERE notification_id IN ({marks})",
         "DELETE FROM notifications WHERE id IN ({marks})"])
    return {"deliveries": deliveries, "notifications": notifications}
