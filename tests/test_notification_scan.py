"""The periodic scan: deadline warnings, callbacks due, complaints a month unresolved;
each told once, reading indexes only."""

import json
from datetime import timedelta

from webapp.domain import notification_scan

from .conftest import NOW
from .jobflow import job_in, new_job, run, step, uid
from .test_notifications import announcements, told


def test_a_deadline_warning_is_sent_once_then_once_more_when_passed(db):
    job = job_in(db, "accepted")  # small repair: on site within 30 minutes of NOW
    notification_scan.scan(db, NOW + timedelta(minutes=10))
    assert announcements(db, f"job:{job}") == ["job.dispatched"]
    assert notification_scan.scan(db, NOW + timedelta(minutes=21)) >= 1
    assert told(db, "job.arrive_soon", f"job:{job}") == {"tech": True, "desk": False}
    before = len(announcements(db, f"job:{job}"))
    notification_scan.scan(db, NOW + timedelta(minutes=22))
    notification_scan.scan(db, NOW + timedelta(minutes=25))
    assert len(announcements(db, f"job:{job}")) == before  # not again
    notification_scan.scan(db, NOW + timedelta(minutes=31))
    assert announcements(db, f"job:{job}")[-1] == "job.arrive_passed"
    notification_scan.scan(db, NOW + timedelta(minutes=35))
    assert announcements(db, f"job:{job}").count("job.arrive_passed") == 1


def test_a_report_not_dispatched_in_time_is_told_to_the_desk_once(db):
    waiting, sent = new_job(db), new_job(db)
    assert step(db, sent, "job.dispatch").status == "applied"
    notification_scan.scan(db, NOW + timedelta(minutes=4))  # due at 5 minutes: not yet
    assert "job.notify_passed" not in announcements(db, f"job:{waiting}")
    notification_scan.scan(db, NOW + timedelta(minutes=6))
    assert told(db, "job.notify_passed", f"job:{waiting}") == {"desk": False}
    notification_scan.scan(db, NOW + timedelta(minutes=8))
    assert announcements(db, f"job:{waiting}").count("job.notify_passed") == 1
    assert "job.notify_passed" not in announcements(db, f"job:{sent}")


def test_a_restarted_clock_warns_again(db):
    job = job_in(db, "accepted")
    notification_scan.scan(db, NOW + timedelta(minutes=31))
    assert announcements(db, f"job:{job}").count("job.arrive_passed") == 1
    agreed = NOW + timedelta(hours=3)
    assert step(db, job, "job.pause", {"reason": "住户改天", "agreed_at": agreed.isoformat()},
                now=NOW + timedelta(minutes=40)).status == "applied"
    notification_scan.scan(db, agreed + timedelta(minutes=31))
    assert announcements(db, f"job:{job}").count("job.arrive_passed") == 2


def test_no_warning_for_a_deadline_met_or_long_past(db):
    job = job_in(db, "arrived")
    notification_scan.scan(db, NOW + timedelta(minutes=25))
    assert "job.arrive_soon" not in announcements(db, f"job:{job}")
    stale = job_in(db, "accepted")
    notification_scan.scan(db, NOW + timedelta(days=1))  # the scan did not run all day
    assert "job.arrive_passed" not in announcements(db, f"job:{stale}")


def test_callbacks_due_today_and_overdue_once_to_assignee_or_pool(db):
    due = NOW + timedelta(hours=3)
    ids = []
    for assignee, pool in ((uid(db, "callback"), None), (None, "callback"), (None, "callback")):
        ids.append(db.execute(
            "INSERT INTO callback_tasks (estate_id, kind, assignee_id, pool, created_at,"
            " due_at, latest_at, status) VALUES (1, 'information', ?, ?, ?, ?, ?, 'open')",
            [assignee, pool, NOW.isoformat(), due.isoformat(), due.isoformat()]).lastrowid)
    db.execute("DELETE FROM notifications WHERE announcement_id IN (SELECT id FROM"
               " announcements WHERE kind LIKE 'callback.%')")
    db.execute("DELETE FROM announcements WHERE kind LIKE 'callback.%'")
    notification_scan.scan(db, NOW)
    rows = list(db.query("SELECT target, params, dedupe FROM announcements"
                         " WHERE kind = 'callback.due_today' AND dedupe LIKE '%:1:%'"))
    mine = [r for r in rows if f":user:{uid(db, 'callback')}:" in r["dedupe"]]
    pool = [r for r in rows if ":pool:callback:" in r["dedupe"]]
    assert mine[0]["target"] == f"callback:{ids[0]}"
    assert json.loads(pool[0]["params"])["count"] >= 2 and pool[0]["target"] == "callbacks"
    count = db.execute("SELECT count(*) FROM announcements").fetchone()[0]
    notification_scan.scan(db, NOW + timedelta(minutes=1))
    assert db.execute("SELECT count(*) FROM announcements").fetchone()[0] == count
    notification_scan.scan(db, due + timedelta(minutes=1))
    overdue = [r[0] for r in db.execute(
        "SELECT target FROM announcements WHERE kind = 'callback.overdue'")]
    assert f"callback:{ids[0]}" in overdue


def test_a_complaint_a_month_unresolved_tells_the_managers_once(db):
    out = run(db, "desk", "complaint.create", "complaint:new", estate_id=1, unit_id=5,
              complainant_name="黄女士", contact="13700000001", channel="phone",
              identity="owner", category="fees", level="minor", content="物业费算错",
              photos=[])
    cid = out.result["complaint_id"]
    notification_scan.scan(db, NOW + timedelta(days=29))
    assert announcements(db, f"complaint:{cid}") == []
    notification_scan.scan(db, NOW + timedelta(days=31))
    notification_scan.scan(db, NOW + timedelta(days=32))
    assert announcements(db, f"complaint:{cid}") == ["complaint.major"]
    assert told(db, "complaint.major", f"complaint:{cid}") == {"manager": False}


def test_flask_notify_scan_runs_the_scan_once(runner):
    first = runner.invoke(args=["notify-scan"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["notify-scan"])
    assert again.output.strip() == "已生成0条通知。"


def test_the_scan_reads_only_indexes(db):
    """At a million jobs a table scan would take seconds: the plan must use the partial
    index of open jobs, covering every column the scan reads."""
    sql = notification_scan.scan_query()
    plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql,
                                             notification_scan.scan_params(1, "small", NOW, NOW)))
    assert "COVERING INDEX jobs_open_clock" in plan, plan
    assert "SCAN" not in plan, plan
    for sql, params in (
            ("SELECT id, due_at, assignee_id, pool FROM callback_tasks WHERE estate_id = ?"
             " AND status = 'open' AND due_at > ? AND due_at <= ?", [1, "a", "b"]),
            ("SELECT count(*) FROM (SELECT 1 FROM notifications WHERE user_id = ? AND"
             " read_at IS NULL LIMIT ?)", [1, 100])):
        plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN" not in plan.replace("SCAN (subquery", ""), plan
