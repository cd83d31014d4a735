"""Community activities (社区活动, docs/DOMAIN.md): what the service centre runs for
residents (a festival gathering, a health talk, a children's class), listed upcoming and
past, and each one's short feedback survey.

The feedback is a survey of kind `activity` (domain/surveys.py): the same questions,
answers, one-answer rule and results as the annual survey, but reached through ONE
shared link for the activity (its QR code on a slip or a screen at the event) and
answered once per browser, not per household. The shared link takes answers from the
activity's local day until the end of the local day `activity_feedback_days` after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from . import settings, workdays
from .text import N_

TITLE_LIMIT, PLACE_LIMIT, ORGANISER_LIMIT, DESCRIPTION_LIMIT = 80, 80, 60, 2000
PARTICIPANTS_MAX = 100000
LIST_SHOWN = 50
WHEN = {"upcoming": N_("Upcoming activities"), "past": N_("Past activities")}
# The short default feedback, written in English as msgids: the view stores them in the
# organiser's language, and the organiser may change them before feedback opens.
DEFAULT_QUESTIONS: tuple[dict[str, Any], ...] = (
    {"kind": "rating", "text": N_("Overall, how satisfied are you with this activity?"),
     "options": []},
    {"kind": "choice", "text": N_("Would you come to an activity like this again?"),
     "options": [N_("Yes, I would"), N_("Maybe"), N_("No, I would not")]},
    {"kind": "text", "text": N_("Comments or suggestions"), "options": []},
)


def default_questions(translate: Callable[[str], str]) -> list[dict[str, Any]]:
    """The default questions as the form's rows, in the reader's language."""
    return [{"kind": q["kind"], "text": translate(q["text"]),
             "options": "\n".join(translate(o) for o in q["options"])}
            for q in DEFAULT_QUESTIONS]


def get(db: Database, activity_id: int) -> dict[str, Any] | None:
    """The activity with its estate's name and its feedback survey's id, status, token."""
    return next(iter(db.query(
        "SELECT a.*, e.name AS estate_name, s.id AS survey_id, s.status AS survey_status,"
        " s.token AS survey_token FROM activities a JOIN estates e ON e.id = a.estate_id"
        " LEFT JOIN surveys s ON s.activity_id = a.id WHERE a.id = ?", [activity_id])), None)


def listing(db: Database, estate_ids: Iterable[int], when: str, now: datetime,
            text: str = "", limit: int = LIST_SHOWN) -> list[dict[str, Any]]:
    """The estates' upcoming activities (soonest first) or past ones (latest first), each
    with its feedback's response count; with `text`, those whose title holds it."""
    ids = list(estate_ids)
    if not ids:
        return []
    upcoming = when == "upcoming"
    sql = ("SELECT a.id, a.estate_id, a.title, a.starts_at, a.place, a.organiser,"
           " a.participants, e.name AS estate_name, s.status AS survey_status,"
           " (SELECT count(*) FROM survey_responses r WHERE r.survey_id = s.id) AS responses"
           " FROM activities a JOIN estates e ON e.id = a.estate_id"
           " LEFT JOIN surveys s ON s.activity_id = a.id"
           f" WHERE a.estate_id IN ({','.join('?' * len(ids))})"
           f" AND a.starts_at {'>=' if upcoming else '<'} ?")
    params: list[Any] = [*ids, now.isoformat(timespec="seconds")]
    if text:
        # instr, not LIKE: what is typed is matched as typed (no % or _ wildcards).
        sql += " AND instr(lower(a.title), ?) > 0"
        params.append(text.casefold())
    sql += f" ORDER BY a.starts_at {'ASC' if upcoming else 'DESC'}, a.id LIMIT ?"
    return list(db.query(sql, [*params, limit]))


def feedback_days(db: Database, estate_id: int) -> int:
    return settings.estate_settings(db, estate_id)["activity_feedback_days"]


def feedback_window(starts_at: datetime, days: int) -> tuple[date, date]:
    """The first and last local day the shared link takes answers: the activity's day
    (people answer at the event) through `days` days after it."""
    first = workdays.local_date(starts_at)
    return first, first + timedelta(days=days)


def feedback_state(starts_at: datetime, days: int, now: datetime) -> str:
    """Whether the shared link takes answers on `now`'s local day: "before", "open" or
    "after" the window."""
    first, last = feedback_window(starts_at, days)
    today = workdays.local_date(now)
    return "before" if today < first else "after" if today > last else "open"


def started(activity: dict[str, Any], now: datetime) -> bool:
    return datetime.fromisoformat(activity["starts_at"]) <= now


def response_count(db: Database, survey_id: int | None) -> int:
    if survey_id is None:
        return 0
    return db.execute("SELECT count(*) FROM survey_responses WHERE survey_id = ?",
                      [survey_id]).fetchone()[0]
