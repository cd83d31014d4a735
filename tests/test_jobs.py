"""The job state machine and its handlers, on an in-memory DB with a pinned `now`."""

import json
from datetime import timedelta

import pytest

from webapp.domain import records
from webapp.domain.jobs import TRANSITIONS

from .conftest import NOW, RECORDS_KEY
from .jobflow import PATHS, job_in, new_job, run, status, step, uid

LEGAL = [(kind, s) for kind, froms in TRANSITIONS.items() for s in sorted(froms)]
ILLEGAL = [(kind, s) for kind in TRANSITIONS for s in PATHS if s not in TRANSITIONS[kind]]


def version(db, job_id):
    return db.execute("SELECT version FROM jobs WHERE id = ?", [job_id]).fetchone()[0]


@pytest.mark.parametrize("kind, from_status", ILLEGAL)
def test_every_illegal_transition_is_refused(db, kind, from_status):
    job_id = job_in(db, from_status)
    before = version(db, job_id)
    out = step(db, job_id, kind)
    assert out.status == "rejected", out.result
    assert out.result["reason"] in {"illegal_transition", "cancelled", "taken", "not_assignee"}
    assert status(db, job_id) == from_status
    assert version(db, job_id) == before


@pytest.mark.parametrize("kind, from_status", LEGAL)
def test_every_legal_transition_applies(db, kind, from_status):
    job_id = job_in(db, from_status)
    out = step(db, job_id, kind)
    assert out.status == "applied", out.result
    assert version(db, job_id) > 1


def test_job_create_validates_and_keeps_nothing(db):
    before = db["jobs"].count
    out_errors = None
    try:
        run(db, "desk", "job.create", "job:new", estate_id=1, reporter_name="",
            reporter_phone="abc", source="pigeon", category="x", job_class="huge",
            description="")
    except Exception as exc:  # sync.Invalid
        out_errors = exc.errors
    assert set(out_errors) >= {"reporter_name", "reporter_phone", "source", "category",
                               "job_class", "description"}
    assert db["jobs"].count == before


def test_create_numbers_jobs_per_day_and_routes_category_to_department(db):
    a, b = new_job(db), new_job(db, category="pests")
    rows = {r["id"]: r for r in db.query("SELECT * FROM jobs WHERE id IN (?,?)", [a, b])}
    assert rows[a]["number"].startswith("J20261110-")
    assert int(rows[b]["number"][-4:]) == int(rows[a]["number"][-4:]) + 1
    assert rows[a]["department"] == "maintenance" and rows[b]["department"] == "cleaning"


def test_numbers_follow_the_local_date_not_utc(db):
    # 16:07 UTC on the 10th is 00:07 on the 11th in Beijing: the first job of the 11th.
    late = run(db, "desk", "job.create", "job:new", now=NOW.replace(hour=16, minute=7),
               estate_id=1, unit_id=1, reporter_name="陈", reporter_phone="13800000000",
               source="phone", category="plumbing", job_class="small",
               description="半夜漏水", photos=[])
    number = db.execute("SELECT number FROM jobs WHERE id = ?",
                        [late.result["job_id"]]).fetchone()[0]
    assert number == "J20261111-0001"


def test_only_the_assignee_may_work_the_job(db):
    job_id = job_in(db, "assigned")
    out = step(db, job_id, "job.accept", username="tech2")
    assert out.status == "rejected" and out.result["reason"] == "not_assignee"
    assert status(db, job_id) == "assigned"


def test_desk_may_not_do_field_steps_and_workers_may_not_dispatch(db):
    job_id = job_in(db, "arrived")
    assert step(db, job_id, "job.complete", username="desk").result["reason"] == "forbidden"
    new = new_job(db)
    assert step(db, new, "job.dispatch", username="tech").result["reason"] == "forbidden"


def test_staff_of_another_estate_cannot_touch_the_job(db):
    job_id = new_job(db)
    out = step(db, job_id, "job.dispatch", username="desk2")
    assert out.status == "rejected" and out.result["reason"] == "forbidden"
    assert status(db, job_id) == "new"


def test_pool_claim_by_department_only_and_first_claim_wins(db):
    job_id = job_in(db, "pooled")
    assert step(db, job_id, "job.claim", username="guard").result["reason"] == "forbidden"
    assert step(db, job_id, "job.claim", username="tech").status == "applied"
    second = step(db, job_id, "job.claim", username="tech2")
    assert second.status == "rejected" and second.result["reason"] == "taken"
    holder = db.execute("SELECT assignee_id FROM jobs WHERE id = ?", [job_id]).fetchone()[0]
    assert holder == uid(db, "tech")


def test_decline_returns_the_job_to_the_desk_with_the_reason(db):
    job_id = job_in(db, "assigned")
    step(db, job_id, "job.decline")
    row = db.execute("SELECT status, assignee_id FROM jobs WHERE id = ?", [job_id]).fetchone()
    assert row == ("new", None)
    notes = [r["text"] for r in db.query("SELECT text FROM job_notes WHERE job_id = ?", [job_id])]
    assert "不是我的片区" in notes


def test_pause_needs_a_reason_and_a_future_agreed_time(db):
    job_id = job_in(db, "arrived")
    with pytest.raises(Exception) as info:
        step(db, job_id, "job.pause", {"reason": "", "agreed_at": "2020-01-01T00:00:00"})
    assert set(info.value.errors) == {"reason", "agreed_at"}
    agreed = NOW + timedelta(days=1)
    step(db, job_id, "job.pause", {"reason": "缺配件", "agreed_at": agreed.isoformat()})
    row = db.execute("SELECT status, agreed_at FROM jobs WHERE id = ?", [job_id]).fetchone()
    assert row == ("paused", agreed.isoformat(timespec="seconds"))


def test_reopen_counts_rework_and_goes_back_to_the_same_technician(db):
    job_id = job_in(db, "closed")
    step(db, job_id, "job.reopen", {"reason": "还在漏", "requested_by": "resident"})
    row = next(db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
    assert row["status"] == "assigned" and row["rework_count"] == 1
    assert row["assignee_id"] == uid(db, "tech") and row["completed_at"] is None


def test_completion_on_a_cancelled_job_keeps_the_facts_and_flags_it(db):
    job_id = job_in(db, "arrived")
    step(db, job_id, "job.cancel")
    out = step(db, job_id, "job.complete", {"work_done": "已修好", "photos": []})
    assert out.status == "rejected" and out.result["reason"] == "cancelled"
    assert out.result["kept"] is True
    row = next(db.query("SELECT status, flagged FROM jobs WHERE id = ?", [job_id]))
    assert row == {"status": "cancelled", "flagged": 1}
    notes = [r["text"] for r in db.query("SELECT text FROM job_notes WHERE job_id = ?", [job_id])]
    assert "已修好" in notes


def test_signoff_stores_a_record_hash_of_what_was_signed(db):
    job_id = job_in(db, "completed")
    out = step(db, job_id, "job.signoff", {"outcome": "absent", "reason": "不在家"})
    sig = next(db.query("SELECT * FROM signatures WHERE job_id = ?", [job_id]))
    assert out.result["record_hash"] == sig["record_hash"]
    assert sig["record_hash"].startswith("v2:") and records.sealed(
        RECORDS_KEY, sig["snapshot"], sig["record_hash"])
    assert json.loads(sig["snapshot"])["signoff"]["reason"] == "不在家"


def test_every_change_is_audited_with_device(db):
    job_id = job_in(db, "closed")
    actions = [r["action"] for r in db.query(
        "SELECT action FROM audit_log WHERE entity='job' AND entity_id = ? ORDER BY id", [job_id])]
    assert actions == ["create", "dispatch", "accept", "arrive", "complete", "signoff"]
    assert {r["device_id"] for r in db.query(
        "SELECT device_id FROM audit_log WHERE entity_id = ?", [job_id])} == {"test"}


def test_my_jobs_keeps_own_jobs_and_shows_a_backlog_emergencies_then_oldest(db):
    from webapp.domain import jobs

    db.execute("UPDATE jobs SET status = 'cancelled' WHERE status = 'pooled'")  # only ours
    own = [job_in(db, "accepted"), job_in(db, "completed")]
    pool = [job_in(db, "pooled") for _ in range(4)]
    urgent = job_in(db, "pooled", job_class="emergency")
    tech = next(db.query("SELECT * FROM users WHERE username = 'tech'"))
    assert jobs.pool_size(db, tech, [1]) == 5
    shown = [r["id"] for r in jobs.my_jobs(db, tech, [1], pool_shown=3)]
    # All of the worker's own, then the emergency, then the oldest: the newest of a
    # backlog waits its turn.
    assert set(own) <= set(shown) and shown[-3:] == [urgent, pool[0], pool[1]]
    assert jobs.pool_size(db, tech, []) == 0
    assert jobs.my_jobs(db, tech, []) == []


def test_the_reporters_phone_is_kept_as_plain_digits(db):
    out = run(db, "desk", "job.create", "job:new", estate_id=1, unit_id=1, reporter_name="陈",
              reporter_phone="１３８-0013 8000", source="phone", category="plumbing",
              job_class="small", description="水龙头漏水", photos=[])
    phone = db.execute("SELECT reporter_phone FROM jobs WHERE id = ?",
                       [out.result["job_id"]]).fetchone()[0]
    assert phone == "13800138000"


def test_a_long_phone_is_refused_not_cut_short(db):
    import sync

    with pytest.raises(sync.Invalid) as refused:
        run(db, "desk", "job.create", "job:new", estate_id=1, unit_id=1, reporter_name="陈",
            reporter_phone="+86 (010) 6552-9988 1234", source="phone", category="plumbing",
            job_class="small", description="水龙头漏水", photos=[])
    assert set(refused.value.errors) == {"reporter_phone"}


def test_history_shows_when_a_step_was_done_not_when_it_arrived(db):
    import uuid as uuid_

    import sync
    from webapp.domain import jobs
    from webapp.domain.handlers import HANDLERS

    job_id = job_in(db, "assigned")
    done = NOW - timedelta(hours=2)  # accepted with no signal, sent two hours later
    cmd = sync.Command(op_id=str(uuid_.uuid4()), kind="job.accept", target=f"job:{job_id}",
                       payload={}, user_id=uid(db, "tech"), device_id="phone", replayed=True,
                       acted_at=done)
    assert sync.apply(db, cmd, HANDLERS, NOW).status == "applied"
    accepted = [e for e in jobs.timeline(db, job_id) if e["action"] == "accept"]
    assert len(accepted) == 1 and accepted[0]["replayed"]
    assert accepted[0]["at"][:19] == done.isoformat()[:19]


def test_the_desk_corrects_a_qr_report_and_the_deadlines_follow(db):
    from webapp.domain import jobs
    from webapp.domain.deadlines import job_deadlines
    from webapp.domain.settings import estate_settings

    job_id = new_job(db, job_class="small", category="other")
    before = job_deadlines(jobs.get_job(db, job_id), estate_settings(db, 1), NOW)
    out = run(db, "desk", "job.edit", f"job:{job_id}", category="plumbing",
              job_class="emergency", description="厨房水管爆裂，水漫到客厅", unit_id=2,
              reason="二维码报修分类有误")
    assert out.status == "applied"
    job = jobs.get_job(db, job_id)
    assert (job["category"], job["job_class"], job["unit_id"], job["department"]) == (
        "plumbing", "emergency", 2, "maintenance")
    after = job_deadlines(job, estate_settings(db, 1), NOW)
    arrive = {d.name: d.due for d in after}["arrive"]
    assert arrive < {d.name: d.due for d in before}["arrive"]  # 15 minutes, not 30
    entry = next(db.query("SELECT detail FROM audit_log WHERE entity = 'job' AND entity_id = ? "
                          "AND action = 'edit'", [job_id]))
    assert '"job_class": "small"' in entry["detail"] and '"emergency"' in entry["detail"]


def test_a_job_is_edited_only_while_open_and_by_the_desk(db):
    job_id = job_in(db, "closed")
    out = run(db, "desk", "job.edit", f"job:{job_id}", category="plumbing", job_class="small",
              description="水龙头漏水", unit_id=1)
    assert out.status == "rejected" and out.result["reason"] == "illegal_transition"
    open_job = new_job(db)
    tech = run(db, "tech", "job.edit", f"job:{open_job}", category="plumbing",
               job_class="small", description="水龙头漏水", unit_id=1)
    assert tech.status == "rejected" and tech.result["reason"] == "forbidden"
    import sync
    with pytest.raises(sync.Invalid) as bad:
        run(db, "desk", "job.edit", f"job:{open_job}", category="x", job_class="huge",
            description="", unit_id=999)
    assert set(bad.value.errors) == {"category", "job_class", "description", "unit_id"}
