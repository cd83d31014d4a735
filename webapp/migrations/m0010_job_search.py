"""The board's search index; the users' session versions; signed records and visits."""

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


@migrations(name="0012_signed_records")
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
