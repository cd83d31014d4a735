"""The opinion survey's households: whether each unit had a resident on record when the
survey opened. A unit with none (vacant, or nobody known) has no household to answer and
is not in the response rate's base, unless an answer came from it all the same."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0039_surveys_households")
def surveys_households(db: Database) -> None:
    # Surveys opened before this step: their units' residents as they are now, the
    # nearest the database holds to what they were when the survey opened.
    db.executescript(
        """
        ALTER TABLE survey_links ADD COLUMN occupied INTEGER NOT NULL DEFAULT 1;
        UPDATE survey_links SET occupied = EXISTS (
            SELECT 1 FROM residents r WHERE r.unit_id = survey_links.unit_id);
        """
    )
