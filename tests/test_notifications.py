"""Notifications: who is told what (the rule table), deliveries, quiet hours, muting,
refused outbox steps, the same transaction, and the words of a message. The scan:
test_notification_scan.py; the bell and the pages: test_notification_reading.py."""

import json
import uuid
from datetime import timedelta

import pytest

import sync
from webapp.domain import notification_reading, notification_scan, notifications
from webapp.domain.handlers import HANDLERS

from .conftest import NOW
from .jobflow import job_in, new_job, run, step, uid


def told(db, kind, target) -> dict[str, bool]:
    """username → personal, of everyone told of the latest `kind` about `target`."""
    aid = db.execute("SELECT max(id) FROM announcements WHERE kind = ? AND target = ?",
                     [kind, target]).fetchone()[0]
    assert aid is not None, f"no {kind} for {target}"
    return {r[0]: bool(r[1]) for r in db.execute(
        "SELECT u.username, n.personal FROM notifications n JOIN users u ON u.id = n.user_id"
        " WHERE n.announcement_id = ?", [aid])}


def announcements(db, target) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT kind FROM announcements WHERE target = ? ORDER BY id", [target])]


MAINTENANCE = {"supervisor": False, "tech": False, "tech2": False}


def test_dispatch_tells_the_assignee_personally(db):
    job = job_in(db, "assigned")
    assert told(db, "job.dispatched", f"job:{job}") == {"tech": True}


def test_reassign_tells_the_new_assignee(db):
    job = job_in(db, "accepted")
    assert step(db, job, "job.reassign").status == "applied"
    assert told(db, "job.reassigned", f"job:{job}") == {"tech2": True}


def test_a_pooled_job_tells_the_department_of_that_estate(db):
    job = job_in(db, "pooled")
    # tech3 is maintenance too, but of the other estate; the desk sent it and is not told.
    assert told(db, "job.pooled", f"job:{job}") == MAINTENANCE


def test_an_emergency_tells_the_desk_and_the_department_urgently(db):
    job = new_job(db, job_class="emergency")
    # The desk who took the call is not told of their own step; the department is, its
    # technicians too: they may open it read-only (tests/test_jobs_read_only.py).
    assert told(db, "job.emergency", f"job:{job}") == MAINTENANCE
    urgent = db.execute("SELECT urgent FROM announcements WHERE target = ?",
                        [f"job:{job}"]).fetchone()[0]
    assert urgent == 1
    other = new_job(db)
    assert announcements(db, f"job:{other}") == []  # an ordinary report tells no one yet


def test_a_major_complaint_tells_the_managers_and_a_dispatched_one_its_department(db):
    out = run(db, "desk", "complaint.create", "complaint:new", estate_id=1, unit_id=5,
              complainant_name="黄女士", contact="13700000000", channel="phone",
              identity="owner", category="cleaning", level="minor", content="楼道垃圾没人收",
              photos=[])
    cid = out.result["complaint_id"]
    assert announcements(db, f"complaint:{cid}") == []
    assert run(db, "desk", "complaint.route", f"complaint:{cid}", path="ordinary",
               reason="保洁负责", to="dept:cleaning").status == "applied"
    # The cleaner may not open complaints: only the supervisor of cleaning is told.
    assert told(db, "complaint.dispatched", f"complaint:{cid}") == {"clean_lead": False}
    assert run(db, "desk", "complaint.level", f"complaint:{cid}", level="major",
               reason="住户多次投诉").status == "applied"
    assert told(db, "complaint.major", f"complaint:{cid}") == {"manager": False}
    # A difficult one goes to the manager, personally (and management's other readers).
    other = run(db, "desk", "complaint.create", "complaint:new", estate_id=1, unit_id=6,
                complainant_name="陈先生", contact="13700000002", channel="phone",
                identity="owner", category="fees", level="important", content="收费有误",
                photos=[]).result["complaint_id"]
    assert run(db, "desk", "complaint.route", f"complaint:{other}", path="difficult",
               reason="涉及赔偿").status == "applied"
    assert told(db, "complaint.dispatched", f"complaint:{other}") == {
        "manager": True, "admin": False}


def complaint(db, content="楼道灯坏了一周") -> int:
    return run(db, "desk", "complaint.create", "complaint:new", estate_id=1, unit_id=5,
               complainant_name="黄女士", contact="13700000000", channel="phone",
               identity="owner", category="facilities", level="minor", content=content,
               photos=[]).result["complaint_id"]


def linked_job(db, cid) -> int:
    return db.execute("SELECT job_id FROM complaints WHERE id = ?", [cid]).fetchone()[0]


def test_a_complaint_sent_to_a_department_tells_its_workers_of_the_job(db):
    # The technicians cannot open the complaint; the job it became is their news.
    cid = complaint(db)
    assert run(db, "desk", "complaint.route", f"complaint:{cid}", path="ordinary",
               reason="维修责任", to="dept:maintenance").status == "applied"
    assert told(db, "job.pooled", f"job:{linked_job(db, cid)}") == MAINTENANCE


def test_a_complaint_sent_to_a_technician_tells_them_of_the_job_not_the_complaint(db):
    cid = complaint(db)
    assert run(db, "desk", "complaint.route", f"complaint:{cid}", path="ordinary",
               reason="维修责任", to=f"user:{uid(db, 'tech')}").status == "applied"
    assert told(db, "job.dispatched", f"job:{linked_job(db, cid)}") == {"tech": True}
    # Not a message that opens a page their role may not see.
    assert "tech" not in told(db, "complaint.dispatched", f"complaint:{cid}")


def test_a_routine_plan_tells_each_sampler(db):
    out = run(db, "manager", "routine.plan", "estate:1", month="2026-12", seed=3,
              tz="Asia/Shanghai")
    assert out.status == "applied", out.result
    plan = out.result["plan_id"]
    pools = [r[0] for r in db.execute(
        "SELECT id FROM announcements WHERE target = ?", [f"routine:{plan}"])]
    assert len(pools) >= 4  # one per sampler with households
    everyone = set()
    for aid in pools:
        everyone |= {r[0] for r in db.execute(
            "SELECT u.username FROM notifications n JOIN users u ON u.id = n.user_id"
            " WHERE n.announcement_id = ?", [aid])}
    # The departments' pools (their supervisors work callbacks, field staff do not) and
    # the service centre's; the manager made the plan.
    assert {"supervisor", "sec_lead", "clean_lead", "desk", "callback"} <= everyone
    assert not everyone & {"manager", "tech", "guard", "cleaner"}


def test_a_report_from_a_qr_code_tells_the_desk(app, client):
    from .placeflow import query, report, token

    app.config["PUBLIC_REPORT_MIN_SECONDS"] = 0  # the test fills the form at once
    assert report(client, token(app, "unit", 1)).status_code == 303
    aid = query(app, "SELECT id, target FROM announcements WHERE kind = 'job.public_report'"
                     " AND target = (SELECT 'job:' || max(id) FROM jobs)")
    assert len(aid) == 1
    users = query(app, "SELECT u.username FROM notifications n JOIN users u"
                       " ON u.id = n.user_id WHERE n.announcement_id = ?", [aid[0]["id"]])
    assert {u["username"] for u in users} == {"desk"}


def test_every_rule_is_tested_here():
    """A new kind needs its line above (who is told) and its words (render)."""
    assert set(notifications.RULES) == {
        "job.dispatched", "job.reassigned", "job.pooled", "job.emergency",
        "job.arrive_soon", "job.arrive_passed", "job.complete_soon", "job.complete_passed",
        "job.public_report", "job.edited", "job.notify_passed", "complaint.major",
        "complaint.dispatched",
        "callback.due_today", "callback.overdue", "routine.published", "step.refused",
        "report.drafted", "committee.due",
        # Who hears of them: tests/test_handovers_notify.py.
        "handover.recorded", "handover.unacknowledged"}


# --- Deliveries, quiet hours, muting ----------------------------------------------------


def subscribe(db, username, endpoint="https://push.example/1"):
    db.execute("INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)"
               " VALUES (?,?,?,?,?)", [uid(db, username), endpoint, "k", "a", NOW.isoformat()])


def push_deliveries(db, target):
    return list(db.query(
        "SELECT d.next_at, u.username FROM deliveries d JOIN notifications n"
        " ON n.id = d.notification_id JOIN users u ON u.id = n.user_id JOIN announcements a"
        " ON a.id = d.announcement_id WHERE a.target = ? AND d.channel = 'push'", [target]))


def test_a_push_per_live_subscription_and_a_robot_per_matching_hook(db):
    subscribe(db, "tech", "https://push.example/a")
    subscribe(db, "tech", "https://push.example/b")
    db.execute("UPDATE push_subscriptions SET gone_at = ? WHERE endpoint LIKE '%/b'",
               [NOW.isoformat()])
    for dept in (None, "maintenance", "cleaning"):
        db.execute("INSERT INTO robot_hooks (estate_id, department, url, created_at)"
                   " VALUES (1, ?, 'https://robot.example', ?)", [dept, NOW.isoformat()])
    job = job_in(db, "assigned")
    assert [d["username"] for d in push_deliveries(db, f"job:{job}")] == ["tech"]
    hooks = [r[0] for r in db.execute(
        "SELECT h.department FROM deliveries d JOIN robot_hooks h ON h.id = d.address_id"
        " JOIN announcements a ON a.id = d.announcement_id WHERE a.target = ?"
        " AND d.channel = 'wecom' ORDER BY h.id", [f"job:{job}"])]
    assert hooks == [None, "maintenance"]


def test_quiet_hours_hold_pushes_but_not_emergencies(db):
    subscribe(db, "tech")
    # 22:00 to 07:00 in Shanghai; NOW is 17:00 there, so move the clock to 23:30 local.
    db.execute("INSERT INTO notify_prefs (user_id, quiet_from, quiet_until)"
               " VALUES (?, '22:00', '07:00')", [uid(db, "tech")])
    night = NOW + timedelta(hours=6, minutes=30)
    job = new_job(db)
    assert step(db, job, "job.dispatch", now=night).status == "applied"
    [held] = push_deliveries(db, f"job:{job}")
    assert held["next_at"] == "2026-11-10T23:00:00"  # 07:00 on the 11th in Shanghai
    urgent = new_job(db, job_class="emergency")
    # An emergency reported at night goes out at once (the job was made at NOW: redo it).
    db.execute("DELETE FROM deliveries")
    notifications.announce(db, "job.emergency", target=f"job:{urgent}", estate_id=1,
                           params={}, now=night, users=[uid(db, "tech")])
    [now_sent] = push_deliveries(db, f"job:{urgent}")
    assert now_sent["next_at"] == night.isoformat()
    # ...and so does its dispatch to the technician: an emergency job's every message.
    db.execute("DELETE FROM deliveries")
    assert step(db, urgent, "job.dispatch", now=night).status == "applied"
    [dispatched] = push_deliveries(db, f"job:{urgent}")
    assert dispatched["next_at"] == night.isoformat()


@pytest.mark.parametrize(("start", "end", "hour", "quiet"), [
    ("22:00", "07:00", 23, True), ("22:00", "07:00", 6, True), ("22:00", "07:00", 7, False),
    ("12:00", "14:00", 13, True), ("12:00", "14:00", 14, False), (None, None, 3, False)])
def test_quiet_hours_may_run_over_midnight(start, end, hour, quiet):
    local_noon = NOW.replace(hour=4)  # 12:00 in Shanghai
    at = local_noon + timedelta(hours=hour - 12)
    pref = {"quiet_from": start, "quiet_until": end}
    assert (notifications.quiet_until(pref, at) is not None) is quiet


def test_muting_skips_group_kinds_but_never_personal_ones(db):
    for username in ("tech", "tech2"):
        assert run(db, username, "notify.prefs", f"user:{uid(db, username)}",
                   muted=["job.pooled"]).status == "applied"
    job = job_in(db, "pooled")
    assert told(db, "job.pooled", f"job:{job}") == {"supervisor": False}
    # A personal kind cannot be muted.
    with pytest.raises(sync.Invalid):
        run(db, "tech", "notify.prefs", f"user:{uid(db, 'tech')}", muted=["job.dispatched"])
    assert "job.dispatched" not in notifications.MUTABLE
    # A kind muted is still told to whom it is addressed personally: the desk muted the
    # warning and hears nothing, the assignee muted it too and is told all the same.
    for username in ("tech", "desk"):
        assert run(db, username, "notify.prefs", f"user:{uid(db, username)}",
                   muted=list(notifications.MUTABLE)).status == "applied"
    other = job_in(db, "accepted")
    notification_scan.scan(db, NOW + timedelta(minutes=21))
    assert told(db, "job.arrive_soon", f"job:{other}") == {"tech": True}


def test_prefs_are_ones_own_and_quiet_hours_need_both_ends(db):
    out = run(db, "tech", "notify.prefs", f"user:{uid(db, 'tech2')}", muted=[])
    assert out.status == "rejected"
    with pytest.raises(sync.Invalid) as exc:
        run(db, "tech", "notify.prefs", f"user:{uid(db, 'tech')}", quiet_from="22:00")
    assert "quiet_until" in exc.value.errors
    with pytest.raises(sync.Invalid):
        run(db, "tech", "notify.prefs", f"user:{uid(db, 'tech')}", quiet_from="25:00",
            quiet_until="07:00")


# --- Refused steps and the same transaction ---------------------------------------------


def replay(db, username, kind, target, queued=True, **payload):
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                       user_id=uid(db, username), device_id="phone", replayed=queued)
    return sync.apply(db, cmd, HANDLERS, NOW, on_rejected=notifications.refused)


def test_a_refused_step_from_the_outbox_tells_its_worker_why(db):
    job = job_in(db, "accepted")
    assert step(db, job, "job.reassign").status == "applied"  # to tech2, while tech offline
    out = replay(db, "tech", "job.arrive", f"job:{job}")
    assert out.status == "rejected"
    assert told(db, "step.refused", f"job:{job}") == {"tech": True}
    params = json.loads(db.execute("SELECT params FROM announcements WHERE kind ="
                                   " 'step.refused'").fetchone()[0])
    title, body = notifications.render("step.refused", params, "zh_CN")
    assert "到场" in title and params["number"] in title and body == "此单已派给其他人。"
    # The job is another's now: the notification opens it read-only for the worker, with
    # what was refused and why (tests/test_jobs_read_only.py).
    [n] = db.execute("SELECT n.id FROM notifications n JOIN announcements a ON a.id = "
                     "n.announcement_id WHERE a.kind = 'step.refused'").fetchall()
    assert notification_reading.open_one(db, uid(db, "tech"), n[0], NOW) == f"/jobs/{job}"
    # Sent at once (not queued), the refusal shows on the page: no message.
    cancelled = job_in(db, "cancelled")
    assert replay(db, "tech", "job.accept", f"job:{cancelled}", queued=False).status \
        == "rejected"
    assert "step.refused" not in announcements(db, f"job:{cancelled}")


def test_an_invalid_or_rejected_command_leaves_no_announcement(db):
    job = new_job(db)
    count = "SELECT (SELECT count(*) FROM announcements), (SELECT count(*) FROM notifications)"
    before = db.execute(count).fetchone()
    with pytest.raises(sync.Invalid):
        step(db, job, "job.dispatch", {"to": "user:99999"})
    assert step(db, job, "job.dispatch", username="tech").status == "rejected"
    job_in(db, "cancelled")
    cancelled = db.execute("SELECT max(id) FROM jobs").fetchone()[0]
    before = db.execute(count).fetchone()
    assert step(db, cancelled, "job.reassign").status == "rejected"
    assert db.execute(count).fetchone() == before


def test_a_failing_announcement_undoes_the_command(db, monkeypatch):
    """The command and its messages are one transaction: neither without the other."""
    job = new_job(db)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(notifications, "announce", broken)
    with pytest.raises(RuntimeError):
        step(db, job, "job.dispatch")
    assert db.execute("SELECT status FROM jobs WHERE id = ?", [job]).fetchone()[0] == "new"


# --- Words and links --------------------------------------------------------------------


def test_messages_are_short_chinese_with_the_record_link(db):
    job = job_in(db, "assigned")
    row = next(iter(db.query("SELECT * FROM announcements WHERE kind = 'job.dispatched'"
                             " AND target = ?", [f"job:{job}"])))
    msg = notifications.message(db, row, "zh_CN")
    number = db.execute("SELECT number FROM jobs WHERE id = ?", [job]).fetchone()[0]
    assert msg["title"] == f"新工单{number}"
    assert msg["url"] == f"/jobs/{job}" and "水龙头漏水" in msg["body"]
    assert notifications.message(db, row, "en")["title"] == f"New job {number}"
    assert notifications.link("complaint:3") == "/complaints/3"
    assert notifications.link("callbacks") == "/callbacks"
    for kind in notifications.RULES:
        assert notifications.translations("zh_CN").ugettext(notifications.RULES[kind].title) \
            != notifications.RULES[kind].title, kind


def test_a_corrected_job_tells_the_person_on_it(db):
    job_id = job_in(db, "accepted")
    run(db, "desk", "job.edit", f"job:{job_id}", category="plumbing", job_class="emergency",
        description="水管爆裂", unit_id=1)
    told = db.execute(
        "SELECT n.user_id, n.personal FROM notifications n JOIN announcements a "
        "ON a.id = n.announcement_id WHERE a.kind = 'job.edited' AND a.target = ?",
        [f"job:{job_id}"]).fetchall()
    assert [tuple(r) for r in told] == [(uid(db, "tech"), 1)]


def test_a_report_corrected_to_an_emergency_is_announced_as_one(db):
    # A QR report arrives as a small repair; the desk finds it is a burst pipe.
    job_id = new_job(db, category="other")
    assert announcements(db, f"job:{job_id}") == []
    assert run(db, "desk", "job.edit", f"job:{job_id}", category="plumbing",
               job_class="emergency", description="水管爆裂", unit_id=1).status == "applied"
    assert told(db, "job.emergency", f"job:{job_id}") == MAINTENANCE
    # Corrected again (the description) while still an emergency: not announced twice.
    run(db, "desk", "job.edit", f"job:{job_id}", category="plumbing", job_class="emergency",
        description="水管爆裂，楼下渗水", unit_id=1)
    assert announcements(db, f"job:{job_id}").count("job.emergency") == 1
