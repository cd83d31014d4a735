"""Callback figures: how many handled items were called back, how soon, who was not
reached, how satisfied residents were; the month's callback statistics, routine plans per
sampler and the callback clerks' own work (docs/DOMAIN.md, "Callbacks": callback work
itself is assessed).

An information callback's task is opened when its job or complaint is handled
(`callbacks.on_handled`), so the task's `created_at` is the handling time, `due_at` the
estate's hours after it and `latest_at` the end of the estate's last working day for it:
the figures compare with these stored deadlines, the one rule that set them.
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from .callbacks import DIMENSIONS, KINDS, iso
from .figures import Records, Result, Row, Scope, count, figure, table
from .sampling import SAMPLERS
from .text import N_

TASKS = "callback_tasks"


def _handled(sc: Scope, extra: str = "", params: tuple[Any, ...] = ()) -> Records:
    """Information callbacks of the items handled in the period (and `extra`)."""
    start, end = sc.bounds()
    return Records(TASKS, f"SELECT id FROM callback_tasks WHERE estate_id IN ({sc.marks}) "
                   "AND kind = 'information' AND created_at >= ? AND created_at < ?" + extra,
                   (*sc.estate_ids, start, end, *params))


def share(db: Database, base: Records, part: str, params: tuple[Any, ...] = ()) -> Result:
    """The share of `base` (a "SELECT id FROM ... WHERE ..." query) that meets `part` (an
    SQL condition on its rows), as `figures.rate` gives it, counted in one query."""
    tail = base.sql.split(" FROM ", 1)[1]
    found, meeting = db.execute(f"SELECT count(*), coalesce(sum({part}), 0) FROM {tail}",
                                (*params, *base.params)).fetchone()
    value = round(100 * meeting / found, 1) if found else None
    return Result(value, meeting, found,
                  Records(base.kind, f"{base.sql} AND ({part})", (*base.params, *params)), base)


@figure("callback_rate", N_("Handled items called back"), "callbacks", "percent", N_(
    "Of the jobs and complaints handled in the period (signed off, or the result told: "
    "when their information callback opened), the share whose callback is done, counted "
    "when the period is read."), target="target_callback_pct")
def callback_rate(db: Database, sc: Scope) -> Result:
    return share(db, _handled(sc), "status = 'done'")


@figure("callback_24h", N_("Called back in time"), "callbacks", "percent", N_(
    "Of the items handled in the period whose callback is done or whose callback time "
    "has passed, the share called back within the estate's hours after handling (24 "
    "hours unless the estate sets otherwise)."))
def callback_24h(db: Database, sc: Scope) -> Result:
    now = iso(sc.now)
    return share(db, _handled(sc, " AND (status = 'done' OR due_at <= ?)", (now,)),
                 "status = 'done' AND done_at <= due_at")


@figure("callback_7wd", N_("Called back within the working days"), "callbacks", "percent", N_(
    "Of the items handled in the period whose callback is done or overdue, the share "
    "called back by the end of the estate's last working day for it (7 working days "
    "after handling unless the estate sets otherwise; holidays and make-up working days "
    "from the estate's calendar)."))
def callback_7wd(db: Database, sc: Scope) -> Result:
    now = iso(sc.now)
    return share(db, _handled(sc, " AND (status = 'done' OR latest_at <= ?)", (now,)),
                 "status = 'done' AND done_at <= latest_at")


@figure("callback_not_reached", N_("Callbacks not reached"), "callbacks", "percent", N_(
    "Of the items handled in the period, the share whose callback failed to reach the "
    "resident at least once (a call not answered, nobody at the door), whether or not a "
    "later try reached them."), lower_is_better=True)
def callback_not_reached(db: Database, sc: Scope) -> Result:
    return share(db, _handled(sc), "EXISTS (SELECT 1 FROM callback_records r WHERE "
                 "r.task_id = callback_tasks.id AND r.reached = 0)")


def _answers(sc: Scope, rated: str = "") -> Records:
    """Callbacks (information and routine) done in the period that have an answer (their
    last record that reached the resident with ratings, `t.answer_id`). `rated` (SQL on
    the answer `r`) keeps those whose answer rated a dimension; without it, no record is
    read: the task holds whether its answer was satisfied."""
    start, end = sc.bounds()
    join = " JOIN callback_records r ON r.id = t.answer_id" if rated else ""
    return Records(TASKS, f"""SELECT t.id FROM callback_tasks t{join}
        WHERE t.estate_id IN ({sc.marks}) AND t.done_at >= ? AND t.done_at < ?
          AND t.answer_id IS NOT NULL{rated}""", (*sc.estate_ids, start, end))


@figure("satisfaction", N_("Satisfaction"), "callbacks", "percent", N_(
    "Of the callbacks (information and routine) done in the period that reached the "
    "resident and were rated, the share satisfied: no dimension rated below 'satisfied'. "
    "A callback counts once, by its last rated answer, in the period it was done in."),
    target="target_satisfaction_pct")
def satisfaction(db: Database, sc: Scope) -> Result:
    return share(db, _answers(sc), "t.answer_satisfied = 1")


# A card reads on its own: "Satisfaction: attitude", not just "Attitude".
DIMENSION_LABELS = {
    "attitude": N_("Satisfaction: attitude"),
    "communication": N_("Satisfaction: communication"),
    "quality": N_("Satisfaction: quality of work"),
    "timeliness": N_("Satisfaction: timeliness"),
    "complaint_speed": N_("Satisfaction: speed of complaint handling"),
    "overall": N_("Satisfaction: overall"),
}
assert DIMENSION_LABELS.keys() == DIMENSIONS.keys()


def _dimension(dim: str) -> None:
    score = f"json_extract(r.ratings, '$.{dim}')"

    def fn(db: Database, sc: Scope) -> Result:
        return share(db, _answers(sc, f" AND {score} IS NOT NULL"), f"{score} >= 4")

    fn.__name__ = f"satisfaction_{dim}"
    figure(f"satisfaction_{dim}", DIMENSION_LABELS[dim], "callbacks", "percent", N_(
        "Of the callbacks done in the period whose answer (the last one that reached the "
        "resident with ratings) rated this dimension, the share rated 'satisfied' or "
        "'very satisfied' on it."),
        target="target_satisfaction_pct")(fn)


for _dim in DIMENSIONS:
    _dimension(_dim)


# -- The month's callback statistics ----------------------------------------------------

def _due(sc: Scope, extra: str = "", params: tuple[Any, ...] = ()) -> Records:
    start, end = sc.bounds()
    return Records(TASKS, f"SELECT id FROM callback_tasks WHERE estate_id IN ({sc.marks}) "
                   "AND due_at >= ? AND due_at < ?" + extra,
                   (*sc.estate_ids, start, end, *params))


MONTH_COLUMNS = (N_("Due"), N_("Done on time"), N_("Late"), N_("Not reached at least once"),
                 N_("Still open"))


@table("callback_month", N_("Callback statistics"), "callbacks", MONTH_COLUMNS, N_(
    "Callback tasks falling due in the period, by kind: done by their due time; late "
    "(done after it, or still open past it when the period is read); not reached at "
    "least once; still open."),
       units=("count",) * 5)
def callback_month(db: Database, sc: Scope) -> list[Row]:
    now = iso(sc.now)
    start, end = sc.bounds()
    # Each column's condition on a task, in MONTH_COLUMNS order ("?": now).
    columns = ("1", "done_at IS NOT NULL AND done_at <= due_at",
               "(done_at > due_at OR (done_at IS NULL AND due_at < ?))",
               "EXISTS (SELECT 1 FROM callback_records r WHERE r.task_id = callback_tasks.id "
               "AND r.reached = 0)", "status = 'open'")
    sums = ", ".join(f"coalesce(sum({c}), 0)" for c in columns)
    found = {kind: numbers for kind, *numbers in db.execute(
        f"SELECT kind, {sums} FROM callback_tasks WHERE estate_id IN ({sc.marks}) AND "
        "due_at >= ? AND due_at < ? GROUP BY kind", (now, *sc.estate_ids, start, end))}
    rows = []
    for kind, label in (*KINDS.items(), (None, N_("All callbacks"))):
        numbers = found.get(kind) if kind else [sum(n) for n in zip(
            *found.values(), strict=True)] if found else None
        which, p = (" AND kind = ?", (kind,)) if kind else ("", ())
        cells = []
        for i, condition in enumerate(columns):
            n = numbers[i] if numbers else 0
            params = (*p, now) if "?" in condition else p
            cells.append(Result(float(n), n, None, _due(sc, f"{which} AND {condition}", params)))
        rows.append(Row(label, tuple(cells), msgid=True))
    return rows


# -- The callback clerks' own work (People) ------------------------------------------------

CLERK_COLUMNS = (N_("Assigned"), N_("Called back"), N_("Called back on time"))


@table("callback_clerks", N_("Callbacks per clerk"), "people", CLERK_COLUMNS, N_(
    "Callback tasks (information and routine) falling due in the period, per person they "
    "are assigned to (a pool's task becomes the person's who made it): assigned, done, "
    "and done by their due time. Tasks still waiting in a pool are a row of their own."),
       units=("count",) * 3)
def callback_clerks(db: Database, sc: Scope) -> list[Row]:
    start, end = sc.bounds()
    people = db.execute(
        f"""SELECT t.assignee_id, coalesce(u.display_name, ''), count(*),
                   sum(t.status = 'done'), sum(t.done_at IS NOT NULL AND t.done_at <= t.due_at)
            FROM callback_tasks t LEFT JOIN users u ON u.id = t.assignee_id
            WHERE t.estate_id IN ({sc.marks}) AND t.due_at >= ? AND t.due_at < ?
            GROUP BY t.assignee_id ORDER BY t.assignee_id IS NULL, 2, 1""",
        (*sc.estate_ids, start, end)).fetchall()
    rows = []
    for assignee, name, assigned, done, on_time in people:
        who, p = (" AND assignee_id = ?", (assignee,)) if assignee else (
            " AND assignee_id IS NULL", ())
        cells = [(assigned, _due(sc, who, p)),
                 (done, _due(sc, who + " AND status = 'done'", p)),
                 (on_time, _due(sc, who + " AND done_at IS NOT NULL AND done_at <= due_at", p))]
        rows.append(Row(name if assignee else N_("In a pool, not taken"),
                        tuple(Result(float(n), n, None, r) for n, r in cells),
                        msgid=not assignee))
    return rows


# -- Routine plans per sampler ---------------------------------------------------------------

SAMPLER_COLUMNS = (N_("Quota"), N_("Planned"), N_("Called back"), N_("Left"))


@table("routine_samplers", N_("Routine callbacks per sampler"), "callbacks", SAMPLER_COLUMNS,
       N_("The routine plans of the months beginning in the period, per sampler: the "
          "households the quota asked for, those drawn into the plan, the callbacks done "
          "so far and those left to make."),
       units=("count",) * 4)
def routine_samplers(db: Database, sc: Scope) -> list[Row]:
    first = f"{sc.period.start.year:04d}-{sc.period.start.month:02d}"
    if sc.period.start.day != 1:  # this month began before the period: not its plan
        first += "-99"
    last = f"{sc.period.end.year:04d}-{sc.period.end.month:02d}"
    if sc.period.end.day != 1:  # the period ends within this month, after its first day
        last += "-99"
    plans = f"SELECT id FROM routine_plans WHERE estate_id IN ({sc.marks}) " \
            "AND month >= ? AND month < ?"
    pp = (*sc.estate_ids, first, last)
    quotas: dict[str, int] = dict.fromkeys(SAMPLERS, 0)
    for (samplers,) in db.execute(
            "SELECT json_extract(quotas, '$.samplers') FROM routine_plans WHERE id IN "
            f"({plans})", pp):
        for sampler, numbers in json.loads(samplers or "{}").items():
            quotas[sampler] = quotas.get(sampler, 0) + int(numbers.get("quota", 0))
    rows = []
    for sampler, quota in quotas.items():
        base = ("SELECT id FROM callback_tasks WHERE kind = 'routine' AND sampler = ? AND "
                f"plan_id IN ({plans})")
        sets = (Records(TASKS, base, (sampler, *pp)),
                Records(TASKS, base + " AND status = 'done'", (sampler, *pp)),
                Records(TASKS, base + " AND status = 'open'", (sampler, *pp)))
        cells = (Result(float(quota), quota), *(count(r, db) for r in sets))
        if quota or cells[1].value:
            rows.append(Row(SAMPLERS.get(sampler, sampler), cells, msgid=sampler in SAMPLERS))
    return rows
