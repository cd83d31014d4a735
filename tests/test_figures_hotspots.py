"""Hot spots against small hand-made estates: two estates each with a "1栋", a cancelled
job, a reworked one, complaints, and repairs of a unit 29 and 31 days apart."""

from __future__ import annotations

from datetime import datetime

from webapp.domain import figures, periods, settings

NOW = datetime(2026, 12, 7, 2, 0)


def _estates(db):
    """Two estates of their own (the demo's jobs stay out), each with a building "1栋"
    holding units 101 and 102, and 锦绣 with a "2栋" too. Returns unit ids by label."""
    units = {}
    for code, buildings in (("翠湖", ("1栋",)), ("锦绣", ("1栋", "2栋"))):
        estate = db["estates"].insert({"code": code, "name": code}).last_pk
        for name in buildings:
            building = db["buildings"].insert({"estate_id": estate, "name": name}).last_pk
            for room in ("101", "102"):
                units[f"{code}{name}{room}"] = (estate, db["units"].insert({
                    "estate_id": estate, "building_id": building, "number": room,
                    "floor": 1}).last_pk)
    return units


def _job(db, unit, at, status="closed", rework=0, category="plumbing"):
    estate, unit_id = unit
    return db["jobs"].insert({
        "number": f"H{at}{unit_id}", "estate_id": estate, "unit_id": unit_id,
        "reporter_name": "王", "reporter_phone": "13800000000", "source": "phone",
        "category": category, "department": "maintenance", "job_class": "small",
        "description": "漏水", "status": status, "received_at": at, "updated_at": at,
        "rework_count": rework}).last_pk


def _complaint(db, unit, at):
    estate, unit_id = unit
    return db["complaints"].insert({
        "number": f"C{at}{unit_id}", "estate_id": estate, "unit_id": unit_id,
        "channel": "phone", "complainant_name": "李", "contact": "13800000001",
        "identity": "owner", "category": "repairs", "level": "minor", "content": "慢",
        "status": "new", "received_at": at, "updated_at": at}).last_pk


def _ids(db, records):
    return sorted(r[0] for r in db.execute(records.sql, records.params))


def _scope(db, units, *codes, period="2026-11"):
    estates = sorted({units[k][0] for k in units if k[:2] in codes})
    return figures.scope(db, estates, periods.parse(period, NOW), NOW)


def test_buildings_counted_by_id_and_named_with_their_estate(db):
    u = _estates(db)
    a = _job(db, u["翠湖1栋101"], "2026-11-02T02:00:00")
    b = _job(db, u["翠湖1栋102"], "2026-11-03T02:00:00", rework=1)
    _job(db, u["翠湖1栋102"], "2026-11-04T02:00:00", status="cancelled")  # not counted
    c = _job(db, u["锦绣1栋101"], "2026-11-05T02:00:00")
    _job(db, u["锦绣2栋101"], "2026-10-05T02:00:00")  # October
    complaint = _complaint(db, u["锦绣1栋101"], "2026-11-06T02:00:00")
    both = _scope(db, u, "翠湖", "锦绣")
    rows = figures.TABLES["hot_buildings"].fn(db, both)
    assert [(r.label, [x.value for x in r.cells]) for r in rows] == [
        ("翠湖 · 1栋", [2, 0, 1]), ("锦绣 · 1栋", [1, 1, 0])]
    assert _ids(db, rows[0].cells[0].records) == sorted([a, b])
    assert _ids(db, rows[0].cells[2].records) == [b]
    assert _ids(db, rows[1].cells[0].records) == [c]
    assert _ids(db, rows[1].cells[1].records) == [complaint]
    assert rows[1].cells[1].records.kind == "complaints"
    # One estate: its own building only, named without the estate.
    one = _scope(db, u, "锦绣")
    assert [r.label for r in figures.TABLES["hot_buildings"].fn(db, one)] == ["1栋"]
    october = _scope(db, u, "锦绣", period="2026-10")
    assert [r.label for r in figures.TABLES["hot_buildings"].fn(db, october)] == ["2栋"]


def test_units_and_categories(db):
    u = _estates(db)
    first = _job(db, u["翠湖1栋101"], "2026-11-02T02:00:00", rework=2)
    second = _job(db, u["翠湖1栋101"], "2026-11-09T02:00:00", category="electrical")
    _job(db, u["翠湖1栋102"], "2026-11-03T02:00:00", category="electrical")
    sc = _scope(db, u, "翠湖")
    units = figures.TABLES["hot_units"].fn(db, sc)
    assert [(r.label, r.cells[0].value, r.cells[2].value) for r in units] == [
        ("1栋101", 2, 1), ("1栋102", 1, 0)]
    assert _ids(db, units[0].cells[0].records) == sorted([first, second])
    categories = figures.TABLES["hot_categories"].fn(db, sc)
    assert [(r.label, r.msgid, [x.value for x in r.cells]) for r in categories] == [
        ("Electrical", True, [2, 0]), ("Plumbing and drains", True, [1, 1])]
    assert _ids(db, categories[1].cells[1].records) == [first]


def test_a_unit_repaired_again_within_the_default_30_days(db):
    u = _estates(db)
    unit = u["翠湖1栋101"]
    _job(db, unit, "2026-10-10T02:00:00")  # before the period: its first repair
    within = _job(db, unit, "2026-11-08T02:00:00")  # 29 days later: a repeat
    _job(db, u["翠湖1栋102"], "2026-10-01T02:00:00")
    _job(db, u["翠湖1栋102"], "2026-11-01T02:00:00")  # 31 days later: not a repeat
    _job(db, u["锦绣1栋101"], "2026-11-02T02:00:00", status="cancelled")
    _job(db, u["锦绣1栋101"], "2026-11-03T02:00:00")  # after a cancelled job: not one
    rows = figures.TABLES["repeat_repairs"].fn(db, _scope(db, u, "翠湖", "锦绣"))
    assert [(r.label, r.cells[0].value) for r in rows] == [("翠湖 · 1栋101", 1)]
    assert _ids(db, rows[0].cells[0].records) == [within]


def test_the_repeat_window_is_each_estates_rework_window(db):
    u = _estates(db)
    for code in ("翠湖", "锦绣"):  # the same pair of jobs, 31 days apart, in each estate
        _job(db, u[f"{code}1栋101"], "2026-10-01T02:00:00")
        _job(db, u[f"{code}1栋101"], "2026-11-01T02:00:00")
    # 锦绣 counts rework within 45 days: its pair is a repeat there, not in 翠湖 (30).
    settings.save(db, u["锦绣1栋101"][0], {"rework_window_days": 45})
    sc = _scope(db, u, "翠湖", "锦绣")
    rows = figures.TABLES["repeat_repairs"].fn(db, sc)
    assert [(r.label, r.cells[0].value) for r in rows] == [("锦绣 · 1栋101", 1)]
    assert rows[0].cells[0].records.count(db) == 1
    settings.save(db, u["翠湖1栋101"][0], {"rework_window_days": 20})
    settings.save(db, u["锦绣1栋101"][0], {"rework_window_days": 20})
    assert figures.TABLES["repeat_repairs"].fn(db, _scope(db, u, "翠湖", "锦绣")) == []


def test_nothing_in_the_period_is_no_rows(db):
    u = _estates(db)
    sc = _scope(db, u, "翠湖")
    for key in ("hot_buildings", "hot_units", "hot_categories", "repeat_repairs"):
        assert figures.TABLES[key].fn(db, sc) == []
