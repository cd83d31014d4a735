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
