"""Complaint figures: how many came in and how (level, category, building, channel), how
many were handled within their level's deadline, escalations to major, repeat
complainants, complaints per 100 households (docs/DOMAIN.md, "Complaints").

A complaint falls in the period it was received in. Its level is the one it has now
(`complaints.effective_level`: unresolved past the estate's month → major), written here
as SQL so a period's complaints are counted, not loaded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from .callbacks import iso
from .complaints import CATEGORIES, CHANNELS, LEVELS, UNRESOLVED
from .figures import Records, Result, Row, Scope, count, figure, rate, table
from .text import N_


def _received(sc: Scope, extra: str = "", params: tuple[Any, ...] = ()) -> Records:
    """Complaints received in the period (and `extra`, on `c`)."""
    start, end = sc.bounds()
    return Records("complaints", f"SELECT c.id FROM complaints c WHERE c.estate_id IN "
                   f"({sc.marks}) AND c.received_at >= ? AND c.received_at < ?" + extra,
                   (*sc.estate_ids, start, end, *params))


def _major(sc: Scope) -> tuple[str, tuple[Any, ...]]:
    """SQL: `c` is major now (chosen so, or unresolved past its estate's month)."""
    # An empty scope still makes valid SQL (a CASE needs a WHEN).
    cases = " ".join("WHEN ? THEN ?" for _ in sc.estate_ids) or "WHEN NULL THEN NULL"
    params: list[Any] = []
    for estate, days in sc.setting("complaint_major_after_days").items():
        params += [estate, iso(sc.now - timedelta(days=days))]
    unresolved = ",".join("?" * len(UNRESOLVED))
    return (f"(c.level = 'major' OR (c.status IN ({unresolved}) AND c.received_at <= "
            f"CASE c.estate_id {cases} END))", (*UNRESOLVED, *params))


def _grouped(db: Database, sc: Scope, column: str) -> dict[Any, int]:
    start, end = sc.bounds()
    return dict(db.execute(
        f"SELECT {column}, count(*) FROM complaints c WHERE c.estate_id IN ({sc.marks}) "
        f"AND c.received_at >= ? AND c.received_at < ? GROUP BY 1",
        (*sc.estate_ids, start, end)).fetchall())


def _cell(n: int, records: Records) -> Result:
    return Result(float(n), n, None, records)


@figure("complaints_received", N_("Complaints received"), "complaints", "count", N_(
    "Every complaint received in the period (by the time it was received), whatever its "
    "level, path or outcome."))
def complaints_received(db: Database, sc: Scope) -> Result:
    return count(_received(sc), db)


@figure("complaint_in_time", N_("Complaints handled in time"), "complaints", "percent", N_(
    "Of the complaints received in the period that were handled (the result told, or "
    "explained as not ours) or are past their deadline, the share handled within the "
    "deadline of their recorded level (as chosen at intake or changed since: the "
    "estate's hours for major, important and minor complaints, from when the complaint "
    "was received)."),
    target="target_complaint_in_time_pct")
def complaint_in_time(db: Database, sc: Scope) -> Result:
    cases, params = [], []
    for estate in sc.estate_ids:
        s = sc.settings[estate]
        cases.append("WHEN ? THEN CASE c.level WHEN 'major' THEN ? WHEN 'important' THEN ? "
                     "ELSE ? END")
        params += [estate, s["complaint_major_hours"], s["complaint_important_hours"],
                   s["complaint_minor_hours"]]
    deadline = (f"strftime('%Y-%m-%dT%H:%M:%S', c.received_at, (CASE c.estate_id "
                f"{' '.join(cases) or 'WHEN NULL THEN NULL'} END) || ' hours')")
    in_time = _received(sc, f" AND c.answered_at IS NOT NULL AND c.answered_at <= {deadline}",
                        tuple(params))
    decided = _received(sc, f" AND (c.answered_at IS NOT NULL OR {deadline} <= ?)",
                        (*params, iso(sc.now)))
    return rate(in_time, decided, db)


@figure("complaints_turned_major", N_("Complaints turned major"), "complaints", "count", N_(
    "Complaints received in the period that are major now although they were not "
    "recorded as major: raised by a level change, by the same household complaining "
    "again while it was open, or by staying unresolved past the estate's month."))
def complaints_turned_major(db: Database, sc: Scope) -> Result:
    major, params = _major(sc)
    # The level at intake is in the complaint's creation entry of the audit log.
    recorded = ("coalesce((SELECT json_extract(a.detail, '$.level') FROM audit_log a WHERE "
                "a.entity = 'complaint' AND a.entity_id = c.id AND a.action = 'create' "
                "ORDER BY a.id LIMIT 1), c.level)")
    return count(_received(sc, f" AND {major} AND {recorded} <> 'major'", params), db)


@figure("repeat_complainants", N_("Complaints from repeat complainants"), "complaints",
        "count", N_(
            "Complaints received in the period from a household (the same unit) or a "
            "contact (the same phone or address) that complained more than once in the "
            "period, in the same estate: each of their complaints counts."),
        lower_is_better=True)
def repeat_complainants(db: Database, sc: Scope) -> Result:
    start, end = sc.bounds()
    # Households and contacts seen more than once in the period, each grouped once.
    period = (f"FROM complaints WHERE estate_id IN ({sc.marks}) AND received_at >= ? AND "
              "received_at < ?")
    again = (f" AND (c.unit_id IN (SELECT unit_id {period} AND unit_id IS NOT NULL GROUP BY "
             f"unit_id HAVING count(*) > 1) OR (c.estate_id, c.contact) IN (SELECT estate_id, "
             f"contact {period} AND contact <> '' GROUP BY estate_id, contact "
             "HAVING count(*) > 1))")
    return count(_received(sc, again, (*sc.estate_ids, start, end, *sc.estate_ids, start,
                                       end)), db)


@figure("complaints_per_100", N_("Complaints per 100 households"), "complaints", "per100", N_(
    "Complaints received in the period for every 100 households (units) of the estates."),
    lower_is_better=True)
def complaints_per_100(db: Database, sc: Scope) -> Result:
    received = _received(sc)
    units = Records("units", f"SELECT id FROM units WHERE estate_id IN ({sc.marks})",
                    sc.estate_ids)
    n, households = received.count(db), units.count(db)
    value = round(100 * n / households, 1) if households else None
    return Result(value, n, households, received, units)


# -- Breakdowns ------------------------------------------------------------------------------

COUNT_COLUMN = (N_("Complaints"),)


@table("complaints_by_level", N_("Complaints by level"), "complaints", COUNT_COLUMN, N_(
    "Complaints received in the period by the level they have now: an unresolved "
    "complaint older than the estate's month is major."),
       units=("count",))
def complaints_by_level(db: Database, sc: Scope) -> list[Row]:
    major, params = _major(sc)
    rows = []
    for level, label in LEVELS.items():
        which = (f" AND {major}", params) if level == "major" else (
            f" AND c.level = ? AND NOT {major}", (level, *params))
        rows.append(Row(label, (count(_received(sc, *which), db),), msgid=True))
    return rows


def _by(db: Database, sc: Scope, column: str, labels: dict[str, str]) -> list[Row]:
    counts = _grouped(db, sc, f"c.{column}")
    order = sorted(counts, key=lambda k: (-counts[k], str(k)))
    return [Row(labels.get(k, str(k)), (_cell(counts[k], _received(
        sc, f" AND c.{column} = ?", (k,))),), msgid=k in labels) for k in order]


@table("complaints_by_category", N_("Complaints by category"), "complaints", COUNT_COLUMN, N_(
    "Complaints received in the period by what they are about, the most first."),
       units=("count",))
def complaints_by_category(db: Database, sc: Scope) -> list[Row]:
    return _by(db, sc, "category", CATEGORIES)


@table("complaints_by_channel", N_("Complaints by channel"), "complaints", COUNT_COLUMN, N_(
    "Complaints received in the period by how they came in, the most first."),
       units=("count",))
def complaints_by_channel(db: Database, sc: Scope) -> list[Row]:
    return _by(db, sc, "channel", CHANNELS)


@table("complaints_by_building", N_("Complaints by building"), "complaints", COUNT_COLUMN, N_(
    "Complaints received in the period by the building of the complainant's unit, the "
    "most first; each building of each estate is a row of its own, and complaints "
    "without a unit are a row of their own."),
       units=("count",))
def complaints_by_building(db: Database, sc: Scope) -> list[Row]:
    start, end = sc.bounds()
    found = db.execute(
        f"""SELECT u.building_id, e.name, b.name, count(*) FROM complaints c
            LEFT JOIN units u ON u.id = c.unit_id
            LEFT JOIN buildings b ON b.id = u.building_id
            LEFT JOIN estates e ON e.id = b.estate_id
            WHERE c.estate_id IN ({sc.marks}) AND c.received_at >= ? AND c.received_at < ?
            GROUP BY u.building_id ORDER BY 4 DESC, u.building_id IS NULL, 2, 3""",
        (*sc.estate_ids, start, end)).fetchall()
    rows = []
    for building, estate_name, name, n in found:
        if building is None:
            rows.append(Row(N_("No unit"), (_cell(n, _received(
                sc, " AND c.unit_id IS NULL")),), msgid=True))
            continue
        label = sc.place(estate_name, name)
        rows.append(Row(label, (_cell(n, _received(
            sc, " AND c.unit_id IN (SELECT id FROM units WHERE building_id = ?)",
            (building,))),)))
    return rows

