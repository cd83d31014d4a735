"""Notices in the browser: the desk posts a notice for one building; a visitor scanning a
unit's code in that building sees it, one in another building does not."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Browser, Page, expect

from webapp.auth import utcnow
from webapp.i18n import local_time

from .conftest import Server, login
from .test_places import live_token

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def test_a_notice_for_one_building_shows_on_its_units_qr_pages_only(
        page: Page, server: Server, browser: Browser, browser_context_args: dict):
    b1, b2 = [r["id"] for r in server.query(
        "SELECT id FROM buildings WHERE estate_id = 1 ORDER BY id LIMIT 2")]
    unit_a, unit_b = [server.query("SELECT id FROM units WHERE building_id = ? ORDER BY id"
                                   " LIMIT 1", [b])[0]["id"] for b in (b1, b2)]
    now = utcnow()
    title = "1栋明日停水检修"

    login(page, "desk")
    page.goto("/notices")
    page.locator("[data-nav=notice-new]").click()
    form = page.locator("[data-form=notice]")
    form.locator("[name=title]").fill(title)
    form.locator("[name=body]").fill("因水管检修，本楼暂停供水，请提前储水。")
    form.locator("[name=starts_at]").fill(local_time(now - timedelta(hours=1), LOCAL_INPUT))
    form.locator("[name=ends_at]").fill(local_time(now + timedelta(days=1), LOCAL_INPUT))
    form.locator(f"[data-place='building:{b1}']").check()
    form.locator("[data-action=post-notice]").click()
    expect(page.locator("[data-notice-page]")).to_have_attribute("data-notice-state", "current")
    (row,) = server.query("SELECT n.id FROM notices n JOIN notice_places p"
                          " ON p.notice_id = n.id WHERE n.title = ?", [title])
    assert row["id"]

    # A resident's phone, signed out, in its own browser context: a small one, 360 px.
    visitor = browser.new_context(**{**browser_context_args,
                                     "viewport": {"width": 360, "height": 740}})
    try:
        resident = visitor.new_page()
        resident.goto(f"/q/{live_token(server, 'unit', unit_a)}")
        shown = resident.locator("[data-place-notices] [data-notice-title]")
        expect(shown).to_have_text(title)
        expect(resident.locator("[data-form=public-report]")).to_be_visible()
        resident.goto(f"/q/{live_token(server, 'unit', unit_b)}")
        expect(resident.locator("[data-public-place=unit]")).to_be_visible()
        expect(resident.get_by_text(title)).to_have_count(0)
        # Fits the phone's width: nothing wider than the screen.
        resident.goto(f"/q/{live_token(server, 'unit', unit_a)}")
        assert resident.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        visitor.close()
