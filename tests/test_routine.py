"""Routine callbacks: quota sizes, the sample's rules (no repeats, left out, spread out,
reproducible), key customers, one plan a month, and the plan page. The command:
test_routine_commands.py."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from webapp.domain import months, routine, sampling
from webapp.domain.settings import SETTINGS
from webapp.domain.settings import save as save_settings

from .conftest import NOW

DEFAULTS = {s.key: s.default for s in SETTINGS}
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH = "2026-11"  # the month NOW falls in


def make(db, month=MONTH, seed=1, now=NOW):
    plan, _created = routine.make_plan(db, 1, month, seed, now, SHANGHAI)
    return plan


def drawn_units(db, plan) -> list[int]:
    return [u for units in routine.stored_sample(db, plan.id).values() for u in units]


def info_callback(db, unit_id: int, created_at: datetime) -> None:
    at = created_at.isoformat(timespec="seconds")
    db.execute(
        "INSERT INTO callback_tasks (estate_id, kind, source, source_id, unit_id, created_at,"
        " due_at, latest_at, status) VALUES (1, 'information', 'job', ?, ?, ?, ?, ?, 'open')",
        [10_000 + unit_id, unit_id, at, at, at])


def unit_places(db) -> dict[int, tuple[str, int]]:
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT u.id, b.name, u.floor FROM units u JOIN buildings b ON b.id = u.building_id"
        " WHERE u.estate_id = 1").fetchall()}


# --- Quotas -------------------------------------------------------------------------------

# households -> manager, service (January, nothing planned yet), each department.
# Rounding is always up: manager ceil(N×1%), service ceil(N×50%×1/12),
# department max(ceil(N×2%), ceil(ceil(N×20%) / 12)).
QUOTAS = {
    0: (0, 0, 0),
    1: (1, 1, 1),  # 0.01 -> 1, 0.04 -> 1, max(0.02 -> 1, 0.2 -> 1 / 12 -> 1)
    99: (1, 5, 2),  # 0.99 -> 1, 4.125 -> 5, max(1.98 -> 2, 19.8 -> 20 / 12 -> 2)
    150: (2, 7, 3),  # 1.5 -> 2 (never 0), 6.25 -> 7, max(3, 30 / 12 -> 3)
    320: (4, 14, 7),  # 3.2 -> 4, 13.3 -> 14, max(6.4 -> 7, 64 / 12 -> 6)
    10000: (100, 417, 200),  # 100, 416.7 -> 417, max(200, 2000 / 12 -> 167)
}


@pytest.mark.parametrize("n", sorted(QUOTAS))
def test_quota_sizes_round_up(n):
    manager, service, dept = QUOTAS[n]
    q = routine.monthly_quotas(n, DEFAULTS, 1, {})
    assert q == {"manager": manager, "service": service,
                 "maintenance": dept, "security": dept, "cleaning": dept}


@pytest.mark.parametrize("n", sorted(QUOTAS))
def test_the_service_centre_year_adds_up_to_its_share_by_december(n):
    planned = Counter()
    for month in range(1, 13):
        q = routine.monthly_quotas(n, DEFAULTS, month, planned)
        assert q["service"] >= 0
        planned["service"] += q["service"]
        for dept in routine.DEPARTMENT_SAMPLERS:
            planned[dept] += q[dept]
    assert planned["service"] == math.ceil(n * 50 / 100)
    for dept in routine.DEPARTMENT_SAMPLERS:
        assert planned[dept] >= math.ceil(n * 20 / 100)


def test_a_department_behind_its_yearly_minimum_catches_up_over_the_months_left():
    settings = {**DEFAULTS, "routine_dept_month_pct": 1}
    # 1,000 households: 1 % a month is 10, the yearly minimum 200.
    assert routine.monthly_quotas(1000, settings, 1, {})["maintenance"] == 17  # 200 / 12
    # In November with 100 planned: 100 still needed over 2 months.
    q = routine.monthly_quotas(1000, settings, 11, {"maintenance": 100, "security": 190})
    assert q["maintenance"] == 50 and q["security"] == 10


def test_the_service_centre_share_to_date_minus_what_it_already_planned():
    # 320 households, 160 a year: 14 by the end of January, 27 by February, ...
    assert routine.monthly_quotas(320, DEFAULTS, 2, {"service": 14})["service"] == 13
    # Planned more than its share to date: nothing this month.
    assert routine.monthly_quotas(320, DEFAULTS, 2, {"service": 40})["service"] == 0


def test_a_shortage_falls_evenly_and_the_small_quotas_are_met_first():
    quotas = {"manager": 4, "service": 50, "maintenance": 20, "security": 20, "cleaning": 20}
    assert routine.allocate(quotas, 200) == quotas
    given = routine.allocate(quotas, 50)
    assert given == {"manager": 4, "service": 12, "maintenance": 12, "security": 11,
                     "cleaning": 11}
    assert routine.allocate(quotas, 0) == dict.fromkeys(routine.SAMPLERS, 0)


def test_quotas_come_from_the_estate_settings(db):
    save_settings(db, 1, {"routine_manager_month_pct": 5})
    assert routine.preview(db, 1, MONTH).quotas["manager"] == 16  # 5 % of 320


# --- The sample ---------------------------------------------------------------------------

def a_year_of_plans(db, first="2027-01", months_=12):
    plans = []
    for i in range(months_):
        month = months.shift_month(first, i)
        y, m = months.parse_month(month)
        plan = make(db, month, seed=i, now=datetime(y, m, 1, 2, 0))
        assert routine.verify(db, plan.id)
        plans.append(plan)
    return plans


def test_a_year_of_plans_meets_every_quota_without_repeats(db):
    by_sampler: dict[str, list[int]] = {s: [] for s in routine.SAMPLERS}
    for plan in a_year_of_plans(db):
        sample = routine.stored_sample(db, plan.id)
        month = [u for units in sample.values() for u in units]
        assert len(month) == len(set(month)), plan.month  # nobody twice in a month
        for sampler, units in sample.items():
            by_sampler[sampler] += units
        # The default quotas ask for 134 % of the households a year: met in full.
        assert all(v["shortfall"] == 0 for v in plan.samplers.values()), plan.samplers
    for sampler, units in by_sampler.items():
        assert len(units) == len(set(units)), sampler  # no sampler twice in a year
    # Households called longest ago come first: within the year everyone is called,
    # and nobody is called three times before someone else is called twice.
    calls = Counter(u for units in by_sampler.values() for u in units)
    assert len(calls) == 320 and max(calls.values()) - min(calls.values()) <= 1


def test_the_next_year_starts_with_those_called_longest_ago(db):
    plans = a_year_of_plans(db)
    december = set(drawn_units(db, plans[-1]))
    last = {u: at[:7] for u, at in db.execute(
        "SELECT unit_id, max(created_at) FROM callback_tasks WHERE estate_id = 1 AND "
        "unit_id IS NOT NULL GROUP BY unit_id")}
    again = make(db, "2028-01", seed=99, now=datetime(2028, 1, 1, 2, 0))
    drawn = drawn_units(db, again)
    # Those called a month ago wait while others have waited longer: every household
    # drawn was last called no later than any household left waiting.
    assert not set(drawn) & december
    waiting = [last[u] for u in last if u not in set(drawn)]
    assert max(last[u] for u in drawn) <= min(waiting)


def test_a_team_never_draws_a_household_it_drew_within_the_horizon(db):
    december = make(db, "2026-12", seed=5)
    november = make(db, MONTH, seed=5)
    later, earlier = routine.stored_sample(db, december.id), routine.stored_sample(db, november.id)
    for sampler in routine.SAMPLERS:
        assert not set(later[sampler]) & set(earlier[sampler]), sampler


def test_a_years_first_plan_made_late_asks_for_the_months_left():
    # 320 households; the first plan of the year is July's: six months left.
    q = routine.monthly_quotas(320, DEFAULTS, 7, {}, first_month=7)
    # 50 % a year pro rata: 160 × 6 / 12 = 80 over six months, 14 this month.
    assert q["service"] == math.ceil(320 * 50 * 1 / 1200) == 14
    # At least 20 % a year, pro rata 32 over six months: the 2 % a month (7) is more.
    assert q["maintenance"] == 7
    planned = Counter()
    for month in range(7, 13):
        q = routine.monthly_quotas(320, DEFAULTS, month, planned, first_month=7)
        planned.update({s: q[s] for s in ("service", "maintenance")})
    assert planned["service"] == 80 and planned["maintenance"] >= 32
    # Without the first month, July would have asked for seven months' share at once.
    assert routine.monthly_quotas(320, DEFAULTS, 7, {})["service"] == 94


def test_the_first_plan_of_a_year_sets_its_first_month(db):
    y_plan = make(db, "2026-12", seed=3)
    assert y_plan.samplers["service"]["quota"] == math.ceil(320 * 50 / 1200)
    assert routine.first_plan_month(db, 1, "2026-12") == 12


def test_a_plan_of_the_earlier_rule_is_still_drawn_again_by_its_rule(db):
    plan = make(db, seed=11)
    # As a plan made before the rule was recorded: drawn with no repeat by anyone.
    quotas = json.loads(db.execute("SELECT quotas FROM routine_plans WHERE id = ?",
                                   [plan.id]).fetchone()[0])
    del quotas["basis"]["rule"]
    db.execute("UPDATE routine_plans SET quotas = ? WHERE id = ?",
               [json.dumps(quotas), plan.id])
    old = routine.get_plan(db, plan.id)
    basis = old.basis
    everyone, candidates, recent, _i = routine._candidates(db, 1, MONTH, basis)
    expected = sampling.draw(candidates, routine.allocate(
        {s: v["quota"] for s, v in old.samplers.items()}, len(candidates)), old.seed)
    assert routine.redraw(db, plan.id) == expected


def test_the_sample_is_spread_over_buildings_and_floors(db):
    plan = make(db, seed=20261110)
    places = unit_places(db)
    buildings = {b for b, _f in places.values()}
    for sampler, units in routine.stored_sample(db, plan.id).items():
        per_building = Counter(places[u][0] for u in units)
        if len(units) >= len(buildings):
            assert set(per_building) == buildings, sampler
        fair = len(units) / len(buildings)
        assert max(per_building.values()) <= fair + 1, (sampler, per_building)
        for building in buildings:
            floors = Counter(places[u][1] for u in units if places[u][0] == building)
            k = sum(floors.values())
            # Round-robin over a building's 20 floors: as many floors as households up
            # to 20, and never two more on one floor than on another.
            assert len(floors) == min(k, 20), (sampler, building, floors)
            if k >= 20:
                assert max(floors.values()) - min(floors.values()) <= 1


def test_buildings_of_different_sizes_are_sampled_in_proportion():
    sizes = {1: 200, 2: 100, 3: 20}
    homes, n = [], 0
    for building, size in sizes.items():
        for i in range(size):
            n += 1
            homes.append(sampling.Household(n, building, i % 10))
    total = sum(sizes.values())
    for seed in range(20):
        drawn = sampling.draw(homes, {"manager": 32, "service": 64}, seed)
        by_unit = {h.unit_id: h.building_id for h in homes}
        for units in drawn.values():
            count = Counter(by_unit[u] for u in units)
            for building, size in sizes.items():
                share = len(units) * size / total
                assert share - 1 <= count[building] <= share + 1, (seed, count)


def test_the_same_state_and_seed_give_the_same_sample_and_another_seed_another(db):
    def remake(seed):
        plan = routine.plan_for(db, 1, MONTH)
        if plan:
            db.execute("DELETE FROM callback_tasks WHERE plan_id = ?", [plan.id])
            db.execute("DELETE FROM routine_plans WHERE id = ?", [plan.id])
        return routine.stored_sample(db, make(db, seed=seed).id)

    first = remake(7)
    assert remake(7) == first
    assert remake(8) != first


def test_an_auditor_draws_the_stored_plan_again_after_later_changes(db):
    plan = make(db, seed=31337)
    stored = routine.stored_sample(db, plan.id)
    # Afterwards: information callbacks this month, next month's plan, a new resident.
    for unit in drawn_units(db, plan)[:5]:
        info_callback(db, unit, NOW + timedelta(days=1))
    make(db, "2026-12", seed=2)
    db.execute("INSERT INTO units (estate_id, building_id, number, floor)"
               " VALUES (1, 1, '2101', 21)")
    new_unit = db.execute("SELECT max(id) FROM units").fetchone()[0]
    db.execute("INSERT INTO residents (unit_id, name, phone) VALUES (?, '新住户', '13900000000')",
               [new_unit])
    assert routine.redraw(db, plan.id) == stored
    assert routine.verify(db, plan.id)
    # A changed task no longer matches its seed.
    db.execute("UPDATE callback_tasks SET unit_id = ? WHERE id = (SELECT min(id) FROM"
               " callback_tasks WHERE plan_id = ?)", [new_unit, plan.id])
    assert not routine.verify(db, plan.id)


def test_households_with_an_information_callback_this_month_are_left_out(db):
    save_settings(db, 1, {"routine_manager_month_pct": 100})  # ask for every household
    informed = random.Random(3).sample(sorted(unit_places(db)), 30)
    for unit in informed[:25]:
        info_callback(db, unit, NOW - timedelta(days=3))
    for unit in informed[25:]:
        info_callback(db, unit, datetime(2026, 10, 20, 9))  # last month: not left out
    plan = make(db)
    drawn = set(drawn_units(db, plan))
    assert not drawn & set(informed[:25])
    assert set(informed[25:]) <= drawn
    assert plan.basis["left_out_informed"] >= 25


def test_units_without_residents_are_not_households(db):
    empty = db.execute("SELECT min(id) FROM units WHERE estate_id = 1").fetchone()[0]
    db.execute("DELETE FROM residents WHERE unit_id = ?", [empty])
    save_settings(db, 1, {"routine_manager_month_pct": 100})
    plan = make(db)
    assert plan.households == 319 and empty not in drawn_units(db, plan)


def test_key_customers_get_a_door_to_door_visit(db):
    save_settings(db, 1, {"routine_manager_month_pct": 100})  # every household is drawn
    units = sorted(unit_places(db))
    flagged, important, complained, repaired, once, long_ago = units[10:16]
    db.execute("INSERT INTO unit_flags (unit_id, flag) VALUES (?, 'unpaid_fees')", [flagged])
    db.execute("INSERT INTO unit_flags (unit_id, flag) VALUES (?, 'important_owner')",
               [important])
    for n, (unit, days_ago) in enumerate([(complained, 30), (complained, 200), (once, 10),
                                          (once, 400)]):
        db.execute(
            "INSERT INTO complaints (number, estate_id, unit_id, channel, complainant_name,"
            " contact, identity, category, level, content, status, received_at, updated_at)"
            " VALUES (?, 1, ?, 'phone', '陈', '138', 'owner', 'service', 'minor', '噪音',"
            " 'closed', ?, ?)",
            [f"TS-{n}", unit, (NOW - timedelta(days=days_ago)).isoformat(), NOW.isoformat()])
    jobs = [r[0] for r in db.execute("SELECT id FROM jobs WHERE estate_id = 1 LIMIT 2")]
    for job, unit, days_ago in [(jobs[0], repaired, 10), (jobs[1], long_ago, 40)]:
        db.execute("UPDATE jobs SET unit_id = ?, job_class = 'medium', status = 'closed',"
                   " closed_at = ? WHERE id = ?",
                   [unit, (NOW - timedelta(days=days_ago)).isoformat(), job])
    make(db)
    hints = {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT unit_id, method_hint, key_customer FROM callback_tasks WHERE kind = 'routine'")}
    for unit in (flagged, important, complained, repaired):
        assert hints[unit] == ("visit", 1), unit
    for unit in (once, long_ago):
        assert hints[unit] == ("phone", 0), unit


def test_tasks_carry_the_plan_the_pool_the_contact_and_the_month_end(db):
    plan = make(db, seed=4)
    tasks = list(db.query("SELECT * FROM callback_tasks WHERE plan_id = ?", [plan.id]))
    assert len(tasks) == sum(v["planned"] for v in plan.samplers.values()) > 0
    for t in tasks:
        assert t["kind"] == "routine" and t["status"] == "open"
        assert t["source"] == f"plan:{plan.id}" and t["source_id"] == t["unit_id"]
        assert t["pool"] == t["sampler"] and t["assignee_id"] is None
        # The last second of November in Shanghai, stored in UTC.
        assert t["due_at"] == t["latest_at"] == "2026-11-30T15:59:59"
        assert t["created_at"] == NOW.isoformat(timespec="seconds")
        first = db.execute("SELECT name, phone FROM residents WHERE unit_id = ? ORDER BY id"
                           " LIMIT 1", [t["unit_id"]]).fetchone()
        assert (t["contact_name"], t["contact_phone"]) == first


def test_a_month_has_one_plan(db):
    first, created = routine.make_plan(db, 1, MONTH, 1, NOW, SHANGHAI)
    again, created_again = routine.make_plan(db, 1, MONTH, 2, NOW, SHANGHAI)
    assert created and not created_again and again.id == first.id and again.seed == 1
    assert db.execute("SELECT count(*) FROM routine_plans").fetchone()[0] == 1
    assert len(drawn_units(db, again)) == sum(v["planned"] for v in first.samplers.values())


def test_progress_counts_done_and_left(db):
    plan = make(db)
    manager = routine.stored_sample(db, plan.id)["manager"]
    db.execute("UPDATE callback_tasks SET status = 'done' WHERE plan_id = ? AND unit_id = ?",
               [plan.id, manager[0]])
    row = next(p for p in routine.progress(db, plan) if p.sampler == "manager")
    assert (row.quota, row.planned, row.done, row.left, row.shortfall) == (4, 4, 1, 3, 0)


def test_no_repeat_months_around_a_month():
    assert months.no_repeat_months("2026-11", 365) == ("2025-12", "2027-10")
    assert months.no_repeat_months("2026-11", 1) == ("2026-11", "2026-11")


# --- The page -----------------------------------------------------------------------------

def test_plan_rows_group_by_building_in_number_order():
    rows = [{"building_id": 2, "building_name": "2栋", "key_customer": 1},
            {"building_id": 2, "building_name": "2栋", "key_customer": 0},
            {"building_id": 10, "building_name": "10栋", "key_customer": 0}]
    groups = routine.by_building(rows)
    assert [(g["name"], len(g["rows"]), g["key_customers"]) for g in groups] == [
        ("2栋", 2, 1), ("10栋", 1, 0)]


def test_month_windows_follow_the_zone():
    start, end = months.month_window("2026-12", SHANGHAI)
    assert (start, end) == (datetime(2026, 11, 30, 16), datetime(2026, 12, 31, 16))
    assert months.local_month(datetime(2026, 11, 30, 17), SHANGHAI) == "2026-12"
    assert months.shift_month("2026-12", 1) == "2027-01"


def test_spread_order_is_a_round_robin_for_equal_groups():
    assert sampling.interleave([[1, 2], [3, 4], [5, 6]]) == [1, 3, 5, 2, 4, 6]
    assert sampling.interleave([[1, 2, 3, 4], [5, 6]]) == [1, 5, 2, 3, 6, 4]
    rng = random.Random(0)
    homes = [sampling.Household(i, i % 3, i % 5) for i in range(30)]
    order = sampling.spread_order(homes, rng)
    assert sorted(order) == list(range(30))
    assert len({i % 3 for i in order[:3]}) == 3


def test_by_building_is_used_for_the_page(db):
    plan = make(db)
    groups = routine.by_building(routine.plan_households(db, plan.id))
    assert [g["name"] for g in groups] == sorted({g["name"] for g in groups},
                                                 key=lambda n: (len(n), n))


def test_a_month_asked_for_or_the_current_local_one():
    shanghai = ZoneInfo("Asia/Shanghai")
    late = datetime(2026, 11, 30, 17, 0)  # 1 December, 01:00 in Shanghai
    assert months.month_or_current("2026-07", late, shanghai) == "2026-07"
    for bad in ("", "2099-13", "2026-7", "abc", "2026-00"):
        assert months.month_or_current(bad, late, shanghai) == "2026-12", bad
