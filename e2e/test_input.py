"""A bad item in the outbox is refused alone: the phone shows it as needing attention,
stops sending it, and the items queued after it are applied."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import Server, login
from .offline import cache_for_offline, expect_pending, new_job, outbox_items, queue


def test_an_item_with_year_one_is_refused_and_the_next_is_applied(new_context,
                                                                  server: Server):
    paused, done = new_job(server), new_job(server, description="阳台地漏堵塞")
    ctx = new_context()
    page = ctx.new_page()
    login(page, "tech")
    cache_for_offline(page)

    ctx.set_offline(True)
    bad = queue(page, "job.pause", f"job:{paused}",
                {"reason": "住户出差", "agreed_at": "0001-01-01T00:00"})
    good = queue(page, "job.complete", f"job:{done}", {"work_done": "疏通地漏", "materials": ""})
    expect_pending(page, 2)

    ctx.set_offline(False)
    page.goto("/outbox")
    expect_pending(page, 0)
    refused = page.locator(f"[data-outbox-list] li[data-op-id='{bad}']")
    expect(refused).to_have_attribute("data-state-now", "attention")
    expect(refused.locator("[data-message]")).to_have_text("请输入与客户新约定的时间。")
    applied = page.locator(f"[data-outbox-list] li[data-op-id='{good}']")
    expect(applied).to_have_attribute("data-state-now", "synced")

    # Sent again on the next visit? No: it stays refused, and nothing of it was stored.
    page.reload()
    expect_pending(page, 0)
    states = {i["op_id"]: i["state"] for i in outbox_items(page)}
    assert states[bad] == "attention"
    assert server.query("SELECT count(*) AS n FROM commands WHERE op_id = ?", [bad]) \
        == [{"n": 0}]
    statuses = {r["id"]: r["status"] for r in server.query(
        "SELECT id, status FROM jobs WHERE id IN (?, ?)", [paused, done])}
    assert statuses == {paused: "arrived", done: "completed"}
