"""Schema migrations. The schema changes only here, one named step at a time."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("wuye")


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
