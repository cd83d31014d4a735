"""The board's search index; the users' session versions; the public report's used stamps
and floods; who uploaded each file; signed records and visits."""

from sqlite_utils import Database

from ..domain import records
from . import migrations


@migrations(name="0010_job_search")
def job_search(db: Database) -> None:
    # The desk searches jobs by a fragment of the job number, the reporter's phone or
    # the unit's number. LIKE '%…%' reads every job of the estate; an FTS5 trigram
    # index finds the jobs holding any 3 characters directly. One row per job
    # (rowid = jobs.id) with its own copy of the three texts, kept current by the
    # triggers below: jobs inserted, deleted, or changed in number, phone or unit, and
    # units renumbered. jobs.board() still checks its matches with LIKE.
    # A later step that rebuilds jobs or units (sqlite-utils' transform) drops these
    # triggers and must create them again (tests/test_board_search.py checks).
    # Needs SQLite >= 3.35 (trigram tokenizer 3.34, MATERIALIZED in jobs.board()).
    db.executescript(
        """
        CREATE VIRTUAL TABLE job_search USING fts5(number, phone, unit, tokenize='trigram');
        INSERT INTO job_search (rowid, number, phone, unit)
            SELECT j.id, j.number, j.reporter_phone, u.number
            FROM jobs j LEFT JOIN units u ON u.id = j.unit_id;
        CREATE TRIGGER job_search_insert AFTER INSERT ON jobs BEGIN
            INSERT OR REPLACE INTO job_search (rowid, number, phone, unit)
            VALUES (new.id, new.number, new.reporter_phone,
                    (SELECT number FROM units WHERE id = new.unit_id));
        END;
        CREATE TRIGGER job_search_update
            AFTER UPDATE OF id, number, reporter_phone, unit_id ON jobs BEGIN
            DELETE FROM job_search WHERE rowid = old.id;
            INSERT OR REPLACE INTO job_search (rowid, number, phone, unit)
            VALUES (new.id, new.number, new.reporter_phone,
                    (SELECT number FROM units WHERE id = new.unit_id));
        END;
        CREATE TRIGGER job_search_delete AFTER DELETE ON jobs BEGIN
            DELETE FROM job_search WHERE rowid = old.id;
        END;
        CREATE TRIGGER job_search_unit AFTER UPDATE OF number ON units BEGIN
            UPDATE job_search SET unit = new.number
            WHERE rowid IN (SELECT id FROM jobs WHERE unit_id = new.id);
        END;
        """
    )


@migrations(name="0011_session_version")
def session_version(db: Database) -> None:
    # Part of every session's and remember cookie's user id (auth.User.get_id): raising
    # it on sign-out, a password change, deactivation or a change of role or estates
    # makes every cookie issued before stop matching. Failed sign-ins are also counted
    # per address across usernames (auth.throttled), which needs its own index.
    db["users"].add_column("session_version", int, not_null_default=0)
    db.execute("CREATE INDEX login_failures_addr ON login_failures(remote_addr, at)")


@migrations(name="0012_public_report_stamps_and_floods")
def public_report_stamps_and_floods(db: Database) -> None:
    # The public report form's signed stamp is good for one report: its nonce is kept
    # here once used (with the report's op_id, so a retry of the same report is still
    # answered as a duplicate), and dropped once the stamp would have expired anyway.
    # A flood is a run of reports a code's limit refused; one row (and one audit entry)
    # per run, shown to the desk (docs/SECURITY.md).
    db.executescript(
        """
        CREATE TABLE public_report_stamps (
            nonce TEXT PRIMARY KEY,
            op_id TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            used_at TEXT NOT NULL
        );
        CREATE INDEX public_report_stamps_issued ON public_report_stamps(issued_at);
        CREATE TABLE public_report_floods (
            id INTEGER PRIMARY KEY,
            token TEXT NOT NULL,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            place_type TEXT NOT NULL,
            place_id INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            last_at TEXT NOT NULL,
            refused INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX public_report_floods_token ON public_report_floods(token, last_at);
        CREATE INDEX public_report_floods_estate ON public_report_floods(estate_id, last_at);
        CREATE INDEX public_reports_token_addr ON public_reports(token, remote_addr, at);
        """
    )


@migrations(name="0013_file_uploads")
def file_uploads(db: Database) -> None:
    # Who sent each file: the first uploader on the file, and every user who sent the
    # same bytes in file_uploads (what they may attach, and their day's quota).
    # files.created_at becomes the last time it was stored: prune keeps a day from that.
    db["files"].add_column("uploaded_by", int)
    db.executescript(
        """
        CREATE TABLE file_uploads (
            sha256 TEXT NOT NULL REFERENCES files(sha256),
            user_id INTEGER NOT NULL REFERENCES users(id),
            size INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (sha256, user_id)
        );
        CREATE INDEX file_uploads_user ON file_uploads(user_id, at);
        CREATE INDEX files_created ON files(created_at);
        """
    )


@migrations(name="0014_signed_records")
def signed_records(db: Database) -> None:
    # A signed record keeps the content it covers (canonical JSON) beside its sealed
    # hash, so a check can name what changed since (domain/records.py). A reopen keeps
    # the visit it ends in `job_visits`: its times, work and the sign-off it had.
    db["signatures"].add_column("snapshot", str)
    db["callback_records"].add_column("snapshot", str)
    db.executescript(
        """
        CREATE TABLE job_visits (
            id INTEGER PRIMARY KEY,
            job_id INTEGER NOT NULL REFERENCES jobs(id),
            visit INTEGER NOT NULL,
            assignee_id INTEGER REFERENCES users(id),
            accepted_at TEXT,
            arrived_at TEXT,
            agreed_at TEXT,
            pause_reason TEXT,
            completed_at TEXT,
            work_done TEXT,
            materials TEXT,
            closed_at TEXT,
            signature_id INTEGER REFERENCES signatures(id),
            reopened_at TEXT NOT NULL,
            op_id TEXT NOT NULL,
            UNIQUE (job_id, visit)
        );
        """
    )
    # The records signed before this step keep their old plain hash. Which ones those
    # are is sealed here, so that a later row cannot pass as "old format" (a forger would
    # write the old, keyless hash): needs the records key when there are any.
    db.execute("CREATE TABLE records_legacy (kind TEXT PRIMARY KEY, last_id INTEGER NOT NULL,"
               " seal TEXT NOT NULL)")
    for kind, table in (("job", "signatures"), ("callback", "callback_records")):
        last = db.execute(f"SELECT coalesce(max(id), 0) FROM {table} WHERE record_hash != ''"
                          ).fetchone()[0]
        db.execute("INSERT INTO records_legacy VALUES (?, ?, ?)",
                   [kind, last, records.seal(db, records.legacy_text(kind, last)) if last else ""])
