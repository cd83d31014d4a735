"""Devices and corrected times for replayed commands; the board's indexes."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0004_devices_and_acted_time")
def devices_and_acted_time(db: Database) -> None:
    # Phones that replay commands: their clock offset at last contact, so the
    # time a worker acted can be corrected to the server's clock.
    db.executescript(
        """
        CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            user_id INTEGER REFERENCES users(id),
            clock_offset_seconds REAL NOT NULL DEFAULT 0,
            last_seen TEXT NOT NULL,
            user_agent TEXT NOT NULL DEFAULT ''
        );
        ALTER TABLE commands ADD COLUMN acted_at TEXT;
        CREATE INDEX commands_target ON commands(target, outcome);
        """
    )


@migrations(name="0005_board_indexes")
def board_indexes(db: Database) -> None:
    # The desk's board lists an estate's newest jobs: all of them, those of one
    # status, or the flagged ones. These indexes hold them in id order, so the
    # board reads 50 entries instead of sorting all of an estate's jobs.
    db.executescript(
        """
        CREATE INDEX jobs_estate_recent ON jobs(estate_id, id);
        CREATE INDEX jobs_estate_status_recent ON jobs(estate_id, status, id);
        CREATE INDEX jobs_flagged ON jobs(estate_id, id) WHERE flagged = 1;
        """
    )
