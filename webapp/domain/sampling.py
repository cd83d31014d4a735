"""Drawing households for routine callbacks: who may be drawn, spread over buildings and
floors, from a seeded random order so an auditor can draw the same sample again."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlite_utils import Database

from .months import no_repeat_months
from .text import N_

# The samplers, in the order they draw (and share out a shortage).
SAMPLERS: dict[str, str] = {
    "manager": N_("Estate manager"),
    "service": N_("Service centre"),
    "maintenance": N_("Maintenance"),
    "security": N_("Security"),
    "cleaning": N_("Cleaning and greening"),
}
KEY_FLAGS = ("unpaid_fees", "important_owner")


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


T = TypeVar("T")


@dataclass(frozen=True)
class Household:
    unit_id: int
    building_id: int
    floor: int | None


def interleave(groups: Sequence[Sequence[T]]) -> list[T]:
    """Round-robin over the groups in the order given, weighted by their sizes.

    The k-th item of a group of n sits at (2k + 1) / 2n along the sequence; ties keep
    the groups' order. Groups of equal size give a plain round-robin; a group with
    twice the households comes up twice as often, so any stretch of the sequence
    holds each group in proportion to its size (within about one).
    """
    keyed = [
        ((2 * k + 1) / (2 * len(group)), g, item)
        for g, group in enumerate(groups)
        for k, item in enumerate(group)
    ]
    keyed.sort(key=lambda t: (t[0], t[1]))
    return [item for _key, _g, item in keyed]


def _floor_key(floor: int | None) -> tuple[bool, int]:
    return (floor is None, floor or 0)


def spread_order(households: Iterable[Household], rng: random.Random) -> list[int]:
    """Every candidate's unit id in drawing order: buildings, then floors, taken in turn.

    Buildings (by id), each building's floors (by number) and each floor's units (by
    id) are put in a fixed order first and then shuffled by `rng`, so the same
    candidates and the same seed always give the same sequence.
    """
    tree: dict[int, dict[int | None, list[int]]] = defaultdict(lambda: defaultdict(list))
    for h in households:
        tree[h.building_id][h.floor].append(h.unit_id)
    buildings = sorted(tree)
    rng.shuffle(buildings)
    per_building = []
    for b in buildings:
        floors = sorted(tree[b], key=_floor_key)
        rng.shuffle(floors)
        per_floor = []
        for f in floors:
            units = sorted(tree[b][f])
            rng.shuffle(units)
            per_floor.append(units)
        per_building.append(interleave(per_floor))
    return interleave(per_building)


def draw(
    candidates: Iterable[Household], allocation: Mapping[str, int], seed: int
) -> dict[str, list[int]]:
    """Each sampler's households: consecutive stretches of one spread-out order.

    A stretch of a round-robin over buildings covers the buildings evenly, and each
    building's part of it covers its floors evenly, so every sampler's sample is
    spread out, and no household goes to two samplers.
    """
    order = spread_order(sorted(candidates, key=lambda h: h.unit_id), random.Random(seed))
    drawn: dict[str, list[int]] = {}
    at = 0
    for s in SAMPLERS:
        n = allocation.get(s, 0)
        drawn[s] = order[at:at + n]
        at += n
    return drawn


def households(db: Database, estate_id: int, resident_watermark: int | None = None
               ) -> list[Household]:
    """Units with at least one resident (with id ≤ the watermark, when one is given)."""
    if resident_watermark is None:
        resident_watermark = _max_id(db, "residents")
    return [
        Household(r[0], r[1], r[2])
        for r in db.execute(
            """SELECT u.id, u.building_id, u.floor FROM units u
               WHERE u.estate_id = ? AND EXISTS (
                   SELECT 1 FROM residents r WHERE r.unit_id = u.id AND r.id <= ?)
               ORDER BY u.id""",
            [estate_id, resident_watermark],
        ).fetchall()
    ]


def _max_id(db: Database, table: str) -> int:
    return db.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]


def recently_sampled(db: Database, estate_id: int, month: str, days: int,
                     task_watermark: int, window_start: datetime) -> dict[str | None, set[int]]:
    """Households in a routine task of a plan within `days` of this month (either side),
    by the sampler that drew them. Routine tasks without a plan (key None: they count for
    every sampler) count when made within `days` before the month.
    Only tasks with id ≤ `task_watermark` are looked at: the state a plan saw.
    """
    lo, hi = no_repeat_months(month, days)
    cutoff = _iso(window_start - timedelta(days=days))
    out: dict[str | None, set[int]] = defaultdict(set)
    for sampler, unit_id in db.execute(
        """SELECT DISTINCT CASE WHEN p.id IS NULL THEN NULL ELSE t.sampler END, t.unit_id
           FROM callback_tasks t
           LEFT JOIN routine_plans p ON p.id = t.plan_id
           WHERE t.estate_id = ? AND t.kind = 'routine' AND t.id <= ?
             AND t.unit_id IS NOT NULL
             AND ((p.id IS NOT NULL AND p.month BETWEEN ? AND ?)
                  OR (p.id IS NULL AND t.created_at > ?))""",
        [estate_id, task_watermark, lo, hi, cutoff],
    ).fetchall():
        out[sampler].add(unit_id)
    return dict(out)


def last_contacts(db: Database, estate_id: int, task_watermark: int) -> dict[int, str]:
    """Each household's last callback (routine or information), by the time its task was
    made: a fact that stays as it was, so a redraw sees the same."""
    return dict(db.execute(
        """SELECT unit_id, max(created_at) FROM callback_tasks
           WHERE estate_id = ? AND unit_id IS NOT NULL AND id <= ? GROUP BY unit_id""",
        [estate_id, task_watermark]).fetchall())


def draw_longest_ago(candidates: Iterable[Household], allocation: Mapping[str, int], seed: int,
                     last_contact: Mapping[int, str],
                     recent: Mapping[str | None, set[int]]) -> dict[str, list[int]]:
    """Each sampler's households (docs/DOMAIN.md, "The plan's rule"): the households called longest
    ago come first (never called before all), by the month of their last callback; within
    a month, the spread-out order. Each sampler takes a stretch of that sequence, skipping
    what it called itself within the horizon (`recent`) and what another sampler took this
    month, so no household is drawn twice in a month and every stretch stays spread out.
    """
    order = spread_order(sorted(candidates, key=lambda h: h.unit_id), random.Random(seed))
    ranked = sorted(order, key=lambda u: last_contact.get(u, "")[:7])  # stable: keeps spread
    everyone = recent.get(None, set())
    taken: set[int] = set()
    drawn: dict[str, list[int]] = {}
    for s in SAMPLERS:
        want, own = allocation.get(s, 0), recent.get(s, set())
        picked: list[int] = []
        for unit in ranked:
            if len(picked) >= want:
                break
            if unit not in taken and unit not in own and unit not in everyone:
                picked.append(unit)
                taken.add(unit)
        drawn[s] = picked
    return drawn


def informed_this_month(db: Database, estate_id: int, window: tuple[datetime, datetime],
                        task_watermark: int) -> set[int]:
    """Households that had an information callback (task made) in the month."""
    return {
        r[0]
        for r in db.execute(
            """SELECT DISTINCT unit_id FROM callback_tasks
               WHERE estate_id = ? AND kind = 'information' AND unit_id IS NOT NULL
                 AND id <= ? AND created_at >= ? AND created_at < ?""",
            [estate_id, task_watermark, _iso(window[0]), _iso(window[1])],
        ).fetchall()
    }


def key_customers(db: Database, estate_id: int, now: datetime) -> set[int]:
    """Units that get a door-to-door visit (docs/DOMAIN.md: key customers).

    Flagged for long-unpaid fees or as an important owner; two or more complaints in
    the last 12 months (365 days); or a medium repair closed in the last 30 days.
    """
    marks = ",".join("?" * len(KEY_FLAGS))
    return {
        r[0]
        for r in db.execute(
            f"""SELECT f.unit_id FROM unit_flags f JOIN units u ON u.id = f.unit_id
                WHERE u.estate_id = ? AND f.flag IN ({marks})
                UNION
                SELECT unit_id FROM complaints
                WHERE estate_id = ? AND unit_id IS NOT NULL AND received_at > ?
                GROUP BY unit_id HAVING count(*) >= 2
                UNION
                SELECT unit_id FROM jobs
                WHERE estate_id = ? AND unit_id IS NOT NULL AND job_class = 'medium'
                  AND closed_at IS NOT NULL AND closed_at > ?""",
            [estate_id, *KEY_FLAGS, estate_id, _iso(now - timedelta(days=365)),
             estate_id, _iso(now - timedelta(days=30))],
        ).fetchall()
    }
