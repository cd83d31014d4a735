"""Reading a typed unit label (domain/unit_labels.py) and the places that use it: the
intake's unit search and the inspection round's "add a unit"."""

import pytest

from webapp.domain import estates, inspections, unit_labels
from webapp.domain.unit_labels import UnitLabel

# (typed, building as read, room as read)
ACCEPTED = [
    ("1-502", "1", "502"),
    ("1 502", "1", "502"),
    ("1栋502", "1栋", "502"),
    ("1栋-502", "1栋", "502"),
    ("1栋 502", "1栋", "502"),
    ("1栋 - 502", "1栋", "502"),
    ("1 栋 502", "1栋", "502"),
    ("1#502", "1#", "502"),
    ("1 # 502", "1#", "502"),
    ("1#-502", "1#", "502"),
    ("1号楼502", "1号楼", "502"),
    ("1号楼-502", "1号楼", "502"),
    ("1号502", "1号", "502"),
    ("1幢502", "1幢", "502"),
    ("A座1201", "A座", "1201"),
    ("1栋502室", "1栋", "502"),
    ("１－５０２", "1", "502"),
    ("１栋５０２", "1栋", "502"),
    ("１　５０２", "1", "502"),
    ("1—502", "1", "502"),
    ("1–502", "1", "502"),
    ("  1栋-502  ", "1栋", "502"),
    ("11栋502", "11栋", "502"),
    ("紫荆苑-101", "紫荆苑", "101"),
    ("502", None, "502"),
    (" 502 ", None, "502"),
    ("５０２", None, "502"),
    ("502室", None, "502"),
    ("1502a", None, "1502a"),
]
# Not a unit label: no room, no building before a separator, a floor, three parts.
REJECTED = ["", "   ", "1栋", "1号楼", "1#", "1-", "1 - ", "-502", "#502", "室", "1楼502",
            "1 2 3", "1栋-", "1栋 ", "栋502"]


@pytest.mark.parametrize(("typed", "building", "room"), ACCEPTED)
def test_accepted_forms(typed, building, room):
    assert unit_labels.parse(typed) == UnitLabel(building, room)


@pytest.mark.parametrize("typed", REJECTED)
def test_what_is_not_a_unit_label(typed):
    assert unit_labels.parse(typed) is None


@pytest.mark.parametrize(("name", "key"), [("1栋", "1"), ("1号楼", "1"), ("1#", "1"), ("1", "1"),
                                          ("11栋", "11"), ("A座", "A"), ("紫荆苑", "紫荆苑"),
                                          ("栋", "栋")])
def test_building_key_drops_only_the_suffix(name, key):
    assert unit_labels.building_key(name) == key


@pytest.fixture
def estate(db):
    """The demo's estate 1 (1栋–4栋, rooms 101–2004) with 11栋 and 5号楼 added, each with
    a 502, and a 502A in 3栋; estate 2 has its own 1栋 with a 502."""
    for name in ("11栋", "5号楼"):
        building = db.execute("INSERT INTO buildings (estate_id, name) VALUES (1, ?)",
                              [name]).lastrowid
        db.execute("INSERT INTO units (estate_id, building_id, number) VALUES (1, ?, '502')",
                   [building])
    db.execute("INSERT INTO units (estate_id, building_id, number) SELECT 1, id, '502A'"
               " FROM buildings WHERE estate_id = 1 AND name = '3栋'")
    return db


def named(db, typed, estate_ids=(1,)):
    return [(u["estate_id"], u["building_name"], u["number"])
            for u in unit_labels.find(db, list(estate_ids), unit_labels.parse(typed))]


@pytest.mark.parametrize(("typed", "units"), [
    ("1-502", [(1, "1栋", "502")]),
    ("1栋502", [(1, "1栋", "502")]),
    ("1#502", [(1, "1栋", "502")]),
    ("1号楼502", [(1, "1栋", "502")]),  # the suffix typed need not be the building's
    ("１－５０２", [(1, "1栋", "502")]),
    ("11-502", [(1, "11栋", "502")]),
    ("5-502", [(1, "5号楼", "502")]),
    ("5栋502", [(1, "5号楼", "502")]),
    ("5 502", [(1, "5号楼", "502")]),
    ("3-502a", [(1, "3栋", "502A")]),
    ("1-9999", []),
    ("6-502", []),
    ("502", [(1, "1栋", "502"), (1, "2栋", "502"), (1, "3栋", "502"), (1, "4栋", "502"),
             (1, "11栋", "502"), (1, "5号楼", "502")]),
])
def test_find_matches_the_building_by_its_name_without_the_suffix(estate, typed, units):
    assert named(estate, typed) == units


def test_one_is_never_eleven(estate):
    assert (1, "11栋", "502") not in named(estate, "1-502")
    assert (1, "1栋", "502") not in named(estate, "11-502")


def test_find_stays_in_the_estates_given(estate):
    assert named(estate, "1-502", [2]) == [(2, "1栋", "502")]
    assert named(estate, "1-502", [1, 2]) == [(1, "1栋", "502"), (2, "1栋", "502")]
    assert named(estate, "1-502", []) == []


@pytest.mark.parametrize("typed", ["1-101", "1栋-101", "1栋101", " 1栋 101 ", "1#101",
                                   "1号楼101", "1 101", "１－１０１", "1—101", "1栋101室"])
def test_the_round_finds_the_unit_in_every_form(db, typed):
    assert inspections.find_unit(db, 1, typed)["name"] == "1栋-101"


def test_the_round_takes_a_room_alone_only_when_one_building_has_it(db):
    assert inspections.find_unit(db, 1, "101") is None  # 1栋–4栋 all have a 101
    assert inspections.find_unit(db, 2, "101")["name"] == "1栋-101"  # one building
    assert inspections.find_unit(db, 1, "1-101x") is None
    assert inspections.find_unit(db, 1, "1栋") is None


def test_the_round_prefers_the_building_named_exactly_as_typed(db):
    building = db.execute("INSERT INTO buildings (estate_id, name) VALUES (1, '1')").lastrowid
    db.execute("INSERT INTO units (estate_id, building_id, number) VALUES (1, ?, '101')",
               [building])
    assert inspections.find_unit(db, 1, "1-101")["building_id"] == building
    assert inspections.find_unit(db, 1, "1栋-101")["building_name"] == "1栋"
    assert inspections.find_unit(db, 1, "1号楼101") is None  # either one: ask again


def labels(rows):
    return [f"{u['building_name']}-{u['number']}" for u in rows]


@pytest.mark.parametrize("typed", ["1-502", "1 502", "1栋502", "1栋-502", "1#502", "1号楼502",
                                   "１－５０２", "1栋502室"])
def test_unit_search_puts_the_unit_named_first(estate, typed):
    assert labels(estates.search_units(estate, 1, typed))[0] == "1栋-502"


def test_unit_search_keeps_finding_what_it_found_before(db):
    # A fragment of 'building-room' (as the picker's own labels read).
    found = labels(estates.search_units(db, 1, "1栋-10"))
    assert found and all(label.startswith("1栋-10") for label in found)
    # A room alone: that room in every building first, then what contains it.
    found = labels(estates.search_units(db, 1, "502"))
    assert found[:4] == ["1栋-502", "2栋-502", "3栋-502", "4栋-502"]
    assert "1栋-1502" in found
    name, phone, unit = db.execute(
        "SELECT r.name, r.phone, b.name || '-' || u.number FROM residents r JOIN units u"
        " ON u.id = r.unit_id JOIN buildings b ON b.id = u.building_id WHERE u.id = 7"
    ).fetchone()
    assert unit in labels(estates.search_units(db, 1, name))
    assert labels(estates.search_units(db, 1, phone)) == [unit]
    assert estates.search_units(db, 1, "9-502") == []
