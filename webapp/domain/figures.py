"""Managers' figures: what a figure is, the registry, and how one is evaluated.

Each figure is a pure function of the database and a `Scope` (estates, period, `now`).
Its definition, in the words the page shows under "how is this computed?", is the
function's docstring: the `figure` decorator sets it from a catalog msgid, so the code
and the page can never say different things. The definitions themselves live in the
`figures_*` modules by area, registered here on import (the bottom of this file).

A number always opens the records behind it: a figure returns, with its value, the
query of the ids it counted (`Records`), so the list a manager taps into is the same
set the number was computed from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .periods import Period
from .settings import of_estates
from .text import N_

AREAS = {
    "repairs": N_("Repairs"),
    "callbacks": N_("Callbacks"),
    "complaints": N_("Complaints"),
    "inspections": N_("Inspections and feedback"),
    "people": N_("People"),
}
# What a number is: how it is printed and compared ("rating": an average on the 5 to 1
# satisfaction scale).
UNITS = ("percent", "count", "minutes", "per100", "rating")
# What a table's column heading says of its unit: a percentage its sign (the same in
# every language), a count nothing (the heading names what is counted).
UNIT_NAMES = {"minutes": N_("minutes"), "per100": N_("per 100 households"),
              "rating": N_("average of 5 to 1")}
# The lists a number can open; the figures pages know how to show each.
RECORD_KINDS = ("jobs", "complaints", "callback_tasks", "inspections", "feedback", "units",
                "activity_responses")


@dataclass(frozen=True)
class Records:
    """The records behind a number: which kind, and a query of their ids."""

    kind: str  # one of RECORD_KINDS
    sql: str  # "SELECT id FROM ... WHERE ...", ids of `kind`
    params: tuple[Any, ...] = ()

    def count(self, db: Database) -> int:
        return db.execute(f"SELECT count(*) FROM ({self.sql})", self.params).fetchone()[0]


@dataclass(frozen=True)
class Result:
    """A figure's value over a scope, and what it was computed from."""

    value: float | None  # None when there is nothing to count (no jobs: no rate)
    numerator: int | None = None
    denominator: int | None = None
    records: Records | None = None  # what the number opens: the numerator's records
    base: Records | None = None  # the denominator's records, for rates


def rate(numerator: Records, denominator: Records, db: Database) -> Result:
    """numerator / denominator as a percentage, both counted from their queries."""
    num, den = numerator.count(db), denominator.count(db)
    value = round(100 * num / den, 1) if den else None
    return Result(value, num, den, numerator, denominator)


def count(records: Records, db: Database) -> Result:
    n = records.count(db)
    return Result(float(n), n, None, records)


@dataclass(frozen=True)
class Scope:
    """Which estates, which period, evaluated when (`now`), with the estates' settings."""

    estate_ids: tuple[int, ...]
    period: Period
    now: datetime
    settings: Mapping[int, Mapping[str, int]] = field(default_factory=dict)

    @property
    def marks(self) -> str:
        """Placeholders for `estate_ids` in an IN (...) clause."""
        return ",".join("?" * len(self.estate_ids)) or "NULL"

    def bounds(self) -> tuple[str, str]:
        return self.period.bounds()

    def setting(self, key: str) -> dict[int, int]:
        """A setting's value per estate."""
        return {e: self.settings[e][key] for e in self.estate_ids}

    def place(self, estate_name: str, name: str) -> str:
        """A building (or a unit, a question) as a row names it: "estate · name" when the
        scope holds several estates (two may both have a 1栋), else the name alone."""
        return f"{estate_name} · {name}" if len(self.estate_ids) > 1 else name

    def with_period(self, period: Period) -> Scope:
        return replace(self, period=period)


def scope(db: Database, estate_ids: list[int] | tuple[int, ...], period: Period,
          now: datetime) -> Scope:
    ids = tuple(sorted(set(estate_ids)))
    return Scope(ids, period, now, of_estates(db, ids))


FigureFn = Callable[[Database, Scope], Result]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str  # msgid
    area: str  # a key of AREAS
    unit: str  # one of UNITS
    fn: FigureFn
    target: str | None = None  # the estate setting holding its target, if it has one
    lower_is_better: bool = False

    @property
    def definition(self) -> str:
        """How the figure is computed: a msgid, shown translated on the page."""
        return self.fn.__doc__ or ""


FIGURES: dict[str, Figure] = {}


def figure(key: str, label: str, area: str, unit: str, definition: str, *,
           target: str | None = None, lower_is_better: bool = False
           ) -> Callable[[FigureFn], FigureFn]:
    """Register a figure. `definition` (an N_ msgid) becomes the function's docstring."""
    assert area in AREAS and unit in UNITS and key not in FIGURES, key

    def register(fn: FigureFn) -> FigureFn:
        fn.__doc__ = definition
        FIGURES[key] = Figure(key, label, area, unit, fn, target, lower_is_better)
        return fn

    return register


@dataclass(frozen=True)
class Evaluated:
    figure: Figure
    result: Result
    previous: Result  # the same figure over the previous period
    target: int | None

    @property
    def change(self) -> float | None:
        """Against the previous period, in the figure's unit (points for a percentage)."""
        if self.result.value is None or self.previous.value is None:
            return None
        return round(self.result.value - self.previous.value, 1)

    @property
    def meets(self) -> bool | None:
        """Whether the value meets its target (None: no target, or nothing counted)."""
        if self.target is None or self.result.value is None:
            return None
        if self.figure.lower_is_better:
            return self.result.value <= self.target
        return self.result.value >= self.target


@dataclass(frozen=True)
class Row:
    label: str  # shown as is (a building's name, a person's name) or a msgid if `msgid`
    cells: tuple[Result, ...]
    msgid: bool = False


TableFn = Callable[[Database, Scope], list[Row]]


@dataclass(frozen=True)
class Table:
    """A breakdown: rows (buildings, categories, people...) of figures, each a Result."""

    key: str
    label: str  # msgid
    area: str
    columns: tuple[str, ...]  # msgids, one per cell
    fn: TableFn
    units: tuple[str, ...] = ()  # one of UNITS per column (none given: counts)

    def __post_init__(self) -> None:
        if not self.units:
            object.__setattr__(self, "units", ("count",) * len(self.columns))

    @property
    def headings(self) -> tuple[tuple[str, str], ...]:
        """(column msgid, unit) pairs, in order."""
        return tuple(zip(self.columns, self.units, strict=True))

    @property
    def definition(self) -> str:
        return self.fn.__doc__ or ""


TABLES: dict[str, Table] = {}


def table(key: str, label: str, area: str, columns: tuple[str, ...], definition: str, *,
          units: tuple[str, ...]) -> Callable[[TableFn], TableFn]:
    """Register a breakdown table. `definition` (an N_ msgid) becomes its docstring;
    `units` says what each column's numbers are (one of UNITS per column)."""
    assert area in AREAS and key not in TABLES, key
    assert len(units) == len(columns) and set(units) <= set(UNITS), key

    def register(fn: TableFn) -> TableFn:
        fn.__doc__ = definition
        TABLES[key] = Table(key, label, area, columns, fn, units)
        return fn

    return register


def target(fig: Figure, sc: Scope) -> int | None:
    """The figure's target over the scope: the estates' own when they agree, otherwise
    the strictest of them (a company-wide figure is held to its most demanding estate)."""
    if fig.target is None or not sc.estate_ids:
        return None
    values = set(sc.setting(fig.target).values())
    return (min if fig.lower_is_better else max)(values)


def evaluate(db: Database, key: str, sc: Scope) -> Evaluated:
    fig = FIGURES[key]
    return Evaluated(fig, fig.fn(db, sc), fig.fn(db, sc.with_period(sc.period.previous())),
                     target(fig, sc))


# -- Definitions ------------------------------------------------------------------------

@figure("jobs_reported", N_("Jobs reported"), "repairs", "count", N_(
    "Every job received in the period (by the time the report was received), whatever "
    "became of it, cancelled ones included."))
def jobs_reported(db: Database, sc: Scope) -> Result:
    start, end = sc.bounds()
    return count(Records("jobs", f"SELECT id FROM jobs WHERE estate_id IN ({sc.marks}) "
                         "AND received_at >= ? AND received_at < ?",
                         (*sc.estate_ids, start, end)), db)


# The definitions by area, registered on import.
from . import (  # noqa: E402,F401
    figures_callbacks,
    figures_complaints,
    figures_hotspots,
    figures_inspections,
    figures_people,
    figures_repairs,
    figures_surveys,
)
