"""The board's order: each job's next due time, stored so the board sorts by it.

The backfill is frozen (domain/board.next_due_of as it stood then, with migration 0030's
frozen deadlines): a later change to the domain must not change what this step does."""

from sqlite_utils import Database

from . import migrations
from .m0030_figures_job_facts import deadlines_of, estate_rules

# Frozen: the open statuses when this step was written (domain/jobs.OPEN_STATUSES).
OPEN = ("new", "pooled", "assigned", "accepted", "arrived", "paused")


@migrations(name="0034_board_due_order")
def board_due_order(db: Database) -> None:
    # The board sorts by what is due first; a computed time cannot be sorted by an index,
    # so the next due time (and which deadline it is: the rows' badge says so) is kept
    # beside the job (domain/board.py writes it with every change to the job's clock) and
    # indexed for the open board: only open jobs have one.
    db.executescript(
        """
        ALTER TABLE jobs ADD COLUMN next_due_at TEXT;
        ALTER TABLE jobs ADD COLUMN next_due_name TEXT;
        CREATE INDEX jobs_next_due ON jobs(estate_id, next_due_at, id)
            WHERE next_due_at IS NOT NULL;
        """
    )
    _backfill(db)


def _backfill(db: Database) -> None:
    """Each open job's first deadline still open (the earliest; of equal ones the first)."""
    rules = estate_rules(db)
    marks = ",".join("?" * len(OPEN))
    cursor = db.execute(
        "SELECT id, estate_id, job_class, received_at, dispatched_at, arrived_at, agreed_at,"
        f" reopened_at, completed_at FROM jobs WHERE status IN ({marks})", OPEN)
    keys = [d[0] for d in cursor.description]
    updates = []
    for row in cursor.fetchall():
        job = dict(zip(keys, row, strict=True))
        found = None
        for d in deadlines_of(job, rules[job["estate_id"]]):
            if d[2] is None and (found is None or d[1] < found[1]):
                found = d
        if found is not None:
            updates.append((found[1].isoformat(timespec="seconds"), found[0], job["id"]))
    db.conn.executemany("UPDATE jobs SET next_due_at = ?, next_due_name = ? WHERE id = ?",
                        updates)
