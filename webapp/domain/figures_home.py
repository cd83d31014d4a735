"""What the manager's pages show: which figures are cards, which have trends, which
tables are the hot spots, and the evaluation of them once per request.

The pages are built from the registry (`figures.FIGURES`, `figures.TABLES`): a key
listed here and not registered is skipped, so a page never fails for a figure that is
not defined (yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from . import figures, periods
from .figures import Evaluated, Figure, Result, Row, Scope, Table
from .periods import Period

# The manager's home: number cards, in this order.
HOME = ("on_time", "pass_rate", "rework_rate", "callback_rate", "satisfaction",
        "complaint_in_time", "jobs_reported", "complaints_received")
# Twelve months' trends on the home (each a chart and its table).
TRENDS = ("on_time", "satisfaction", "jobs_reported")
# The hot-spot tables on the home (figures_hotspots.py).
HOTSPOTS = ("hot_buildings", "hot_units", "hot_categories", "repeat_repairs")
TREND_MONTHS = 12


def registered(keys: tuple[str, ...]) -> list[Figure]:
    return [figures.FIGURES[k] for k in keys if k in figures.FIGURES]


def area_figures(area: str) -> list[Figure]:
    return [f for f in figures.FIGURES.values() if f.area == area]


def area_tables(area: str) -> list[Table]:
    return [t for t in figures.TABLES.values() if t.area == area]


class Evaluator:
    """Figures over one set of estates, each (figure, period) computed once: the card's
    previous month is the trend's eleventh point, and the trend's last is the card."""

    def __init__(self, db: Database, sc: Scope):
        self.db, self.scope = db, sc
        self._results: dict[tuple[str, str], Result] = {}

    def result(self, key: str, period: Period | None = None) -> Result:
        period = period or self.scope.period
        memo = (key, f"{period.kind}:{period.start}:{period.end}")
        if memo not in self._results:
            self._results[memo] = figures.FIGURES[key].fn(self.db, self.scope.with_period(period))
        return self._results[memo]

    def evaluate(self, key: str) -> Evaluated:
        fig = figures.FIGURES[key]
        return Evaluated(fig, self.result(key), self.result(key, self.scope.period.previous()),
                         figures.target(fig, self.scope))

    def trend(self, key: str, count: int = TREND_MONTHS) -> list[tuple[Period, Result]]:
        return [(p, self.result(key, p))
                for p in periods.trailing_months(self.scope.period, count)]

    def rows(self, key: str) -> list[Row]:
        return figures.TABLES[key].fn(self.db, self.scope)


@dataclass(frozen=True)
class Trend:
    figure: Figure
    points: list[tuple[Period, Result]]
    target: int | None


def trends(ev: Evaluator, keys: tuple[str, ...] | None = None) -> list[Trend]:
    """The trends of `keys` (the home's TRENDS, as it is when called)."""
    return [Trend(f, ev.trend(f.key), figures.target(f, ev.scope))
            for f in registered(TRENDS if keys is None else keys)]
