"""The header on a phone: a field worker's few areas in one row, the office's many
behind a menu; either way the page's content starts high on the screen and nothing
scrolls sideways."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import Server, login


def test_a_manager_in_english_keeps_the_screen_for_the_content(page: Page, server: Server):
    # The manager has the most links, and English labels are the longest: on a phone
    # they are a menu, closed under a header that leaves the screen to the content.
    login(page, "manager")
    page.locator("[data-locale=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    try:
        page.goto("/inspections")
        menu = page.locator("[data-nav-menu]")
        expect(menu.locator("[data-nav-here]")).to_have_text("Inspections")
        m = page.evaluate("""() => ({header: document.querySelector('header.top')
            .getBoundingClientRect().height, screen: innerHeight,
            pageWidth: document.documentElement.scrollWidth, width: innerWidth})""")
        assert m["header"] <= 0.25 * m["screen"] and m["pageWidth"] == m["width"], m
        menu.locator("summary").click()
        expect(menu.locator("[data-menu-nav=inspections]")).to_have_attribute(
            "aria-current", "page")
    finally:
        page.locator("[data-locale=zh_CN]").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


MENU_JS = """() => ({
    pageWidth: document.documentElement.scrollWidth, width: innerWidth,
    header: document.querySelector('header.top').getBoundingClientRect().height,
    screen: innerHeight,
    links: [...document.querySelectorAll('[data-menu-nav]')].map(a => {
        const r = a.getBoundingClientRect();
        return {key: a.dataset.menuNav, h: r.height, w: r.width,
                inside: r.left >= 0 && r.right <= innerWidth};
    }),
    small: [...document.querySelectorAll('header.top a, header.top button, header.top summary')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.textContent.trim(), e.getBoundingClientRect().height])
        .filter(([, h]) => h < 44)})"""


def test_at_360_px_the_office_reaches_every_area_through_a_menu(page: Page, server: Server):
    page.set_viewport_size({"width": 360, "height": 740})
    for who in ("manager", "desk"):
        login(page, who)
        page.goto("/routine")
        menu = page.locator("[data-nav-menu]")
        expect(menu).to_be_visible()
        expect(page.locator("header.top nav")).to_be_hidden()  # no row to scroll sideways
        expect(menu.locator("[data-nav-here]")).to_have_text("例行回访")
        closed = page.evaluate(MENU_JS)
        assert closed["header"] <= 0.25 * closed["screen"], closed
        menu.locator("summary").click()
        m = page.evaluate(MENU_JS)
        keys = [x["key"] for x in m["links"]]
        assert len(keys) >= 6 and "complaints" in keys, keys
        assert all(x["h"] >= 44 and x["inside"] for x in m["links"]), m["links"]
        assert m["pageWidth"] == m["width"], m
        assert m["small"] == [], m["small"]  # every tap target in the header is 44 px
        menu.locator("[data-menu-nav=complaints]").click()
        expect(page).to_have_url(re.compile(r"/complaints$"))
        page.locator("[data-logout]").click()
    # A field worker's few areas stay in the row.
    login(page, "tech")
    expect(page.locator("header.top nav")).to_be_visible()
    expect(page.locator("[data-nav-menu]")).to_have_count(0)
