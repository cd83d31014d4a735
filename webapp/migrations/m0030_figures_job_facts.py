"""The repairs figures' per-job facts (domain/job_facts.py), settled by the job's steps
and backfilled here from each job's history, so the figures are SQL aggregates."""

from datetime import UTC, datetime

from sqlite_utils import Database

from . import migrations


@migrations(name="0030_figures_job_facts")
def figures_job_facts(db: Database) -> None:
    from webapp.domain import job_facts  # the one function the job's steps use too

    db.executescript(
        """
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
        -- Jobs received in a period (the board's index leads with the status), and jobs
        -- done in one, by estate.
        CREATE INDEX jobs_received ON jobs(estate_id, received_at);
        CREATE INDEX jobs_first_completed ON jobs(estate_id, first_completed_at)
            WHERE first_completed_at IS NOT NULL;
        """
    )
    job_facts.backfill(db, datetime.now(UTC).replace(tzinfo=None))
