"""Estates, people, jobs, commands and the audit log."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0001_wal", transactional=False)
def wal(db: Database) -> None:
    # WAL lets readers and one writer work at once; it must be set outside a
    # transaction, and sticks to the file.
    if db.conn.execute("PRAGMA database_list").fetchone()[2]:
        db.enable_wal()


@migrations(name="0002_people_and_places")
def people_and_places(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE estates (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            address TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE buildings (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            name TEXT NOT NULL,
            UNIQUE (estate_id, name)
        );
        CREATE TABLE units (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            building_id INTEGER NOT NULL REFERENCES buildings(id),
            number TEXT NOT NULL,
            floor INTEGER,
            UNIQUE (building_id, number)
        );
        CREATE INDEX units_estate ON units(estate_id, number);
        CREATE TABLE common_areas (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            name TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'area',
            UNIQUE (estate_id, name)
        );
        CREATE TABLE residents (
            id INTEGER PRIMARY KEY,
            unit_id INTEGER NOT NULL REFERENCES units(id),
            name TEXT NOT NULL,
            phone TEXT NOT NULL DEFAULT '',
            is_owner INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX residents_unit ON residents(unit_id);
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            display_name TEXT NOT NULL,
            department TEXT NOT NULL,
            role TEXT NOT NULL,
            phone TEXT NOT NULL DEFAULT '',
            locale TEXT NOT NULL DEFAULT 'zh_CN',
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE user_estates (
            user_id INTEGER NOT NULL REFERENCES users(id),
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            PRIMARY KEY (user_id, estate_id)
        );
        CREATE TABLE estate_settings (
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (estate_id, key)
        );
        CREATE TABLE login_failures (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL,
            remote_addr TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX login_failures_user ON login_failures(username, at);
        """
    )


@migrations(name="0003_jobs_commands_audit")
def jobs_commands_audit(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            unit_id INTEGER REFERENCES units(id),
            reporter_name TEXT NOT NULL,
            reporter_phone TEXT NOT NULL,
            source TEXT NOT NULL,
            category TEXT NOT NULL,
            department TEXT NOT NULL,
            job_class TEXT NOT NULL,
            description TEXT NOT NULL,
            status TEXT NOT NULL,
            assignee_id INTEGER REFERENCES users(id),
            received_by INTEGER REFERENCES users(id),
            received_at TEXT NOT NULL,
            dispatched_at TEXT,
            accepted_at TEXT,
            arrived_at TEXT,
            agreed_at TEXT,
            reopened_at TEXT,
            pause_reason TEXT,
            completed_at TEXT,
            work_done TEXT,
            materials TEXT,
            closed_at TEXT,
            cancel_reason TEXT,
            rework_count INTEGER NOT NULL DEFAULT 0,
            flagged INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX jobs_assignee ON jobs(assignee_id, status);
        CREATE INDEX jobs_board ON jobs(estate_id, status, received_at);
        CREATE INDEX jobs_pool ON jobs(estate_id, department, status);
        CREATE INDEX jobs_unit ON jobs(unit_id);
        CREATE TABLE files (
            sha256 TEXT PRIMARY KEY,
            mime TEXT NOT NULL,
            size INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE job_photos (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs(id),
            sha256 TEXT NOT NULL REFERENCES files(sha256),
            stage TEXT NOT NULL,
            op_id TEXT NOT NULL,
            UNIQUE (job_id, sha256, stage)
        );
        CREATE TABLE signatures (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs(id),
            signer_name TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            strokes TEXT,
            image_sha256 TEXT REFERENCES files(sha256),
            signed_at TEXT NOT NULL,
            record_hash TEXT NOT NULL,
            op_id TEXT NOT NULL UNIQUE
        );
        CREATE INDEX signatures_job ON signatures(job_id);
        CREATE TABLE job_notes (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs(id),
            user_id INTEGER REFERENCES users(id),
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            at TEXT NOT NULL,
            op_id TEXT NOT NULL
        );
        CREATE INDEX job_notes_job ON job_notes(job_id);
        CREATE TABLE commands (
            op_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            device_id TEXT NOT NULL DEFAULT '',
            device_time TEXT,
            received_at TEXT NOT NULL,
            base_version INTEGER,
            replayed INTEGER NOT NULL DEFAULT 0,
            payload TEXT NOT NULL,
            outcome TEXT NOT NULL,
            result TEXT NOT NULL
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            device_id TEXT NOT NULL DEFAULT '',
            replayed INTEGER NOT NULL DEFAULT 0,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id INTEGER,
            op_id TEXT,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_entity ON audit_log(entity, entity_id);
        """
    )
