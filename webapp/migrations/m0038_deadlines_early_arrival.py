"""Arriving early for an agreed time counts as on time (domain/deadlines.py). Before,
an arrival earlier than the agreed time was taken for the trip before the pause: the
job's first completion was settled late and an open job showed its arrival as due.
Those jobs' facts are worked out again, with the estate's windows as set now (settings
keep no history; an early arrival is on time under any window), and their due times."""

from datetime import UTC, datetime

from sqlite_utils import Database

from . import migrations


@migrations(name="0038_deadlines_early_arrival")
def deadlines_early_arrival(db: Database) -> None:
    from webapp.domain import job_facts  # the rules the job's steps use

    now = datetime.now(UTC).replace(tzinfo=None)
    # The first visit's times: a reopened job's are in job_visits. An arrival before the
    # agreed time on a job past the arrive step (or a visit, which was completed) is the
    # appointment's; a paused job's keeps the same verdict, so it may be read again too.
    ids = [row[0] for row in db.execute(
        "SELECT id FROM jobs WHERE arrived_at < agreed_at"
        " UNION SELECT job_id FROM job_visits WHERE visit = 1 AND arrived_at < agreed_at")]
    job_facts.resettle(db, ids, now)
