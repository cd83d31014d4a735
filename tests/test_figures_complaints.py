"""Complaint figures against a small hand-computed October 2026 (Asia/Shanghai).

Estate F1 (units: 1栋-101 U1, 1栋-102 U3, 2栋-201 U2), received (UTC) → result told:
  C1 U1, minor, repairs, phone, 10-05 02:00 → 10-06 02:00 (in time), closed
  C2 U1, important, repairs, walk-in, 10-10 02:00 → 10-14 02:00 (96 h > 72 h), closed
  C3 no unit, phone 13900000001, minor, service, phone, 10-15 02:00, still being handled:
     past its deadline, and a month old on 20 Nov: major by the one-month rule
  C4 U2, phone 13900000001, major at intake, fees, phone, 10-20 02:00 → 10-20 10:00
  C5 U3, important at intake, raised to major since, repairs, letter, 10-25 02:00, with
     the manager: past its 24 h
  C6 U1, 10-31 17:00 = 1 Nov local: November's
Estate F2 (unit 1栋-101 V1): D1 minor, 10-08 02:00 → 10-09 02:00.
"""

import json
from datetime import datetime

import pytest

from webapp.domain import figures, periods

NOW = datetime(2026, 11, 20, 2, 0)


def _ids(db, records):
    return {r[0] for r in db.execute(records.sql, records.params)}


def _unit(db, estate, building, number):
    b = db["buildings"].lookup({"estate_id": estate, "name": building})
    return db["units"].insert({"estate_id": estate, "building_id": b, "number": number}).last_pk


def _complaint(db, estate, number, unit, contact, level, category, channel, received,
               status, answered=None, recorded=None):
    cid = db["complaints"].insert({
        "number": number, "estate_id": estate, "unit_id": unit, "channel": channel,
        "complainant_name": "王", "contact": contact, "identity": "owner",
        "category": category, "level": level, "content": "…", "status": status,
        "received_at": received, "answered_at": answered, "updated_at": received}).last_pk
    db["audit_log"].insert({"at": received, "action": "create", "entity": "complaint",
                            "entity_id": cid, "detail": json.dumps(
                                {"level": recorded or level, "repeat_of": None})})
    return cid


@pytest.fixture
def month(db):
    e1, e2 = (db["estates"].insert({"code": c, "name": c}).last_pk for c in ("F1", "F2"))
    u1, u3, u2 = _unit(db, e1, "1栋", "101"), _unit(db, e1, "1栋", "102"), _unit(db, e1, "2栋",
                                                                             "201")
    v1 = _unit(db, e2, "1栋", "101")
    c = {
        "C1": _complaint(db, e1, "FC1", u1, "13800000001", "minor", "repairs", "phone",
                         "2026-10-05T02:00:00", "closed", "2026-10-06T02:00:00"),
        "C2": _complaint(db, e1, "FC2", u1, "13800000002", "important", "repairs", "walk_in",
                         "2026-10-10T02:00:00", "closed", "2026-10-14T02:00:00"),
        "C3": _complaint(db, e1, "FC3", None, "13900000001", "minor", "service", "phone",
                         "2026-10-15T02:00:00", "dispatched"),
        "C4": _complaint(db, e1, "FC4", u2, "13900000001", "major", "fees", "phone",
                         "2026-10-20T02:00:00", "answered", "2026-10-20T10:00:00"),
        "C5": _complaint(db, e1, "FC5", u3, "13800000005", "major", "repairs", "letter",
                         "2026-10-25T02:00:00", "escalated", recorded="important"),
        "C6": _complaint(db, e1, "FC6", u1, "13800000001", "minor", "repairs", "phone",
                         "2026-10-31T17:00:00", "new"),
        "D1": _complaint(db, e2, "FD1", v1, "13800000009", "minor", "repairs", "phone",
                         "2026-10-08T02:00:00", "closed", "2026-10-09T02:00:00"),
    }
    return db, e1, e2, c


def _scope(db, *estates, period="2026-10"):
    return figures.scope(db, list(estates), periods.parse(period, NOW), NOW)


def _check(db, key, sc, c, value, names, base=None):
    result = figures.evaluate(db, key, sc).result
    assert result.value == value, key
    assert _ids(db, result.records) == {c[n] for n in names}, key
    assert result.numerator == len(names), key
    if base is not None:
        assert _ids(db, result.base) == {c[n] for n in base}, key
    return result


def test_complaint_figures(month):
    db, e1, _e2, c = month
    sc = _scope(db, e1)
    _check(db, "complaints_received", sc, c, 5, {"C1", "C2", "C3", "C4", "C5"})
    _check(db, "complaint_in_time", sc, c, 40.0, {"C1", "C4"},
           {"C1", "C2", "C3", "C4", "C5"})
    _check(db, "complaints_turned_major", sc, c, 2, {"C3", "C5"})
    _check(db, "repeat_complainants", sc, c, 4, {"C1", "C2", "C3", "C4"})
    per100 = _check(db, "complaints_per_100", sc, c, 166.7, {"C1", "C2", "C3", "C4", "C5"})
    assert per100.denominator == 3 and per100.base.kind == "units"


def test_a_complaint_not_yet_due_is_not_counted_late(month):
    db, e1, _e2, c = month
    fresh = _complaint(db, e1, "FC7", None, "13700000000", "minor", "other", "phone",
                       "2026-11-19T02:00:00", "new")  # minor: 168 h, due 26 Nov
    result = figures.evaluate(db, "complaint_in_time", _scope(db, e1, period="2026-11")).result
    assert fresh not in _ids(db, result.base)
    # C6 (1 Nov local, minor, still new) was due 7 Nov: counted, late.
    assert _ids(db, result.base) == {c["C6"]} and result.value == 0.0


def test_the_one_month_rule_depends_on_now(month):
    db, e1, _e2, c = month
    earlier = datetime(2026, 11, 10, 2, 0)  # C3 is 26 days old: not major yet
    sc = figures.scope(db, [e1], periods.parse("2026-10", earlier), earlier)
    assert _ids(db, figures.evaluate(db, "complaints_turned_major", sc).result.records) == {
        c["C5"]}


def _table(db, key, sc):
    return [(row.label, row.cells[0].value, _ids(db, row.cells[0].records))
            for row in figures.TABLES[key].fn(db, sc)]


def test_breakdowns(month):
    db, e1, _e2, c = month
    sc = _scope(db, e1)
    assert _table(db, "complaints_by_level", sc) == [
        ("Major", 3, {c["C3"], c["C4"], c["C5"]}), ("Important", 1, {c["C2"]}),
        ("Minor", 1, {c["C1"]})]
    assert _table(db, "complaints_by_category", sc) == [
        ("Repairs", 3, {c["C1"], c["C2"], c["C5"]}), ("Fees", 1, {c["C4"]}),
        ("Service attitude", 1, {c["C3"]})]
    assert _table(db, "complaints_by_channel", sc) == [
        ("Phone hotline", 3, {c["C1"], c["C3"], c["C4"]}), ("Letter", 1, {c["C5"]}),
        ("Walk-in", 1, {c["C2"]})]
    assert _table(db, "complaints_by_building", sc) == [
        ("1栋", 3, {c["C1"], c["C2"], c["C5"]}), ("2栋", 1, {c["C4"]}),
        ("No unit", 1, {c["C3"]})]


def test_buildings_of_the_same_name_in_two_estates_are_two_rows(month):
    db, e1, e2, c = month
    rows = _table(db, "complaints_by_building", _scope(db, e1, e2))
    assert rows[0] == ("F1 · 1栋", 3, {c["C1"], c["C2"], c["C5"]})
    assert ("F2 · 1栋", 1, {c["D1"]}) in rows
    assert len(rows) == 4
    both = figures.evaluate(db, "complaints_per_100", _scope(db, e1, e2)).result
    assert (both.numerator, both.denominator, both.value) == (6, 4, 150.0)


def test_every_service_figure_opens_what_it_counts_on_the_demo_data(db):
    """Over the demo's estates and a year: every figure and table of callbacks,
    complaints, inspections and feedback opens as many records as it counted."""
    from webapp.domain import figures_callbacks, figures_complaints, figures_inspections

    modules = {figures_callbacks.__name__, figures_complaints.__name__,
               figures_inspections.__name__}
    estates = [r[0] for r in db.execute("SELECT id FROM estates")]
    sc = figures.scope(db, estates, periods.parse("2026", NOW), NOW)
    opened = 0
    for fig in figures.FIGURES.values():
        if fig.fn.__module__ not in modules:
            continue
        result = fig.fn(db, sc)
        assert result.records.kind in figures.RECORD_KINDS
        if fig.key != "inspection_fail_rate":  # opens the inspections holding the items
            assert result.records.count(db) == result.numerator, fig.key
        opened += result.numerator
    # Item columns of the inspection tables count items and open their inspections.
    items = {figures_inspections.RATE_COLUMNS[1], figures_inspections.RATE_COLUMNS[2]}
    cells = [cell for t in figures.TABLES.values() if t.fn.__module__ in modules
             for row in t.fn(db, sc) for column, cell in zip(t.columns, row.cells, strict=True)
             if cell.records is not None and column not in items]
    for cell in cells:
        if cell.base is None:  # a count, not a rate
            assert cell.records.count(db) == cell.numerator
    assert opened > 0 and cells


def test_no_estates_count_nothing(db):
    sc = figures.scope(db, [], periods.parse("2026-10", NOW), NOW)
    for key in ("complaints_received", "complaint_in_time", "complaints_turned_major",
                "repeat_complainants", "complaints_per_100", "callback_rate", "satisfaction",
                "inspection_fail_rate", "feedback_received"):
        assert figures.FIGURES[key].fn(db, sc).value in (None, 0), key
    for key in ("complaints_by_level", "callback_month", "routine_samplers"):
        assert all(cell.value == 0 for row in figures.TABLES[key].fn(db, sc)
                   for cell in row.cells), key
