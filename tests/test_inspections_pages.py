"""Inspection pages: the round, the checklist form (online and through the outbox's
batch), the inspection page and its later "make a job", the month's summary and CSV,
checklist editing, and who may do what."""

import hashlib
import io
import uuid

import pytest
from flask import render_template
from PIL import Image

from webapp.auth import utcnow
from webapp.db import connect
from webapp.domain import files, inspections

from .pages import Page

ORIGIN = {"Origin": "http://localhost"}


def jpeg(colour="red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buf, "JPEG")
    return buf.getvalue()


def db_of(app):
    return connect(app.config["DATABASE"])


def checklist(client, place_type="area", place_id=2):
    """The visit page and its form's fields as the page renders them."""
    response = client.get(f"/inspections/visit?place_type={place_type}&place_id={place_id}")
    assert response.status_code == 200
    page = Page(response.get_data(as_text=True))
    return page, page.forms["inspection.record"]


def answers(form, fail=(), **extra) -> dict:
    """All items pass, except the positions in `fail`."""
    ids = form["items"].split(",")
    data = {k: form[k] for k in ("template_id", "items", "visited_at")}
    data.update({f"result_{i}": "fail" if n in fail else "pass" for n, i in enumerate(ids)})
    data.update({f"job_{ids[n]}": "1" for n in fail})
    return {**data, "op_id": str(uuid.uuid4()), **extra}


def test_the_checklist_lists_the_items_with_result_chips_and_a_visit_stamp(client, auth):
    auth.login("supervisor")
    page, form = checklist(client)
    assert page.find("data-template")[0]["data-template"] == form["template_id"]
    items = page.find("data-item")
    assert len(items) == len(form["items"].split(",")) == 8
    assert len(page.find("data-result", "fail")) == 8
    assert form["visited_at"].endswith("Z") and page.find("data-stamp-visit")
    form_tag = next(d for d in page.find("data-command") if d["tag"] == "form")
    assert form_tag["data-target"] == "area:2" and "data-outbox" in form_tag


def test_failing_an_item_with_a_photo_makes_a_linked_job(app, client, auth):
    auth.login("supervisor")
    _page, form = checklist(client)
    first = form["items"].split(",")[0]
    photo = jpeg()
    data = answers(form, fail=(0,), **{f"note_{first}": "灯不亮",
                                       f"photos_{first}": (io.BytesIO(photo), "a.jpg")})
    response = client.post("/inspections/visit?place_type=area&place_id=2", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 303
    detail = client.get(response.headers["Location"])
    page = Page(detail.get_data(as_text=True))
    (linked,) = page.find("data-job")
    db = db_of(app)
    job = next(db.query("SELECT * FROM jobs WHERE id = ?", [int(linked["data-job"])]))
    assert job["department"] == "maintenance" and "灯不亮" in job["description"]
    sha = hashlib.sha256(files.reencode(photo) or b"").hexdigest()  # as the server keeps it
    assert db.execute("SELECT count(*) FROM job_photos WHERE job_id = ? AND sha256 = ?",
                      [job["id"], sha]).fetchone()[0] == 1
    with client.get(f"/files/{sha}") as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
    auth.logout()
    auth.login("desk2")  # 锦绣家园 only
    assert client.get(f"/files/{sha}").status_code == 404
    assert client.get(response.headers["Location"]).status_code == 404


def test_an_unanswered_item_is_shown_next_to_it_and_the_notes_are_kept(client, auth):
    auth.login("supervisor")
    _page, form = checklist(client)
    ids = form["items"].split(",")
    data = answers(form, fail=(1,), **{f"note_{ids[1]}": "门关不严"})
    del data[f"result_{ids[0]}"]
    response = client.post("/inspections/visit?place_type=area&place_id=2", data=data)
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert list(page.errors) == [f"result_{ids[0]}"]
    assert page.values[f"note_{ids[1]}"] == "门关不严"
    assert page.values[f"result_{ids[1]}"] == "fail"
    assert page.values["visited_at"] == data["visited_at"]


def test_the_outbox_replays_a_checklist_once(app, client, auth):
    auth.login("supervisor")
    _page, form = checklist(client)
    photo = jpeg("green")
    sha = hashlib.sha256(photo).hexdigest()
    assert client.put(f"/sync/files/{sha}", data=photo, headers=ORIGIN).status_code == 201
    fields = answers(form, fail=(2,))
    op_id = fields.pop("op_id")
    fields[f"photos_{form['items'].split(',')[2]}"] = [sha]
    item = {"op_id": op_id, "kind": "inspection.record", "target": "area:2", "fields": fields,
            "device_time": utcnow().isoformat() + "Z", "queued": True}
    body = {"device_id": "phone-1", "sent_at": utcnow().isoformat() + "Z", "commands": [item]}
    first = client.post("/sync/batch", json=body, headers=ORIGIN).json["results"][0]
    again = client.post("/sync/batch", json=body, headers=ORIGIN).json["results"][0]
    assert (first["status"], again["status"]) == ("applied", "duplicate")
    db = db_of(app)
    assert db.execute("SELECT count(*) FROM inspections WHERE op_id = ?",
                      [op_id]).fetchone()[0] == 1
    (job,) = db.execute("SELECT job_id FROM inspection_results WHERE op_id = ? "
                        "AND result = 'fail'", [op_id]).fetchall()
    assert db.execute("SELECT sha256 FROM job_photos WHERE job_id = ?",
                      [job[0]]).fetchone()[0] == sha


def test_the_round_page_and_adding_a_place(app, client, auth):
    auth.login("supervisor")
    response = client.post("/inspections/round", data={
        "op_id": str(uuid.uuid4()), "place": "area:2", "estate_id": "1"})
    assert response.status_code == 303
    page = Page(client.get("/inspections").get_data(as_text=True))
    assert [d["data-round-place"] for d in page.find("data-round-place")] == ["area:2"]
    unit = client.post("/inspections/round", data={
        "op_id": str(uuid.uuid4()), "unit": "1-101x", "estate_id": "1"})
    assert unit.status_code == 422
    page = Page(unit.get_data(as_text=True))
    assert "unit" in page.errors and page.values["unit"] == "1-101x"
    manifest = client.get("/sync/manifest", headers=ORIGIN).json["pages"]
    assert "/inspections" in manifest
    assert "/inspections/visit?place_type=area&place_id=2" in manifest


@pytest.mark.parametrize("label", ["1-101", "1栋-101", "1栋101", " 1栋 101 "])
def test_a_unit_is_found_by_building_and_room(db, label):
    assert inspections.find_unit(db, 1, label)["name"] == "1栋-101"


def test_making_a_job_later_from_the_inspection_page(app, client, auth):
    """The demo's visit to the car park found failing lights without making a job."""
    auth.login("supervisor")
    page = Page(client.get("/inspections/1").get_data(as_text=True))
    (button,) = page.find("data-action", "make-job")
    (failed,) = page.find("data-result", "fail")
    result_id = failed["data-result-row"]
    response = client.post(f"/inspections/results/{result_id}/job",
                           data={"op_id": str(uuid.uuid4())})
    assert response.status_code == 303
    page = Page(client.get("/inspections/1").get_data(as_text=True))
    assert page.find("data-job") and not page.find("data-action", "make-job")
    again = client.post(f"/inspections/results/{result_id}/job",
                        data={"op_id": str(uuid.uuid4())})
    assert again.status_code == 409
    auth.logout()
    auth.login("desk")  # may look, not act
    assert client.post(f"/inspections/results/{result_id}/job",
                       data={"op_id": str(uuid.uuid4())}).status_code == 403


def test_the_old_summary_goes_to_the_figures_inspections_area(client, auth):
    auth.login("manager")
    moved = client.get("/inspections/summary?month=2026-11")
    assert moved.status_code == 302
    assert moved.headers["Location"] == "/figures/inspections?period=2026-11"
    assert client.get("/inspections/summary.csv").headers["Location"] == \
        "/figures/inspections/figures.csv"
    auth.logout()
    auth.login("desk")  # the figures are the managers'
    assert client.get("/inspections/summary").status_code == 403


def test_editing_a_checklist_through_the_page(app, client, auth):
    auth.login("admin")
    page = Page(client.get("/inspections/templates/4").get_data(as_text=True))
    form = page.forms["inspection.template_save"]
    ids = [d["data-item-row"] for d in page.find("data-item-row")]
    data = {k: v for k, v in form.items() if not k.startswith("active_")}
    # (Selects are not parsed by Page: the kind and departments as they are.)
    data["place_kind"] = "lift"
    data.update({f"department_{r['id']}": r["department"]
                 for r in inspections.items(db_of(app), 4, active_only=False)})
    data.update({"op_id": str(uuid.uuid4()), "item": ids, "active": "1",
                 "move": f"{ids[1]}:up", f"department_{ids[0]}": "security"})
    data.update({f"active_{i}": "1" for i in ids[:-1]})  # the last one out of use
    data.update({"text_new": "轿厢通风良好", "department_new": "maintenance"})
    response = client.post("/inspections/templates/4", data=data)
    assert response.status_code == 303, Page(response.get_data(as_text=True)).errors
    assert response.headers["Location"].endswith(f"#item-{ids[1]}")
    db = db_of(app)
    rows = inspections.items(db, 4, active_only=False)
    assert [str(r["id"]) for r in rows[:2]] == [ids[1], ids[0]]
    assert rows[1]["department"] == "security"
    assert rows[-1]["text"] == "轿厢通风良好" and not rows[-2]["active"]
    bad = client.post("/inspections/templates/4", data={**data, "op_id": str(uuid.uuid4()),
                                                        "move": "", "name": "",
                                                        f"text_{ids[0]}": ""})
    assert bad.status_code == 422
    page = Page(bad.get_data(as_text=True))
    assert {"name", f"text_{ids[0]}"} <= set(page.errors)
    assert page.values["text_new"] == "轿厢通风良好"


def test_adding_a_checklist_and_who_may(client, auth):
    auth.login("manager")
    data = {"op_id": str(uuid.uuid4()), "name": "会所巡查", "place_kind": "corridor",
            "active": "1", "text_new": "空调正常", "department_new": "maintenance"}
    assert client.post("/inspections/templates", data=data).status_code == 403
    auth.logout()
    auth.login("admin")
    response = client.post("/inspections/templates", data=data)
    assert response.status_code == 303
    page = Page(client.get("/inspections/templates").get_data(as_text=True))
    counts = [d["data-item-count"] for d in page.find("data-item-count")]
    assert counts == ["9", "8", "8", "8", "7", "8", "1"]
    missing = client.post("/inspections/templates", data={**data, "op_id": str(uuid.uuid4()),
                                                          "text_new": ""})
    assert missing.status_code == 422 and "text_new" in Page(missing.get_data(as_text=True)).errors


def test_only_inspectors_record_and_only_in_their_estates(client, auth):
    auth.login("desk")
    assert client.post("/inspections/visit?place_type=area&place_id=2",
                       data={"op_id": str(uuid.uuid4())}).status_code == 403
    auth.logout()
    auth.login("supervisor")  # 翠湖花园 only; area 3 is 锦绣家园's car park
    assert client.get("/inspections/visit?place_type=area&place_id=3").status_code == 404
    assert client.get("/inspections/visit?place_type=boat&place_id=1").status_code == 404


def test_the_place_page_shows_the_places_inspections(app, client, auth):
    auth.login("supervisor")
    page = Page(client.get("/places/area/1").get_data(as_text=True))
    (summary,) = page.find("data-inspection-summary", "area:1")
    assert page.find("data-failed-rate", "14.3") and page.find("data-recent")
    assert page.find("data-place-action", "inspect")[0]["href"] == \
        "/inspections/visit?place_type=area&place_id=1"
    with client:
        client.get("/inspections")
        html = render_template("inspections/_place_summary.html",
                               summary=inspections.place_summary(db_of(app), "equipment", 3))
        assert "data-not-inspected" in html
