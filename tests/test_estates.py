"""An estate's holiday calendar and a unit's key-customer flags, through their pages."""

import uuid
from datetime import date

from webapp.db import connect
from webapp.domain import sampling, workdays

from .conftest import NOW
from .pages import Page


def post(client, url, **data):
    return client.post(url, data={"op_id": str(uuid.uuid4()), **data})


def test_holidays_are_entered_and_move_callback_deadlines(app, client, auth):
    auth.login("manager")
    bad = post(client, "/admin/estates/1/calendar", day="not-a-date", kind="holiday")
    assert bad.status_code == 422
    assert Page(bad.get_data(as_text=True)).errors["day"] == "请输入日期。"
    assert post(client, "/admin/estates/1/calendar", day="2026-10-01", kind="holiday",
                name="国庆节").status_code == 303
    assert post(client, "/admin/estates/1/calendar", day="2026-10-10", kind="workday",
                name="调休").status_code == 303
    page = Page(client.get("/admin/estates/1/calendar?year=2026").get_data(as_text=True))
    assert [d["data-day"] for d in page.find("data-day")] == ["2026-10-01", "2026-10-10"]
    db = connect(app.config["DATABASE"])
    cal = workdays.overrides(db, 1)
    assert not workdays.is_workday(date(2026, 10, 1), cal)
    assert workdays.is_workday(date(2026, 10, 10), cal)  # a Saturday made a working day
    post(client, "/admin/estates/1/calendar", day="2026-10-01", remove="1")
    assert len(workdays.overrides(db, 1)) == 1
    auth.logout()
    auth.login("desk")
    assert client.get("/admin/estates/1/calendar").status_code == 403


def test_key_customer_flags_make_door_to_door_households(app, client, auth):
    auth.login("admin")
    assert post(client, "/units/7/flags", flags="unpaid_fees").status_code == 303
    page = Page(client.get("/units/7").get_data(as_text=True))
    assert page.find("data-key-customer")
    db = connect(app.config["DATABASE"])
    assert 7 in sampling.key_customers(db, 1, NOW)
    post(client, "/units/7/flags")
    assert 7 not in sampling.key_customers(db, 1, NOW)


def test_a_record_s_address_is_estate_building_and_room():
    from webapp.domain.estates import address

    row = {"estate_name": "阳光花园", "building_name": "1栋", "unit_number": "502"}
    assert address(row) == "阳光花园 1栋-502"
    assert address({**row, "building_name": None, "unit_number": None}).strip() == "阳光花园"


def test_the_board_row_and_the_job_page_print_the_same_address(app, client, auth):
    db = connect(app.config["DATABASE"])
    job = next(db.query(
        "SELECT j.id, j.number, e.name AS estate_name, b.name AS building_name,"
        " u.number AS unit_number FROM jobs j JOIN estates e ON e.id = j.estate_id"
        " JOIN units u ON u.id = j.unit_id JOIN buildings b ON b.id = u.building_id"
        " WHERE j.estate_id IN (SELECT estate_id FROM user_estates WHERE user_id ="
        " (SELECT id FROM users WHERE username = 'desk')) ORDER BY j.id DESC LIMIT 1"))
    db.close()
    expected = f"{job['estate_name']} {job['building_name']}-{job['unit_number']}"
    auth.login("desk")
    board = Page(client.get(f"/jobs?status=all&q={job['number']}").get_data(as_text=True))
    assert expected in board.text("data-job", job["number"])
    detail = client.get(f"/jobs/{job['id']}").get_data(as_text=True)
    assert f"<strong>{expected}</strong>" in detail
