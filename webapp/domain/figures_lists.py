"""The records behind a number, as the drill-down page lists them.

A figure's `Records` is a query of ids of one kind; here each kind gets the few columns
a list shows (a number, a status, when, where), a page at a time, newest first. The
count on top is the same query counted, so it equals the number tapped. Only the
records' own estates' rows are read: the queries come from figures scoped to the
user's estates.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from .figures import RECORD_KINDS, Records

PAGE = 50  # records per page of the list

_PLACE = ("CASE {t}.place_type WHEN 'unit' THEN (SELECT b.name || '-' || u.number FROM units u "
          "JOIN buildings b ON b.id = u.building_id WHERE u.id = {t}.place_id) "
          "WHEN 'area' THEN (SELECT name FROM common_areas WHERE id = {t}.place_id) "
          "WHEN 'equipment' THEN (SELECT name FROM equipment WHERE id = {t}.place_id) END")
_UNIT = ("(SELECT b.name || '-' || u.number FROM units u JOIN buildings b ON "
         "b.id = u.building_id WHERE u.id = {t}.unit_id)")

# kind -> (the columns of a row, its table alias, the time it is ordered by)
_SELECT: dict[str, tuple[str, str]] = {
    "jobs": ("t.id, t.number, t.status, t.category, t.received_at AS at, e.name AS estate, "
             + _UNIT.format(t="t") + " AS place", "jobs"),
    "complaints": ("t.id, t.number, t.status, t.category, t.level, t.received_at AS at, "
                   "e.name AS estate, " + _UNIT.format(t="t") + " AS place", "complaints"),
    "callback_tasks": ("t.id, t.kind, t.status, t.due_at AS at, t.done_at, e.name AS estate, "
                       + _UNIT.format(t="t") + " AS place", "callback_tasks"),
    "inspections": ("t.id, t.visited_at AS at, e.name AS estate, " + _PLACE.format(t="t")
                    + " AS place, (SELECT count(*) FROM inspection_results r WHERE "
                    "r.inspection_id = t.id AND r.result = 'fail') AS failed", "inspections"),
    "feedback": ("t.id, t.category, t.status, t.note, t.at, e.name AS estate, "
                 + _PLACE.format(t="t") + " AS place", "feedback"),
    "units": ("t.id, b.name || '-' || t.number AS place, e.name AS estate, NULL AS at",
              "units"),
    # An activity's feedback answers: no table holds their estate, so a derived one does.
    "activity_responses": ("t.id, t.activity_id, t.title, t.method, t.at, e.name AS estate,"
                           " NULL AS place",
                           "(SELECT r.id, r.at, r.method, s.estate_id, a.id AS activity_id,"
                           " a.title FROM survey_responses r JOIN surveys s"
                           " ON s.id = r.survey_id JOIN activities a ON a.id = s.activity_id)"),
}
assert set(_SELECT) == set(RECORD_KINDS)


def page(db: Database, records: Records, number: int = 1) -> tuple[int, list[dict[str, Any]]]:
    """(how many records in all, the rows of page `number`, 1-based), newest first."""
    columns, table = _SELECT[records.kind]
    total = records.count(db)
    join = " JOIN buildings b ON b.id = t.building_id" if records.kind == "units" else ""
    order = "t.id" if records.kind == "units" else "at DESC, t.id DESC"
    rows = list(db.query(
        f"SELECT {columns} FROM {table} t JOIN estates e ON e.id = t.estate_id{join} "
        f"WHERE t.id IN ({records.sql}) ORDER BY {order} LIMIT ? OFFSET ?",
        (*records.params, PAGE, PAGE * (max(1, number) - 1))))
    return total, rows
