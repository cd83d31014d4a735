"""The desk's and the field's day: a complaint's linked work."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0020_complaint_job")
def complaint_job(db: Database) -> None:
    # A complaint sent to a department becomes that department's job; the complaint
    # follows its progress through this link.
    db.execute("ALTER TABLE complaints ADD COLUMN job_id INTEGER REFERENCES jobs(id)")
