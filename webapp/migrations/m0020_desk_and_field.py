"""The desk's and the field's day: a complaint's linked work; the callback a signature
made, linked to it."""

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
