"""Inspections in the domain: which checklist a place gets, editing checklists, a recorded
visit whose failed items become jobs for the right department, applied once, the day's
round, and the rates of failed items."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

import sync
from webapp.domain import files, inspections, places
from webapp.domain.handlers import HANDLERS

from .conftest import NOW
from .jobflow import run, uid

GARAGE = "area:1"  # 地下车库, kind 'area' → grounds
LIFT = "area:2"  # 1号电梯, a common area of kind 'equipment' → lift


def items_of(db, ref: str) -> tuple[int, list[dict]]:
    place_type, place_id = ref.split(":")
    place = places.get_place(db, place_type, int(place_id))
    template = inspections.template_for(db, place)
    return template["id"], inspections.items(db, template["id"])


def record(db, ref: str, answers: dict[int, str] | None = None, *, username="supervisor",
           now=NOW, op_id=None, notes=None, photos=None, jobs=None, **extra) -> sync.Outcome:
    """Record a visit: every item passes unless `answers` (item position → result) says."""
    template_id, rows = items_of(db, ref)
    answers, notes, photos, jobs = answers or {}, notes or {}, photos or {}, jobs or {}
    results = {}
    for n, item in enumerate(rows):
        result = answers.get(n, "pass")
        results[str(item["id"])] = {"result": result, "note": notes.get(n, ""),
                                    "photos": photos.get(n, []),
                                    "job": result == "fail" and jobs.get(n, True)}
    payload = {"template_id": str(template_id), "items": [str(i["id"]) for i in rows],
               "results": results, "visited_at": "", **extra}
    return run(db, username, "inspection.record", ref, now=now, op_id=op_id, **payload)


def results_of(db, inspection_id: int) -> list[dict]:
    return inspections.results(db, inspection_id)


# --- Which checklist a place gets ----------------------------------------------------------

@pytest.mark.parametrize("place, kind", [
    ({"place_type": "unit", "kind": "unit", "name": "1栋-101"}, "unit"),
    ({"place_type": "area", "kind": "area", "name": "地下车库"}, "grounds"),
    ({"place_type": "area", "kind": "equipment", "name": "1号电梯"}, "lift"),
    ({"place_type": "area", "kind": "area", "name": "3栋电梯厅"}, "corridor"),
    ({"place_type": "area", "kind": "corridor", "name": "花园"}, "corridor"),  # kind first
    ({"place_type": "equipment", "kind": "fire", "name": "1栋消防栓"}, "fire"),
    ({"place_type": "equipment", "kind": "pump", "name": "生活水泵房"}, "plant_room"),
    ({"place_type": "area", "kind": "area", "name": "会所"}, "corridor"),  # fallbacks
    ({"place_type": "equipment", "kind": "equipment", "name": "2号机组"}, "plant_room"),
])
def test_a_place_gets_the_checklist_of_its_kind(place, kind):
    assert inspections.checklist_kind(place) == kind


def test_the_demo_places_get_sensible_checklists(db):
    names = {ref: inspections.template_for(db, places.get_place(db, *ref.split(":")))["name"]
             for ref in (GARAGE, LIFT, "unit:1")}
    assert names == {GARAGE: "园区及车库巡查", LIFT: "电梯巡查", "unit:1": "户内交房验收"}


# --- Editing checklists ---------------------------------------------------------------------

def save(db, target, username="admin", **payload) -> sync.Outcome:
    return run(db, username, "inspection.template_save", target, **payload)


def as_payload(db, template_id: int, **over) -> dict:
    t = inspections.get_template(db, template_id)
    rows = [{"id": str(i["id"]), "text": i["text"], "department": i["department"],
             "active": bool(i["active"])} for i in inspections.items(db, template_id, False)]
    return {"name": t["name"], "place_kind": t["place_kind"], "active": True, "items": rows,
            **over}


def test_an_administrator_adds_a_checklist_and_edits_its_items(db):
    out = save(db, "template:new", name="泳池巡查", place_kind="grounds", active=True,
               items=[{"id": "", "text": "水质清澈", "department": "cleaning", "active": True},
                      {"id": "", "text": "救生设备齐全", "department": "security", "active": True}])
    assert out.status == "applied"
    tid = out.result["template_id"]
    first, second = inspections.items(db, tid)
    # Rename the first item, move the second up, change a department, add one.
    p = as_payload(db, tid, name="泳池及水景巡查")
    p["items"] = [p["items"][1], {**p["items"][0], "text": "水质清澈无异味",
                                  "department": "maintenance"},
                  {"id": "", "text": "池边防滑", "department": "maintenance", "active": True}]
    assert save(db, f"template:{tid}", **p).status == "applied"
    rows = inspections.items(db, tid)
    assert [(r["id"], r["text"], r["department"]) for r in rows] == [
        (second["id"], "救生设备齐全", "security"),
        (first["id"], "水质清澈无异味", "maintenance"),
        (rows[2]["id"], "池边防滑", "maintenance")]
    assert inspections.get_template(db, tid)["name"] == "泳池及水景巡查"
    # Take one out of use: it stays (results point at it) but is no longer checked.
    p = as_payload(db, tid)
    p["items"][0]["active"] = False
    save(db, f"template:{tid}", **p)
    assert [r["text"] for r in inspections.items(db, tid)] == ["水质清澈无异味", "池边防滑"]
    assert len(inspections.items(db, tid, active_only=False)) == 3


def test_a_checklist_with_bad_input_says_what_to_fix(db):
    tid = items_of(db, LIFT)[0]
    p = as_payload(db, tid, name=" ", place_kind="boat")
    p["items"][0]["text"] = ""
    p["items"][1]["department"] = "management"
    with pytest.raises(sync.Invalid) as exc:
        save(db, f"template:{tid}", **p)
    first, second = p["items"][0]["id"], p["items"][1]["id"]
    assert set(exc.value.errors) == {"name", "place_kind", f"text_{first}",
                                     f"department_{second}"}
    p = as_payload(db, tid)
    for row in p["items"]:
        row["active"] = False
    with pytest.raises(sync.Invalid) as exc:
        save(db, f"template:{tid}", **p)
    assert "text_new" in exc.value.errors


def test_only_administrators_edit_checklists(db):
    tid = items_of(db, LIFT)[0]
    out = save(db, f"template:{tid}", username="manager", **as_payload(db, tid, name="x"))
    assert out.status == "rejected" and out.result["reason"] == "forbidden"
    assert inspections.get_template(db, tid)["name"] == "电梯巡查"


def test_editing_a_checklist_does_not_rewrite_past_results(db):
    out = record(db, LIFT, {0: "fail"}, jobs={0: False})
    tid = items_of(db, LIFT)[0]
    p = as_payload(db, tid)
    p["items"][0]["text"] = "轿厢照明正常(改)"
    save(db, f"template:{tid}", **p)
    assert results_of(db, out.result["inspection_id"])[0]["item_text"] == "轿厢照明、风扇正常"


# --- Recording a visit ----------------------------------------------------------------------

def test_a_failed_item_becomes_a_job_for_its_department_linked_back(db, tmp_path):
    sha = files.store(db, str(tmp_path), b"\xff\xd8\xff fake jpeg", "image/jpeg", NOW,
                      uid(db, "supervisor"))
    # Lift items: 0 lighting (maintenance), 6 cleanliness (cleaning), 7 camera (security).
    out = record(db, LIFT, {0: "fail", 6: "fail", 7: "fail", 3: "na"},
                 notes={0: "灯管闪烁"}, photos={0: [sha]}, jobs={6: False})
    assert out.status == "applied" and out.result["failed"] == 3
    rows = {r["item_text"]: r for r in results_of(db, out.result["inspection_id"])}
    lighting, camera = rows["轿厢照明、风扇正常"], rows["监控摄像头正常"]
    assert rows["轿厢内清洁，无小广告"]["job_id"] is None  # "make a job" unticked
    jobs = {j["id"]: j for j in db.query("SELECT * FROM jobs WHERE id IN (?, ?)",
                                         [lighting["job_id"], camera["job_id"]])}
    assert sorted(out.result["job_ids"]) == sorted(jobs)
    job = jobs[lighting["job_id"]]
    assert (job["department"], job["category"], job["job_class"], job["status"]) == (
        "maintenance", "lift", "small", "new")
    assert job["description"] == "1号电梯 · 轿厢照明、风扇正常 · 灯管闪烁"
    assert job["reporter_name"] == "郑主管" and job["unit_id"] is None
    assert [p["sha256"] for p in db.query("SELECT sha256 FROM job_photos WHERE job_id = ?",
                                          [job["id"]])] == [sha]
    assert lighting["photos"] == [sha]
    assert (jobs[camera["job_id"]]["department"], jobs[camera["job_id"]]["category"]) == (
        "security", "security")


def test_a_failed_unit_item_makes_a_job_for_that_unit(db):
    out = record(db, "unit:5", {6: "fail"})  # the intercom: security
    job = next(db.query("SELECT * FROM jobs WHERE id = ?", [out.result["job_ids"][0]]))
    assert (job["unit_id"], job["department"], job["category"]) == (5, "security", "security")


def test_the_same_op_id_records_once_and_makes_one_job(db):
    op_id = str(uuid.uuid4())
    first = record(db, GARAGE, {1: "fail"}, op_id=op_id)
    again = record(db, GARAGE, {1: "fail"}, op_id=op_id, now=NOW + timedelta(hours=2))
    assert (first.status, again.status) == ("applied", "duplicate")
    assert again.result == first.result
    assert db.execute("SELECT count(*) FROM inspections WHERE op_id = ?",
                      [op_id]).fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM jobs WHERE id IN (SELECT job_id FROM "
                      "inspection_results WHERE op_id = ?)", [op_id]).fetchone()[0] == 1


def test_an_unanswered_item_is_invalid_and_nothing_is_stored(db):
    template_id, rows = items_of(db, GARAGE)
    before = db.execute("SELECT count(*) FROM inspections").fetchone()[0]
    with pytest.raises(sync.Invalid) as exc:
        run(db, "supervisor", "inspection.record", GARAGE, template_id=str(template_id),
            items=[str(r["id"]) for r in rows],
            results={str(rows[0]["id"]): {"result": "pass"}})
    assert f"result_{rows[1]['id']}" in exc.value.errors
    assert f"result_{rows[0]['id']}" not in exc.value.errors
    assert db.execute("SELECT count(*) FROM inspections").fetchone()[0] == before


def test_items_the_phone_did_not_show_are_not_required(db):
    """An item added after the phone saved the page: the visit is still recorded."""
    tid, rows = items_of(db, GARAGE)
    p = as_payload(db, tid)
    p["items"].append({"id": "", "text": "新增项目", "department": "cleaning", "active": True})
    save(db, f"template:{tid}", **p)
    out = run(db, "supervisor", "inspection.record", GARAGE, template_id=str(tid),
              items=[str(r["id"]) for r in rows],
              results={str(r["id"]): {"result": "pass"} for r in rows})
    assert out.status == "applied"


def test_the_visit_time_is_when_the_page_opened_by_the_corrected_clock(db):
    # The phone's clock is 10 minutes fast; the page opened 25 minutes before sending.
    sent = NOW + timedelta(minutes=10)
    cmd = sync.Command(
        op_id=str(uuid.uuid4()), kind="inspection.record", target=GARAGE,
        payload=record_payload(db, GARAGE, visited_at=(sent - timedelta(minutes=25))
                               .isoformat() + "Z"),
        user_id=uid(db, "supervisor"), device_time=sent, acted_at=NOW, replayed=True)
    out = sync.apply(db, cmd, HANDLERS, NOW + timedelta(hours=3))
    found = inspections.get_inspection(db, out.result["inspection_id"])
    assert found["visited_at"] == (NOW - timedelta(minutes=25)).isoformat()
    assert found["finished_at"] == NOW.isoformat()


def record_payload(db, ref, **extra) -> dict:
    template_id, rows = items_of(db, ref)
    return {"template_id": str(template_id), "items": [str(r["id"]) for r in rows],
            "results": {str(r["id"]): {"result": "pass"} for r in rows}, **extra}


def test_only_inspectors_of_the_estate_record(db):
    assert record(db, GARAGE, username="desk").result["reason"] == "forbidden"
    assert record(db, GARAGE, username="tech").result["reason"] == "forbidden"
    assert record(db, "area:3", username="supervisor").result["reason"] == "forbidden"
    assert record(db, "area:3", username="manager").status == "applied"


# --- A job later, from the inspection's page ------------------------------------------------

def test_a_failed_item_without_a_job_gets_one_later_and_only_once(db):
    out = record(db, GARAGE, {2: "fail", 3: "fail"}, jobs={2: False, 3: False})
    rows = results_of(db, out.result["inspection_id"])
    failed = next(r for r in rows if r["result"] == "fail")
    passed = next(r for r in rows if r["result"] == "pass")
    made = run(db, "manager", "inspection.make_job", f"result:{failed['id']}")
    assert made.status == "applied"
    job = next(db.query("SELECT * FROM jobs WHERE id = ?", [made.result["job_id"]]))
    assert job["department"] == failed["department"] == "maintenance"
    assert results_of(db, out.result["inspection_id"])[rows.index(failed)]["job_id"] == job["id"]
    twice = run(db, "manager", "inspection.make_job", f"result:{failed['id']}")
    assert (twice.status, twice.result["reason"]) == ("rejected", "has_job")
    not_failed = run(db, "manager", "inspection.make_job", f"result:{passed['id']}")
    assert not_failed.result["reason"] == "not_failed"


# --- The day's round ------------------------------------------------------------------------

def test_the_demo_round_has_its_places_and_their_checklists(db):
    day = inspections.local_day(NOW)
    (rnd,) = inspections.rounds(db, day, [1], uid(db, "supervisor"))
    kinds = {p["name"]: p["place_kind"] for p in rnd["places"]}
    assert kinds == {"地下车库": "grounds", "1号电梯": "lift", "1栋消防栓": "fire",
                     "1号水泵房水泵": "plant_room", "1栋-101": "unit"}
    assert rnd["visited"] == 0


def test_a_visit_on_the_round_marks_the_place_visited(db):
    day = inspections.local_day(NOW)
    record(db, LIFT, {0: "fail"}, now=NOW + timedelta(hours=1))
    (rnd,) = inspections.rounds(db, day, [1], uid(db, "supervisor"))
    lift = next(p for p in rnd["places"] if p["name"] == "1号电梯")
    assert rnd["visited"] == 1 and lift["inspection"]["failed"] == 1
    pages = inspections.my_round_places(db, uid(db, "supervisor"), day)
    assert ("area", 2) in {(p["place_type"], p["place_id"]) for p in pages}


def test_adding_places_to_a_round(db):
    later = NOW + timedelta(days=1)
    out = run(db, "supervisor", "inspection.round_add", "round:new", now=later, place=LIFT)
    assert out.status == "applied" and out.result["day"] == "2026-11-11"
    unit = run(db, "supervisor", "inspection.round_add", "round:new", now=later, estate_id="1",
               unit="2栋-304")
    assert unit.status == "applied"
    with pytest.raises(sync.Invalid) as exc:
        run(db, "supervisor", "inspection.round_add", "round:new", now=later, place=LIFT)
    assert "place" in exc.value.errors
    with pytest.raises(sync.Invalid) as exc:
        run(db, "supervisor", "inspection.round_add", "round:new", now=later, estate_id="1",
            unit="9-999")
    assert "unit" in exc.value.errors
    (rnd,) = inspections.rounds(db, "2026-11-11", [1])
    assert [p["name"] for p in rnd["places"]] == ["1号电梯", "2栋-304"]


def test_a_manager_fills_a_supervisors_round_and_a_supervisor_only_their_own(db):
    supervisor, manager = uid(db, "supervisor"), uid(db, "manager")
    out = run(db, "manager", "inspection.round_add", "round:new", place=GARAGE,
              supervisor_id=str(supervisor), now=NOW + timedelta(days=2))
    assert out.status == "applied"
    refused = run(db, "supervisor", "inspection.round_add", "round:new", place=GARAGE,
                  supervisor_id=str(manager), now=NOW + timedelta(days=2))
    assert refused.result["reason"] == "forbidden"


# --- Rates of failed items ------------------------------------------------------------------

OCT = datetime(2026, 10, 15, 2, 0)


def test_the_place_summary_for_the_place_page(db):
    record(db, LIFT, {0: "fail", 1: "fail"}, now=NOW + timedelta(hours=1), jobs={1: False})
    record(db, LIFT, {2: "fail", 5: "na"}, now=NOW + timedelta(hours=2), notes={2: "无声音"})
    s = inspections.place_summary(db, "area", 2)
    assert (s["inspections"], s["checked"], s["failed"], s["rate"]) == (2, 15, 3, 20.0)
    assert s["last_visited_at"] == (NOW + timedelta(hours=2)).isoformat()
    assert [r["failed"] for r in s["recent"]] == [1, 2]  # newest first
    assert [(f["item_text"], f["note"]) for f in s["latest_failures"]] == [
        ("紧急呼叫（五方通话）畅通", "无声音")]
    empty = inspections.place_summary(db, "equipment", 3)
    assert (empty["inspections"], empty["rate"], empty["recent"]) == (0, None, [])
