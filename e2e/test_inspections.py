"""Inspections in the browser: the supervisor scans a unit's QR code, starts the inspection
from the place page, fails an item with a photo, and the job for maintenance is there,
linked from the result; the round shows the place visited."""

from __future__ import annotations

import hashlib
import io
import re
import time
from datetime import UTC, datetime, timedelta

from PIL import Image
from playwright.sync_api import Page, expect

from .conftest import Server, login


def jpeg() -> bytes:
    img = Image.new("RGB", (64, 48), (180, 40, 40))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_a_failed_item_with_a_photo_becomes_a_maintenance_job(page: Page, server: Server):
    # 1栋-101 is on 郑主管's round today (the demo); its label carries this token.
    (unit,) = server.query("SELECT u.id FROM units u JOIN buildings b ON b.id = u.building_id "
                           "WHERE u.estate_id = 1 AND b.name = '1栋' AND u.number = '101'")
    (code,) = server.query("SELECT token FROM qr_tokens WHERE place_type = 'unit' AND "
                           "place_id = ? AND revoked_at IS NULL", [unit["id"]])
    login(page, "supervisor")
    page.goto("/inspections")
    round_row = page.locator(f"[data-round-place='unit:{unit['id']}']")
    expect(round_row).to_have_attribute("data-visited", "0")

    opened = datetime.now(UTC).replace(tzinfo=None)
    page.goto(f"/q/{code['token']}")
    expect(page.locator("[data-place-page]")).to_have_attribute(
        "data-place-page", f"unit:{unit['id']}")
    page.locator("[data-place-action=inspect]").click()
    form = page.locator("[data-form=inspection]")
    expect(form).to_be_visible()
    stamped = form.locator("[name=visited_at]").input_value()
    assert stamped.endswith("Z") and "." in stamped  # the phone's clock, when it opened

    first = form.locator("[data-item]").first
    first_item = first.get_attribute("data-item")
    expect(first.locator("[data-make-job]")).to_be_hidden()
    first.locator("label.r-fail").click()
    expect(first.locator("[data-make-job]")).to_be_visible()
    expect(first.locator("[data-make-job]")).to_be_checked()  # one tap: on by default
    first.locator(f"[name=note_{first_item}]").fill("门锁卡住,钥匙拧不动")
    photo = jpeg()
    first.locator("[data-photos-input]").set_input_files(
        {"name": "lock.jpg", "mimeType": "image/jpeg", "buffer": photo})
    form.locator("[data-rest-pass]").click()
    expect(form.locator("[data-item]").last.locator("[data-result=pass]")).to_be_checked()
    form.locator("[data-action=record]").click()

    # Sent through the outbox, then back to the round, where the unit is now visited.
    expect(page).to_have_url(f"{server.url}/inspections")
    expect(page.locator(f"[data-round-place='unit:{unit['id']}']")).to_have_attribute(
        "data-visited", "1")
    expect(page.locator(f"[data-round-place='unit:{unit['id']}'] [data-failed]")
           ).to_have_attribute("data-failed", "1")

    (inspection,) = server.query(
        "SELECT * FROM inspections WHERE place_type = 'unit' AND place_id = ?", [unit["id"]])
    assert inspection["round_id"] is not None
    visited = datetime.fromisoformat(inspection["visited_at"])
    assert abs(visited - opened) < timedelta(minutes=1)
    assert inspection["visited_at"] <= inspection["finished_at"]
    (job,) = server.query(
        "SELECT j.* FROM jobs j JOIN inspection_results r ON r.job_id = j.id "
        "WHERE r.inspection_id = ? AND j.department = 'maintenance'", [inspection["id"]])
    assert job["unit_id"] == unit["id"] and job["status"] == "new"
    assert "门锁卡住" in job["description"] and job["reporter_name"] == "郑主管"
    # A small JPEG goes as it is (larger ones are resized on the phone first).
    (attached,) = server.query("SELECT sha256 FROM job_photos WHERE job_id = ?", [job["id"]])
    assert attached["sha256"] == hashlib.sha256(photo).hexdigest()
    assert server.query("SELECT count(*) AS n FROM inspection_results WHERE inspection_id = ? "
                        "AND result = 'pass'", [inspection["id"]])[0]["n"] == 8

    # The inspection's page shows the job made from the failed item.
    page.locator(f"[data-round-place='unit:{unit['id']}'] a").click()
    expect(page.locator(f"[data-job='{job['id']}']")).to_contain_text(job["number"])


def wait_pending(page: Page, n: int, timeout: float = 10_000) -> None:
    deadline = time.monotonic() + timeout / 1000
    while page.evaluate("() => Outbox.pendingCount()") != n:
        assert time.monotonic() < deadline, f"outbox never held {n}"
        page.wait_for_timeout(50)


def test_the_rounds_checklist_works_offline_and_is_sent_once(page: Page, context,
                                                             server: Server):
    (lift,) = server.query("SELECT id FROM common_areas WHERE estate_id = 1 AND name = '1号电梯'")
    visit = f"/inspections/visit?place_type=area&place_id={lift['id']}"
    (code,) = server.query("SELECT token FROM qr_tokens WHERE place_type = 'area' AND "
                           "place_id = ? AND revoked_at IS NULL", [lift["id"]])
    login(page, "supervisor")
    # Online once: the phone keeps today's round and each place's checklist.
    page.goto("/inspections")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-cached", "1")

    # In the lift shaft, no signal: the checklist opens from the phone and stamps the time.
    context.set_offline(True)
    opened = datetime.now(UTC).replace(tzinfo=None)
    # Scanning the lift's code needs the server; the phone opens the kept checklist.
    page.goto(f"/q/{code['token']}")
    expect(page).to_have_url(re.compile(re.escape(visit) + "$"))
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    form = page.locator("[data-form=inspection]")
    stamped = form.locator("[name=visited_at]").input_value()
    assert abs(datetime.fromisoformat(stamped.rstrip("Z")) - opened) < timedelta(minutes=1)
    form.locator("[data-item]").nth(2).locator("label.r-fail").click()
    form.locator("[data-item]").nth(5).locator("label.r-na").click()
    form.locator("[data-rest-pass]").click()
    form.locator("[data-action=record]").click()
    expect(page.locator("[data-queued]")).to_be_visible(timeout=10_000)
    wait_pending(page, 1)
    # The kept round shows the place as inspected, not as still to visit.
    page.goto("/inspections")
    lift_row = page.locator(f"[data-round-place='area:{lift['id']}']")
    expect(lift_row.locator("[data-visited-queued]")).to_be_visible()
    expect(lift_row.locator("[data-not-visited]")).to_be_hidden()
    # ...and counts it: those the server has, plus this one.
    round_box = page.locator("[data-round]").filter(has=lift_row)
    visited = round_box.locator('[data-visited="1"]').count()
    expect(round_box.locator("[data-round-progress]")).to_contain_text(f"{visited + 1}/")
    (item,) = page.evaluate("() => Outbox.all().then(a => a.map(i => ({op_id: i.op_id, "
                            "kind: i.kind, target: i.target})))")
    assert (item["kind"], item["target"]) == ("inspection.record", f"area:{lift['id']}")
    assert server.query("SELECT count(*) AS n FROM inspections WHERE op_id = ?",
                        [item["op_id"]]) == [{"n": 0}]

    # The signal is back: sent once, with the time the page was opened.
    context.set_offline(False)
    wait_pending(page, 0)
    page.goto("/inspections")
    expect(page.locator(f"[data-round-place='area:{lift['id']}']")).to_have_attribute(
        "data-visited", "1")
    (inspection,) = server.query("SELECT * FROM inspections WHERE op_id = ?", [item["op_id"]])
    assert abs(datetime.fromisoformat(inspection["visited_at"]) - opened) < timedelta(minutes=1)
    counts = server.query("SELECT result, count(*) AS n, count(job_id) AS jobs FROM "
                          "inspection_results WHERE inspection_id = ? GROUP BY result "
                          "ORDER BY result", [inspection["id"]])
    assert counts == [{"result": "fail", "n": 1, "jobs": 1}, {"result": "na", "n": 1, "jobs": 0},
                      {"result": "pass", "n": 6, "jobs": 0}]
    assert server.query("SELECT replayed FROM commands WHERE op_id = ?",
                        [item["op_id"]]) == [{"replayed": 1}]
