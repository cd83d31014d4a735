"""Signing out ends the session: cookies copied before open nothing after."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from .conftest import Server, login


def open_with(browser: Browser, context_args: dict, cookies: list) -> Page:
    """Another browser holding only these cookies."""
    context = browser.new_context(**context_args)
    context.add_cookies(cookies)
    return context.new_page()


def test_cookies_copied_before_signing_out_open_nothing(
        page: Page, browser: Browser, browser_context_args: dict, server: Server):
    login(page, "tech3")
    page.goto("/jobs/mine")
    cookies = page.context.cookies()
    assert {"session", "remember_token"} <= {c["name"] for c in cookies}
    # The copy works while the session lasts...
    before = open_with(browser, browser_context_args, cookies)
    before.goto("/jobs/mine")
    expect(before.locator("[data-logout]")).to_be_visible()
    before.context.close()

    page.locator("[data-logout]").click()
    expect(page.locator("[data-form=login]")).to_be_visible()

    # ...and not after: the old session and remember cookies lead to the sign-in page.
    after = open_with(browser, browser_context_args, cookies)
    try:
        after.goto("/jobs/mine")
        expect(after).to_have_url(re.compile(r"/login\?next=%2Fjobs%2Fmine"))
        expect(after.locator("[data-form=login]")).to_be_visible()
        expect(after.locator("[data-logout]")).to_have_count(0)
    finally:
        after.context.close()
