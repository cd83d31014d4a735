"""Routine callbacks (例行回访): a monthly plan of households to call, per sampler.

Who samples, and how many households (docs/DOMAIN.md, "Routine callbacks"; the percentages
are the estate's settings):

- the estate manager: `routine_manager_month_pct` of households a month;
- the service centre: `routine_service_year_pct` a year, spread over the months;
- every other department (maintenance, security, cleaning):
  `routine_dept_month_pct` a month, and at least `routine_dept_year_min_pct` a year.

Rounding is always up (ceiling), so a quota is never 0 for an estate with
households: 1 % of 150 households is 2. See `monthly_quotas` for the exact rules.

The sample (docs/DOMAIN.md, the plan's rule, `sampling.draw_longest_ago`): a sampler never
draws a household it drew within `routine_no_repeat_days`; no household is drawn twice
in the same month; the households called longest ago (by anyone) come first, so the
quotas (134 % of households a year with the defaults) are met in full. It leaves out
households that had an information callback this month, is spread over buildings and
floors, and is reproducible: the plan records its seed and what it saw, and `redraw`
computes the same households again. A year's first plan made late asks for the yearly
shares pro rata of the months left.

Plans made before this rule (no `rule` in their basis) drew no household twice within
the horizon by anyone; `redraw` draws them by that rule.

Households are units with at least one resident. Times are naive UTC; a month is
the estate's calendar month in the time zone the caller passes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlite_utils import Database

from .months import (
    month_window,
    parse_month,
)
from .sampling import (
    SAMPLERS,
    Household,
    _max_id,
    draw,
    draw_longest_ago,
    households,
    informed_this_month,
    key_customers,
    last_contacts,
    recently_sampled,
)
from .settings import estate_settings

DEPARTMENT_SAMPLERS = ("maintenance", "security", "cleaning")
RULE = 2  # the sampling rule plans are drawn by now (recorded in each plan's basis)


# --- Months ---------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


# --- Quotas -----------------------------------------------------------------------------

def ceil_div(a: int, b: int) -> int:
    """Integer ceiling of a / b for b > 0 (exact: no floating point)."""
    return -(-a // b)


def monthly_quotas(
    households: int,
    settings: Mapping[str, int],
    month_index: int,
    planned_this_year: Mapping[str, int] | None = None,
    first_month: int | None = None,
) -> dict[str, int]:
    """How many households each sampler calls in month `month_index` (1-12).

    N = households, all rounding up; the year's shares count from `first_month`, the
    month of the year's first plan (January, or later for an estate that started
    planning later: then the yearly shares are pro rata of the months left):
    - manager: ceil(N × manager_pct / 100);
    - service centre: ceil(N × service_pct / 100 × months since first_month / 12)
      minus what its earlier plans this year took (never below 0), so by December its
      year adds up to exactly its share (less any shortfall);
    - each other department: the larger of ceil(N × dept_pct / 100) and what it
      still needs to reach ceil(N × dept_year_min_pct / 100 × months from first_month
      / 12) this year, spread over the months left including this one, rounded up.
    `planned_this_year` counts households in this year's earlier plans, by sampler.
    """
    if not 1 <= month_index <= 12:
        raise ValueError("month_index is 1 to 12")
    first = 1 if first_month is None else min(max(first_month, 1), month_index)
    n = max(households, 0)
    planned = planned_this_year or {}
    quotas = {"manager": ceil_div(n * settings["routine_manager_month_pct"], 100)}
    months_so_far = month_index - first + 1
    service_to_date = ceil_div(n * settings["routine_service_year_pct"] * months_so_far, 1200)
    quotas["service"] = max(0, service_to_date - planned.get("service", 0))
    monthly = ceil_div(n * settings["routine_dept_month_pct"], 100)
    year_minimum = ceil_div(n * settings["routine_dept_year_min_pct"] * (13 - first), 1200)
    months_left = 13 - month_index
    for dept in DEPARTMENT_SAMPLERS:
        behind = max(0, year_minimum - planned.get(dept, 0))
        quotas[dept] = max(monthly, ceil_div(behind, months_left))
    return quotas


def allocate(quotas: Mapping[str, int], available: int) -> dict[str, int]:
    """Share `available` households among the samplers' quotas.

    Everyone gets their quota when there are enough. Otherwise one household at a
    time goes to each sampler still short, in SAMPLERS order, so a shortage falls
    evenly on the large quotas and the small ones (the manager's) are met first.
    """
    wanted = {s: max(0, int(quotas.get(s, 0))) for s in SAMPLERS}
    if sum(wanted.values()) <= available:
        return wanted
    given = dict.fromkeys(SAMPLERS, 0)
    left = max(available, 0)
    while left:
        for s in SAMPLERS:
            if left and given[s] < wanted[s]:
                given[s] += 1
                left -= 1
    return given


# --- Drawing ----------------------------------------------------------------------------


# --- Reading the estate ---------------------------------------------------------------


def first_plan_month(db: Database, estate_id: int, month: str) -> int:
    """The month (1-12) of this year's first plan: an earlier one, else `month` itself."""
    year, mon = parse_month(month)
    first = db.execute("SELECT min(month) FROM routine_plans WHERE estate_id = ? AND "
                       "month >= ? AND month < ?", [estate_id, f"{year:04d}-01", month]
                       ).fetchone()[0]
    return parse_month(first)[1] if first else mon


def planned_this_year(db: Database, estate_id: int, month: str) -> dict[str, int]:
    """Households in this year's plans for the months before `month`, by sampler."""
    year, _mon = parse_month(month)
    return {
        r[0]: r[1]
        for r in db.execute(
            """SELECT t.sampler, count(*) FROM routine_plans p
               JOIN callback_tasks t ON t.plan_id = p.id AND t.kind = 'routine'
               WHERE p.estate_id = ? AND p.month >= ? AND p.month < ?
               GROUP BY t.sampler""",
            [estate_id, f"{year:04d}-01", month],
        ).fetchall()
    }


# --- Plans ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    id: int
    estate_id: int
    month: str
    seed: int
    households: int
    samplers: dict[str, dict[str, int]]  # quota, planned, shortfall
    basis: dict[str, Any]  # what the draw saw: window, zone, watermarks, exclusions
    created_at: str
    created_by: int | None


def _plan(row: Mapping[str, Any]) -> Plan:
    quotas = json.loads(row["quotas"])
    return Plan(row["id"], row["estate_id"], row["month"], row["seed"], row["households"],
                quotas["samplers"], quotas["basis"], row["created_at"], row["created_by"])


def get_plan(db: Database, plan_id: int) -> Plan | None:
    row = next(iter(db.query("SELECT * FROM routine_plans WHERE id = ?", [plan_id])), None)
    return _plan(row) if row else None


def plan_for(db: Database, estate_id: int, month: str) -> Plan | None:
    row = next(iter(db.query("SELECT * FROM routine_plans WHERE estate_id = ? AND month = ?",
                             [estate_id, month])), None)
    return _plan(row) if row else None


@dataclass(frozen=True)
class Preview:
    """What a plan made now would ask for, before the draw."""
    households: int
    quotas: dict[str, int]


def preview(db: Database, estate_id: int, month: str) -> Preview:
    n = len(households(db, estate_id))
    quotas = monthly_quotas(n, estate_settings(db, estate_id), parse_month(month)[1],
                            planned_this_year(db, estate_id, month),
                            first_plan_month(db, estate_id, month))
    return Preview(n, quotas)


def _candidates(db: Database, estate_id: int, month: str, basis: Mapping[str, Any]
                ) -> tuple[list[Household], list[Household], dict[str | None, set[int]], int]:
    """(all households, candidates, what each sampler called within the horizon, left out
    as informed). Plans of the first rule left out what anyone called within it."""
    window = (datetime.fromisoformat(basis["window"][0]),
              datetime.fromisoformat(basis["window"][1]))
    everyone = households(db, estate_id, basis["resident_watermark"])
    recent = recently_sampled(db, estate_id, month, basis["no_repeat_days"],
                              basis["task_watermark"], window[0])
    if basis.get("rule", 1) == 1:
        recent = {None: set().union(*recent.values())}
    informed = informed_this_month(db, estate_id, window, basis["task_watermark"])
    if basis.get("rule", 1) == 1:
        informed -= recent[None]
    candidates = [h for h in everyone if h.unit_id not in informed
                  and h.unit_id not in recent.get(None, ())]
    ids = {h.unit_id for h in everyone}
    return everyone, candidates, recent, len(informed & ids)


def _draw(db: Database, estate_id: int, basis: Mapping[str, Any], candidates: list[Household],
          recent: Mapping[str | None, set[int]], allocation: Mapping[str, int],
          seed: int) -> dict[str, list[int]]:
    if basis.get("rule", 1) == 1:
        return draw(candidates, allocation, seed)
    contacts = last_contacts(db, estate_id, basis["task_watermark"])
    return draw_longest_ago(candidates, allocation, seed, contacts, recent)


def make_plan(
    db: Database,
    estate_id: int,
    month: str,
    seed: int,
    now: datetime,
    tz: tzinfo = UTC,
    user_id: int | None = None,
) -> tuple[Plan, bool]:
    """Make the estate's plan for `month` in one transaction; (plan, created).

    A plan already made for that month is returned as it is (created False).
    """
    existing = plan_for(db, estate_id, month)
    if existing is not None:
        return existing, False
    year, mon = parse_month(month)
    settings = estate_settings(db, estate_id)
    window = month_window(month, tz)
    try:
        with db.atomic():
            basis: dict[str, Any] = {
                "window": [_iso(window[0]), _iso(window[1])],
                "zone": getattr(tz, "key", None) or str(tz),
                "no_repeat_days": settings["routine_no_repeat_days"],
                "task_watermark": _max_id(db, "callback_tasks"),
                "resident_watermark": _max_id(db, "residents"),
                "rule": RULE,
            }
            everyone, candidates, recent, informed = _candidates(db, estate_id, month, basis)
            basis.update(candidates=len(candidates), left_out_informed=informed)
            quotas = monthly_quotas(len(everyone), settings, mon,
                                    planned_this_year(db, estate_id, month),
                                    first_plan_month(db, estate_id, month))
            allocation = allocate(quotas, len(candidates))
            drawn = _draw(db, estate_id, basis, candidates, recent, allocation, seed)
            samplers = {
                s: {"quota": quotas[s], "planned": len(drawn[s]),
                    "shortfall": quotas[s] - len(drawn[s])}
                for s in SAMPLERS
            }
            plan_id = db.execute(
                "INSERT INTO routine_plans (estate_id, month, seed, households, quotas,"
                " created_at, created_by) VALUES (?,?,?,?,?,?,?)",
                [estate_id, month, seed, len(everyone),
                 json.dumps({"samplers": samplers, "basis": basis}), _iso(now), user_id],
            ).lastrowid
            _insert_tasks(db, estate_id, plan_id, drawn, now, window[1])
    except sqlite3.IntegrityError:
        # Another writer made this month's plan between our look and our insert.
        existing = plan_for(db, estate_id, month)
        if existing is None:
            raise
        return existing, False
    plan = get_plan(db, plan_id)
    assert plan is not None
    return plan, True


def _insert_tasks(db: Database, estate_id: int, plan_id: int, drawn: Mapping[str, list[int]],
                  now: datetime, month_end: datetime) -> None:
    units = [u for s in SAMPLERS for u in drawn[s]]
    contacts = {
        r[0]: (r[1], r[2])
        for r in db.execute(
            """SELECT r.unit_id, r.name, r.phone FROM residents r
               WHERE r.id IN (SELECT min(id) FROM residents
                              WHERE unit_id IN (SELECT value FROM json_each(?))
                              GROUP BY unit_id)""",
            [json.dumps(units)],
        ).fetchall()
    }
    key = key_customers(db, estate_id, now)
    due = _iso(month_end - timedelta(seconds=1))
    created = _iso(now)
    rows = []
    for s in SAMPLERS:
        for unit_id in drawn[s]:
            name, phone = contacts.get(unit_id, ("", ""))
            is_key = unit_id in key
            rows.append((estate_id, f"plan:{plan_id}", unit_id, unit_id, name, phone, s, s,
                         "visit" if is_key else "phone", int(is_key), plan_id, created, due,
                         due))
    db.conn.executemany(
        """INSERT INTO callback_tasks (estate_id, kind, source, source_id, unit_id,
               contact_name, contact_phone, sampler, assignee_id, pool, method_hint,
               key_customer, plan_id, created_at, due_at, latest_at, status)
           VALUES (?, 'routine', ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, 'open')""",
        rows,
    )


def stored_sample(db: Database, plan_id: int) -> dict[str, list[int]]:
    """The plan's households by sampler, in the order they were drawn."""
    out: dict[str, list[int]] = {s: [] for s in SAMPLERS}
    for sampler, unit_id in db.execute(
        "SELECT sampler, unit_id FROM callback_tasks WHERE plan_id = ? AND kind = 'routine'"
        " ORDER BY id",
        [plan_id],
    ).fetchall():
        out.setdefault(sampler, []).append(unit_id)
    return out


def redraw(db: Database, plan_id: int) -> dict[str, list[int]]:
    """Draw the plan again from its seed, against the state it saw (for an auditor).

    The households, the no-repeat look-back and the information callbacks are read
    as they were when the plan was made (rows up to its recorded watermarks, so its
    own tasks and anything later are not seen); the quotas are the recorded ones.
    """
    plan = get_plan(db, plan_id)
    if plan is None:
        raise LookupError(plan_id)
    _everyone, candidates, recent, _i = _candidates(db, plan.estate_id, plan.month, plan.basis)
    quotas = {s: v["quota"] for s, v in plan.samplers.items()}
    return _draw(db, plan.estate_id, plan.basis, candidates, recent,
                 allocate(quotas, len(candidates)), plan.seed)


def verify(db: Database, plan_id: int) -> bool:
    """True when the stored tasks are exactly what the recorded seed draws."""
    return redraw(db, plan_id) == stored_sample(db, plan_id)


# --- Progress and the plan's households ---------------------------------------------------

@dataclass(frozen=True)
class SamplerProgress:
    sampler: str
    label: str
    quota: int
    planned: int
    done: int
    left: int
    shortfall: int


def progress(db: Database, plan: Plan) -> list[SamplerProgress]:
    """Per sampler: the quota, households planned, calls done, calls left, shortfall."""
    done = {
        r[0]: (r[1], r[2])
        for r in db.execute(
            "SELECT sampler, count(*), sum(status = 'done') FROM callback_tasks"
            " WHERE plan_id = ? AND kind = 'routine' GROUP BY sampler",
            [plan.id],
        ).fetchall()
    }
    rows = []
    for s, label in SAMPLERS.items():
        q = plan.samplers.get(s, {"quota": 0, "shortfall": 0})
        planned, finished = done.get(s, (0, 0))
        rows.append(SamplerProgress(s, label, q["quota"], planned, finished or 0,
                                    planned - (finished or 0), q["shortfall"]))
    return rows


def plan_households(db: Database, plan_id: int) -> list[dict[str, Any]]:
    """The plan's tasks with their unit's building and number, by building and unit."""
    return list(
        db.query(
            """SELECT t.id, t.unit_id, t.sampler, t.method_hint, t.key_customer, t.status,
                      t.contact_name, t.contact_phone, u.number, u.floor,
                      b.id AS building_id, b.name AS building_name
               FROM callback_tasks t JOIN units u ON u.id = t.unit_id
               JOIN buildings b ON b.id = u.building_id
               WHERE t.plan_id = ? AND t.kind = 'routine'
               ORDER BY length(b.name), b.name, u.floor, u.number""",
            [plan_id],
        )
    )


def by_building(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows grouped by building, keeping their order: [{name, rows, key_customers}]."""
    groups: dict[int, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(row["building_id"], {"name": row["building_name"],
                                                       "rows": [], "key_customers": 0})
        group["rows"].append(row)
        group["key_customers"] += int(bool(row["key_customer"]))
    return list(groups.values())
