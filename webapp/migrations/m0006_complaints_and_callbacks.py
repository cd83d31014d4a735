"""Complaints, callback tasks and records, the calendar, routine plans."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0006_complaints_and_callbacks")
def complaints_and_callbacks(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE complaints (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            unit_id INTEGER REFERENCES units(id),
            channel TEXT NOT NULL,
            complainant_name TEXT NOT NULL,
            contact TEXT NOT NULL,
            identity TEXT NOT NULL,
            category TEXT NOT NULL,
            level TEXT NOT NULL,
            content TEXT NOT NULL,
            status TEXT NOT NULL,
            path TEXT,
            path_reason TEXT,
            pointed_channel TEXT,
            department TEXT,
            assignee_id INTEGER REFERENCES users(id),
            received_by INTEGER REFERENCES users(id),
            received_at TEXT NOT NULL,
            verified_at TEXT,
            verification TEXT,
            routed_at TEXT,
            answered_at TEXT,
            outcome TEXT,
            solution TEXT,
            prevention TEXT,
            closed_at TEXT,
            satisfied INTEGER,
            repeat_of INTEGER REFERENCES complaints(id),
            repeats INTEGER NOT NULL DEFAULT 0,
            source_callback_id INTEGER,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX complaints_board ON complaints(estate_id, status, id);
        CREATE INDEX complaints_unit ON complaints(unit_id, category, status);
        CREATE TABLE complaint_notes (
            id INTEGER PRIMARY KEY,
            complaint_id INTEGER NOT NULL REFERENCES complaints(id),
            user_id INTEGER REFERENCES users(id),
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            at TEXT NOT NULL,
            op_id TEXT NOT NULL
        );
        CREATE INDEX complaint_notes_c ON complaint_notes(complaint_id);
        CREATE TABLE complaint_files (
            id INTEGER PRIMARY KEY,
            complaint_id INTEGER NOT NULL REFERENCES complaints(id),
            sha256 TEXT NOT NULL REFERENCES files(sha256),
            stage TEXT NOT NULL,
            op_id TEXT NOT NULL,
            UNIQUE (complaint_id, sha256, stage)
        );
        CREATE TABLE callback_tasks (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            kind TEXT NOT NULL,
            source TEXT,
            source_id INTEGER,
            unit_id INTEGER REFERENCES units(id),
            contact_name TEXT NOT NULL DEFAULT '',
            contact_phone TEXT NOT NULL DEFAULT '',
            sampler TEXT,
            assignee_id INTEGER REFERENCES users(id),
            pool TEXT,
            method_hint TEXT NOT NULL DEFAULT 'phone',
            key_customer INTEGER NOT NULL DEFAULT 0,
            plan_id INTEGER,
            created_at TEXT NOT NULL,
            due_at TEXT NOT NULL,
            latest_at TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try_at TEXT,
            done_at TEXT,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX callback_tasks_source ON callback_tasks(source, source_id);
        CREATE INDEX callback_tasks_assignee ON callback_tasks(assignee_id, status, due_at);
        CREATE INDEX callback_tasks_estate ON callback_tasks(estate_id, status, due_at);
        CREATE INDEX callback_tasks_unit ON callback_tasks(unit_id, created_at);
        CREATE TABLE callback_records (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL REFERENCES callback_tasks(id),
            user_id INTEGER REFERENCES users(id),
            method TEXT NOT NULL,
            reached INTEGER NOT NULL,
            ratings TEXT NOT NULL DEFAULT '{}',
            satisfied INTEGER,
            comments TEXT NOT NULL DEFAULT '',
            signer_name TEXT NOT NULL DEFAULT '',
            signature_sha256 TEXT REFERENCES files(sha256),
            strokes TEXT,
            at TEXT NOT NULL,
            record_hash TEXT NOT NULL DEFAULT '',
            follow_up TEXT,
            follow_up_id INTEGER,
            op_id TEXT NOT NULL UNIQUE
        );
        CREATE INDEX callback_records_task ON callback_records(task_id);
        CREATE TABLE estate_calendar (
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            day TEXT NOT NULL,
            workday INTEGER NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (estate_id, day)
        );
        CREATE TABLE unit_flags (
            unit_id INTEGER NOT NULL REFERENCES units(id),
            flag TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (unit_id, flag)
        );
        CREATE TABLE routine_plans (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            month TEXT NOT NULL,
            seed INTEGER NOT NULL,
            households INTEGER NOT NULL,
            quotas TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by INTEGER REFERENCES users(id),
            UNIQUE (estate_id, month)
        );
        """
    )
