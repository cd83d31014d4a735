"""The repairs figures' per-job facts (domain/job_facts.py), settled by the job's steps
and backfilled here from each job's history, so the figures are SQL aggregates."""

from datetime import UTC, datetime

from sqlite_utils import Database

from . import migrations


def _run(db: Database, script: str) -> None:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0030_figures_job_facts")
def figures_job_facts(db: Database) -> None:
    from webapp.domain import job_facts  # the one function the job's steps use too

    # Statement by statement: executescript would commit the migration's transaction
    # before the backfill.
    _run(db, """
        ALTER TABLE jobs ADD COLUMN first_arrived_at TEXT;
        ALTER TABLE jobs ADD COLUMN first_completed_at TEXT;
        ALTER TABLE jobs ADD COLUMN first_completed_by INTEGER REFERENCES users(id);
        ALTER TABLE jobs ADD COLUMN arrive_minutes REAL;
        ALTER TABLE jobs ADD COLUMN complete_minutes REAL;
        ALTER TABLE jobs ADD COLUMN arrive_on_time INTEGER;
        ALTER TABLE jobs ADD COLUMN on_time INTEGER;
        ALTER TABLE jobs ADD COLUMN on_time_raw INTEGER;
        ALTER TABLE jobs ADD COLUMN first_trip_fix INTEGER;
        ALTER TABLE jobs ADD COLUMN notified_in_time INTEGER;
        ALTER TABLE jobs ADD COLUMN reopened_after_minutes REAL;
        ALTER TABLE jobs ADD COLUMN callback_answer INTEGER;
        """)
    job_facts.backfill(db, datetime.now(UTC).replace(tzinfo=None))
    # After the backfill: its updates then touch no index of these columns.
    _run(db, """
        -- The figures read jobs received in a period or first completed in one, by
        -- estate, from these indexes alone (a large estate's year is 20,000 jobs:
        -- reading each row from the table would cost a page each).
        CREATE INDEX jobs_received_facts ON jobs(estate_id, received_at, status,
            job_class, notified_in_time, arrive_on_time, agreed_at, category, source,
            unit_id, rework_count);
        CREATE INDEX jobs_done_facts ON jobs(estate_id, first_completed_at, status,
            job_class, on_time, on_time_raw, first_trip_fix, reopened_after_minutes,
            arrive_minutes, complete_minutes, first_completed_by, callback_answer, category,
            source, unit_id) WHERE first_completed_at IS NOT NULL;
        """)
