"""Callbacks in the browser: a door-to-door visit recorded with no signal and sent once, an
unsatisfied answer that reopens the job, and the three-tap satisfied answer."""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from webapp.auth import utcnow
from webapp.db import connect
from webapp.domain.files import path_for

from .conftest import Server, draw_signature, login

JOB_DIMENSIONS = ("attitude", "quality", "timeliness", "overall")


def closed_job_with_open_callback(
    server: Server, reporter: str, description: str
) -> tuple[int, int]:
    """A job taken by the desk, done by the technician and closed without a signature (the
    resident was out), so its callback stays open for the desk (the demo's policy: whoever
    received the report calls back). Returns (job id, callback task id)."""
    job = server.command(
        "desk",
        "job.create",
        "job:new",
        estate_id=1,
        unit_id=2,
        reporter_name=reporter,
        reporter_phone="13800138000",
        source="phone",
        category="plumbing",
        job_class="small",
        description=description,
        photos=[],
    )
    target = f"job:{job['job_id']}"
    server.command("desk", "job.dispatch", target, to=f"user:{server.user_id('tech')}")
    server.command("tech", "job.accept", target)
    server.command("tech", "job.arrive", target)
    server.command("tech", "job.complete", target, work_done="更换阀芯", materials="", photos=[])
    server.command("tech", "job.signoff", target, outcome="absent", reason="住户不在家")
    (task,) = server.query(
        "SELECT id, status, assignee_id FROM callback_tasks WHERE source = 'job' AND source_id = ?",
        [job["job_id"]],
    )
    assert task["status"] == "open" and task["assignee_id"] == server.user_id("desk"), task
    return job["job_id"], task["id"]


def rate(form, ratings: dict[str, int]) -> None:
    for dim, score in ratings.items():
        form.locator(f"[data-rating={dim}] input[name=rating_{dim}][value='{score}']").check()


def pending_now(page: Page) -> int:
    return page.evaluate("() => Outbox.pendingCount()")


def wait_pending(page: Page, n: int, timeout: float = 15_000) -> None:
    """The outbox holds `n` items waiting to be sent, and the header says so. (The header
    reads 0 before the page's script has counted, so the outbox itself is asked first.)"""
    deadline = time.monotonic() + timeout / 1000
    while pending_now(page) != n:
        assert time.monotonic() < deadline, f"outbox never held {n} waiting items"
        page.wait_for_timeout(50)
    expect(page.locator("header [data-pending-count]")).to_have_text(str(n))


def test_door_to_door_callback_signed_offline_is_recorded_once(page: Page, context, server: Server):
    job_id, task_id = closed_job_with_open_callback(server, "孙", "卫生间地漏堵塞")
    login(page, "desk")
    # Online once: the service worker keeps the callback list and each open task.
    page.goto("/callbacks")
    expect(page.locator(f"[data-list=callbacks] [data-task='{task_id}']")).to_be_visible()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-cached", "1")

    # At the resident's door, no signal.
    context.set_offline(True)
    page.goto(f"/callbacks/{task_id}")
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(page.locator("[data-callback-page]")).to_have_attribute("data-status", "open")
    form = page.locator("[data-form=callback]")
    # The signature pad belongs to a visit only.
    expect(form.locator("[data-signature-pad]")).to_be_hidden()
    form.locator("input[name=method][value=visit]").check()
    form.locator("input[name=reached][value='1']").check()
    rate(form, {"attitude": 5, "quality": 4, "timeliness": 5, "overall": 5})
    form.locator("[name=comments]").fill("上门回访,住户满意")
    draw_signature(page)
    form.locator("[name=signer_name]").fill("孙小红")
    form.locator("[data-action=record]").click()

    # Kept on the phone (the signature drawn into a PNG and hashed first).
    expect(page.locator("[data-queued]")).to_be_visible(timeout=10_000)
    expect(form).to_be_hidden()
    wait_pending(page, 1)
    (item,) = page.evaluate(
        """() => Outbox.all().then(items => items.map(i => ({op_id: i.op_id, kind: i.kind,
            target: i.target, state: i.state, fields: i.fields,
            blobs: (i.blobs || []).map(b => b.field)})))"""
    )
    assert (item["kind"], item["target"], item["state"]) == (
        "callback.record",
        f"callback:{task_id}",
        "saved",
    )
    assert item["blobs"] == ["signature_image"]
    assert item["fields"]["method"] == "visit" and item["fields"]["signer_name"] == "孙小红"
    op_id = item["op_id"]
    assert server.query("SELECT count(*) AS n FROM commands WHERE op_id = ?", [op_id]) == [{"n": 0}]
    (task,) = server.query("SELECT status FROM callback_tasks WHERE id = ?", [task_id])
    assert task["status"] == "open"

    # The signal is back: the outbox sends it by itself.
    context.set_offline(False)
    wait_pending(page, 0)
    (sent,) = page.evaluate("() => Outbox.all().then(items => items.map(i => i.state))")
    assert sent == "synced"
    # A later page load replays nothing more.
    page.goto("/callbacks")
    expect(page.locator("[data-list=callbacks]")).to_be_visible()
    expect(page.locator(f"[data-list=callbacks] [data-task='{task_id}']")).to_have_count(0)
    wait_pending(page, 0)

    assert server.query("SELECT outcome, replayed FROM commands WHERE op_id = ?", [op_id]) == [
        {"outcome": "applied", "replayed": 1}
    ]
    (task,) = server.query("SELECT status, attempts FROM callback_tasks WHERE id = ?", [task_id])
    assert task == {"status": "done", "attempts": 1}
    (record,) = server.query(
        "SELECT r.user_id, r.method, r.reached, r.ratings, r.satisfied, r.signer_name,"
        " r.signature_sha256, r.strokes, r.op_id, f.mime, f.size"
        " FROM callback_records r LEFT JOIN files f ON f.sha256 = r.signature_sha256"
        " WHERE r.task_id = ?",
        [task_id],
    )
    assert record["user_id"] == server.user_id("desk")
    assert (record["method"], record["reached"], record["satisfied"]) == ("visit", 1, 1)
    assert json.loads(record["ratings"]) == {
        "attitude": 5,
        "quality": 4,
        "timeliness": 5,
        "overall": 5,
    }
    assert record["signer_name"] == "孙小红" and record["op_id"] == op_id
    sha = record["signature_sha256"]
    assert sha and re.fullmatch(r"[0-9a-f]{64}", sha)
    assert record["mime"] == "image/png" and record["size"] > 500  # registered in files
    stored = path_for(server.files_dir, sha)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    assert record["strokes"] and len(json.loads(record["strokes"])) == 1
    done = server.query(
        "SELECT count(*) AS n FROM audit_log WHERE entity = 'callback' AND entity_id = ?"
        " AND action = 'done'",
        [task_id],
    )
    assert done == [{"n": 1}]
    # The job itself is untouched by a satisfied callback.
    assert server.query("SELECT status FROM jobs WHERE id = ?", [job_id]) == [{"status": "closed"}]


def test_unsatisfied_phone_callback_reopens_the_job(page: Page, server: Server):
    job_id, task_id = closed_job_with_open_callback(server, "周", "阳台水管渗水")
    login(page, "desk")
    page.goto(f"/callbacks/{task_id}")
    form = page.locator("[data-form=callback]")
    form.locator("input[name=method][value=phone]").check()
    form.locator("input[name=reached][value='1']").check()
    # A phone call needs no signature.
    expect(form.locator("[data-signature-pad]")).to_be_hidden()
    rate(form, {"attitude": 4, "quality": 2, "timeliness": 3, "overall": 2})
    form.locator("[name=comments]").fill("还在渗水")
    form.locator("input[name=follow_up][value=rework]").check()
    form.locator("[data-action=record]").click()

    # Sent at once; the clerk is back on the list, told so, and the task has left it.
    expect(page).to_have_url(re.compile(rf"/callbacks\?saved={task_id}$"))
    expect(page.locator("[data-saved=done]")).to_contain_text("周")
    expect(page.locator("[data-list=callbacks]")).to_be_visible()
    expect(page.locator(f"[data-list=callbacks] [data-task='{task_id}']")).to_have_count(0)

    (job,) = server.query("SELECT status, rework_count FROM jobs WHERE id = ?", [job_id])
    assert job == {"status": "assigned", "rework_count": 1}
    (record,) = server.query(
        "SELECT method, reached, satisfied, ratings, follow_up, follow_up_id, signer_name"
        " FROM callback_records WHERE task_id = ?",
        [task_id],
    )
    assert record["method"] == "phone" and record["reached"] == 1 and record["satisfied"] == 0
    # The visit's signer (filled in with the contact's name) is not part of a phone call.
    assert record["signer_name"] == ""
    assert json.loads(record["ratings"]) == {
        "attitude": 4,
        "quality": 2,
        "timeliness": 3,
        "overall": 2,
    }
    assert (record["follow_up"], record["follow_up_id"]) == ("job", job_id)
    assert server.query("SELECT status FROM callback_tasks WHERE id = ?", [task_id]) == [
        {"status": "done"}
    ]
    reopens = server.query(
        "SELECT text FROM job_notes WHERE job_id = ? AND kind = 'reopen'", [job_id]
    )
    assert reopens == [{"text": "还在渗水"}]
    # The reopened job keeps the first visit, and its sign-off still verifies.
    page.goto(f"/jobs/{job_id}")
    first = page.locator("[data-visits] [data-visit='1']")
    expect(first).to_be_visible()
    expect(first.locator("[data-record-check]")).to_have_attribute(
        "data-record-check", "verified")


def test_three_taps_for_a_satisfied_resident(page: Page, server: Server):
    job_id, task_id = closed_job_with_open_callback(server, "吴", "客厅灯不亮")
    login(page, "desk")
    page.goto("/callbacks")  # 1: the list
    row = page.locator(f"[data-list=callbacks] [data-task='{task_id}']")
    expect(row).to_contain_text("吴")
    row.locator("a").click()  # 2: the task
    expect(page.locator(f"[data-callback-page='{task_id}']")).to_have_attribute(
        "data-status", "open"
    )
    page.locator("[data-form=quick] [data-action=satisfied]").click()  # 3: satisfied

    expect(page).to_have_url(re.compile(rf"/callbacks\?saved={task_id}$"))
    expect(page.locator("[data-list=callbacks]")).to_be_visible()
    expect(page.locator("[data-saved=done]")).to_contain_text("吴")
    expect(row).to_have_count(0)
    (task,) = server.query("SELECT status FROM callback_tasks WHERE id = ?", [task_id])
    assert task["status"] == "done"
    (record,) = server.query(
        "SELECT method, reached, satisfied, ratings, follow_up FROM callback_records"
        " WHERE task_id = ?",
        [task_id],
    )
    assert (record["method"], record["reached"], record["satisfied"]) == ("phone", 1, 1)
    assert json.loads(record["ratings"]) == {d: 5 for d in JOB_DIMENSIONS}
    assert record["follow_up"] is None
    assert server.query("SELECT status FROM jobs WHERE id = ?", [job_id]) == [{"status": "closed"}]


def test_not_reached_after_all_sends_nothing_of_the_hidden_answer(page: Page, server: Server):
    """The clerk starts on an unhappy answer, then the line drops: "not reached" is saved,
    and the ratings, comments and rework chosen before (now hidden) do not go with it."""
    job_id, task_id = closed_job_with_open_callback(server, "冯", "厨房下水慢")
    login(page, "desk")
    page.goto(f"/callbacks/{task_id}")
    form = page.locator("[data-form=callback]")
    form.locator("input[name=method][value=phone]").check()
    form.locator("input[name=reached][value='1']").check()
    rate(form, {"attitude": 3, "quality": 1, "timeliness": 3, "overall": 1})
    form.locator("[name=comments]").fill("完全没修好")
    form.locator("input[name=follow_up][value=rework]").check()
    form.locator("input[name=reached][value='0']").check()
    expect(form.locator("[name=comments]")).to_be_hidden()
    form.locator("[data-action=record]").click()

    expect(page).to_have_url(re.compile(rf"/callbacks\?saved={task_id}$"))
    # Tried once; it comes back on the list at the next try, and the list says when.
    expect(page.locator(f"[data-list=callbacks] [data-task='{task_id}']")).to_have_count(0)
    (task,) = server.query(
        "SELECT status, attempts, next_try_at FROM callback_tasks WHERE id = ?", [task_id]
    )
    assert task["status"] == "open" and task["attempts"] == 1 and task["next_try_at"]
    back = datetime.fromisoformat(task["next_try_at"]).replace(tzinfo=UTC)
    expect(page.locator("[data-saved=retry]")).to_contain_text(
        back.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M"))
    assert server.query(
        "SELECT method, reached, ratings, satisfied, comments, signer_name, follow_up"
        " FROM callback_records WHERE task_id = ?",
        [task_id],
    ) == [
        {
            "method": "phone",
            "reached": 0,
            "ratings": "{}",
            "satisfied": None,
            "comments": "",
            "signer_name": "",
            "follow_up": None,
        }
    ]
    assert server.query("SELECT status, rework_count FROM jobs WHERE id = ?", [job_id]) == [
        {"status": "closed", "rework_count": 0}
    ]


def test_the_list_shows_more_tasks_on_a_tap(page: Page, server: Server):
    """A routine plan fills the manager pool past one page of the list."""
    db = connect(server.database)
    due = (utcnow() + timedelta(days=1)).isoformat(timespec="seconds")
    for i in range(55):
        db.execute(
            "INSERT INTO callback_tasks (estate_id, kind, contact_name, pool, created_at,"
            " due_at, latest_at, status) VALUES (1, 'routine', ?, 'manager', ?, ?, ?, 'open')",
            [f"抽样{i}", due, due, due])
    db.conn.commit()
    db.close()
    total = server.query(
        "SELECT count(*) AS n FROM callback_tasks WHERE pool = 'manager' AND status = 'open'"
        " AND (next_try_at IS NULL OR next_try_at <= ?)", [utcnow().isoformat()])[0]["n"]
    login(page, "manager")
    page.goto("/callbacks")
    expect(page.locator("[data-due-count]")).to_have_attribute("data-due-count", str(total))
    rows = page.locator("[data-list=callbacks] [data-task]")
    expect(rows).to_have_count(50)
    first_page = rows.evaluate_all("els => els.map(e => e.dataset.task)")
    url = page.url
    page.locator("[data-more-link]").click()
    expect(rows).to_have_count(total)
    shown = rows.evaluate_all("els => els.map(e => e.dataset.task)")
    assert shown[:50] == first_page and len(set(shown)) == len(shown)
    expect(page.locator("[data-more]")).to_have_count(0)
    assert page.url == url  # the rows were added in place, not a new page
