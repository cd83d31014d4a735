"""The managers' figures pages: indexes for counting a period's records per estate."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0030_figures_pages_indexes")
def figures_pages_indexes(db: Database) -> None:
    # A period's jobs or complaints of some estates, counted or grouped by unit, building
    # or category (the figures' counts, their trends month by month, the hot spots)
    # read these ranges and never the table; a unit's jobs by time find the repair before.
    # A period's jobs by estate are read from jobs_received_facts (step
    # 0030_figures_job_facts), which covers the hot spots' columns too: one index less
    # for every job step to keep up.
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS jobs_figures_unit ON jobs(unit_id, received_at, status);
        CREATE INDEX IF NOT EXISTS complaints_figures_received ON complaints(estate_id,
            received_at, unit_id);
        """
    )
