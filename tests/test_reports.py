"""Monthly and yearly reports: drafted on the report day, the manager told, issued as a
frozen snapshot with its hash, managers only, the PDF's text the page's numbers."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import datetime

import pytest

import sync
from sync import Command
from webapp.domain import notifications, report_commands, reports, settings
from webapp.domain.handlers import HANDLERS

# 2026-11-25 00:00 in Shanghai is 16:00 UTC the day before.
EVE = datetime(2026, 11, 24, 15, 59)
REPORT_DAY = datetime(2026, 11, 24, 16, 0)
LATER_THAT_DAY = datetime(2026, 11, 25, 9, 30)
NEXT_DAY = datetime(2026, 11, 26, 1, 0)
# 2026-12-01 00:00 in Shanghai: November has ended.
NOVEMBER_ENDED = datetime(2026, 11, 30, 16, 0)
EARLY = {"early": "1"}  # the manager confirmed issuing before the month ends


def uid(db, username: str) -> int:
    return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]


def estate_ids(db) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM estates ORDER BY id")]


def run(db, kind: str, target: str, payload: dict, user: str | None, now: datetime,
        base_version: int | None = None) -> sync.Outcome:
    cmd = Command(op_id=str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                  user_id=uid(db, user) if user else None, base_version=base_version)
    return sync.apply(db, cmd, HANDLERS, now)


def drafted_notifications(db) -> list[tuple[str, str]]:
    """(username, announcement target) of every report.drafted notification."""
    return db.execute(
        "SELECT u.username, a.target FROM notifications n JOIN announcements a"
        " ON a.id = n.announcement_id JOIN users u ON u.id = n.user_id"
        " WHERE a.kind = 'report.drafted' ORDER BY a.id, u.username").fetchall()


@pytest.fixture
def renderer(monkeypatch):
    """A stand-in for the web's document (a domain test has no templates)."""
    seen = []

    def render(snap):
        seen.append(snap)
        return f"<p>{snap['period']} {snap['sha256']}</p>"

    monkeypatch.setitem(report_commands._renderer, "html", render)
    return seen


def add_job(db, estate_id: int, number: str, received_at: str) -> None:
    db["jobs"].insert({
        "number": number, "estate_id": estate_id, "reporter_name": "王", "reporter_phone":
        "13800000000", "source": "phone", "category": "plumbing", "department": "maintenance",
        "job_class": "small", "description": "漏水", "status": "new",
        "received_at": received_at, "updated_at": received_at})


# --- The schedule -------------------------------------------------------------------------

def test_the_draft_is_made_on_the_report_day_once_and_not_before(db):
    assert reports.due(db, EVE) == []
    assert reports.schedule(db, EVE, HANDLERS) == 0
    assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 0

    first, second = estate_ids(db)
    assert reports.schedule(db, REPORT_DAY, HANDLERS) == 2
    rows = db.execute("SELECT estate_id, kind, period, status, created_by FROM reports"
                      " ORDER BY estate_id").fetchall()
    assert rows == [(first, "month", "2026-11", "draft", None),
                    (second, "month", "2026-11", "draft", None)]
    # Again the same day, and the next: the month has its draft.
    assert reports.schedule(db, LATER_THAT_DAY, HANDLERS) == 0
    assert reports.schedule(db, NEXT_DAY, HANDLERS) == 0
    assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 2


def test_a_second_worker_making_the_same_draft_is_a_duplicate(db):
    """The schedule's command is one per estate and month (its op_id): run twice at once,
    the second finds it stored and makes nothing."""
    first = estate_ids(db)[0]
    cmd = Command(op_id=str(uuid.uuid5(reports.SCHEDULE_NAMESPACE, f"{first}:month:2026-11")),
                  kind="report.draft", target=f"estate:{first}",
                  payload={"kind": "month", "period": "2026-11"}, user_id=None,
                  device_id="schedule")
    assert sync.apply(db, cmd, HANDLERS, REPORT_DAY).status == "applied"
    assert sync.apply(db, cmd, HANDLERS, REPORT_DAY).status == "duplicate"
    assert db.execute("SELECT count(*) FROM reports").fetchone()[0] == 1


def test_the_report_day_is_the_estates_setting(db):
    first, second = estate_ids(db)
    settings.save(db, second, {"report_day": 10})
    early = datetime(2026, 11, 10, 1, 0)  # the 10th, 09:00 local
    assert reports.due(db, early) == [(second, "month", "2026-11")]
    assert reports.schedule(db, early, HANDLERS) == 1
    assert reports.due(db, REPORT_DAY) == [(first, "month", "2026-11")]


def test_december_drafts_the_year_too(db):
    december = datetime(2026, 12, 25, 1, 0)
    first = estate_ids(db)[0]
    assert (first, "month", "2026-12") in reports.due(db, december)
    assert (first, "year", "2026") in reports.due(db, december)


def test_the_managers_are_told_in_the_same_transaction(db):
    reports.schedule(db, REPORT_DAY, HANDLERS)
    told = drafted_notifications(db)
    first, second = estate_ids(db)
    report1 = reports.latest(db, first, "month", "2026-11")
    # The demo's manager serves both estates: told of each; nobody else is.
    assert told == [("manager", f"report:{report1['id']}"),
                    ("manager", f"report:{report1['id'] + 1}")]


def test_a_manager_drafting_is_not_told_of_their_own_draft(db):
    first = estate_ids(db)[0]
    out = run(db, "report.draft", f"estate:{first}", {"kind": "month", "period": "2026-10"},
              "manager", REPORT_DAY)
    assert out.status == "applied" and out.result["created"]
    assert drafted_notifications(db) == []
    again = run(db, "report.draft", f"estate:{first}", {"kind": "month", "period": "2026-10"},
                "manager", REPORT_DAY)
    assert again.result == {"report_id": out.result["report_id"], "created": False}


@pytest.mark.parametrize("payload", [{"kind": "month", "period": "2026-12"},
                                     {"kind": "month", "period": "2026"},
                                     {"kind": "year", "period": "2026-11"},
                                     {"kind": "week", "period": "2026-11"},
                                     {"kind": "month", "period": "十一月"}])
def test_a_period_not_begun_or_of_another_kind_is_refused(db, payload):
    first = estate_ids(db)[0]
    with pytest.raises(sync.Invalid) as exc:
        run(db, "report.draft", f"estate:{first}", payload, "manager", REPORT_DAY)
    assert "period" in exc.value.errors


@pytest.mark.parametrize("user", ["tech", "desk", "admin"])
def test_only_managers_draft(db, user):
    first = estate_ids(db)[0]
    out = run(db, "report.draft", f"estate:{first}", {"kind": "month", "period": "2026-11"},
              user, REPORT_DAY)
    assert out.status == "rejected" and out.result["reason"] == "forbidden"


# --- Issuing -----------------------------------------------------------------------------

def draft_with_text(db, estate_id: int, now: datetime = REPORT_DAY) -> dict:
    out = run(db, "report.draft", f"estate:{estate_id}", {"kind": "month", "period": "2026-11"},
              "manager", now)
    report_id = out.result["report_id"]
    saved = run(db, "report.text", f"report:{report_id}",
                {"analysis": "报修量平稳。", "measures": "加强巡检。"}, "manager", now)
    assert saved.status == "applied"
    return reports.get(db, report_id)


def test_issuing_freezes_the_figures_and_the_hash(db, renderer):
    first = estate_ids(db)[0]
    report = draft_with_text(db, first)
    out = run(db, "report.issue", f"report:{report['id']}", EARLY, "manager", LATER_THAT_DAY,
              base_version=report["row_version"])
    assert out.status == "applied"
    issued = reports.get(db, report["id"])
    assert issued["status"] == "issued" and issued["sha256"] == out.result["sha256"]
    assert reports.verified(issued)
    frozen = {f["key"]: f["value"] for f in json.loads(issued["snapshot"])["figures"]}
    # The document was rendered from the snapshot, with its hash, and stored.
    assert renderer[-1]["sha256"] == issued["sha256"]
    assert reports.html(db, report["id"]) == f"<p>2026-11 {issued['sha256']}</p>"

    # Later work in the month changes what a new computation says...
    add_job(db, first, "R-LATE", "2026-11-28T02:00:00")
    period = reports.parse_period("month", "2026-11", NEXT_DAY)
    now_says = reports.contents(db, first, "month", period, NEXT_DAY)["figures"]
    assert {f["key"]: f["value"] for f in now_says}["jobs_reported"] == \
        frozen["jobs_reported"] + 1
    # ...not what was issued.
    again = reports.get(db, report["id"])
    assert again["snapshot"] == issued["snapshot"] and again["sha256"] == issued["sha256"]
    assert reports.verified(again)
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("UPDATE reports SET analysis = 'changed' WHERE id = ?", [report["id"]])
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("DELETE FROM reports WHERE id = ?", [report["id"]])
    changed = run(db, "report.text", f"report:{report['id']}",
                  {"analysis": "改", "measures": "改"}, "manager", NEXT_DAY)
    assert changed.status == "rejected" and changed.result["reason"] == "issued"


def test_a_month_not_ended_is_issued_only_when_the_manager_confirms_it(db, renderer):
    report = draft_with_text(db, estate_ids(db)[0])
    last_minute = datetime(2026, 11, 30, 15, 59)  # 23:59 on the 30th in Shanghai
    assert reports.last_day_ahead("month", "2026-11", last_minute).isoformat() == \
        "2026-11-30"
    with pytest.raises(sync.Invalid) as exc:
        run(db, "report.issue", f"report:{report['id']}", {}, "manager", last_minute)
    assert exc.value.errors == {"early": report_commands.NOT_ENDED}
    assert reports.get(db, report["id"])["status"] == "draft" and renderer == []
    out = run(db, "report.issue", f"report:{report['id']}", EARLY, "manager", last_minute)
    assert out.status == "applied"
    audit = db.execute("SELECT detail FROM audit_log WHERE action = 'issue'").fetchone()[0]
    assert json.loads(audit)["early"] is True


def test_an_ended_month_is_issued_without_the_early_box(db, renderer):
    report = draft_with_text(db, estate_ids(db)[0])
    assert reports.last_day_ahead("month", "2026-11", NOVEMBER_ENDED) is None
    out = run(db, "report.issue", f"report:{report['id']}", {}, "manager", NOVEMBER_ENDED)
    assert out.status == "applied"
    # A year ends on 31 December, however many of its months have.
    assert reports.last_day_ahead("year", "2026", NOVEMBER_ENDED).isoformat() == "2026-12-31"


def test_a_tampered_snapshot_no_longer_verifies(db, renderer):
    report = draft_with_text(db, estate_ids(db)[0])
    run(db, "report.issue", f"report:{report['id']}", EARLY, "manager", LATER_THAT_DAY)
    issued = reports.get(db, report["id"])
    forged = {**issued, "snapshot": issued["snapshot"].replace("报修量平稳", "一切正常")}
    assert reports.verified(issued) and not reports.verified(forged)


def test_issuing_needs_the_analysis_and_the_version_seen(db, renderer):
    first = estate_ids(db)[0]
    out = run(db, "report.draft", f"estate:{first}", {"kind": "month", "period": "2026-11"},
              "manager", REPORT_DAY)
    report_id = out.result["report_id"]
    bare = run(db, "report.issue", f"report:{report_id}", {}, "manager", REPORT_DAY)
    assert bare.status == "rejected" and bare.result["reason"] == "no_analysis"
    seen = reports.get(db, report_id)["row_version"]
    run(db, "report.text", f"report:{report_id}", {"analysis": "甲", "measures": "乙"},
        "manager", REPORT_DAY)
    stale = run(db, "report.issue", f"report:{report_id}", EARLY, "manager", REPORT_DAY,
                base_version=seen)
    assert stale.status == "rejected" and stale.result["reason"] == "stale"
    assert reports.get(db, report_id)["status"] == "draft" and renderer == []


def test_too_long_a_text_is_refused_with_nothing_saved(db):
    report = draft_with_text(db, estate_ids(db)[0])
    with pytest.raises(sync.Invalid) as exc:
        run(db, "report.text", f"report:{report['id']}",
            {"analysis": "长" * 5001, "measures": ""}, "manager", REPORT_DAY)
    assert "analysis" in exc.value.errors
    assert reports.get(db, report["id"])["analysis"] == "报修量平稳。"


def test_a_correction_is_a_new_version(db, renderer):
    first = estate_ids(db)[0]
    report = draft_with_text(db, first)
    run(db, "report.issue", f"report:{report['id']}", EARLY, "manager", LATER_THAT_DAY)
    out = run(db, "report.correct", f"report:{report['id']}", {}, "manager", NEXT_DAY)
    v2 = reports.get(db, out.result["report_id"])
    assert (v2["version"], v2["status"], v2["analysis"]) == (2, "draft", "报修量平稳。")
    assert reports.latest(db, first, "month", "2026-11")["id"] == v2["id"]
    assert reports.get(db, report["id"])["status"] == "issued"
    # Only the newest issued version is corrected; the schedule leaves the month alone.
    twice = run(db, "report.correct", f"report:{report['id']}", {}, "manager", NEXT_DAY)
    assert twice.status == "rejected"
    assert reports.schedule(db, NEXT_DAY, HANDLERS) == 1  # the other estate only


def test_the_yearly_report_holds_the_routine_coverage_and_the_survey_hook(db):
    first = estate_ids(db)[0]
    plan = run(db, "routine.plan", f"estate:{first}",
               {"month": "2026-11", "seed": 7, "tz": "Asia/Shanghai"}, "manager", REPORT_DAY)
    assert plan.status == "applied"
    tasks = db.execute("SELECT id, unit_id, sampler FROM callback_tasks WHERE plan_id = ?"
                       " ORDER BY id", [plan.result["plan_id"]]).fetchall()
    # Three households called back (the service centre's first three).
    called = [t for t in tasks if t[2] == "service"][:3]
    db.conn.executemany("UPDATE callback_tasks SET status = 'done' WHERE id = ?",
                        [(t[0],) for t in called])
    period = reports.parse_period("year", "2026", REPORT_DAY)
    body = reports.contents(db, first, "year", period, REPORT_DAY)
    routine = body["routine"]
    households = db.execute(
        "SELECT count(DISTINCT unit_id) FROM residents r JOIN units u ON u.id = r.unit_id"
        " WHERE u.estate_id = ?", [first]).fetchone()[0]
    assert routine["households"] == households > 0
    assert (routine["plans"], routine["reached"]) == (1, 3)
    assert routine["coverage"] == round(100 * 3 / households, 1)
    by = {s["sampler"]: s for s in routine["samplers"]}
    assert by["service"]["done"] == 3 and by["manager"]["done"] == 0
    assert by["service"]["planned"] == sum(t[2] == "service" for t in tasks)
    assert by["service"]["share"] == 50 and by["manager"]["share"] is None
    assert body["survey"] is None  # no surveys module: the hook says so
    # Twelve months, the ones not begun empty.
    assert len(body["months"]) == 12
    jobs = next(f for f in body["figures"] if f["key"] == "jobs_reported")
    assert jobs["trend"][-1] is None and jobs["trend"][10] is not None


def test_the_managers_message_says_which_report():
    title, body = notifications.render("report.drafted",
                                       {"period": "2026-11", "estate": "翠湖花园"}, "zh_CN")
    assert title == "翠湖花园 2026-11 报告草稿已生成" and "改进措施" in body
    assert notifications.link("report:12", "report.drafted") == "/reports/12"
