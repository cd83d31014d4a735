"""Hot spots: the buildings, units and job categories with the most jobs, complaints
and rework, and the units repaired again soon after a repair.

Each is a registered breakdown table (`figures.table`): every cell is a count with the
query of the ids it counted, so a tap opens exactly those records. One aggregate query
per table fills the cells; the ids are only queried when a cell is opened.
Buildings and units are counted by id (two estates may both have a "1栋") and named
"estate · building" when the scope holds more than one estate.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from .figures import Records, Result, Row, Scope, table
from .jobs import CATEGORIES
from .text import N_

# How many rows a hot-spot table shows: the worst few, not a full listing.
TOP = 10

# Jobs that count: received in the period, not cancelled (a duplicate report cancelled by
# the desk is not a problem of the building).
_JOBS = ("SELECT j.id{cols} FROM jobs j {join} WHERE j.estate_id IN ({marks})"
         " AND j.received_at >= ? AND j.received_at < ? AND j.status != 'cancelled'")
_COMPLAINTS = ("SELECT c.id{cols} FROM complaints c {join} WHERE c.estate_id IN ({marks})"
               " AND c.received_at >= ? AND c.received_at < ?")
_UNIT_JOIN = "JOIN units u ON u.id = {t}.unit_id"


def _count(kind: str, sql: str, params: tuple, n: int) -> Result:
    return Result(float(n), n, None, Records(kind, sql, params))


def _estate_names(db: Database, sc: Scope) -> dict[int, str]:
    return {r["id"]: r["name"] for r in db.query(
        f"SELECT id, name FROM estates WHERE id IN ({sc.marks})", sc.estate_ids)}


def _by_place(db: Database, sc: Scope, level: str) -> list[Row]:
    """Jobs, complaints and rework per building (`level` "building") or unit ("unit")."""
    start, end = sc.bounds()
    base = (*sc.estate_ids, start, end)
    key = "u.building_id" if level == "building" else "u.id"
    jobs, complaints = (
        q.format(join=_UNIT_JOIN.format(t=t), marks=sc.marks, cols="{cols}")
        for q, t in ((_JOBS, "j"), (_COMPLAINTS, "c")))
    jobs_sql, complaints_sql = jobs.format(cols=""), complaints.format(cols="")
    cols = f", {key} AS place, j.rework_count AS rework"
    counts: dict[int, list[int]] = {}
    # Jobs and their rework in one pass over the period's jobs, complaints in another.
    for place, n, rework in db.execute(
            f"SELECT place, count(*), sum(rework > 0) FROM ({jobs.format(cols=cols)}) "
            "GROUP BY 1", base).fetchall():
        counts[place] = [n, 0, rework]
    for place, n in db.execute(
            f"SELECT place, count(*) FROM ({complaints.format(cols=f', {key} AS place')}) "
            "GROUP BY 1", base).fetchall():
        counts.setdefault(place, [0, 0, 0])[1] = n
    top = sorted(counts.items(), key=lambda kv: (-kv[1][0], -kv[1][1], -kv[1][2], kv[0]))[:TOP]
    if not top:
        return []
    ids = [place for place, _ in top]
    marks = ",".join("?" * len(ids))
    if level == "building":
        named = {r["id"]: (r["estate_id"], r["name"]) for r in db.query(
            f"SELECT id, estate_id, name FROM buildings WHERE id IN ({marks})", ids)}
    else:
        named = {r["id"]: (r["estate_id"], f"{r['building'] or ''}{r['number']}") for r in db.query(
            "SELECT u.id, u.estate_id, u.number, b.name AS building FROM units u LEFT JOIN "
            f"buildings b ON b.id = u.building_id WHERE u.id IN ({marks})", ids)}
    estates = _estate_names(db, sc)
    rows = []
    for place, (jobs_n, complaints_n, rework_n) in top:
        estate_id, name = named[place]
        where = f" AND {key} = ?"
        rows.append(Row(sc.place(estates.get(estate_id, ''), name), (
            _count("jobs", jobs_sql + where, (*base, place), jobs_n),
            _count("complaints", complaints_sql + where, (*base, place), complaints_n),
            _count("jobs", jobs_sql + " AND j.rework_count > 0" + where, (*base, place),
                   rework_n))))
    return rows


COLUMNS = (N_("Jobs"), N_("Complaints"), N_("Reworked jobs"))


@table("hot_buildings", N_("Buildings with the most jobs"), "repairs", COLUMNS, N_(
    "Per building (counted by the building, not its name): the jobs received in the "
    "period, not counting cancelled ones; the complaints received in the period about "
    "its units; and of those jobs, the ones reopened for rework at least once. The ten "
    "buildings with the most jobs."),
       units=("count",) * 3)
def hot_buildings(db: Database, sc: Scope) -> list[Row]:
    return _by_place(db, sc, "building")


@table("hot_units", N_("Units with the most jobs"), "repairs", COLUMNS, N_(
    "Per unit: the jobs received in the period, not counting cancelled ones; the "
    "complaints received in the period about the unit; and of those jobs, the ones "
    "reopened for rework at least once. The ten units with the most jobs."),
       units=("count",) * 3)
def hot_units(db: Database, sc: Scope) -> list[Row]:
    return _by_place(db, sc, "unit")


@table("hot_categories", N_("Categories with the most jobs"), "repairs",
       (N_("Jobs"), N_("Reworked jobs")), N_(
           "Per category of job: the jobs received in the period, not counting cancelled "
           "ones, and of those the ones reopened for rework at least once. The ten "
           "categories with the most jobs."),
       units=("count",) * 2)
def hot_categories(db: Database, sc: Scope) -> list[Row]:
    start, end = sc.bounds()
    base = (*sc.estate_ids, start, end)
    jobs_sql = _JOBS.format(join="", marks=sc.marks, cols="")
    found = db.execute(
        jobs_sql.replace(
            "SELECT j.id", "SELECT j.category, count(*), sum(j.rework_count > 0)", 1)
        + f" GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT {TOP}", base).fetchall()
    rows = []
    for category, jobs_n, rework_n in found:
        where = " AND j.category = ?"
        label, msgid = (CATEGORIES[category][0], True) if category in CATEGORIES \
            else (category, False)
        rows.append(Row(label, (
            _count("jobs", jobs_sql + where, (*base, category), jobs_n),
            _count("jobs", jobs_sql + " AND j.rework_count > 0" + where, (*base, category),
                   rework_n)), msgid))
    return rows


def _repeat_window(sc: Scope) -> tuple[str, tuple[Any, ...]]:
    """The earlier job `p` came within the estate's rework window before the job `j`:
    the window rework is counted by (`rework_window_days`), one rule for both; estates
    grouped by its value (most share the default)."""
    groups: dict[int, list[int]] = {}
    for estate, days in sc.setting("rework_window_days").items():
        groups.setdefault(days, []).append(estate)
    parts: list[str] = []
    params: list[Any] = []
    for days, estates in sorted(groups.items()):
        parts.append(f"(j.estate_id IN ({','.join('?' * len(estates))}) AND p.received_at > "
                     "strftime('%Y-%m-%dT%H:%M:%S', j.received_at, ?))")
        params += [*estates, f"-{days} days"]
    return " OR ".join(parts) or "0", tuple(params)


@table("repeat_repairs", N_("Units repaired again within the rework window"), "repairs",
       (N_("Repeat jobs"),), N_(
           "Per unit: the jobs received in the period that came within the estate's rework "
           "window (the setting used for rework, 30 days unless changed) after another job "
           "of the same unit (cancelled jobs not counted on either side). The ten units "
           "with the most such jobs."),
       units=("count",))
def repeat_repairs(db: Database, sc: Scope) -> list[Row]:
    start, end = sc.bounds()
    window, window_params = _repeat_window(sc)
    # The earlier job may fall before the period: only the repeat has to be in it. One
    # probe of the unit's jobs by time (an index) per job of the period.
    sql = (_JOBS.format(join="", marks=sc.marks, cols="")
           + " AND j.unit_id IS NOT NULL AND EXISTS ("
           "SELECT 1 FROM jobs p WHERE p.unit_id = j.unit_id AND p.id != j.id AND "
           f"p.status != 'cancelled' AND p.received_at <= j.received_at AND ({window}))")
    base = (*sc.estate_ids, start, end, *window_params)
    counts = db.execute(sql.replace("SELECT j.id", "SELECT j.unit_id, count(*)", 1)
                        + f" GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP}", base).fetchall()
    marks = ",".join("?" * len(counts))
    named = {r[0]: r[1:] for r in db.execute(
        "SELECT u.id, u.estate_id, u.number, b.name FROM units u LEFT JOIN buildings b ON "
        f"b.id = u.building_id WHERE u.id IN ({marks})", [c[0] for c in counts])}
    found = [(unit_id, *named[unit_id], n) for unit_id, n in counts]
    estates = _estate_names(db, sc)
    return [Row(sc.place(estates.get(estate_id, ''), f"{building or ''}{number}"),
                (_count("jobs", sql + " AND j.unit_id = ?", (*base, unit_id), n),))
            for unit_id, estate_id, number, building, n in found]
