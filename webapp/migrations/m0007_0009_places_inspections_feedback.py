"""QR tokens, equipment, inspections, feedback, public reports."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0007_places_qr_inspections_feedback")
def places_qr_inspections_feedback(db: Database) -> None:
    # Units, common areas and equipment are "places": each carries a QR token that a
    # phone's camera opens. Revoking a token keeps it, pointing at its replacement.
    db.executescript(
        """
        CREATE TABLE equipment (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            area_id INTEGER REFERENCES common_areas(id),
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            UNIQUE (estate_id, name)
        );
        CREATE TABLE qr_tokens (
            token TEXT PRIMARY KEY,
            place_type TEXT NOT NULL,
            place_id INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT,
            replaced_by TEXT
        );
        CREATE INDEX qr_tokens_place ON qr_tokens(place_type, place_id, revoked_at);
        CREATE TABLE inspection_templates (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            place_kind TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE inspection_items (
            id INTEGER PRIMARY KEY,
            template_id INTEGER NOT NULL REFERENCES inspection_templates(id),
            position INTEGER NOT NULL,
            text TEXT NOT NULL,
            department TEXT NOT NULL DEFAULT 'maintenance',
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX inspection_items_t ON inspection_items(template_id, position);
        CREATE TABLE inspection_rounds (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            supervisor_id INTEGER NOT NULL REFERENCES users(id),
            day TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (supervisor_id, day, estate_id)
        );
        CREATE TABLE round_places (
            id INTEGER PRIMARY KEY,
            round_id INTEGER NOT NULL REFERENCES inspection_rounds(id),
            place_type TEXT NOT NULL,
            place_id INTEGER NOT NULL,
            template_id INTEGER NOT NULL REFERENCES inspection_templates(id),
            position INTEGER NOT NULL
        );
        CREATE TABLE inspections (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            round_id INTEGER REFERENCES inspection_rounds(id),
            place_type TEXT NOT NULL,
            place_id INTEGER NOT NULL,
            template_id INTEGER NOT NULL REFERENCES inspection_templates(id),
            supervisor_id INTEGER NOT NULL REFERENCES users(id),
            visited_at TEXT NOT NULL,
            finished_at TEXT,
            op_id TEXT NOT NULL UNIQUE
        );
        CREATE INDEX inspections_place ON inspections(place_type, place_id, visited_at);
        CREATE TABLE inspection_results (
            id INTEGER PRIMARY KEY,
            inspection_id INTEGER NOT NULL REFERENCES inspections(id),
            item_id INTEGER NOT NULL REFERENCES inspection_items(id),
            result TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            job_id INTEGER REFERENCES jobs(id),
            at TEXT NOT NULL,
            op_id TEXT NOT NULL
        );
        CREATE INDEX inspection_results_i ON inspection_results(inspection_id, item_id);
        CREATE TABLE inspection_photos (
            result_id INTEGER NOT NULL REFERENCES inspection_results(id),
            sha256 TEXT NOT NULL REFERENCES files(sha256),
            PRIMARY KEY (result_id, sha256)
        );
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            place_type TEXT,
            place_id INTEGER,
            category TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            user_id INTEGER REFERENCES users(id),
            at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new',
            answer TEXT,
            answered_by INTEGER REFERENCES users(id),
            answered_at TEXT,
            job_id INTEGER REFERENCES jobs(id),
            op_id TEXT NOT NULL UNIQUE
        );
        CREATE INDEX feedback_queue ON feedback(estate_id, status, id);
        CREATE TABLE feedback_photos (
            feedback_id INTEGER NOT NULL REFERENCES feedback(id),
            sha256 TEXT NOT NULL REFERENCES files(sha256),
            PRIMARY KEY (feedback_id, sha256)
        );
        CREATE TABLE public_reports (
            id INTEGER PRIMARY KEY,
            token TEXT NOT NULL,
            remote_addr TEXT NOT NULL,
            at TEXT NOT NULL,
            job_id INTEGER REFERENCES jobs(id)
        );
        CREATE INDEX public_reports_addr ON public_reports(remote_addr, at);
        """
    )


@migrations(name="0008_places_live_token_and_report_index")
def places_live_token_and_report_index(db: Database) -> None:
    # One live QR token per place, even when two requests issue at once; public
    # reports are counted per token for the hourly limit.
    db.executescript(
        """
        CREATE UNIQUE INDEX qr_tokens_live ON qr_tokens(place_type, place_id)
            WHERE revoked_at IS NULL;
        CREATE INDEX public_reports_token ON public_reports(token, at);
        """
    )


@migrations(name="0009_inspections_result_snapshot")
def inspections_result_snapshot(db: Database) -> None:
    # A result keeps its item's wording and department as recorded, so editing a
    # checklist later does not rewrite what a past inspection found. A place is in a
    # round once; the month's summary reads inspections by estate and time.
    db.executescript(
        """
        ALTER TABLE inspection_results ADD COLUMN item_text TEXT NOT NULL DEFAULT '';
        ALTER TABLE inspection_results ADD COLUMN department TEXT NOT NULL DEFAULT '';
        CREATE UNIQUE INDEX round_places_place ON round_places(round_id, place_type, place_id);
        CREATE INDEX inspections_month ON inspections(estate_id, visited_at);
        """
    )
