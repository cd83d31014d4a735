"""Shift handovers: the outgoing person's record of a shift, what the app knew of it,
and the incoming person's signed acknowledgement."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0036_handovers")
def handovers(db: Database) -> None:
    # Times are UTC. `summary` is the JSON of the counts the app found for the window
    # (window_start .. recorded_at), stored as shown, so a later change to the jobs does
    # not rewrite what was handed over. `checklist` is JSON: [[key, label, ok], ...].
    # `search` joins the typed text once, for the log's text search.
    db.executescript(
        """
        CREATE TABLE handovers (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            post TEXT NOT NULL CHECK (post IN ('desk', 'security', 'plant_room')),
            window_start TEXT NOT NULL,
            happened TEXT NOT NULL DEFAULT '',
            cause TEXT NOT NULL DEFAULT '',
            actions TEXT NOT NULL DEFAULT '',
            result TEXT NOT NULL DEFAULT '',
            open_items TEXT NOT NULL DEFAULT '',
            instructions TEXT NOT NULL DEFAULT '',
            checklist TEXT NOT NULL DEFAULT '[]',
            summary TEXT NOT NULL DEFAULT '{}',
            search TEXT NOT NULL DEFAULT '',
            recorded_by INTEGER NOT NULL REFERENCES users(id),
            recorded_at TEXT NOT NULL,
            acknowledged_by INTEGER REFERENCES users(id),
            acknowledged_at TEXT,
            signature_sha256 TEXT,
            signature_strokes TEXT,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX handovers_estate_post ON handovers(estate_id, post, recorded_at);
        CREATE INDEX handovers_unacknowledged ON handovers(estate_id, recorded_at)
            WHERE acknowledged_at IS NULL;
        -- An estate's own shared-items checklist, in order; none: the default in code.
        CREATE TABLE handover_items (
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            position INTEGER NOT NULL,
            label TEXT NOT NULL,
            PRIMARY KEY (estate_id, position)
        );
        """
    )
