"""Inspection and feedback figures against a small hand-computed October 2026.

Estate F1: the corridor 1号楼道 (I1: pass, fail, n/a; I2: pass, pass) and the lift 1号电梯
(I3: fail, fail, pass; I4 in September: fail). Estate F2: its own 1号楼道 (J1: fail).
Feedback in F1: two litter, one pests in October; one litter in September.
"""

import uuid
from datetime import datetime

import pytest

from webapp.domain import figures, periods

NOW = datetime(2026, 11, 20, 2, 0)


def _ids(db, records):
    return {r[0] for r in db.execute(records.sql, records.params)}


def _inspection(db, estate, place_type, place_id, template, item, supervisor, at, results):
    iid = db["inspections"].insert({
        "estate_id": estate, "place_type": place_type, "place_id": place_id,
        "template_id": template, "supervisor_id": supervisor, "visited_at": at,
        "op_id": str(uuid.uuid4())}).last_pk
    for result in results:
        db["inspection_results"].insert({"inspection_id": iid, "item_id": item,
                                         "result": result, "at": at, "op_id": "x"})
    return iid


@pytest.fixture
def month(db):
    e1, e2 = (db["estates"].insert({"code": c, "name": c}).last_pk for c in ("F1", "F2"))
    who = db["users"].insert({"username": "fig-sup", "password_hash": "x", "display_name":
                              "丙", "department": "service", "role": "supervisor"}).last_pk
    corridor = db["inspection_templates"].insert({"name": "楼道", "place_kind": "corridor"}
                                                 ).last_pk
    lift = db["inspection_templates"].insert({"name": "电梯", "place_kind": "lift"}).last_pk
    item_c = db["inspection_items"].insert({"template_id": corridor, "position": 1,
                                            "text": "干净"}).last_pk
    item_l = db["inspection_items"].insert({"template_id": lift, "position": 1,
                                            "text": "运行"}).last_pk
    a1 = db["common_areas"].insert({"estate_id": e1, "name": "1号楼道", "kind": "corridor"}
                                   ).last_pk
    a2 = db["common_areas"].insert({"estate_id": e2, "name": "1号楼道", "kind": "corridor"}
                                   ).last_pk
    q1 = db["equipment"].insert({"estate_id": e1, "name": "1号电梯", "kind": "lift"}).last_pk
    i = {
        "I1": _inspection(db, e1, "area", a1, corridor, item_c, who, "2026-10-05T02:00:00",
                          ["pass", "fail", "na"]),
        "I2": _inspection(db, e1, "area", a1, corridor, item_c, who, "2026-10-20T02:00:00",
                          ["pass", "pass"]),
        "I3": _inspection(db, e1, "equipment", q1, lift, item_l, who, "2026-10-21T02:00:00",
                          ["fail", "fail", "pass"]),
        "I4": _inspection(db, e1, "equipment", q1, lift, item_l, who, "2026-09-21T02:00:00",
                          ["fail"]),
        "J1": _inspection(db, e2, "area", a2, corridor, item_c, who, "2026-10-07T02:00:00",
                          ["fail"]),
    }
    for name, category, at in (("F1", "litter", "2026-10-03T02:00:00"),
                               ("F2", "litter", "2026-10-13T02:00:00"),
                               ("F3", "pests", "2026-10-23T02:00:00"),
                               ("F4", "litter", "2026-09-23T02:00:00")):
        i[name] = db["feedback"].insert({"estate_id": e1, "category": category, "at": at,
                                         "op_id": str(uuid.uuid4())}).last_pk
    return db, e1, e2, i


def _scope(db, *estates):
    return figures.scope(db, list(estates), periods.parse("2026-10", NOW), NOW)


def test_failed_item_rate(month):
    db, e1, e2, i = month
    result = figures.evaluate(db, "inspection_fail_rate", _scope(db, e1)).result
    # Checked: I1 2 (the n/a is not), I2 2, I3 3; failed: I1 1, I3 2.
    assert (result.value, result.numerator, result.denominator) == (42.9, 3, 7)
    assert _ids(db, result.records) == {i["I1"], i["I3"]}
    assert _ids(db, result.base) == {i["I1"], i["I2"], i["I3"]}
    both = figures.evaluate(db, "inspection_fail_rate", _scope(db, e1, e2)).result
    assert (both.numerator, both.denominator) == (4, 8)


def _rows(db, key, sc):
    return {row.label: row for row in figures.TABLES[key].fn(db, sc)}


def test_per_kind_of_place(month):
    db, e1, _e2, i = month
    rows = figures.TABLES["inspections_by_kind"].fn(db, _scope(db, e1))
    assert [r.label for r in rows] == ["Corridor and stairs", "Lift"]
    corridor, lift = rows
    assert [c.value for c in corridor.cells] == [2, 4, 1, 25.0]
    assert [c.value for c in lift.cells] == [1, 3, 2, 66.7]
    assert _ids(db, corridor.cells[0].records) == {i["I1"], i["I2"]}
    assert _ids(db, corridor.cells[2].records) == {i["I1"]}
    assert _ids(db, lift.cells[3].records) == {i["I3"]}


def test_per_place_worst_first_and_by_estate(month):
    db, e1, e2, i = month
    rows = figures.TABLES["inspections_by_place"].fn(db, _scope(db, e1))
    assert [(r.label, r.cells[3].value) for r in rows] == [("1号电梯", 66.7), ("1号楼道", 25.0)]
    both = _rows(db, "inspections_by_place", _scope(db, e1, e2))
    assert set(both) == {"F1 · 1号电梯", "F1 · 1号楼道", "F2 · 1号楼道"}
    assert _ids(db, both["F2 · 1号楼道"].cells[0].records) == {i["J1"]}
    assert _ids(db, both["F1 · 1号楼道"].cells[0].records) == {i["I1"], i["I2"]}


def test_feedback(month):
    db, e1, _e2, i = month
    sc = _scope(db, e1)
    result = figures.evaluate(db, "feedback_received", sc).result
    assert result.value == 3 and _ids(db, result.records) == {i["F1"], i["F2"], i["F3"]}
    rows = figures.TABLES["feedback_by_category"].fn(db, sc)
    assert [(r.label, r.cells[0].value, r.msgid) for r in rows] == [
        ("Litter", 2, True), ("Pests", 1, True)]
    assert _ids(db, rows[1].cells[0].records) == {i["F3"]}
