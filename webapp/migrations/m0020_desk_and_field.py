"""The desk's and the field's day: a complaint's linked work; the callback a signature
made, linked to it; a resident's tracking code."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0020_complaint_job")
def complaint_job(db: Database) -> None:
    # A complaint sent to a department becomes that department's job; the complaint
    # follows its progress through this link.
    db.execute("ALTER TABLE complaints ADD COLUMN job_id INTEGER REFERENCES jobs(id)")


@migrations(name="0021_callback_signature")
def callback_signature(db: Database) -> None:
    # A callback record made from the resident's signature at sign-off points at it.
    db.execute("ALTER TABLE callback_records ADD COLUMN signature_id INTEGER "
               "REFERENCES signatures(id)")


@migrations(name="0022_job_tracking")
def job_tracking(db: Database) -> None:
    # A resident's report from a QR code carries a code of its own (its tracking page's
    # address, short enough to read out): the resident follows the job there, no sign-in.
    db.executescript(
        """
        ALTER TABLE jobs ADD COLUMN track_code TEXT;
        CREATE UNIQUE INDEX jobs_track_code ON jobs(track_code) WHERE track_code IS NOT NULL;
        """
    )
