"""The routine plan page: preview, making the plan, errors kept, who may see it."""

from __future__ import annotations

import uuid

from webapp.domain import routine

from .pages import Page


def test_the_page_shows_the_preview_and_makes_the_plan(client, auth):
    auth.login("manager")
    response = client.get("/routine?estate_id=1")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.find("data-no-plan")
    form = page.forms["routine.plan"]
    assert form["estate_id"] == "1" and form["op_id"] == ""
    preview = {d["data-sampler"]: int(d["data-quota"]) for d in page.find("data-quota")}
    assert preview["manager"] == 4

    op = str(uuid.uuid4())
    data = {"op_id": op, "estate_id": "1", "month": form["month"], "seed": ""}
    response = client.post("/routine", data=data)
    assert response.status_code == 303
    assert "done=made" in response.headers["Location"]
    # The same form sent again (a double tap) is applied once.
    assert client.post("/routine", data=data).status_code == 303

    page = Page(client.get(response.headers["Location"]).get_data(as_text=True))
    assert page.find("data-plan-made")
    rows = {d["data-sampler"]: d for d in page.find("data-shortfall") if d["tag"] == "tr"}
    assert set(rows) == set(routine.SAMPLERS)
    assert rows["manager"]["data-quota"] == "4" and rows["manager"]["data-done"] == "0"
    seed = page.find("data-seed")
    assert seed
    tasks = page.find("data-task")
    planned = sum(int(r["data-planned"]) for r in rows.values())
    assert len(tasks) == planned > 0
    buildings = {d["data-building"] for d in page.find("data-building")}
    assert buildings == {"1栋", "2栋", "3栋", "4栋"}
    assert not page.forms.get("routine.plan")  # made: no second form

    # Another op_id for the same month finds the plan that exists.
    data["op_id"] = str(uuid.uuid4())
    response = client.post("/routine", data=data)
    assert response.status_code == 303 and "done=existing" in response.headers["Location"]


def test_the_page_records_a_chosen_seed_and_shows_key_customers(app, client, auth):
    from webapp.db import connect

    db = connect(app.config["DATABASE"])
    db.execute("INSERT INTO unit_flags (unit_id, flag) SELECT id, 'important_owner' FROM units"
               " WHERE estate_id = 1")
    db.conn.commit()
    db.close()
    auth.login("admin")
    month = Page(client.get("/routine?estate_id=1").get_data(as_text=True)).forms[
        "routine.plan"]["month"]
    response = client.post("/routine", data={"op_id": str(uuid.uuid4()), "estate_id": "1",
                                             "month": month, "seed": "12345"})
    assert response.status_code == 303
    page = Page(client.get(response.headers["Location"]).get_data(as_text=True))
    tasks = page.find("data-task")
    assert tasks and all("data-key-customer" in t and t["data-method"] == "visit"
                         for t in tasks)
    assert page.find("data-visit")
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT seed FROM routine_plans").fetchone()[0] == 12345
    db.close()


def test_bad_input_is_shown_next_to_the_field_and_kept(client, auth):
    auth.login("manager")
    month = Page(client.get("/routine?estate_id=1").get_data(as_text=True)).forms[
        "routine.plan"]["month"]
    response = client.post("/routine", data={"op_id": str(uuid.uuid4()), "estate_id": "1",
                                             "month": month, "seed": "not a number"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert "seed" in page.errors and page.forms["routine.plan"]["seed"] == "not a number"


def test_a_past_month_shows_no_form(client, auth):
    auth.login("manager")
    page = Page(client.get("/routine?estate_id=1&month=2020-01").get_data(as_text=True))
    assert page.find("data-past") and "routine.plan" not in page.forms
    assert not page.find("data-plan-by-manager")
    # The manager looking far ahead is told when the plan can be made, not that the
    # manager makes it.
    ahead = Page(client.get("/routine?estate_id=1&month=2099-01").get_data(as_text=True))
    assert ahead.find("data-plan-later") and not ahead.find("data-plan-by-manager")


def test_the_month_list_swaps_only_the_plan_for_htmx(client, auth):
    auth.login("manager")
    response = client.get("/routine?estate_id=2&month=2099-01", headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert not page.has_html and page.find("data-plan-month", "2099-01")
    assert {d["data-sampler"]: d["data-quota"] for d in page.find("data-quota")}[
        "manager"] == "1"  # 24 households


def test_the_desk_sees_the_plan_but_cannot_make_it(client, auth):
    auth.login("desk")
    response = client.get("/routine")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    assert page.find("data-nav", "routine") and "routine.plan" not in page.forms
    assert page.find("data-plan-by-manager")  # says who makes it, not a dead end
    response = client.post("/routine", data={"op_id": str(uuid.uuid4()), "estate_id": "1",
                                             "month": "2026-11"})
    assert response.status_code == 403


def test_an_estate_you_do_not_serve_does_not_exist(client, auth):
    auth.login("desk")  # serves 翠湖花园 only
    assert client.get("/routine?estate_id=2").status_code == 404


def test_field_staff_have_no_routine_page(client, auth):
    auth.login("tech")
    assert client.get("/routine").status_code == 403
    page = Page(client.get("/jobs/mine").get_data(as_text=True))
    assert not page.find("data-nav", "routine")
