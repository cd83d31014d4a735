"""The manager's figures in the browser, on a Pixel 5 and on a desktop screen: signing in
lands on the home, the cards and a chart show, and a tapped number opens exactly the
records behind it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from webapp.auth import utcnow
from webapp.domain import periods

from .conftest import Server, login


def _expected_jobs(server: Server) -> list[int]:
    """This local month's jobs in the manager's estates: what "jobs reported" counts."""
    start, end = periods.parse("", utcnow()).bounds()
    return sorted(r["id"] for r in server.query(
        "SELECT id FROM jobs WHERE estate_id IN (SELECT estate_id FROM user_estates WHERE "
        "user_id = (SELECT id FROM users WHERE username = 'manager')) AND received_at >= ? "
        "AND received_at < ?", [start, end]))


def _check_home_and_drill(page: Page, server: Server, phone: bool) -> None:
    login(page, "manager")
    expect(page).to_have_url(f"{server.url}/figures")
    card = page.locator("[data-card=jobs_reported]")
    expect(card).to_be_visible()
    chart = page.locator("[data-trend=jobs_reported] img[data-chart]")
    chart.scroll_into_view_if_needed()
    expect(chart).to_be_visible()
    # The chart really drew (a data: SVG the page's policy allows), at the screen's width.
    size = chart.evaluate("img => [img.complete, img.naturalWidth, img.getBoundingClientRect()"
                          ".width, innerWidth]")
    assert size[0] and size[1] > 0 and size[2] <= size[3], size
    if phone:
        # Nothing scrolls sideways at the phone's width; the number is a thumb's target.
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        box = card.locator("[data-open]").bounding_box()
        assert box is not None and box["height"] >= 44
    expected = _expected_jobs(server)
    assert expected, "the demo has jobs this month"
    value = card.locator("[data-open]")
    assert int(float(value.get_attribute("data-value") or "0")) == len(expected)
    value.click()
    expect(page.locator("[data-records-count]")).to_have_attribute(
        "data-records-count", str(len(expected)))
    rows = page.locator("[data-record]")
    expect(rows).to_have_count(min(len(expected), 50))
    shown = sorted(int(x) for x in rows.evaluate_all("els => els.map(e => e.dataset.record)"))
    assert shown == expected[-50:] if len(expected) > 50 else shown == expected
    # A record opens its own page.
    rows.first.locator("[data-open-record]").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))


def test_the_manager_lands_on_the_figures_and_opens_a_number_phone(page: Page,
                                                                    server: Server):
    _check_home_and_drill(page, server, phone=True)
    # The narrowest phone: no page of the area scrolls sideways.
    page.set_viewport_size({"width": 360, "height": 740})
    for url in ("/figures", "/figures/repairs", "/figures/records?figure=jobs_reported"):
        page.goto(url)
        expect(page.locator("[data-pickers], [data-records]").first).to_be_attached()
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), url


def test_the_same_on_a_desktop_screen(browser: Browser, server: Server):
    context = browser.new_context(base_url=server.url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        _check_home_and_drill(page, server, phone=False)
        # A card is a cell of the grid, not the screen's width: cards sit side by side.
        page.goto("/figures")
        width = page.locator("[data-card]").first.evaluate(
            "e => e.getBoundingClientRect().width / innerWidth")
        assert width < 0.5, width
    finally:
        context.close()


@pytest.mark.parametrize("typed", ["2026-13"])
def test_a_bad_period_is_kept_with_the_reason(page: Page, server: Server, typed: str):
    login(page, "manager")
    page.locator("[data-pickers] [name=period]").fill(typed)
    page.locator("[data-pickers] button").click()
    expect(page.locator("[data-error=period]")).to_contain_text("不是有效的统计期间")
    expect(page.locator("[data-pickers] [name=period]")).to_have_value(typed)
    # The estate picker sends itself (autosubmit.js; no inline script).
    page.locator("[data-pickers] [name=estate]").select_option("1")
    expect(page).to_have_url(re.compile(r"estate=1"))
