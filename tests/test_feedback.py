"""Environment feedback: sent from the field (validated, with photos, once per op_id), the
desk's queue scoped by estate, and answer, close or turn-into-a-job (once, to the right
department)."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from sync import Invalid
from webapp.db import connect
from webapp.domain import files

from .conftest import NOW, op
from .jobflow import run, uid
from .pages import Page

ORIGIN = {"Origin": "http://localhost"}


def jpeg(colour: str = "green") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buf, "JPEG")
    return buf.getvalue()


def area(db, name: str = "地下车库", estate: int = 1) -> str:
    row = db.execute("SELECT id FROM common_areas WHERE estate_id = ? AND name = ?",
                     [estate, name]).fetchone()
    return f"area:{row[0]}"


def send(db, who: str = "cleaner", op_id: str | None = None, **over):
    payload = {"place": area(db), "category": "litter", "note": "车位旁有装修垃圾",
               "photos": [], **over}
    return run(db, who, "feedback.create", "feedback:new", op_id=op_id, **payload)


def sent(db, **over) -> int:
    out = send(db, **over)
    assert out.status == "applied", out.result
    return out.result["feedback_id"]


def row(db, feedback_id: int) -> dict:
    return next(iter(db.query("SELECT * FROM feedback WHERE id = ?", [feedback_id])))


# --- Sending from the field -------------------------------------------------------------


def test_feedback_is_stored_at_its_place_with_who_and_when(db):
    fid = sent(db)
    f = row(db, fid)
    assert (f["estate_id"], f["place_type"], f["category"], f["status"]) == (
        1, "area", "litter", "new")
    assert f["user_id"] == uid(db, "cleaner") and f["at"] == NOW.isoformat()
    actions = db.execute("SELECT action FROM audit_log WHERE entity = 'feedback' "
                         "AND entity_id = ?", [fid]).fetchall()
    assert actions == [("create",)]


def test_a_unit_is_found_by_building_and_room(db):
    building = db.execute("SELECT id FROM buildings WHERE estate_id = 1 AND name = '2栋'"
                          ).fetchone()[0]
    fid = sent(db, place="unit", building_id=str(building), unit_number=" 304 ",
               category="remark", note="住户说楼下有积水")
    unit = db.execute("SELECT id FROM units WHERE building_id = ? AND number = '304'",
                      [building]).fetchone()[0]
    assert (row(db, fid)["place_type"], row(db, fid)["place_id"]) == ("unit", unit)


@pytest.mark.parametrize("over, field", [
    ({"place": ""}, "place"),
    ({"place": "area:99999"}, "place"),
    ({"place": "kitchen:1"}, "place"),
    ({"place": "unit", "building_id": ""}, "building_id"),
    ({"place": "unit", "building_id": "1", "unit_number": "9999"}, "unit_number"),
    ({"category": "noise"}, "category"),
    ({"category": "remark", "note": " "}, "note"),
    ({"category": "other", "note": ""}, "note"),
    ({"photos": ["0" * 64]}, "photos"),
])
def test_bad_input_is_refused_field_by_field_and_nothing_is_stored(db, over, field):
    before = db.execute("SELECT count(*) FROM feedback").fetchone()[0]
    with pytest.raises(Invalid) as exc:
        send(db, **over)
    assert field in exc.value.errors
    assert db.execute("SELECT count(*) FROM feedback").fetchone()[0] == before


def test_another_estates_place_is_not_offered_to_you(db):
    with pytest.raises(Invalid) as exc:
        send(db, who="tech3", place=area(db, estate=1))  # tech3 serves 锦绣家园 only
    assert "place" in exc.value.errors


def test_the_same_op_id_sends_once(db):
    op_id = op()
    first = send(db, op_id=op_id)
    again = send(db, op_id=op_id)
    assert (first.status, again.status) == ("applied", "duplicate")
    assert again.result == first.result
    assert db.execute("SELECT count(*) FROM feedback WHERE op_id = ?", [op_id]).fetchone()[0] == 1


def test_only_field_staff_send_feedback(db):
    out = send(db, who="desk")
    assert out.status == "rejected" and out.result["reason"] == "forbidden"


def test_photos_stay_with_the_feedback_and_go_with_its_job(db, tmp_path):
    sha = files.store(db, str(tmp_path), jpeg(), "image/jpeg", NOW, uid(db, "cleaner"))
    fid = sent(db, photos=[sha], category="other", note="")
    assert db.execute("SELECT sha256 FROM feedback_photos WHERE feedback_id = ?",
                      [fid]).fetchall() == [(sha,)]
    job = run(db, "desk", "feedback.to_job", f"feedback:{fid}", department="maintenance")
    assert db.execute("SELECT sha256, stage FROM job_photos WHERE job_id = ?",
                      [job.result["job_id"]]).fetchall() == [(sha, "intake")]


# --- The desk's steps -------------------------------------------------------------------


@pytest.mark.parametrize("category, department, job_category", [
    ("litter", "cleaning", "cleaning"),
    ("odour", "cleaning", "cleaning"),
    ("greenery", "cleaning", "greening"),
    ("pests", "cleaning", "pests"),
    ("damage", "maintenance", "public_facility"),
])
def test_a_job_goes_to_the_department_of_the_category(db, category, department, job_category):
    fid = sent(db, category=category)
    out = run(db, "desk", "feedback.to_job", f"feedback:{fid}")
    assert out.status == "applied", out.result
    job = next(iter(db.query("SELECT * FROM jobs WHERE id = ?", [out.result["job_id"]])))
    assert (job["department"], job["category"], job["status"]) == (department, job_category,
                                                                   "new")
    assert job["estate_id"] == 1 and job["unit_id"] is None
    assert job["reporter_name"] == "钱阿姨" and "地下车库" in job["description"]
    assert (row(db, fid)["status"], row(db, fid)["job_id"]) == ("job", job["id"])


def test_a_residents_remark_needs_the_desk_to_choose_the_department(db):
    building = db.execute("SELECT id FROM buildings WHERE estate_id = 1 LIMIT 1").fetchone()[0]
    fid = sent(db, place="unit", building_id=str(building), unit_number="101",
               category="remark", note="住户说单元门禁坏了")
    with pytest.raises(Invalid) as exc:
        run(db, "desk", "feedback.to_job", f"feedback:{fid}")
    assert "department" in exc.value.errors and row(db, fid)["status"] == "new"
    out = run(db, "desk", "feedback.to_job", f"feedback:{fid}", department="security",
              job_class="medium", description="单元门禁刷卡无反应")
    job = next(iter(db.query("SELECT * FROM jobs WHERE id = ?", [out.result["job_id"]])))
    assert (job["department"], job["job_class"], job["description"]) == (
        "security", "medium", "单元门禁刷卡无反应")
    assert job["unit_id"] == row(db, fid)["place_id"]


def test_a_feedback_becomes_one_job_only(db):
    fid = sent(db)
    op_id = op()
    first = run(db, "desk", "feedback.to_job", f"feedback:{fid}", op_id=op_id)
    double_tap = run(db, "desk", "feedback.to_job", f"feedback:{fid}", op_id=op_id)
    other_desk = run(db, "manager", "feedback.to_job", f"feedback:{fid}")
    assert (first.status, double_tap.status, other_desk.status) == (
        "applied", "duplicate", "rejected")
    assert other_desk.result["current"]["job_id"] == first.result["job_id"]
    assert db.execute("SELECT count(*) FROM jobs WHERE description LIKE '%车位旁有装修垃圾%'"
                      ).fetchone()[0] == 1


def test_answer_then_close(db):
    fid = sent(db)
    with pytest.raises(Invalid) as exc:
        run(db, "desk", "feedback.answer", f"feedback:{fid}", answer="")
    assert "answer" in exc.value.errors
    out = run(db, "desk", "feedback.answer", f"feedback:{fid}", answer="已安排保洁清运")
    assert out.status == "applied" and row(db, fid)["status"] == "answered"
    assert row(db, fid)["answer"] == "已安排保洁清运"
    assert row(db, fid)["answered_by"] == uid(db, "desk")
    assert run(db, "desk", "feedback.answer", f"feedback:{fid}", answer="再答").status == \
        "rejected"
    assert run(db, "desk", "feedback.close", f"feedback:{fid}", note="x").status == "applied"
    assert (row(db, fid)["status"], row(db, fid)["answer"]) == ("closed", "已安排保洁清运")
    assert run(db, "desk", "feedback.to_job", f"feedback:{fid}").status == "rejected"


def test_closing_with_a_note_answers_it(db):
    fid = sent(db)
    run(db, "desk", "feedback.close", f"feedback:{fid}", note="已清理")
    assert (row(db, fid)["status"], row(db, fid)["answer"]) == ("closed", "已清理")


@pytest.mark.parametrize("who", ["desk2", "cleaner", "tech"])
def test_only_the_estates_desk_handles_feedback(db, who):
    fid = sent(db)
    out = run(db, who, "feedback.answer", f"feedback:{fid}", answer="好")
    assert out.status == "rejected" and out.result["reason"] == "forbidden"
    assert row(db, fid)["status"] == "new"


# --- Pages ------------------------------------------------------------------------------


def form(**over) -> dict:
    return {"op_id": op(), "place": "", "category": "litter", "note": "垃圾桶满了", **over}


def test_the_form_lists_the_estates_places_and_takes_a_scanned_place(app, client, auth):
    auth.login("cleaner")
    page = Page(client.get("/feedback/new").get_data(as_text=True))
    db = connect(app.config["DATABASE"])
    garage, lift = area(db), area(db, "1号电梯")
    places = [d["data-place"] for d in page.find("data-place")]
    assert garage in places and lift in places and "unit" in places
    assert area(db, estate=2) not in places
    assert len(page.find("data-category")) == 7
    kind, ident = garage.split(":")
    scanned = Page(client.get(f"/feedback/new?place_type={kind}&place_id={ident}")
                   .get_data(as_text=True))
    assert scanned.values["place"] == garage
    unit = Page(client.get("/feedback/new?place_type=unit&place_id=5").get_data(as_text=True))
    assert unit.values["place"] == "unit:5"
    kind, ident = area(db, estate=2).split(":")
    elsewhere = Page(client.get(f"/feedback/new?place_type={kind}&place_id={ident}")
                     .get_data(as_text=True))
    assert "place" not in elsewhere.values


def test_sending_with_a_photo_lands_in_my_list_and_the_desks_queue(app, client, auth):
    db = connect(app.config["DATABASE"])
    photo = jpeg("red")
    sha = hashlib.sha256(files.reencode(photo) or b"").hexdigest()  # as the server keeps it
    auth.login("cleaner")
    response = client.post("/feedback/new", data={
        **form(place=area(db), category="pests", note="发现老鼠洞"),
        "photos": (io.BytesIO(photo), "p.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"] == "/feedback/mine"
    fid = db.execute("SELECT id FROM feedback WHERE note = '发现老鼠洞'").fetchone()[0]
    mine = Page(client.get("/feedback/mine").get_data(as_text=True))
    assert mine.find("data-feedback", str(fid))
    url = f"/feedback/{fid}/photos/{sha}"
    with client.get(url) as served:
        assert served.status_code == 200
    auth.logout()
    auth.login("guard")  # a sender, but not of this one
    assert client.get(url).status_code == 404
    auth.logout()
    auth.login("desk")
    queue = Page(client.get("/feedback").get_data(as_text=True))
    rows = queue.find("data-feedback")
    assert rows[0]["data-feedback"] == str(fid)
    assert [r["data-status"] for r in rows] == sorted(
        (r["data-status"] for r in rows), key=lambda s: s != "new")
    with client.get(url) as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert client.get(f"/feedback/{fid}/photos/{'0' * 64}").status_code == 404
    auth.logout()
    auth.login("desk2")
    assert client.get(url).status_code == 404


def test_bad_input_shows_next_to_the_field_and_keeps_what_was_typed(client, auth):
    auth.login("cleaner")
    response = client.post("/feedback/new", data=form(category="remark", note=""))
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert set(page.errors) == {"place", "note"}
    assert page.values["category"] == "remark"
    response = client.post("/feedback/new", data=form(place="unit", building_id="1",
                                                      unit_number="9999"))
    page = Page(response.get_data(as_text=True))
    assert set(page.errors) == {"unit_number"} and page.values["unit_number"] == "9999"
    assert page.textareas["note"] == "垃圾桶满了"


def test_the_queue_is_scoped_to_your_estates(client, auth):
    auth.login("desk")
    text = client.get("/feedback").get_data(as_text=True)
    assert "B2层车位旁堆着装修垃圾" in text and "出口坡道有散落垃圾" not in text
    auth.logout()
    auth.login("desk2")
    text = client.get("/feedback").get_data(as_text=True)
    assert "出口坡道有散落垃圾" in text and "翠湖花园" not in text
    auth.logout()
    auth.login("manager")
    text = client.get("/feedback").get_data(as_text=True)
    assert "出口坡道有散落垃圾" in text and "B2层车位旁堆着装修垃圾" in text


def test_the_filter_answers_with_the_rows_only(client, auth):
    auth.login("desk")
    response = client.get("/feedback?status=answered", headers={"HX-Request": "true"})
    page = Page(response.get_data(as_text=True))
    assert not page.has_html
    assert {r["data-status"] for r in page.find("data-feedback")} == {"answered"}


def test_the_desk_nav_counts_new_feedback(client, auth):
    auth.login("desk")
    (link,) = Page(client.get("/feedback").get_data(as_text=True)).find("data-feedback-new")
    assert link["data-feedback-new"] == "4"  # the demo's new items in 翠湖花园


def test_turning_into_a_job_from_the_page(app, client, auth):
    db = connect(app.config["DATABASE"])
    fid = db.execute("SELECT id FROM feedback WHERE category = 'damage'").fetchone()[0]
    auth.login("desk2")
    assert client.get(f"/feedback/{fid}").status_code == 404
    assert client.post(f"/feedback/{fid}/to_job", data={"op_id": op()}).status_code == 404
    auth.logout()
    auth.login("desk")
    response = client.post(f"/feedback/{fid}/to_job", data={"op_id": op(), "job_class": "x"})
    assert response.status_code == 422
    assert "job_class" in Page(response.get_data(as_text=True)).errors
    response = client.post(f"/feedback/{fid}/to_job", data={"op_id": op(),
                                                            "job_class": "small"})
    assert response.status_code == 303
    page = Page(client.get(f"/feedback/{fid}").get_data(as_text=True))
    (status,) = page.find("data-feedback-page")
    assert status["data-status"] == "job" and page.find("data-job")
    assert not page.find("data-action", "to_job")
    again = client.post(f"/feedback/{fid}/to_job", data={"op_id": op()})
    assert again.status_code == 409 and Page(again.get_data(as_text=True)).notice
    job = db.execute("SELECT department FROM jobs j JOIN feedback f ON f.job_id = j.id "
                     "WHERE f.id = ?", [fid]).fetchone()[0]
    assert job == "maintenance"


def test_field_staff_cannot_handle_feedback(app, client, auth):
    db = connect(app.config["DATABASE"])
    fid = db.execute("SELECT id FROM feedback WHERE estate_id = 1 LIMIT 1").fetchone()[0]
    auth.login("cleaner")
    assert client.post(f"/feedback/{fid}/answer", data={"op_id": op(), "answer": "x"}
                       ).status_code == 403
    assert client.post(f"/feedback/{fid}/bogus", data={}).status_code == 403


def test_the_phone_keeps_the_feedback_pages_and_replays_the_form(app, client, auth):
    auth.login("cleaner")
    pages = client.get("/sync/manifest", headers=ORIGIN).json["pages"]
    assert "/feedback/new" in pages and "/feedback/mine" in pages
    db = connect(app.config["DATABASE"])
    photo = jpeg("blue")
    sha = hashlib.sha256(photo).hexdigest()
    client.put(f"/sync/files/{sha}", data=photo, headers=ORIGIN)
    item = {"op_id": op(), "kind": "feedback.create", "target": "feedback:new",
            "queued": True, "device_time": "2026-01-01T08:00:00Z",
            "fields": {"place": area(db), "category": "greenery", "note": "草坪枯黄",
                       "photos": [sha]}}
    body = {"device_id": "phone", "sent_at": "2026-01-01T08:05:00Z", "commands": [item]}
    first = client.post("/sync/batch", json=body, headers=ORIGIN).json["results"]
    again = client.post("/sync/batch", json=body, headers=ORIGIN).json["results"]
    assert [first[0]["status"], again[0]["status"]] == ["applied", "duplicate"]
    (f,) = db.query("SELECT id, at FROM feedback WHERE op_id = ?", [item["op_id"]])
    assert db.execute("SELECT count(*) FROM feedback_photos WHERE feedback_id = ?",
                      [f["id"]]).fetchone()[0] == 1
    # When the worker saw it (five minutes before the phone sent it), not when it arrived.
    (c,) = db.query("SELECT acted_at, received_at FROM commands WHERE op_id = ?",
                    [item["op_id"]])
    assert f["at"] == c["acted_at"][:19] and f["at"] < c["received_at"]
    auth.logout()
    auth.login("desk")
    assert "/feedback/new" not in client.get("/sync/manifest", headers=ORIGIN).json["pages"]
