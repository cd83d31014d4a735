"""Community activities (社区活动), and the survey generalised so an activity's feedback
is a survey too: a survey's kind (annual or activity) and activity, a shared link's
token, and answers that come from a browser rather than a household."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0040_activities")
def activities(db: Database) -> None:
    # Times are UTC; `participants` is entered after the activity (NULL until then).
    db.executescript(
        """
        CREATE TABLE activities (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            title TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            place TEXT NOT NULL DEFAULT '',
            organiser TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            participants INTEGER,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX activities_estate_start ON activities(estate_id, starts_at);
        ALTER TABLE surveys ADD COLUMN kind TEXT NOT NULL DEFAULT 'annual'
            CHECK (kind IN ('annual', 'activity'));
        ALTER TABLE surveys ADD COLUMN activity_id INTEGER REFERENCES activities(id);
        -- An activity's one shared link (its QR code), random like a household's.
        ALTER TABLE surveys ADD COLUMN token TEXT;
        CREATE UNIQUE INDEX surveys_token ON surveys(token) WHERE token IS NOT NULL;
        CREATE UNIQUE INDEX surveys_activity ON surveys(activity_id)
            WHERE activity_id IS NOT NULL;
        """
    )
    # An activity's answer has no household: unit_id becomes optional, and `browser` (the
    # answering browser's cookie token) is its one-answer key. SQLite cannot drop a NOT
    # NULL, so the table is rebuilt. Its answers are set aside first and put back after,
    # so no foreign key is ever broken (a deferred check would still count the dropped
    # parents at commit); legacy_alter_table keeps the rename from rewriting
    # survey_answers' reference.
    db.execute("PRAGMA legacy_alter_table=ON")
    db.executescript(
        """
        CREATE TEMP TABLE survey_answers_kept AS SELECT * FROM survey_answers;
        DELETE FROM survey_answers;
        CREATE TABLE survey_responses_new (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES surveys(id),
            unit_id INTEGER REFERENCES units(id),
            browser TEXT,
            method TEXT NOT NULL,  -- link, phone, visit; shared, paper (an activity's)
            user_id INTEGER REFERENCES users(id),
            remote_addr TEXT,
            at TEXT NOT NULL,
            op_id TEXT NOT NULL,
            UNIQUE (survey_id, unit_id),
            UNIQUE (survey_id, browser)
        );
        INSERT INTO survey_responses_new (id, survey_id, unit_id, method, user_id,
            remote_addr, at, op_id)
            SELECT id, survey_id, unit_id, method, user_id, remote_addr, at, op_id
            FROM survey_responses;
        DROP TABLE survey_responses;
        ALTER TABLE survey_responses_new RENAME TO survey_responses;
        CREATE INDEX survey_responses_addr ON survey_responses(remote_addr, at)
            WHERE remote_addr IS NOT NULL;
        INSERT INTO survey_answers SELECT * FROM survey_answers_kept;
        DROP TABLE survey_answers_kept;
        """
    )
    db.execute("PRAGMA legacy_alter_table=OFF")
