"""The annual opinion survey (意见调查, docs/DOMAIN.md): a manager's
questions for an estate and a year, one personal link per household, one answer per
household (through the link, or recorded by a callback clerk by phone or at the door),
and the results: response rate, by question and by building.

A survey of kind `activity` is a community activity's feedback (domain/activities.py):
the same questions, answers and results, through one shared link (`surveys.token`)
answered once per browser, or a paper form a clerk records; no households.

An answer is final once sent: a survey counts each household once, and a link passed on
(a slip left in a letterbox) must not let someone else overwrite what the household said.
A second answer through the link shows the thanks page and changes nothing.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import fields

from .callbacks import SCALE
from .text import N_

KINDS = {"rating": N_("Rating (very satisfied to very dissatisfied)"),
         "choice": N_("Choice among options"), "text": N_("Free text")}
STATUSES = {"draft": N_("Draft"), "open": N_("Taking answers"), "closed": N_("Survey closed")}
SURVEY_KINDS = {"annual": N_("Annual opinion survey"), "activity": N_("Activity feedback")}
METHODS = {"link": N_("Personal link"), "phone": N_("Phone"), "visit": N_("Door to door"),
           "shared": N_("Shared link"), "paper": N_("Paper form")}
# How a clerk records an answer, by the survey's kind.
RECORD_METHODS = {"annual": ("phone", "visit"), "activity": ("paper",)}
RATINGS = SCALE  # the callback scale's labels, 5 (very satisfied) to 1
MAX_QUESTIONS = 30
MAX_OPTIONS = 12
TITLE_LIMIT, INTRO_LIMIT, QUESTION_LIMIT, OPTION_LIMIT, ANSWER_LIMIT = 100, 2000, 300, 60, 2000
# Whether a household (`survey_links l`) is in the response rate's base: a unit with a
# resident on record when the survey opened, or one that answered all the same (someone
# lives there). Vacant units, and units nobody is known to live in, are left out.
COUNTED = ("(l.occupied = 1 OR EXISTS (SELECT 1 FROM survey_responses c"
           " WHERE c.survey_id = l.survey_id AND c.unit_id = l.unit_id))")
# The same in a query that already joins the household's response as `r`.
COUNTED_R = "(l.occupied = 1 OR r.id IS NOT NULL)"
# 16 random bytes, URL-safe: 22 characters, 128 bits; never derived from an id.
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def new_token() -> str:
    return secrets.token_urlsafe(16)


def read_token(text: str) -> str | None:
    return text if isinstance(text, str) and TOKEN.match(text) else None


# -- Reading ------------------------------------------------------------------------------

def get(db: Database, survey_id: int) -> dict[str, Any] | None:
    return next(iter(db.query(
        "SELECT s.*, e.name AS estate_name FROM surveys s JOIN estates e ON e.id = s.estate_id"
        " WHERE s.id = ?", [survey_id])), None)


def list_surveys(db: Database, estate_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The estates' annual surveys, newest year first, with households (COUNTED) and
    answers."""
    ids = list(estate_ids)
    if not ids:
        return []
    return list(db.query(
        "SELECT s.id, s.estate_id, s.year, s.title, s.status, e.name AS estate_name,"
        f" (SELECT count(*) FROM survey_links l WHERE l.survey_id = s.id AND {COUNTED})"
        " AS households,"
        " (SELECT count(*) FROM survey_responses r WHERE r.survey_id = s.id) AS answered"
        " FROM surveys s JOIN estates e ON e.id = s.estate_id"
        f" WHERE s.estate_id IN ({','.join('?' * len(ids))}) AND s.kind = 'annual'"
        " ORDER BY s.year DESC, e.name, s.id DESC", ids))


def questions(db: Database, survey_id: int) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT * FROM survey_questions WHERE survey_id = ?"
                         " ORDER BY position, id", [survey_id]))
    for row in rows:
        row["options"] = json.loads(row["options"] or "[]")
    return rows


def link(db: Database, token: str) -> dict[str, Any] | None:
    """What a personal link opens: the survey and the household's building and number
    (never a resident's name or phone)."""
    return next(iter(db.query(
        "SELECT l.survey_id, l.unit_id, l.token, b.name AS building_name, u.number AS"
        " unit_number FROM survey_links l JOIN units u ON u.id = l.unit_id"
        " JOIN buildings b ON b.id = l.building_id WHERE l.token = ?", [token])), None)


def household(db: Database, survey_id: int, unit_id: int) -> dict[str, Any] | None:
    """A household the survey went to, by unit id, with its building and number."""
    return next(iter(db.query(
        "SELECT l.survey_id, l.unit_id, b.name AS building_name, u.number AS unit_number"
        " FROM survey_links l JOIN units u ON u.id = l.unit_id"
        " JOIN buildings b ON b.id = l.building_id WHERE l.survey_id = ? AND l.unit_id = ?",
        [survey_id, unit_id])), None)


def response(db: Database, survey_id: int, unit_id: int) -> dict[str, Any] | None:
    return next(iter(db.query("SELECT * FROM survey_responses WHERE survey_id = ?"
                              " AND unit_id = ?", [survey_id, unit_id])), None)


def shared(db: Database, token: str) -> dict[str, Any] | None:
    """The activity survey whose shared link this is, with its activity's time and place."""
    return next(iter(db.query(
        "SELECT s.id AS survey_id, s.token, a.id AS activity_id, a.starts_at, a.place"
        " FROM surveys s JOIN activities a ON a.id = s.activity_id WHERE s.token = ?",
        [token])), None)


def browser_response(db: Database, survey_id: int, browser: str) -> dict[str, Any] | None:
    """The answer this browser (its cookie token) gave through a shared link."""
    return next(iter(db.query("SELECT * FROM survey_responses WHERE survey_id = ?"
                              " AND browser = ?", [survey_id, browser])), None)


def slips(db: Database, survey_id: int, building_id: int | None = None
          ) -> list[dict[str, Any]]:
    """Every household's link (of one building, if given), by building and number, for
    the printed slips."""
    where, params = ("", [survey_id]) if building_id is None else \
        (" AND l.building_id = ?", [survey_id, building_id])
    return list(db.query(
        "SELECT l.token, l.unit_id, b.name AS building_name, u.number AS unit_number"
        " FROM survey_links l JOIN units u ON u.id = l.unit_id"
        f" JOIN buildings b ON b.id = l.building_id WHERE l.survey_id = ?{where}"
        " ORDER BY length(b.name), b.name, b.id, u.floor, length(u.number), u.number",
        params))


# -- What a form sends ----------------------------------------------------------------------

def parse_questions(items: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The edit form's questions (a list of {kind, text, options, position, remove}) as
    stored, in order; errors keyed `q<index>` (the row of the form)."""
    out: list[tuple[int, int, dict[str, Any]]] = []
    errors: dict[str, str] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, Mapping) or item.get("remove") in ("1", 1, True):
            continue
        text = fields.text(item.get("text"), QUESTION_LIMIT).strip()
        kind = str(item.get("kind") or "")
        raw = item.get("options") or ""
        options_in = raw.splitlines() if isinstance(raw, str) else raw
        options = [fields.text(o, OPTION_LIMIT).strip() for o in options_in
                   if isinstance(o, str)] if isinstance(options_in, list) else []
        options = list(dict.fromkeys(o for o in options if o))
        if not text:
            if kind == "choice" and options:
                errors[f"q{index}"] = N_("Write the question.")
            continue  # an empty row: the form's blank "new question"
        if kind not in KINDS:
            errors[f"q{index}"] = N_("Choose the kind of question.")
        elif kind == "choice" and not 2 <= len(options) <= MAX_OPTIONS:
            errors[f"q{index}"] = N_("A choice needs 2 to 12 options, one a line.")
        try:
            position = int(str(item.get("position") or index + 1).strip())
        except ValueError:
            position = index + 1
        out.append((position, index, {"kind": kind, "text": text,
                                      "options": options if kind == "choice" else []}))
    if len(out) > MAX_QUESTIONS:
        errors["questions"] = N_("A survey holds at most 30 questions.")
    return [q for _p, _i, q in sorted(out, key=lambda t: (t[0], t[1]))], errors


def parse_answers(qs: list[dict[str, Any]], answers: Any
                  ) -> tuple[dict[int, dict[str, Any]], dict[str, str]]:
    """Answers ({question id: text}) checked against the questions: a rating 1..5 and a
    choice among the options are required, free text may be left empty. Errors are keyed
    `a<question id>`."""
    given = answers if isinstance(answers, Mapping) else {}
    out: dict[int, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for q in qs:
        raw = given.get(str(q["id"]))
        value = fields.text(raw, ANSWER_LIMIT).strip() if isinstance(raw, str) else ""
        key = f"a{q['id']}"
        if q["kind"] == "text":
            if value:
                out[q["id"]] = {"text": value}
        elif q["kind"] == "rating":
            if value not in ("1", "2", "3", "4", "5"):
                errors[key] = N_("Choose one answer.")
            else:
                out[q["id"]] = {"rating": int(value)}
        elif not value.isdigit() or not 0 <= int(value) < len(q["options"]):
            errors[key] = N_("Choose one answer.")
        else:
            out[q["id"]] = {"choice": int(value)}
    return out, errors


# -- Results --------------------------------------------------------------------------------

def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def results(db: Database, survey: Mapping[str, Any]) -> dict[str, Any]:
    """Response rate (households COUNTED; `unoccupied`: the links left out), each
    question's results and each building's (by building id)."""
    sid = survey["id"]
    annual = survey["kind"] == "annual"
    if annual:
        households, answered, links = db.execute(
            f"SELECT coalesce(sum({COUNTED_R}), 0), count(r.id), count(*) FROM survey_links l"
            " LEFT JOIN survey_responses r ON r.survey_id = l.survey_id"
            " AND r.unit_id = l.unit_id WHERE l.survey_id = ?", [sid]).fetchone()
    else:  # no households: every answer counts, through the shared link or on paper
        households, links = 0, 0
        answered = db.execute("SELECT count(*) FROM survey_responses WHERE survey_id = ?",
                              [sid]).fetchone()[0]
    methods = dict(db.execute("SELECT method, count(*) FROM survey_responses"
                              " WHERE survey_id = ? GROUP BY method", [sid]).fetchall())
    qs = questions(db, sid)
    counts: dict[tuple[int, str, int], int] = {}
    for qid, rating, choice, n in db.execute(
            "SELECT a.question_id, a.rating, a.choice, count(*) FROM survey_answers a"
            " JOIN survey_questions q ON q.id = a.question_id WHERE q.survey_id = ?"
            " AND (a.rating IS NOT NULL OR a.choice IS NOT NULL)"
            " GROUP BY a.question_id, a.rating, a.choice", [sid]):
        if rating is not None:
            counts[(qid, "rating", rating)] = n
        else:
            counts[(qid, "choice", choice)] = n
    texts: dict[int, list[str]] = {}
    for qid, text in db.execute(
            "SELECT a.question_id, a.text FROM survey_answers a JOIN survey_questions q"
            " ON q.id = a.question_id WHERE q.survey_id = ? AND a.text IS NOT NULL"
            " ORDER BY a.response_id", [sid]):
        texts.setdefault(qid, []).append(text)
    by_question = []
    for q in qs:
        entry: dict[str, Any] = {"id": q["id"], "position": q["position"], "kind": q["kind"],
                                 "text": q["text"]}
        if q["kind"] == "rating":
            dist = {score: counts.get((q["id"], "rating", score), 0) for score in (5, 4, 3, 2, 1)}
            n = sum(dist.values())
            entry.update(answers=n, distribution=dist,
                         average=round(sum(s * c for s, c in dist.items()) / n, 2) if n else None,
                         satisfied_pct=_rate(dist[5] + dist[4], n))
        elif q["kind"] == "choice":
            opts = [{"label": label, "count": counts.get((q["id"], "choice", i), 0)}
                    for i, label in enumerate(q["options"])]
            n = sum(o["count"] for o in opts)
            for o in opts:
                o["pct"] = _rate(o["count"], n)
            entry.update(answers=n, options=opts)
        else:
            entry.update(answers=len(texts.get(q["id"], [])), texts=texts.get(q["id"], []))
        by_question.append(entry)
    return {"households": households, "answered": answered, "unoccupied": links - households,
            "rate": _rate(answered, households), "methods": methods,
            "questions": by_question,
            "buildings": by_building(db, sid) if annual else []}


def by_building(db: Database, survey_id: int) -> list[dict[str, Any]]:
    """Households (COUNTED), answers and the average of all ratings, per building (by its
    id: two estates may both have a 1栋, but a survey is one estate's)."""
    rows = list(db.query(
        f"SELECT l.building_id, b.name AS building_name, sum({COUNTED_R}) AS households,"
        " count(r.id) AS answered,"
        " (SELECT round(avg(a.rating), 2) FROM survey_answers a JOIN survey_responses r2"
        "  ON r2.id = a.response_id JOIN survey_links l2 ON l2.survey_id = r2.survey_id"
        "  AND l2.unit_id = r2.unit_id WHERE r2.survey_id = l.survey_id"
        "  AND l2.building_id = l.building_id AND a.rating IS NOT NULL) AS average"
        " FROM survey_links l JOIN buildings b ON b.id = l.building_id"
        " LEFT JOIN survey_responses r ON r.survey_id = l.survey_id AND r.unit_id = l.unit_id"
        " WHERE l.survey_id = ? GROUP BY l.building_id"
        " ORDER BY length(b.name), b.name, l.building_id", [survey_id]))
    for row in rows:
        row["rate"] = _rate(row["answered"], row["households"])
    return rows


def year_summary(db: Database, estate_ids: Iterable[int], year: int, now: datetime
                 ) -> dict[str, Any]:
    """The estates' opinion surveys of a year, for the yearly report: each opened survey's
    results (a draft was never sent), and the households and answers over them all.
    `now` says whether a survey still open may yet change."""
    ids = sorted(set(estate_ids))
    surveys = [s for s in list_surveys(db, ids) if s["year"] == year and s["status"] != "draft"]
    out = []
    for s in surveys:
        row = get(db, s["id"])
        assert row is not None
        out.append({"id": s["id"], "estate_id": s["estate_id"],
                    "estate_name": s["estate_name"], "title": s["title"],
                    "status": s["status"], "opened_at": row["opened_at"],
                    "closed_at": row["closed_at"], **results(db, row)})
    households = sum(s["households"] for s in out)
    answered = sum(s["answered"] for s in out)
    return {"year": year, "estate_ids": ids, "as_of": iso(now), "surveys": out,
            "households": households, "answered": answered,
            "rate": _rate(answered, households),
            "final": all(s["status"] == "closed" for s in out)}
