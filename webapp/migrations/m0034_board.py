"""The board's order: each job's next due time, stored so the board sorts by it."""

from datetime import UTC, datetime

from sqlite_utils import Database

from . import migrations


@migrations(name="0034_board_due_order")
def board_due_order(db: Database) -> None:
    # The board sorts by what is due first; a computed time cannot be sorted by an index,
    # so the next due time (and which deadline it is: the rows' badge says so) is kept
    # beside the job (domain/board.py writes it with every change to the job's clock) and
    # indexed for the open board: only open jobs have one.
    from webapp.domain import board

    db.executescript(
        """
        ALTER TABLE jobs ADD COLUMN next_due_at TEXT;
        ALTER TABLE jobs ADD COLUMN next_due_name TEXT;
        CREATE INDEX jobs_next_due ON jobs(estate_id, next_due_at, id)
            WHERE next_due_at IS NOT NULL;
        """
    )
    board.backfill(db, datetime.now(UTC).replace(tzinfo=None))
