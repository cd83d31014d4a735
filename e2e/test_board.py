"""The desk's board in a browser: what is due first by default, newest first chosen with
the order control, kept in the address and by the live list."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import Server, login


def due_times(page: Page) -> list[str]:
    """The rows' deadline times (UTC, as their badges carry them), top to bottom."""
    return page.locator("[data-list=board] [data-job] [data-due-at]").evaluate_all(
        "els => els.map(e => e.getAttribute('data-due-at'))")


def test_the_board_sorts_by_what_is_due_and_newest_first_on_request(page: Page,
                                                                      server: Server):
    login(page, "desk")
    page.goto("/jobs")
    rows = page.locator("[data-list=board] [data-job]")
    expect(rows.first).to_be_visible()
    order = page.locator("form.filters [name=order]")
    expect(order).to_have_value("due")
    times = due_times(page)
    assert len(times) >= 2 and times == sorted(times)
    # The overdue on top: the first row's badge says so when any open job is overdue.
    (overdue,) = server.query(
        "SELECT count(*) AS n FROM jobs WHERE estate_id = 1 AND next_due_at < ?",
        [page.evaluate("() => new Date().toISOString().slice(0, 19)")])
    if overdue["n"]:
        expect(rows.first.locator(".due.overdue")).to_have_count(1)

    order.select_option("new")
    expect(page).to_have_url(re.compile(r"order=new"))
    (newest,) = server.query(
        "SELECT number FROM jobs WHERE estate_id = 1 AND status IN ('new', 'pooled',"
        " 'assigned', 'accepted', 'arrived', 'paused') ORDER BY id DESC LIMIT 1")
    expect(rows.first).to_have_attribute("data-job", newest["number"])
    # Reloaded, the address keeps the choice.
    page.reload()
    expect(page.locator("form.filters [name=order]")).to_have_value("new")
    expect(rows.first).to_have_attribute("data-job", newest["number"])
