"""The annual opinion survey (意见调查): surveys, their questions, each household's
personal link, and the answers."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0033_surveys")
def surveys(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE surveys (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            year INTEGER NOT NULL,
            title TEXT NOT NULL,
            intro TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'draft',  -- draft, open, closed
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            opened_at TEXT,
            closed_at TEXT,
            version INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX surveys_estate_year ON surveys(estate_id, year);
        -- Replaced as a whole while the survey is a draft; fixed once it is opened, so
        -- answers can point at them.
        CREATE TABLE survey_questions (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES surveys(id),
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,  -- rating, choice, text
            text TEXT NOT NULL,
            options TEXT NOT NULL DEFAULT '[]'  -- JSON list, for a choice
        );
        CREATE INDEX survey_questions_survey ON survey_questions(survey_id, position);
        -- One personal link per household and survey, made when the survey opens: the
        -- households it went to are the response rate's base. The token is random
        -- (128 bits), never derived from an id.
        CREATE TABLE survey_links (
            survey_id INTEGER NOT NULL REFERENCES surveys(id),
            unit_id INTEGER NOT NULL REFERENCES units(id),
            building_id INTEGER NOT NULL REFERENCES buildings(id),
            token TEXT NOT NULL,
            PRIMARY KEY (survey_id, unit_id)
        );
        CREATE UNIQUE INDEX survey_links_token ON survey_links(token);
        CREATE INDEX survey_links_building ON survey_links(survey_id, building_id);
        -- One answer per household: the unique key is the rule, whichever way it came.
        CREATE TABLE survey_responses (
            id INTEGER PRIMARY KEY,
            survey_id INTEGER NOT NULL REFERENCES surveys(id),
            unit_id INTEGER NOT NULL REFERENCES units(id),
            method TEXT NOT NULL,  -- link, phone, visit
            user_id INTEGER REFERENCES users(id),
            remote_addr TEXT,
            at TEXT NOT NULL,
            op_id TEXT NOT NULL,
            UNIQUE (survey_id, unit_id)
        );
        CREATE INDEX survey_responses_addr ON survey_responses(remote_addr, at)
            WHERE remote_addr IS NOT NULL;
        CREATE TABLE survey_answers (
            response_id INTEGER NOT NULL REFERENCES survey_responses(id),
            question_id INTEGER NOT NULL REFERENCES survey_questions(id),
            rating INTEGER,
            choice INTEGER,
            text TEXT,
            PRIMARY KEY (response_id, question_id)
        );
        CREATE INDEX survey_answers_question ON survey_answers(question_id);
        """
    )
