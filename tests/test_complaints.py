"""Complaints: levels, the one-month escalation, repeats, the handling paths, deadlines."""

import json
from datetime import timedelta

import pytest

import sync
from webapp.domain import complaints
from webapp.domain.settings import SETTINGS

from .conftest import NOW
from .jobflow import run, uid

DEFAULTS = {s.key: s.default for s in SETTINGS}
INTAKE = dict(estate_id=1, unit_id=5, complainant_name="黄女士", contact="13700000000",
              channel="phone", identity="owner", category="cleaning", level="minor",
              content="楼道垃圾三天没人收", photos=[])


def new(db, now=NOW, **over):
    out = run(db, "desk", "complaint.create", "complaint:new", now=now, **{**INTAKE, **over})
    assert out.status == "applied", out.result
    return out.result["complaint_id"]


def row(db, cid):
    return complaints.get(db, cid)


def test_intake_validates_every_field(db):
    with pytest.raises(sync.Invalid) as info:
        run(db, "desk", "complaint.create", "complaint:new", estate_id=1, channel="fax",
            identity="", category="x", level="huge", complainant_name="", contact="", content="")
    assert set(info.value.errors) == {"channel", "identity", "category", "level",
                                      "complainant_name", "contact", "content"}


def test_unresolved_complaint_turns_major_after_one_month(db):
    c = row(db, new(db))
    assert complaints.effective_level(c, DEFAULTS, NOW + timedelta(days=29)) == "minor"
    assert complaints.effective_level(c, DEFAULTS, NOW + timedelta(days=30)) == "major"
    custom = {**DEFAULTS, "complaint_major_after_days": 10}
    assert complaints.effective_level(c, custom, NOW + timedelta(days=10)) == "major"
    closed = {**c, "status": "closed"}
    assert complaints.effective_level(closed, DEFAULTS, NOW + timedelta(days=90)) == "minor"


def test_deadline_follows_the_level_and_the_escalation(db):
    c = row(db, new(db, level="important"))
    assert complaints.handle_due(c, DEFAULTS, NOW) == NOW + timedelta(hours=72)
    late = NOW + timedelta(days=31)
    assert complaints.handle_due(c, DEFAULTS, late) == NOW + timedelta(hours=24)
    assert complaints.remaining(c, DEFAULTS, NOW + timedelta(hours=80)) < timedelta(0)


def test_the_same_household_again_while_open_makes_it_major(db):
    first = new(db)
    second = new(db, content="还是没人收")
    assert row(db, first)["level"] == "major" and row(db, first)["repeats"] == 1
    assert row(db, second)["level"] == "major" and row(db, second)["repeat_of"] == first
    other_matter = new(db, category="parking")
    assert row(db, other_matter)["level"] == "minor"


def test_repeat_rule_follows_the_estate_setting(db):
    db.execute("INSERT INTO estate_settings VALUES (1, 'complaint_repeat_is_major', '0')")
    first = new(db)
    new(db)
    assert row(db, first)["level"] == "minor"


def test_ordinary_path_dispatch_result_and_follow_up(db):
    cid = new(db)
    t = f"complaint:{cid}"
    assert run(db, "desk", "complaint.verify", t, verification="电话核实属实").status == "applied"
    routed = run(db, "desk", "complaint.route", t, path="ordinary", reason="保洁责任",
                 to="dept:cleaning")
    assert routed.status == "applied" and row(db, cid)["department"] == "cleaning"
    run(db, "supervisor", "complaint.investigate", t, note="保洁员请假未替班", photos=[])
    answered = run(db, "desk", "complaint.answer", t, outcome="已清理", solution="当日清运",
                   prevention="排班增加替班")
    assert answered.status == "applied" and row(db, cid)["status"] == "answered"
    task = db.execute("SELECT * FROM callback_tasks WHERE source='complaint' AND source_id=?",
                      [cid]).fetchone()
    assert task is not None
    unhappy = run(db, "desk", "complaint.follow_up", t, satisfied="0", note="又堆了")
    assert unhappy.status == "applied" and row(db, cid)["status"] == "dispatched"
    run(db, "desk", "complaint.answer", t, outcome="再次清理", solution="加派人手",
        prevention="每日巡查")
    run(db, "desk", "complaint.follow_up", t, satisfied="1", note="满意")
    assert row(db, cid)["status"] == "closed" and row(db, cid)["satisfied"] == 1


def test_a_follow_up_that_reached_the_complainant_is_the_callback(db):
    cid = new(db)
    t = f"complaint:{cid}"
    run(db, "desk", "complaint.route", t, path="ordinary", reason="保洁责任", to="dept:cleaning")
    run(db, "desk", "complaint.answer", t, outcome="已清理", solution="当日清运",
        prevention="排班增加替班")
    out = run(db, "desk", "complaint.follow_up", t, satisfied="1", note="满意",
              ratings={"overall": "5", "complaint_speed": "4"})
    assert out.status == "applied"
    tasks = list(db.query("SELECT * FROM callback_tasks WHERE source = 'complaint' AND "
                          "source_id = ?", [cid]))
    # One callback, done by the follow-up: nothing left open for a clerk to call again.
    assert [(t_["status"], t_["done_at"] is not None) for t_ in tasks] == [("done", True)]
    rec = next(db.query("SELECT * FROM callback_records WHERE task_id = ?", [tasks[0]["id"]]))
    assert (rec["method"], rec["reached"], rec["satisfied"], rec["comments"]) == (
        "follow_up", 1, 1, "满意")
    assert rec["user_id"] == uid(db, "desk") and rec["record_hash"]
    # Its ratings count in the satisfaction figures as any callback's.
    assert json.loads(rec["ratings"]) == {"overall": 5, "complaint_speed": 4}


def test_an_unsatisfied_follow_up_is_recorded_and_the_next_answer_gets_its_own(db):
    cid = new(db)
    t = f"complaint:{cid}"
    run(db, "desk", "complaint.route", t, path="ordinary", reason="保洁责任", to="dept:cleaning")
    run(db, "desk", "complaint.answer", t, outcome="已清理", solution="当日清运",
        prevention="排班增加替班")
    run(db, "desk", "complaint.follow_up", t, satisfied="0", note="又堆了")
    run(db, "desk", "complaint.answer", t, outcome="再次清理", solution="加派人手",
        prevention="每日巡查")
    statuses = [r["status"] for r in db.query(
        "SELECT status FROM callback_tasks WHERE source = 'complaint' AND source_id = ? "
        "ORDER BY id", [cid])]
    assert statuses == ["done", "open"]
    unhappy = next(db.query("SELECT r.satisfied FROM callback_records r JOIN callback_tasks k "
                            "ON k.id = r.task_id WHERE k.source_id = ? AND k.source = "
                            "'complaint'", [cid]))
    assert unhappy["satisfied"] == 0


def linked_job(db, cid):
    job_id = row(db, cid)["job_id"]
    return next(db.query("SELECT * FROM jobs WHERE id = ?", [job_id])) if job_id else None


def test_a_complaint_sent_to_a_department_becomes_its_job(db):
    cid = new(db, category="facilities", content="楼道灯坏了一周")
    run(db, "desk", "complaint.route", f"complaint:{cid}", path="ordinary", reason="维修责任",
        to="dept:maintenance")
    job = linked_job(db, cid)
    assert job is not None
    assert (job["status"], job["department"], job["source"], job["unit_id"]) == (
        "pooled", "maintenance", "complaint", 5)
    assert row(db, cid)["number"] in job["description"] and "楼道灯坏了一周" in job["description"]
    assert row(db, cid)["job_number"] == job["number"]
    # The technicians take it like any pooled job.
    out = run(db, "tech", "job.claim", f"job:{job['id']}")
    assert out.status == "applied" and row(db, cid)["job_status"] == "accepted"


def test_a_complaint_sent_to_a_person_is_that_persons_job_and_not_doubled(db):
    cid = new(db)
    t = f"complaint:{cid}"
    run(db, "desk", "complaint.route", t, path="ordinary", reason="保洁责任",
        to=f"user:{uid(db, 'cleaner')}")
    job = linked_job(db, cid)
    assert (job["status"], job["assignee_id"], job["department"]) == (
        "assigned", uid(db, "cleaner"), "cleaning")
    run(db, "desk", "complaint.answer", t, outcome="已清理", solution="当日清运",
        prevention="增加替班")
    run(db, "desk", "complaint.follow_up", t, satisfied="0", note="又堆了")
    # Sent back to the same department while its job is open: the same job.
    assert linked_job(db, cid)["id"] == job["id"]
    number = row(db, cid)["number"]
    assert db.execute("SELECT count(*) FROM jobs WHERE source = 'complaint' AND description "
                      "LIKE ?", [number + "%"]).fetchone()[0] == 1


def test_a_complaint_sent_to_a_departments_supervisor_waits_in_its_pool(db):
    """The supervisor is not a field worker: the job goes to the department's pool, with
    the dispatch in its history as the desk's own dispatch would leave it."""
    cid = new(db, category="facilities", content="电梯异响")
    run(db, "desk", "complaint.route", f"complaint:{cid}", path="ordinary", reason="维修责任",
        to=f"user:{uid(db, 'supervisor')}")
    job = linked_job(db, cid)
    assert (job["status"], job["assignee_id"], job["department"]) == (
        "pooled", None, "maintenance")
    actions = [r["action"] for r in db.query(
        "SELECT action FROM audit_log WHERE entity = 'job' AND entity_id = ? ORDER BY id",
        [job["id"]])]
    assert actions == ["create", "dispatch"]
    note = next(db.query("SELECT kind, text FROM job_notes WHERE job_id = ?", [job["id"]]))
    assert (note["kind"], note["text"]) == ("dispatch", row(db, cid)["number"])


def test_a_complaint_the_service_centre_handles_makes_no_job(db):
    cid = new(db)
    run(db, "desk", "complaint.route", f"complaint:{cid}", path="ordinary", reason="客服跟进",
        to="dept:service")
    assert row(db, cid)["job_id"] is None


def test_not_ours_records_the_channel_and_counts_as_handled(db):
    cid = new(db, category="neighbours")
    t = f"complaint:{cid}"
    with pytest.raises(sync.Invalid) as info:
        run(db, "desk", "complaint.route", t, path="not_ours", reason="邻里纠纷")
    assert "pointed_channel" in info.value.errors
    run(db, "desk", "complaint.route", t, path="not_ours", reason="邻里纠纷",
        pointed_channel="社区居委会调解")
    c = row(db, cid)
    assert c["status"] == "explained" and c["pointed_channel"] == "社区居委会调解"
    assert db.execute("SELECT count(*) FROM callback_tasks WHERE source_id = ? AND "
                      "source = 'complaint'", [cid]).fetchone()[0] == 1


def test_difficult_goes_to_the_manager_and_its_callback_too(db):
    cid = new(db, level="major")
    t = f"complaint:{cid}"
    run(db, "desk", "complaint.route", t, path="difficult", reason="涉及赔偿")
    assert row(db, cid)["assignee_id"] == uid(db, "manager")
    run(db, "manager", "complaint.answer", t, outcome="赔偿", solution="维修并赔偿",
        prevention="加强巡检")
    task = next(db.query("SELECT * FROM callback_tasks WHERE source_id = ? AND "
                         "source = 'complaint'", [cid]))
    assert task["pool"] == "manager" and task["assignee_id"] is None


def test_illegal_steps_are_refused(db):
    cid = new(db)
    out = run(db, "desk", "complaint.follow_up", f"complaint:{cid}", satisfied="1")
    assert out.status == "rejected"
    tech = run(db, "tech", "complaint.route", f"complaint:{cid}", path="ordinary",
               reason="x", to="dept:cleaning")
    assert tech.status == "rejected" and tech.result["reason"] == "forbidden"


def test_complaint_numbers_follow_the_local_date(db):
    first = row(db, new(db, now=NOW.replace(hour=16, minute=30)))  # 00:30 next day, Beijing
    assert first["number"] == "C20261111-0001"
    assert row(db, new(db, now=NOW.replace(hour=17)))["number"] == "C20261111-0002"
