"""Inspection and feedback figures: the failed-item rate overall, per kind of place and per
place; feedback received and by category.

An inspection falls in the period it was visited in; its items count as the visit
recorded them (failed / checked, where a not-applicable item is not checked, as
`inspections.rate` and the round's summary count). A failed-item rate opens the
inspections that hold the failed items.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from .feedback import CATEGORIES as FEEDBACK_CATEGORIES
from .figures import Records, Result, Row, Scope, count, figure, table
from .inspections import PLACE_KINDS
from .text import N_


def _visited(sc: Scope, extra: str = "", params: tuple[Any, ...] = ()) -> Records:
    """Inspections visited in the period (and `extra`, on `i`)."""
    start, end = sc.bounds()
    return Records("inspections", f"SELECT i.id FROM inspections i WHERE i.estate_id IN "
                   f"({sc.marks}) AND i.visited_at >= ? AND i.visited_at < ?" + extra,
                   (*sc.estate_ids, start, end, *params))


def _holding(result: str) -> str:
    """SQL: the inspection `i` has an item with a result in `result` (an SQL list)."""
    return (" AND EXISTS (SELECT 1 FROM inspection_results r WHERE r.inspection_id = i.id "
            f"AND r.result IN {result})")


CHECKED, FAILED = "('pass', 'fail')", "('fail')"


def _fail_rate(sc: Scope, failed: int, checked: int, extra: str = "",
               params: tuple[Any, ...] = ()) -> Result:
    value = round(100 * failed / checked, 1) if checked else None
    return Result(value, failed, checked, _visited(sc, extra + _holding(FAILED), params),
                  _visited(sc, extra + _holding(CHECKED), params))


@figure("inspection_fail_rate", N_("Failed inspection items"), "inspections", "percent", N_(
    "Of the checklist items checked in the inspections visited in the period, the share "
    "failed; an item marked not applicable is not checked. The number opens the "
    "inspections holding the failed items."), lower_is_better=True)
def inspection_fail_rate(db: Database, sc: Scope) -> Result:
    start, end = sc.bounds()
    failed, checked = db.execute(
        f"""SELECT coalesce(sum(r.result = 'fail'), 0),
                   coalesce(sum(r.result IN ('pass', 'fail')), 0)
            FROM inspections i JOIN inspection_results r ON r.inspection_id = i.id
            WHERE i.estate_id IN ({sc.marks}) AND i.visited_at >= ? AND i.visited_at < ?""",
        (*sc.estate_ids, start, end)).fetchone()
    return _fail_rate(sc, failed, checked)


RATE_COLUMNS = (N_("Inspections"), N_("Items checked"), N_("Failed items"),
                N_("Failed-item rate"))
RATE_UNITS = ("count", "count", "count", "percent")


def _row(sc: Scope, label: str, numbers: tuple[int, int, int], extra: str,
         params: tuple[Any, ...], msgid: bool = False) -> Row:
    visits, checked, failed = numbers
    everything = _visited(sc, extra, params)
    rated = _fail_rate(sc, failed, checked, extra, params)
    return Row(label, (Result(float(visits), visits, None, everything),
                       Result(float(checked), checked, None, rated.base),
                       Result(float(failed), failed, None, rated.records), rated), msgid)


def _rates(db: Database, sc: Scope, keys: str, joins: str = "") -> list[tuple[Any, ...]]:
    """Per `keys` (SQL columns): the keys, inspections, items checked, items failed."""
    start, end = sc.bounds()
    return db.execute(
        f"""SELECT {keys}, count(DISTINCT i.id),
                   coalesce(sum(r.result IN ('pass', 'fail')), 0),
                   coalesce(sum(r.result = 'fail'), 0)
            FROM inspections i JOIN inspection_templates t ON t.id = i.template_id
            LEFT JOIN inspection_results r ON r.inspection_id = i.id {joins}
            WHERE i.estate_id IN ({sc.marks}) AND i.visited_at >= ? AND i.visited_at < ?
            GROUP BY {keys}""", (*sc.estate_ids, start, end)).fetchall()


@table("inspections_by_kind", N_("Failed items per kind of place"), "inspections",
       RATE_COLUMNS, N_(
           "Inspections visited in the period per kind of place (the checklist's kind): "
           "how many, the items checked and failed, and the failed-item rate."),
       units=RATE_UNITS)
def inspections_by_kind(db: Database, sc: Scope) -> list[Row]:
    found = {kind: numbers for kind, *numbers in _rates(db, sc, "t.place_kind")}
    order = [k for k in PLACE_KINDS if k in found] + sorted(k for k in found
                                                           if k not in PLACE_KINDS)
    extra = " AND i.template_id IN (SELECT id FROM inspection_templates WHERE place_kind = ?)"
    return [_row(sc, PLACE_KINDS.get(k, k), tuple(found[k]), extra, (k,), k in PLACE_KINDS)
            for k in order]


# A place's name as the inspection pages show it (places.get_place), in one query.
_PLACE_JOINS = """
LEFT JOIN units pu ON i.place_type = 'unit' AND pu.id = i.place_id
LEFT JOIN buildings pb ON pb.id = pu.building_id
LEFT JOIN common_areas pa ON i.place_type = 'area' AND pa.id = i.place_id
LEFT JOIN equipment pq ON i.place_type = 'equipment' AND pq.id = i.place_id
JOIN estates pe ON pe.id = i.estate_id"""
_PLACE_NAME = "coalesce(pb.name || '-' || pu.number, pa.name, pq.name, '?')"


@table("inspections_by_place", N_("Failed items per place"), "inspections", RATE_COLUMNS, N_(
    "Inspections visited in the period per place (a unit, a common area, a piece of "
    "equipment), the highest failed-item rate first: how many, the items checked and "
    "failed, and the failed-item rate."),
       units=RATE_UNITS)
def inspections_by_place(db: Database, sc: Scope) -> list[Row]:
    found = _rates(db, sc, f"i.place_type, i.place_id, pe.name, {_PLACE_NAME}", _PLACE_JOINS)

    def worst(row: tuple[Any, ...]) -> tuple[Any, ...]:
        *_, checked, failed = row
        return (-(failed / checked if checked else -1), row[2], row[3])

    return [_row(sc, sc.place(estate, name), (visits, checked, failed),
                 " AND i.place_type = ? AND i.place_id = ?", (kind, place))
            for kind, place, estate, name, visits, checked, failed in sorted(found, key=worst)]


# -- Feedback --------------------------------------------------------------------------------

def _feedback(sc: Scope, extra: str = "", params: tuple[Any, ...] = ()) -> Records:
    start, end = sc.bounds()
    return Records("feedback", f"SELECT id FROM feedback WHERE estate_id IN ({sc.marks}) "
                   "AND at >= ? AND at < ?" + extra, (*sc.estate_ids, start, end, *params))


@figure("feedback_received", N_("Feedback received"), "inspections", "count", N_(
    "Environment feedback sent from the field in the period (by the time it was sent), "
    "whatever became of it."))
def feedback_received(db: Database, sc: Scope) -> Result:
    return count(_feedback(sc), db)


@table("feedback_by_category", N_("Feedback by category"), "inspections", (N_("Feedback"),),
       N_("Environment feedback sent in the period by category, the most first."),
       units=("count",))
def feedback_by_category(db: Database, sc: Scope) -> list[Row]:
    start, end = sc.bounds()
    found = db.execute(
        f"SELECT category, count(*) FROM feedback WHERE estate_id IN ({sc.marks}) AND "
        "at >= ? AND at < ? GROUP BY category ORDER BY 2 DESC, 1",
        (*sc.estate_ids, start, end)).fetchall()
    return [Row(FEEDBACK_CATEGORIES.get(k, k), (Result(float(n), n, None, _feedback(
        sc, " AND category = ?", (k,))),), msgid=k in FEEDBACK_CATEGORIES) for k, n in found]
