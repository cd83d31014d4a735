"""Notices to residents: a water or power cut, works, lift maintenance, shown on the
public pages of the places they concern while current."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0035_notices")
def notices(db: Database) -> None:
    # Times are UTC. A notice with no rows in notice_places concerns its whole estate;
    # otherwise the buildings, common areas and equipment named there. `token` names the
    # notice's own public page (the printed notice's QR code), unguessable like a place's.
    db.executescript(
        """
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            title TEXT NOT NULL,
            body TEXT NOT NULL DEFAULT '',
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL,
            token TEXT NOT NULL UNIQUE,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            withdrawn_at TEXT,
            withdrawn_by INTEGER REFERENCES users(id),
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX notices_estate_ends ON notices(estate_id, ends_at);
        CREATE TABLE notice_places (
            notice_id INTEGER NOT NULL REFERENCES notices(id),
            place_type TEXT NOT NULL CHECK (place_type IN ('building', 'area', 'equipment')),
            place_id INTEGER NOT NULL,
            PRIMARY KEY (notice_id, place_type, place_id)
        );
        CREATE INDEX notice_places_place ON notice_places(place_type, place_id);
        """
    )
