"""Callback figures: how many handled items were called back, how soon, who was not
reached, how satisfied residents were; the month's callback statistics, routine plans per
sampler and the callback clerks' own work (DOMAIN.md, "Callbacks": callback work itself is
assessed).

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
from .figures import Records, Result, Row, Scope, count, figure, rate, table
from .sampling import SAMPLERS
from .text import N_

TASKS = "callback_tasks"


def _handled(sc: Scope, extra: str = "", params: tuple[Any, ...] = ()) -> Records:
    """Information callbacks of the items handled in the period (and `extra`)."""
    start, end = sc.bounds()
    return Records(TASKS, f"SELECT id FROM callback_tasks WHERE estate_id IN ({sc.marks}) "
                   "AND kind = 'information' AND created_at >= ? AND created_at < ?" + extra,
                   (*sc.estate_ids, start, end, *params))


@figure("callback_rate", N_("Handled items called back"), "callbacks", "percent", N_(
    "Of the jobs and complaints handled in the period (signed off, or the result told: "
    "when their information callback opened), the share whose callback is done, counted "
    "when the period is read."), target="target_callback_pct")
def callback_rate(db: Database, sc: Scope) -> Result:
    return rate(_handled(sc, " AND status = 'done'"), _handled(sc), db)


@figure("callback_24h", N_("Called back in time"), "callbacks", "percent", N_(
    "Of the items handled in the period whose callback is done or whose callback time "
    "has passed, the share called back within the estate's hours after handling (24 "
    "hours unless the estate sets otherwise)."))
def callback_24h(db: Database, sc: Scope) -> Result:
    now = iso(sc.now)
    return rate(_handled(sc, " AND status = 'done' AND done_at <= due_at"),
                _handled(sc, " AND (status = 'done' OR due_at <= ?)", (now,)), db)


@figure("callback_7wd", N_("Called back within the working days"), "callbacks", "percent", N_(
    "Of the items handled in the period whose callback is done or overdue, the share "
    "called back by the end of the estate's last working day for it (7 working days "
    "after handling unless the estate sets otherwise; holidays and make-up working days "
    "from the estate's calendar)."))
def callback_7wd(db: Database, sc: Scope) -> Result:
    now = iso(sc.now)
    return rate(_handled(sc, " AND status = 'done' AND done_at <= latest_at"),
                _handled(sc, " AND (status = 'done' OR latest_at <= ?)", (now,)), db)


@figure("callback_not_reached", N_("Callbacks not reached"), "callbacks", "percent", N_(
    "Of the items handled in the period, the share whose callback failed to reach the "
    "resident at least once (a call not answered, nobody at the door), whether or not a "
    "later try reached them."), lower_is_better=True)
def callback_not_reached(db: Database, sc: Scope) -> Result:
    missed = (" AND EXISTS (SELECT 1 FROM callback_records r WHERE r.task_id = "
              "callback_tasks.id AND r.reached = 0)")
    return rate(_handled(sc, missed), _handled(sc), db)


def _answers(sc: Scope, rated: str, satisfied: str | None) -> Records:
    """Callbacks (information and routine) whose answer was given in the period.

    A task counts once, by its last answer that reached the resident and is rated as
    `rated` says (an SQL condition on the record `{r}`); `satisfied`, when given, keeps
    those satisfied."""
    start, end = sc.bounds()
    keep = " AND " + satisfied.format(r="r") if satisfied else ""
    return Records(TASKS, f"""SELECT t.id FROM callback_records r
        JOIN callback_tasks t ON t.id = r.task_id
        WHERE r.at >= ? AND r.at < ? AND t.estate_id IN ({sc.marks}) AND r.reached = 1
          AND {rated.format(r="r")} AND r.id = (SELECT max(l.id) FROM callback_records l
              WHERE l.task_id = r.task_id AND l.reached = 1 AND {rated.format(r="l")}){keep}""",
                   (start, end, *sc.estate_ids))


@figure("satisfaction", N_("Satisfaction"), "callbacks", "percent", N_(
    "Of the callbacks (information and routine) that reached the resident and were rated "
    "in the period, the share satisfied: no dimension rated below 'satisfied'. A callback "
    "counts once, by its last rated answer; its time is when that answer was given."),
    target="target_satisfaction_pct")
def satisfaction(db: Database, sc: Scope) -> Result:
    rated = "{r}.satisfied IS NOT NULL"
    return rate(_answers(sc, rated, "{r}.satisfied = 1"), _answers(sc, rated, None), db)


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
    score = f"json_extract({{r}}.ratings, '$.{dim}')"
    rated, satisfied = score + " IS NOT NULL", score + " >= 4"

    def fn(db: Database, sc: Scope) -> Result:
        return rate(_answers(sc, rated, satisfied), _answers(sc, rated, None), db)

    fn.__name__ = f"satisfaction_{dim}"
    figure(f"satisfaction_{dim}", DIMENSION_LABELS[dim], "callbacks", "percent", N_(
        "Of the callbacks that reached the resident in the period and rated this "
        "dimension, the share rated 'satisfied' or 'very satisfied' on it. A callback "
        "counts once, by its last answer rating it; its time is when that answer was "
        "given."), target="target_satisfaction_pct")(fn)


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
    "least once; still open."))
def callback_month(db: Database, sc: Scope) -> list[Row]:
    now = iso(sc.now)
    rows = []
    for kind, label in (*KINDS.items(), (None, N_("All callbacks"))):
        which = " AND kind = ?" if kind else ""
        p: tuple[Any, ...] = (kind,) if kind else ()
        sets = (
            _due(sc, which, p),
            _due(sc, which + " AND done_at IS NOT NULL AND done_at <= due_at", p),
            _due(sc, which + " AND (done_at > due_at OR (done_at IS NULL AND due_at < ?))",
                 (*p, now)),
            _due(sc, which + " AND EXISTS (SELECT 1 FROM callback_records r WHERE "
                 "r.task_id = callback_tasks.id AND r.reached = 0)", p),
            _due(sc, which + " AND status = 'open'", p),
        )
        rows.append(Row(label, tuple(count(r, db) for r in sets), msgid=True))
    return rows


# -- The callback clerks' own work (People) ------------------------------------------------

CLERK_COLUMNS = (N_("Assigned"), N_("Called back"), N_("Called back on time"))


@table("callback_clerks", N_("Callbacks per clerk"), "people", CLERK_COLUMNS, N_(
    "Callback tasks (information and routine) falling due in the period, per person they "
    "are assigned to (a pool's task becomes the person's who made it): assigned, done, "
    "and done by their due time. Tasks still waiting in a pool are a row of their own."))
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
          "so far and those left to make."))
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
