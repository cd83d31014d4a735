"""Environment feedback in the browser: a cleaner in the basement with no signal sends
feedback with a photo; it reaches the desk's queue once when the signal is back."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import Server, login
from .offline import (
    cache_for_offline,
    expect_pending,
    garage_id,
    jpeg,
    outbox_items,
    send_feedback,
    sha,
)


def test_feedback_sent_offline_arrives_once_and_the_desk_sees_it(new_context, server: Server):
    (garage,) = server.query(
        "SELECT id FROM common_areas WHERE estate_id = 1 AND name = '地下车库'")
    place = f"area:{garage['id']}"
    note = "离线反馈:B2层消防通道堆放纸箱"
    photo = jpeg((120, 160, 40))

    ctx = new_context()
    page = ctx.new_page()
    login(page, "cleaner")
    cache_for_offline(page)

    # In the basement: no signal. The form opens from the phone's cache.
    ctx.set_offline(True)
    page.goto("/feedback/new")
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    form = page.locator("[data-form=feedback]")
    form.locator(f"[data-place='{place}']").check()
    form.locator("[data-category=litter]").check()
    form.locator("[data-photos-input]").set_input_files(
        {"name": "boxes.jpg", "mimeType": "image/jpeg", "buffer": photo})
    form.locator("[name=note]").fill(note)
    page.locator("[data-action=send-feedback]").click()
    queued = page.locator("[data-queued]")
    expect(queued).to_be_visible()
    expect(form).to_be_hidden()
    expect_pending(page, 1)
    (item,) = [i for i in outbox_items(page) if i["kind"] == "feedback.create"]
    assert (item["target"], item["state"], item["blobs"]) == ("feedback:new", "saved", 1)
    assert server.query("SELECT id FROM feedback WHERE note = ?", [note]) == []

    # "Continue" opens the sent list, also from the cache.
    queued.locator("[data-continue]").click()
    expect(page).to_have_url("/feedback/mine")
    expect(page.locator("[data-list=my-feedback]")).to_be_visible()
    # ...where what waits on the phone is listed, so the report does not seem lost.
    expect(page.locator("[data-queued-feedback-row]")).to_have_count(1)
    expect(page.locator("[data-queued-feedback-row] [data-note]")).to_have_text(note)

    # Signal again: the outbox sends it, once.
    ctx.set_offline(False)
    page.goto("/outbox")
    expect_pending(page, 0)
    expect(page.locator(f"[data-outbox-list] li[data-op-id='{item['op_id']}']")).to_have_attribute(
        "data-state-now", "synced")
    page.reload()
    expect_pending(page, 0)
    rows = server.query(
        "SELECT id, place_type, place_id, category, user_id, op_id FROM feedback WHERE note = ?",
        [note])
    assert [(r["place_type"], r["place_id"], r["category"], r["op_id"]) for r in rows] == [
        ("area", garage["id"], "litter", item["op_id"])]
    (fb,) = rows
    assert fb["user_id"] == server.user_id("cleaner")
    assert server.query("SELECT sha256 FROM feedback_photos WHERE feedback_id = ?",
                        [fb["id"]]) == [{"sha256": sha(photo)}]
    assert server.query("SELECT count(*) AS n, max(replayed) AS replayed FROM commands "
                        "WHERE op_id = ?", [item["op_id"]]) == [{"n": 1, "replayed": 1}]
    page.goto("/feedback/mine")
    expect(page.locator(f"[data-feedback='{fb['id']}']")).to_contain_text(note)
    expect(page.locator("[data-queued-feedback-row]")).to_have_count(0)
    ctx.close()

    # The desk sees it at the top of the queue, new, with its photo.
    desk_ctx = new_context()
    desk = desk_ctx.new_page()
    login(desk, "desk")
    desk.goto("/feedback")
    row = desk.locator("[data-list=feedback] [data-feedback]").first
    expect(row).to_have_attribute("data-feedback", str(fb["id"]))
    expect(row).to_have_attribute("data-status", "new")
    expect(row).to_contain_text(note)
    thumb = row.locator("[data-photos] img")
    expect(thumb).to_have_count(1)
    assert thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 64

    # One step makes it a job for the cleaning department.
    row.locator("a").click()
    desk.locator("[data-action=to_job]").click()
    expect(desk.locator("[data-feedback-page]")).to_have_attribute("data-status", "job")
    (job,) = server.query("SELECT j.department, j.category FROM jobs j JOIN feedback f "
                          "ON f.job_id = j.id WHERE f.id = ?", [fb["id"]])
    assert job == {"department": "cleaning", "category": "cleaning"}
    desk_ctx.close()


def test_the_outbox_writes_times_in_the_estates_zone_whatever_the_phones(new_context,
                                                                         server: Server):
    """A phone set to another zone still lists what waits in Beijing time, as every page
    the server writes does."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    ctx = new_context(timezone_id="America/New_York")
    page = ctx.new_page()
    login(page, "cleaner")
    cache_for_offline(page)
    ctx.set_offline(True)
    send_feedback(page, f"area:{garage_id(server)}", "时区测试")
    expect_pending(page, 1)
    (item,) = [i for i in outbox_items(page) if i["kind"] == "feedback.create"]
    device_time = page.evaluate("op => Outbox.get(op).then(i => i.device_time)", item["op_id"])
    page.goto("/outbox")
    acted = datetime.fromisoformat(device_time.replace("Z", "+00:00"))
    beijing = acted.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    row = page.locator(f"[data-outbox-list] li[data-op-id='{item['op_id']}'] [data-when]")
    expect(row).to_have_text(beijing)
