"""Typed unit labels through the pages: the intake's unit picker, the board's search
and the inspection round take the same forms ('1-502', '1栋502', '1#502', ...)."""

import uuid

import pytest

from webapp.db import connect

from .pages import Page

FORMS = ["1-502", "1 502", "1栋502", "1栋-502", "1#502", "1号楼502", "１－５０２", " 1栋 502 "]


def unit_id(app, building, number, estate_id=1) -> int:
    db = connect(app.config["DATABASE"])
    row = db.execute("SELECT u.id FROM units u JOIN buildings b ON b.id = u.building_id"
                     " WHERE u.estate_id = ? AND b.name = ? AND u.number = ?",
                     [estate_id, building, number]).fetchone()
    db.close()
    return row[0]


def add_jobs(app, unit, count, estate_id=1) -> list[str]:
    """Jobs on the unit written directly, numbers in the order made."""
    db = connect(app.config["DATABASE"])
    numbers = []
    with db.conn:
        for i in range(count):
            number = f"Y20300101-{unit:03d}{i:03d}"
            db.execute(
                """INSERT INTO jobs (number, estate_id, unit_id, reporter_name, reporter_phone,
                       source, category, department, job_class, description, status,
                       received_at, updated_at)
                   VALUES (?, ?, ?, '陈', '13800000000', 'phone', 'plumbing', 'maintenance',
                           'small', '漏水', 'closed', '2026-11-10T09:00:00',
                           '2026-11-10T09:00:00')""", [number, estate_id, unit])
            numbers.append(number)
    db.close()
    return numbers


def unit_jobs(app, unit) -> list[str]:
    db = connect(app.config["DATABASE"])
    rows = [r[0] for r in db.execute("SELECT number FROM jobs WHERE unit_id = ? ORDER BY id DESC",
                                     [unit])]
    db.close()
    return rows


@pytest.mark.parametrize("typed", FORMS)
def test_the_unit_picker_finds_the_unit_as_people_write_it(client, auth, typed):
    auth.login("desk")
    response = client.get("/units/search", query_string={"estate_id": 1, "unit_query": typed})
    page = Page(response.get_data(as_text=True))
    picks = page.find("data-unit-pick")
    assert picks and picks[0]["data-label"] == "1栋-502", typed
    assert "没有与" not in response.get_data(as_text=True)


def test_the_unit_picker_still_says_when_nothing_matches(client, auth):
    auth.login("desk")
    response = client.get("/units/search", query_string={"estate_id": 1, "unit_query": "9-502"})
    assert not Page(response.get_data(as_text=True)).find("data-unit-pick")
    assert "没有与“9-502”匹配的房号" in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["2栋-502", "2-502", "2栋502", "２－５０２"])
def test_the_board_finds_a_unit_written_as_it_shows_it(app, client, auth, typed):
    unit = unit_id(app, "2栋", "502")
    add_jobs(app, unit, 3)
    add_jobs(app, unit_id(app, "1栋", "502"), 2)  # the same room in another building
    auth.login("desk")
    page = Page(client.get("/jobs", query_string={"status": "all", "q": typed})
                .get_data(as_text=True))
    assert [d["data-job"] for d in page.find("data-job")] == unit_jobs(app, unit)
    assert page.values["q"] == typed


def test_the_board_pages_through_a_units_jobs(app, client, auth):
    unit = unit_id(app, "2栋", "502")
    add_jobs(app, unit, 30)
    auth.login("desk")
    page = Page(client.get("/jobs?status=closed&q=2-502").get_data(as_text=True))
    first = [d["data-job"] for d in page.find("data-job")]
    more = page.find("data-more-link")
    assert len(first) == 25 and more and "q=2-502" in more[0]["href"]
    rest = Page(client.get(more[0]["href"], headers={"HX-Request": "true"})
                .get_data(as_text=True))
    assert first + [d["data-job"] for d in rest.find("data-job")] == unit_jobs(app, unit)
    assert not rest.find("data-more-link")


@pytest.mark.parametrize("typed", ["1#101", "1号楼101", "1 101", "１－１０１", "1栋101室"])
def test_the_round_adds_a_unit_written_in_any_form(app, client, auth, typed):
    auth.login("supervisor")
    response = client.post("/inspections/round", data={
        "op_id": str(uuid.uuid4()), "unit": typed, "estate_id": "1"})
    assert response.status_code == 303, typed
    page = Page(client.get("/inspections").get_data(as_text=True))
    places = [d["data-round-place"] for d in page.find("data-round-place")]
    assert f"unit:{unit_id(app, '1栋', '101')}" in places
