"""The managers' monthly and yearly reports (月度报告, 年度报告): what one holds, when the
month's draft is made, and the frozen snapshot an issued report keeps.

A report is an estate's month or year. Its figures are whatever `figures.FIGURES` and
`figures.TABLES` hold when it is computed (the definition modules register there), with
the twelve-month trends, the change against the previous period and the targets. A
draft's figures are computed when it is shown, so late work (a callback made on the
28th) still counts; issuing stores them as they were (`snapshot`, canonical JSON) with
their SHA-256, which the report prints and its page shows. An issued report is never
computed again (the table's triggers refuse any change to it); a correction is a new
version (report_commands.py).

The month's draft is made on the estate's `report_day` (default the 25th, so it is
issued by the 30th) by the worker's hourly task (`schedule`), or on demand by a manager.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

import sync
from sync import Command

from . import figures, periods, surveys
from .sampling import SAMPLERS
from .settings import estate_settings
from .text import N_

KINDS = {"month": N_("Monthly report"), "year": N_("Yearly report")}
STATUSES = {"draft": N_("Draft"), "issued": N_("Issued")}
FORMAT = 1  # the snapshot's layout: a page reads an issued report by the layout it has
TABLE_ROWS = 20  # a breakdown's rows in a report (the figures pages list them all)
# A household's routine callback counts towards a sampler's yearly share (docs/DOMAIN.md):
# the service centre's share a year and each other department's minimum.
YEAR_SHARES = {"service": "routine_service_year_pct", "maintenance": "routine_dept_year_min_pct",
               "security": "routine_dept_year_min_pct", "cleaning": "routine_dept_year_min_pct"}
# The draft the schedule makes is one command per estate and period: its op_id is made
# from them, so a second run (the next hour, another worker) is a duplicate, never a
# second draft.
SCHEDULE_NAMESPACE = uuid.UUID("6b1f5a52-33c1-4e0b-9a53-52f1d7a4c0de")


def parse_period(kind: str, key: str, now: datetime) -> periods.Period:
    """The period a report of `kind` covers, from its key ('2026-11' or '2026').

    ValueError when the key is not a period of that kind, or lies in the future."""
    if kind not in KINDS:
        raise ValueError(f"not a kind of report: {kind!r}")
    period = periods.parse(key, now)
    if period.kind != kind or not key.strip():
        raise ValueError(f"not a {kind}: {key!r}")
    if period.start > periods.local_today(now):
        raise ValueError(f"not begun yet: {key!r}")
    return period


def last_day_ahead(kind: str, key: str, now: datetime) -> date | None:
    """The report's last local day while its period has not ended yet (issued now, it
    would leave out the rest of the period), else None."""
    period = parse_period(kind, key, now)
    return period.end - timedelta(days=1) if periods.local_today(now) < period.end else None


# --- Reading ----------------------------------------------------------------------------

LIST_COLUMNS = ("id, estate_id, kind, period, version, status, created_at, created_by,"
                " updated_at, issued_at, issued_by, sha256, row_version")


def get(db: Database, report_id: int) -> dict[str, Any] | None:
    """A report's row with the names of who made and issued it (no document bytes)."""
    return next(iter(db.query(
        f"SELECT r.{LIST_COLUMNS.replace(', ', ', r.')}, r.analysis, r.measures, r.snapshot,"
        " e.name AS estate_name, c.display_name AS created_by_name,"
        " i.display_name AS issued_by_name FROM reports r JOIN estates e ON e.id = r.estate_id"
        " LEFT JOIN users c ON c.id = r.created_by LEFT JOIN users i ON i.id = r.issued_by"
        " WHERE r.id = ?", [report_id])), None)


def list_for(db: Database, estate_id: int) -> list[dict[str, Any]]:
    """The estate's reports, newest period first, each period's versions newest first."""
    return list(db.query(
        f"SELECT {LIST_COLUMNS} FROM reports WHERE estate_id = ?"
        " ORDER BY period DESC, kind, version DESC", [estate_id]))


def latest(db: Database, estate_id: int, kind: str, period: str) -> dict[str, Any] | None:
    """The period's newest version (a draft being corrected, or the last issued)."""
    return next(iter(db.query(
        f"SELECT {LIST_COLUMNS} FROM reports WHERE estate_id = ? AND kind = ? AND period = ?"
        " ORDER BY version DESC LIMIT 1", [estate_id, kind, period])), None)


def html(db: Database, report_id: int) -> str | None:
    """The document an issued report was rendered as when issued."""
    row = db.execute("SELECT html FROM reports WHERE id = ? AND status = 'issued'",
                     [report_id]).fetchone()
    return zlib.decompress(row[0]).decode("utf-8") if row and row[0] is not None else None


# --- What a report holds ------------------------------------------------------------------

def _trend_months(kind: str, period: periods.Period) -> list[periods.Period]:
    """The months a report's trends show: twelve ending with the month, or the year's."""
    return periods.trailing_months(period, 12) if kind == "month" else period.months()


def _value(result: figures.Result) -> dict[str, Any]:
    return {"value": result.value, "numerator": result.numerator,
            "denominator": result.denominator}


def _figure(db: Database, fig: figures.Figure, kind: str, sc: figures.Scope,
            months: list[periods.Period], today: date) -> dict[str, Any]:
    # A month report's own month is the trend's last point and the previous month the one
    # before: each month is computed once.
    trend = [fig.fn(db, sc.with_period(m)) if m.start <= today else figures.Result(None)
             for m in months]
    if kind == "month":
        result, previous = trend[-1], trend[-2]
    else:
        result = fig.fn(db, sc)
        previous = fig.fn(db, sc.with_period(sc.period.previous()))
    ev = figures.Evaluated(fig, result, previous, figures.target(fig, sc))
    return {"key": fig.key, "label": fig.label, "area": fig.area, "unit": fig.unit,
            "lower_is_better": fig.lower_is_better, **_value(result),
            "previous": previous.value, "change": ev.change, "target": ev.target,
            "meets": ev.meets, "trend": [r.value for r in trend]}


def _table(db: Database, table: figures.Table, sc: figures.Scope) -> dict[str, Any]:
    rows = table.fn(db, sc)
    return {"key": table.key, "label": table.label, "area": table.area,
            "columns": list(table.columns), "units": list(table.units),
            "more": max(0, len(rows) - TABLE_ROWS),
            "rows": [{"label": r.label, "msgid": r.msgid, "cells": [_value(c) for c in r.cells]}
                     for r in rows[:TABLE_ROWS]]}


def _area_order(key: str) -> int:
    return list(figures.AREAS).index(key) if key in figures.AREAS else len(figures.AREAS)


def contents(db: Database, estate_id: int, kind: str, period: periods.Period,
             now: datetime) -> dict[str, Any]:
    """The report's figures as they are now: every registered figure and table, by area,
    with trends; a year adds the routine callback coverage and the opinion survey."""
    sc = figures.scope(db, [estate_id], period, now)
    months = _trend_months(kind, period)
    today = periods.local_today(now)
    figs = sorted(figures.FIGURES.values(), key=lambda f: _area_order(f.area))
    tables = sorted(figures.TABLES.values(), key=lambda t: _area_order(t.area))
    estate = db.execute("SELECT name FROM estates WHERE id = ?", [estate_id]).fetchone()
    out: dict[str, Any] = {
        "format": FORMAT, "kind": kind, "period": period.key,
        "estate": {"id": estate_id, "name": estate[0] if estate else ""},
        "months": [m.key for m in months],
        "figures": [_figure(db, f, kind, sc, months, today) for f in figs],
        "tables": [_table(db, t, sc) for t in tables],
    }
    if kind == "year":
        out["routine"] = routine_coverage(db, estate_id, period.start.year)
        out["survey"] = survey_summary(db, estate_id, period.start.year, now)
    return out


@dataclass(frozen=True)
class SamplerCoverage:
    sampler: str
    label: str  # msgid
    planned: int  # households put in the year's plans
    done: int  # households called back (a routine task done)
    share: int | None  # the yearly share the procedures ask for, percent of households


def routine_coverage(db: Database, estate_id: int, year: int) -> dict[str, Any]:
    """The year's routine callbacks: households called back over the estate's households,
    overall and per sampler (each household counted once however often it was called)."""
    households = db.execute(
        "SELECT count(*) FROM units u WHERE u.estate_id = ? AND EXISTS"
        " (SELECT 1 FROM residents r WHERE r.unit_id = u.id)", [estate_id]).fetchone()[0]
    first, last = f"{year:04d}-01", f"{year:04d}-12"
    rows = {s: (p, d) for s, p, d in db.execute(
        "SELECT t.sampler, count(DISTINCT t.unit_id),"
        " count(DISTINCT CASE WHEN t.status = 'done' THEN t.unit_id END)"
        " FROM routine_plans p JOIN callback_tasks t ON t.plan_id = p.id AND t.kind = 'routine'"
        " WHERE p.estate_id = ? AND p.month BETWEEN ? AND ? GROUP BY t.sampler",
        [estate_id, first, last])}
    reached = db.execute(
        "SELECT count(DISTINCT t.unit_id) FROM routine_plans p JOIN callback_tasks t"
        " ON t.plan_id = p.id AND t.kind = 'routine' AND t.status = 'done'"
        " WHERE p.estate_id = ? AND p.month BETWEEN ? AND ?",
        [estate_id, first, last]).fetchone()[0]
    plans = db.execute("SELECT count(*) FROM routine_plans WHERE estate_id = ? AND month"
                       " BETWEEN ? AND ?", [estate_id, first, last]).fetchone()[0]
    settings = estate_settings(db, estate_id)
    samplers = [SamplerCoverage(s, label, *rows.get(s, (0, 0)),
                                settings[YEAR_SHARES[s]] if s in YEAR_SHARES else None)
                for s, label in SAMPLERS.items()]
    return {
        "households": households, "plans": plans, "reached": reached,
        "coverage": round(100 * reached / households, 1) if households else None,
        "samplers": [{**vars(s), "coverage": round(100 * s.done / households, 1)
                      if households else None} for s in samplers],
    }


def survey_summary(db: Database, estate_id: int, year: int, now: datetime
                   ) -> dict[str, Any] | None:
    """The year's annual opinion survey (意见调查, domain/surveys.py) for the yearly report:
    its title, households, answers and response rate (percent of households); None when
    the estate sent none that year. Several in a year are summed under the last's title.
    Read when a yearly report is computed, frozen into the snapshot when it is issued."""
    summary = surveys.year_summary(db, [estate_id], year, now)
    if not summary["surveys"]:
        return None
    return {"title": summary["surveys"][-1]["title"], "households": summary["households"],
            "responses": summary["answered"], "rate": summary["rate"]}


# --- Issuing ----------------------------------------------------------------------------

def snapshot(report: Mapping[str, Any], body: Mapping[str, Any], issued_by: str,
             now: datetime) -> dict[str, Any]:
    """What an issued report keeps: its figures, the manager's text, who issued it."""
    return {**body, "version": report["version"], "analysis": report["analysis"],
            "measures": report["measures"], "issued_at": now.isoformat(timespec="seconds"),
            "issued_by": issued_by}


def canonical(data: Mapping[str, Any]) -> bytes:
    """The one byte form of a snapshot (sorted keys, no spaces, UTF-8): what is hashed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def digest(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


def verified(report: Mapping[str, Any]) -> bool:
    """Whether an issued report's stored snapshot still has the hash issued with it."""
    stored = report.get("snapshot")
    return bool(stored and report.get("sha256")) and \
        hashlib.sha256(stored.encode("utf-8")).hexdigest() == report["sha256"]


def compress(document: str) -> bytes:
    return zlib.compress(document.encode("utf-8"), 6)


# --- The schedule -----------------------------------------------------------------------

def due(db: Database, now: datetime) -> list[tuple[int, str, str]]:
    """(estate, kind, period) of the drafts the schedule makes now: each estate's month
    from its report day on (not before), when the month has no report yet; in December
    the year's too."""
    today = periods.local_today(now)
    month = periods.month(today).key
    out = []
    for (estate_id,) in db.execute("SELECT id FROM estates ORDER BY id").fetchall():
        if today.day < estate_settings(db, estate_id)["report_day"]:
            continue
        wanted = [("month", month)] + ([("year", f"{today.year:04d}")]
                                       if today.month == 12 else [])
        for kind, period in wanted:
            if latest(db, estate_id, kind, period) is None:
                out.append((estate_id, kind, period))
    return out


def schedule(db: Database, now: datetime, handlers: Mapping[str, sync.Handler]) -> int:
    """Make the drafts that are due, each through the command path as the schedule's own
    command (no user); returns how many were made."""
    made = 0
    for estate_id, kind, period in due(db, now):
        cmd = Command(op_id=str(uuid.uuid5(SCHEDULE_NAMESPACE, f"{estate_id}:{kind}:{period}")),
                      kind="report.draft", target=f"estate:{estate_id}",
                      payload={"kind": kind, "period": period}, user_id=None,
                      device_id="schedule")
        outcome = sync.apply(db, cmd, handlers, now)
        made += outcome.status == "applied" and bool(outcome.result.get("created"))
    return made
