"""The managers' monthly and yearly reports: drafts, and issued reports frozen."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0032_reports")
def reports(db: Database) -> None:
    # A report is an estate's month ('2026-11') or year ('2026'). A draft's figures are
    # computed when it is shown; issuing stores them (`snapshot`, canonical JSON), its
    # SHA-256 (`sha256`, printed on the report) and the document as rendered then
    # (`html`, zlib-compressed; the PDF is made from it). A correction of an issued
    # report is a new version: one draft at a time per estate and period.
    # The triggers keep an issued report as it was issued, whatever writes to the table.
    db.executescript(
        """
        CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            kind TEXT NOT NULL CHECK (kind IN ('month', 'year')),
            period TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL CHECK (status IN ('draft', 'issued')),
            analysis TEXT NOT NULL DEFAULT '',
            measures TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            created_by INTEGER REFERENCES users(id),
            updated_at TEXT NOT NULL,
            issued_at TEXT,
            issued_by INTEGER REFERENCES users(id),
            snapshot TEXT,
            sha256 TEXT,
            html BLOB,
            row_version INTEGER NOT NULL DEFAULT 1,
            UNIQUE (estate_id, kind, period, version)
        );
        CREATE UNIQUE INDEX reports_one_draft ON reports(estate_id, kind, period)
            WHERE status = 'draft';
        CREATE INDEX reports_estate ON reports(estate_id, kind, period DESC);
        CREATE TRIGGER reports_issued_unchanged BEFORE UPDATE ON reports
            WHEN OLD.status = 'issued'
            BEGIN SELECT RAISE(ABORT, 'an issued report never changes'); END;
        CREATE TRIGGER reports_issued_kept BEFORE DELETE ON reports
            WHEN OLD.status = 'issued'
            BEGIN SELECT RAISE(ABORT, 'an issued report is kept'); END;
        """
    )
