"""The repairs figures: on time (with and without the customer-caused pause), emergency
arrival, notified in time, pass, rework, first-time fix, and the breakdowns by class,
category, source and building.

Each is an SQL aggregate over the facts a job's steps settled (domain/job_facts.py), so
the deadline rule stays in `deadlines.job_deadlines`. Each definition below (a msgid,
shown under "how is this computed?") says which jobs count and in which period a job
falls. Cancelled jobs never count in a rate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from .figures import Records, Result, Row, Scope, figure, table
from .jobs import CATEGORIES, CLASSES, SOURCES, iso
from .text import N_

Where = tuple[str, tuple[Any, ...]]  # an SQL condition on `jobs` and its parameters


def all_of(*parts: Where) -> Where:
    return (" AND ".join(f"({sql})" for sql, _ in parts),
            tuple(p for _, params in parts for p in params))


def done_in(sc: Scope) -> Where:
    """Jobs first completed in the period (not cancelled since)."""
    start, end = sc.bounds()
    return (f"estate_id IN ({sc.marks}) AND first_completed_at >= ? AND first_completed_at < ?"
            " AND status != 'cancelled'", (*sc.estate_ids, start, end))


def received_in(sc: Scope) -> Where:
    start, end = sc.bounds()
    return (f"estate_id IN ({sc.marks}) AND received_at >= ? AND received_at < ?",
            (*sc.estate_ids, start, end))


NOT_CANCELLED: Where = ("status != 'cancelled'", ())


def per_estate(sc: Scope, key: str, cond: Callable[[int], Where]) -> Where:
    """A condition that depends on an estate's setting: estates grouped by its value (most
    share the default, so this is usually one group)."""
    groups: dict[int, list[int]] = {}
    for estate, value in sc.setting(key).items():
        groups.setdefault(value, []).append(estate)
    if not groups:
        return ("0", ())
    parts = []
    for value, estates in sorted(groups.items()):
        sql, params = cond(value)
        parts.append((f"estate_id IN ({','.join('?' * len(estates))}) AND ({sql})",
                      (*estates, *params)))
    return (" OR ".join(f"({sql})" for sql, _ in parts),
            tuple(p for _, params in parts for p in params))


def reworked(sc: Scope) -> Where:
    """Reopened within the estate's rework window of the completion it undid."""
    sql, params = per_estate(sc, "rework_window_days",
                             lambda days: ("reopened_after_minutes <= ?", (days * 1440,)))
    return (f"reopened_after_minutes IS NOT NULL AND ({sql})", params)


def passed(sc: Scope) -> Where:
    """Not reworked, and no unsatisfied answer on the job's callback (job_facts)."""
    sql, params = reworked(sc)
    return (f"NOT ({sql}) AND callback_answer IS NOT 0", params)


def jobs(where: Where) -> Records:
    return Records("jobs", f"SELECT id FROM jobs WHERE {where[0]}", where[1])


def counts(db: Database, base: Where, conds: tuple[Where, ...]) -> tuple[int, ...]:
    """How many of the base's jobs there are, then how many meet each condition: one
    pass. The figures sharing a base ask the same question, so the answer is kept on the
    database object while nothing has been written since (its own writes count in
    total_changes, other connections' in data_version): a page of cards, each with the
    period before, then reads the jobs four times instead of sixteen."""
    conn = db.conn
    key = (conn.total_changes, conn.execute("PRAGMA data_version").fetchone()[0], base,
           conds)
    memo: dict[tuple, tuple[int, ...]] = db.__dict__.setdefault("_figure_counts", {})
    found = memo.get(key)
    if found is None:
        if len(memo) >= 64:
            memo.clear()
        sums = "".join(f", coalesce(sum(CASE WHEN {sql} THEN 1 END), 0)" for sql, _ in conds)
        found = tuple(db.execute(f"SELECT count(*){sums} FROM jobs WHERE {base[0]}",
                                 (*(p for _, ps in conds for p in ps), *base[1])).fetchone())
        memo[key] = found
    return found


def result(base: Where, num: Where, n: int, den: int) -> Result:
    value = round(100 * n / den, 1) if den else None
    return Result(value, n, den, jobs(all_of(base, num)), jobs(base))


def _cutoff(now: datetime, minutes: int) -> str:
    return iso(now - timedelta(minutes=minutes))


def done_conditions(sc: Scope) -> tuple[Where, ...]:
    """What the figures over the jobs done count: on time, on time from the report,
    reworked, passed, fixed at the first visit (in that order)."""
    return (("on_time = 1", ()), ("on_time_raw = 1", ()), reworked(sc), passed(sc),
            ("first_trip_fix = 1 AND reopened_after_minutes IS NULL", ()))


def _done_rate(db: Database, sc: Scope, i: int) -> Result:
    base, conds = done_in(sc), done_conditions(sc)
    found = counts(db, base, conds)
    return result(base, conds[i], found[i + 1], found[0])


def received_conditions(sc: Scope) -> tuple[Where, ...]:
    """Over the jobs received (not cancelled): the emergencies that count and those
    reached in time; the jobs that count for the notify figure and those told in time.
    A job still within its minutes counts for neither yet."""
    reached = per_estate(sc, "arrive_emergency_minutes", lambda m: (
        "arrive_on_time IS NOT NULL OR max(received_at, coalesce(agreed_at, '')) <= ?",
        (_cutoff(sc.now, m),)))
    emergencies = all_of(("job_class = 'emergency'", ()), reached)
    told = per_estate(sc, "notify_minutes", lambda m: (
        "notified_in_time IS NOT NULL OR received_at <= ?", (_cutoff(sc.now, m),)))
    return (emergencies, all_of(emergencies, ("arrive_on_time = 1", ())),
            told, all_of(told, ("notified_in_time = 1", ())))


def _received_rate(db: Database, sc: Scope, i: int) -> Result:
    base, conds = all_of(received_in(sc), NOT_CANCELLED), received_conditions(sc)
    found = counts(db, base, conds)
    return result(all_of(base, conds[i]), conds[i + 1], found[i + 2], found[i + 1])


# -- Figures ------------------------------------------------------------------------------

@figure("on_time", N_("Jobs on time"), "repairs", "percent", N_(
    "Jobs on time / jobs done. A job is done in the period its work was first completed; "
    "cancelled jobs never count. On time: someone arrived and the work was completed "
    "within the class's deadlines (the estate's settings when it was done), counted from "
    "the report or, after a customer-caused pause, from the time agreed with the "
    "customer. A later reopen does not change it: rework is counted on its own."),
    target="target_on_time_pct")
def on_time(db: Database, sc: Scope) -> Result:
    return _done_rate(db, sc, 0)


@figure("on_time_raw", N_("Jobs on time, pauses not excused"), "repairs", "percent", N_(
    "As jobs on time, but every deadline counted from the report: a customer-caused "
    "pause is not excused. The first arrival on site counts. The gap between the two "
    "figures is what the customers' own delays explain."))
def on_time_raw(db: Database, sc: Scope) -> Result:
    return _done_rate(db, sc, 1)


@figure("emergency_arrival", N_("Emergencies reached in time"), "repairs", "percent", N_(
    "Emergency jobs with someone on site within the estate's emergency arrival minutes / "
    "emergency jobs received in the period, not cancelled. A job nobody has reached yet "
    "counts, as late, once its minutes have passed; until then it is left out."))
def emergency_arrival(db: Database, sc: Scope) -> Result:
    return _received_rate(db, sc, 0)


@figure("notified_in_time", N_("Technicians told in time"), "repairs", "percent", N_(
    "Jobs dispatched to a person or put in a department's pool within the estate's notify "
    "minutes of the report / jobs received in the period, not cancelled. A job not yet "
    "dispatched counts, as late, once its minutes have passed; until then it is left "
    "out."))
def notified_in_time(db: Database, sc: Scope) -> Result:
    return _received_rate(db, sc, 2)


@figure("pass_rate", N_("Jobs passed"), "repairs", "percent", N_(
    "Jobs passed / jobs done (done in the period of their first completion; cancelled "
    "jobs never count). Passed: completed, not reworked (not reopened within the "
    "estate's rework window of a completion), and no unsatisfied answer on its "
    "callback. A job still inside its rework window counts as passed until it is "
    "reopened, so a recent period's figure can still fall."), target="target_pass_pct")
def pass_rate(db: Database, sc: Scope) -> Result:
    return _done_rate(db, sc, 3)


@figure("rework_rate", N_("Rework"), "repairs", "percent", N_(
    "Jobs reworked / jobs done (done in the period of their first completion; cancelled "
    "jobs never count). Reworked: reopened within the estate's rework window (days) of "
    "the completion the reopen undid. A job still inside its window counts as not "
    "reworked until it is reopened, so a recent period's figure can still rise. Lower is "
    "better."), target="target_rework_pct", lower_is_better=True)
def rework_rate(db: Database, sc: Scope) -> Result:
    return _done_rate(db, sc, 2)


@figure("first_time_fix", N_("Fixed at the first visit"), "repairs", "percent", N_(
    "Jobs fixed at the first visit / jobs done (done in the period of their first "
    "completion; cancelled jobs never count). Fixed at the first visit: completed on the "
    "first trip to the site (no pause after someone had arrived, so nobody had to come "
    "back) and never reopened. A job can still be reopened later, and then no longer "
    "counts as fixed."))
def first_time_fix(db: Database, sc: Scope) -> Result:
    return _done_rate(db, sc, 4)


# -- Tables -------------------------------------------------------------------------------

def _percentile(values: Sequence[float], p: int) -> float | None:
    """The median as the middle value (the mean of the two middle ones); other
    percentiles by nearest rank."""
    n = len(values)
    if not n:
        return None
    if p == 50:
        mid = n // 2
        value = values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2
    else:
        value = values[max(0, -(-p * n // 100) - 1)]
    return round(value, 1)


@table("repair_times", N_("Arrival and completion times by class"), "repairs",
       (N_("Arrival, median"), N_("Arrival, 90th percentile"), N_("Completion, median"),
        N_("Completion, 90th percentile")), N_(
    "Minutes from the report (or the time agreed after a customer-caused pause) to "
    "arriving on site and to completing the work, for jobs done in the period (first "
    "completed then; cancelled jobs never count), by class. Median: half the jobs took "
    "less. 90th percentile: nine jobs in ten took at most this long."),
       units=("minutes",) * 4)
def repair_times(db: Database, sc: Scope) -> list[Row]:
    done = done_in(sc)
    measured: dict[tuple[str, str], list[float]] = {}
    for klass, arrive, complete in db.execute(
            f"SELECT job_class, arrive_minutes, complete_minutes FROM jobs WHERE {done[0]}",
            done[1]):
        for column, value in (("arrive_minutes", arrive), ("complete_minutes", complete)):
            if value is not None:
                measured.setdefault((klass, column), []).append(value)
    rows = []
    for klass, label in CLASSES.items():
        cells = []
        for column in ("arrive_minutes", "complete_minutes"):
            values = sorted(measured.get((klass, column), []))
            where = all_of(done, ("job_class = ?", (klass,)), (f"{column} IS NOT NULL", ()))
            for p in (50, 90):
                cells.append(Result(_percentile(values, p), len(values), None, jobs(where)))
        rows.append(Row(label, tuple(cells), msgid=True))
    return rows


BREAKDOWN_COLUMNS = (N_("Reported"), N_("Done"), N_("On time"), N_("Rework"))
BREAKDOWN_UNITS = ("count", "count", "percent", "percent")
BREAKDOWN_DEFINITION = N_(
    "Reported: jobs received in the period, cancelled ones included. Done: jobs first "
    "completed in the period, not cancelled. On time and rework: as the figures of the "
    "same names, over the jobs done.")


def breakdown(db: Database, sc: Scope, key: str, match: Callable[[Any], Where],
              label: Callable[[Any], tuple[str, bool]],
              fold: Callable[[Any], Any] = lambda v: v) -> list[Row]:
    """Reported, done, on time and rework per value of `key` (a column of jobs, read
    from the index), folded into rows by `fold`, most reported first; `match(row)`
    selects a row's jobs."""
    rework = reworked(sc)
    counts: dict[Any, list[int]] = {}
    rec, done = received_in(sc), done_in(sc)
    for value, n in db.execute(f"SELECT {key}, count(*) FROM jobs WHERE {rec[0]} GROUP BY 1",
                               rec[1]):
        counts.setdefault(fold(value), [0, 0, 0, 0])[0] += n
    for value, n, ok, again in db.execute(
            f"SELECT {key}, count(*), coalesce(sum(on_time = 1), 0),"
            f" coalesce(sum(CASE WHEN {rework[0]} THEN 1 END), 0)"
            f" FROM jobs WHERE {done[0]} GROUP BY 1", (*rework[1], *done[1])):
        cell = counts.setdefault(fold(value), [0, 0, 0, 0])
        cell[1:] = [cell[1] + n, cell[2] + ok, cell[3] + again]
    rows = []
    for value, (n_rec, n_done, n_ok, n_again) in sorted(
            counts.items(), key=lambda kv: (-kv[1][0], -kv[1][1], str(kv[0]))):
        this = match(value)
        base = all_of(done, this)
        text, is_msgid = label(value)
        rows.append(Row(text, (
            Result(float(n_rec), n_rec, None, jobs(all_of(rec, this))),
            Result(float(n_done), n_done, None, jobs(base)),
            Result(round(100 * n_ok / n_done, 1) if n_done else None, n_ok, n_done,
                   jobs(all_of(base, ("on_time = 1", ()))), jobs(base)),
            Result(round(100 * n_again / n_done, 1) if n_done else None, n_again, n_done,
                   jobs(all_of(base, rework)), jobs(base)),
        ), is_msgid))
    return rows


def _vocabulary(names: dict[str, str]) -> Callable[[Any], tuple[str, bool]]:
    return lambda v: (names[v], True) if v in names else (str(v), False)


@table("jobs_by_category", N_("Jobs by category"), "repairs", BREAKDOWN_COLUMNS,
       BREAKDOWN_DEFINITION,
       units=BREAKDOWN_UNITS)
def jobs_by_category(db: Database, sc: Scope) -> list[Row]:
    return breakdown(db, sc, "category", lambda v: ("category = ?", (v,)),
                     _vocabulary({k: label for k, (label, _) in CATEGORIES.items()}))


@table("jobs_by_source", N_("Jobs by source"), "repairs", BREAKDOWN_COLUMNS,
       BREAKDOWN_DEFINITION,
       units=BREAKDOWN_UNITS)
def jobs_by_source(db: Database, sc: Scope) -> list[Row]:
    return breakdown(db, sc, "source", lambda v: ("source = ?", (v,)), _vocabulary(SOURCES))


NO_BUILDING = N_("No unit (common areas)")


@table("jobs_by_building", N_("Jobs by building"), "repairs", BREAKDOWN_COLUMNS, N_(
    "Jobs by the building of their unit (each estate's buildings apart, even with the "
    "same name); jobs with no unit (common areas) in a row of their own. Reported: jobs "
    "received in the period, cancelled ones included. Done: jobs first completed in the "
    "period, not cancelled. On time and rework: as the figures of the same names."),
       units=BREAKDOWN_UNITS)
def jobs_by_building(db: Database, sc: Scope) -> list[Row]:
    names = {bid: (estate, name) for bid, estate, name in db.execute(
        "SELECT b.id, e.name, b.name FROM buildings b JOIN estates e ON e.id = b.estate_id"
        f" WHERE b.estate_id IN ({sc.marks})", sc.estate_ids)}
    # Jobs are grouped by unit in the index, then units folded into their buildings.
    building = dict(db.execute(f"SELECT id, building_id FROM units WHERE estate_id IN"
                               f" ({sc.marks})", sc.estate_ids).fetchall())

    def label(bid: Any) -> tuple[str, bool]:
        if bid is None or bid not in names:
            return NO_BUILDING, True
        estate, name = names[bid]
        return sc.place(estate, name), False

    def match(bid: Any) -> Where:
        if bid is None:
            return ("unit_id IS NULL", ())
        return ("unit_id IN (SELECT id FROM units WHERE building_id = ?)", (bid,))

    return breakdown(db, sc, "unit_id", match, label, building.get)
