"""The header on a phone: the role's links in one row that scrolls sideways, so the
page's content starts high on the screen, with this page's link in sight."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Server, login

HEADER_JS = """() => {
    const header = document.querySelector('header.top').getBoundingClientRect();
    const nav = document.querySelector('header.top nav').getBoundingClientRect();
    const current = document.querySelector('header.top nav [aria-current]')
      .getBoundingClientRect();
    return {header: header.height, screen: innerHeight, pageWidth:
      document.documentElement.scrollWidth, width: innerWidth,
      currentInNav: current.left >= nav.left && current.right <= nav.right};
}"""


def test_a_manager_in_english_keeps_the_screen_for_the_content(page: Page, server: Server):
    # The manager has the most links, and English labels are the longest.
    login(page, "manager")
    page.locator("[data-locale=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    try:
        page.goto("/inspections")  # a link far along the row
        expect(page.locator("[data-nav=inspections]")).to_have_attribute("aria-current", "page")
        m = page.evaluate(HEADER_JS)
        assert m["header"] <= 0.25 * m["screen"], m
        assert m["pageWidth"] == m["width"] and m["currentInNav"], m
    finally:
        page.locator("[data-locale=zh_CN]").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
