"""The owners' committee: its members, contacts with them, its written submissions and
their replies; residents' meetings and community activities with their minutes."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0037_committee")
def committee(db: Database) -> None:
    # Days the estate keeps (contact, receipt, meeting, publication) are local dates as
    # ISO text; stamps (created_at, replied_at) are UTC. Due dates are computed from the
    # estate's settings and calendar when shown, never stored, so a changed setting or
    # holiday applies at once.
    db.executescript(
        """
        CREATE TABLE committee_members (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('chair', 'member')),
            contact TEXT NOT NULL DEFAULT '',
            since TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX committee_members_estate ON committee_members(estate_id);
        CREATE TABLE committee_contacts (
            id INTEGER PRIMARY KEY,
            member_id INTEGER NOT NULL REFERENCES committee_members(id),
            contacted_on TEXT NOT NULL,
            method TEXT NOT NULL,
            topics TEXT NOT NULL,
            recorded_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX committee_contacts_member ON committee_contacts(member_id, contacted_on);
        CREATE TABLE committee_submissions (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            received_on TEXT NOT NULL,
            reply TEXT,
            replied_on TEXT,
            replied_by INTEGER REFERENCES users(id),
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX committee_submissions_estate ON committee_submissions(estate_id, received_on);
        CREATE TABLE committee_meetings (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            kind TEXT NOT NULL CHECK (kind IN ('meeting', 'activity')),
            title TEXT NOT NULL,
            held_on TEXT NOT NULL,
            minutes TEXT,
            published_on TEXT,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX committee_meetings_estate ON committee_meetings(estate_id, held_on);
        """
    )
