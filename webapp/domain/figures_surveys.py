"""The annual opinion survey's figures (意见调查, seed 004): the response rate, and
breakdowns by building and by question. A period counts the surveys of the years it
touches (a survey is an estate's for a year); drafts were never sent and do not count.
Every number opens the households behind it (record kind "units")."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from . import surveys
from .figures import Records, Result, Row, Scope, figure, rate, table
from .text import N_

# Opened annual surveys of the scope's estates whose year the period touches (an
# activity's feedback has no households: activity_satisfaction below counts it).
_SURVEYS = ("SELECT id FROM surveys WHERE estate_id IN ({marks}) AND status != 'draft'"
            " AND kind = 'annual' AND year >= ? AND year <= ?")


def _years(sc: Scope) -> tuple[int, int]:
    return sc.period.start.year, (sc.period.end - timedelta(days=1)).year


def _surveys_sql(sc: Scope) -> tuple[str, tuple[Any, ...]]:
    return _SURVEYS.format(marks=sc.marks), (*sc.estate_ids, *_years(sc))


def _answered(sc: Scope, where: str = "", params: tuple[Any, ...] = ()) -> Records:
    sql, base = _surveys_sql(sc)
    return Records("units", "SELECT r.unit_id FROM survey_responses r"
                   " JOIN survey_links l ON l.survey_id = r.survey_id AND l.unit_id = r.unit_id"
                   f" WHERE r.survey_id IN ({sql}){where}", (*base, *params))


def _households(sc: Scope, where: str = "", params: tuple[Any, ...] = ()) -> Records:
    sql, base = _surveys_sql(sc)
    return Records("units", f"SELECT l.unit_id FROM survey_links l WHERE l.survey_id IN ({sql})"
                   f" AND {surveys.COUNTED}{where}", (*base, *params))


@figure("survey_response_rate", N_("Opinion survey: response rate"), "callbacks", "percent",
        N_("Households that answered the year's opinion survey (through their personal link, "
           "or told a callback clerk by phone or at the door) / households the survey went "
           "to: the estate's units that had a resident on record when the survey was "
           "opened (a vacant unit, or one nobody is known to live in, does not count "
           "unless it answered). A period counts the surveys of the years it touches; each "
           "household counts once."))
def survey_response_rate(db: Database, sc: Scope) -> Result:
    return rate(_answered(sc), _households(sc), db)


@table("survey_by_building", N_("Opinion survey by building"), "callbacks",
       (N_("Households"), N_("Answered"), N_("Response rate"), N_("Average rating")),
       N_("Per building (by the building itself: two estates may both have a 1栋): the "
          "households the survey went to (units with a resident on record, or that "
          "answered), those that answered, the response rate, and the "
          "average of all their ratings (5 very satisfied to 1 very dissatisfied)."),
       units=("count", "count", "percent", "rating"))
def survey_by_building(db: Database, sc: Scope) -> list[Row]:
    sql, base = _surveys_sql(sc)
    rows = []
    for b in db.query(
            "SELECT l.building_id, b.name, e.name AS estate_name,"
            f" sum({surveys.COUNTED_R}) AS households,"
            " count(r.id) AS answered, 1.0 * sum(x.total) / sum(x.n) AS average"
            " FROM survey_links l JOIN buildings b ON b.id = l.building_id"
            " JOIN estates e ON e.id = b.estate_id"
            " LEFT JOIN survey_responses r ON r.survey_id = l.survey_id AND r.unit_id = l.unit_id"
            # Every rating of the building's answers counts once, as on the survey's page.
            " LEFT JOIN (SELECT response_id, sum(rating) AS total, count(*) AS n"
            "  FROM survey_answers"
            "  WHERE rating IS NOT NULL GROUP BY response_id) x ON x.response_id = r.id"
            f" WHERE l.survey_id IN ({sql}) GROUP BY l.building_id"
            " ORDER BY e.name, length(b.name), b.name, l.building_id", base):
        where, params = " AND l.building_id = ?", (b["building_id"],)
        households, answered = _households(sc, where, params), _answered(sc, where, params)
        average = None if b["average"] is None else round(b["average"], 2)
        rows.append(Row(sc.place(b["estate_name"], b["name"]), (
            Result(float(b["households"]), b["households"], None, households),
            Result(float(b["answered"]), b["answered"], None, answered),
            Result(round(100 * b["answered"] / b["households"], 1) if b["households"] else None,
                   b["answered"], b["households"], answered, households),
            Result(average, None, None, answered))))
    return rows


def _questions(db: Database, sc: Scope, kind: str) -> list[dict[str, Any]]:
    sql, base = _surveys_sql(sc)
    return list(db.query(
        "SELECT q.id, q.position, q.text, q.options, s.title, e.name AS estate_name"
        " FROM survey_questions q JOIN surveys s ON s.id = q.survey_id"
        " JOIN estates e ON e.id = s.estate_id"
        f" WHERE q.survey_id IN ({sql}) AND q.kind = ? ORDER BY e.name, s.year, s.id,"
        " q.position", (*base, kind)))


def _by_answer(sc: Scope, qid: int, column: str, value: int | None) -> Records:
    """The households whose answer to a question was `value` (any answer when None)."""
    cond = f" AND a.{column} IS NOT NULL" if value is None else f" AND a.{column} = ?"
    return Records("units", "SELECT r.unit_id FROM survey_answers a JOIN survey_responses r"
                   f" ON r.id = a.response_id WHERE a.question_id = ?{cond}",
                   (qid,) if value is None else (qid, value))


@table("survey_ratings", N_("Opinion survey: ratings by question"), "callbacks",
       (N_("Answers"), N_("Average rating"), N_("Satisfied (very satisfied or satisfied)"),
        N_("Very satisfied"), N_("Satisfied"), N_("Neutral"), N_("Dissatisfied"),
        N_("Very dissatisfied")),
       N_("Each rating question: how many households answered it, the average (5 very "
          "satisfied to 1 very dissatisfied), the share very satisfied or satisfied, and how "
          "many gave each answer."),
       units=("count", "rating", "percent", *("count",) * 5))
def survey_ratings(db: Database, sc: Scope) -> list[Row]:
    rows = []
    for q in _questions(db, sc, "rating"):
        dist = dict(db.execute("SELECT rating, count(*) FROM survey_answers WHERE"
                               " question_id = ? AND rating IS NOT NULL GROUP BY rating",
                               [q["id"]]).fetchall())
        n = sum(dist.values())
        every = _by_answer(sc, q["id"], "rating", None)
        happy = Records("units", every.sql + " AND a.rating >= 4", every.params)
        top = dist.get(5, 0) + dist.get(4, 0)
        cells = [Result(float(n), n, None, every),
                 Result(round(sum(s * c for s, c in dist.items()) / n, 2) if n else None,
                        None, None, every),
                 Result(round(100 * top / n, 1) if n else None, top, n, happy, every)]
        cells += [Result(float(dist.get(s, 0)), dist.get(s, 0), None,
                         _by_answer(sc, q["id"], "rating", s)) for s in (5, 4, 3, 2, 1)]
        rows.append(Row(sc.place(q["estate_name"], f"{q['position']}. {q['text']}"),
                        tuple(cells)))
    return rows


@table("survey_choices", N_("Opinion survey: choices by question"), "callbacks",
       (N_("Answers"), N_("Share")),
       N_("Each option of each choice question: how many households chose it, and its share "
          "of the households that answered the question."),
       units=("count", "percent"))
def survey_choices(db: Database, sc: Scope) -> list[Row]:
    rows = []
    for q in _questions(db, sc, "choice"):
        dist = dict(db.execute("SELECT choice, count(*) FROM survey_answers WHERE"
                               " question_id = ? AND choice IS NOT NULL GROUP BY choice",
                               [q["id"]]).fetchall())
        n = sum(dist.values())
        every = _by_answer(sc, q["id"], "choice", None)
        for i, option in enumerate(json.loads(q["options"] or "[]")):
            chose = _by_answer(sc, q["id"], "choice", i)
            k = dist.get(i, 0)
            rows.append(Row(sc.place(q["estate_name"],
                                   f"{q['position']}. {q['text']} · {option}"),
                            (Result(float(k), k, None, chose),
                             Result(round(100 * k / n, 1) if n else None, k, n, chose, every))))
    return rows


# The first rating question of each activity survey (the default's "overall, how
# satisfied"), of the activities that began in the period, and the answers rating it.
_ACTIVITY_RATINGS = (
    "SELECT r.id FROM survey_responses r JOIN surveys s ON s.id = r.survey_id"
    " JOIN activities a ON a.id = s.activity_id JOIN survey_answers x ON x.response_id = r.id"
    " AND x.question_id = (SELECT q.id FROM survey_questions q WHERE q.survey_id = s.id"
    "  AND q.kind = 'rating' ORDER BY q.position, q.id LIMIT 1)"
    " WHERE s.kind = 'activity' AND a.estate_id IN ({marks}) AND a.starts_at >= ?"
    " AND a.starts_at < ? AND x.rating IS NOT NULL")


@figure("activity_satisfaction", N_("Community activities: satisfaction"), "callbacks",
        "percent",
        N_("Feedback answers on the community activities held in the period (by their "
           "start) whose first rating question (by default: overall, how satisfied) was "
           "answered very satisfied or satisfied / answers that rated it. Through the "
           "shared link (one answer per phone) or from paper forms."))
def activity_satisfaction(db: Database, sc: Scope) -> Result:
    sql = _ACTIVITY_RATINGS.format(marks=sc.marks)
    params = (*sc.estate_ids, *sc.bounds())
    return rate(Records("activity_responses", sql + " AND x.rating >= 4", params),
                Records("activity_responses", sql, params), db)
