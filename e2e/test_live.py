"""Live lists: a list left open shows a change made elsewhere within seconds, without a
reload, and never under the hands of someone filling a form (static/live.js)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from .conftest import Server, login

# A change shows within this (the list asks every 5 s).
WITHIN_MS = 10_000


def report(server: Server, description: str) -> tuple[int, str]:
    """A job reported at the desk (set-up, through the command path)."""
    result = server.command("desk", "job.create", "job:new", estate_id=1, unit_id=2,
                            reporter_name="陈", reporter_phone="13800138000", source="phone",
                            category="plumbing", job_class="small", description=description,
                            photos=[])
    (row,) = server.query("SELECT number FROM jobs WHERE id = ?", [result["job_id"]])
    return result["job_id"], row["number"]


def add_field(page: Page, where: str, name: str) -> None:
    """A text field placed `where` (a selector; appended to it): the list page has no
    text field of its own, and a field elsewhere on a page (a note, a search) must be
    left alone."""
    page.evaluate(
        """([where, name]) => {
             const input = document.createElement("input");
             input.name = name;
             document.querySelector(where).append(input);
           }""", [where, name])


def focused_name(page: Page) -> str | None:
    return page.evaluate("() => document.activeElement && document.activeElement.name")


def test_a_dispatch_shows_on_the_technicians_list_while_they_type(page: Page, new_context,
                                                                  server: Server):
    job_id, number = report(server, "阳台地漏堵塞")
    login(page, "desk")
    page.goto(f"/jobs/{job_id}")

    tech = new_context().new_page()
    login(tech, "tech")
    tech.goto("/jobs/mine")
    mine = tech.locator("[data-list=mine]")
    expect(mine).to_be_visible()
    expect(mine.locator(f"[data-job='{number}']")).to_have_count(0)
    add_field(tech, "main", "note")
    note = tech.locator("main > input[name=note]")
    note.click()
    note.press_sequentially("住户说下午三点后在家", delay=50)

    # The desk dispatches it to 王师傅 in its own browser.
    page.locator("[data-dispatch-to]").select_option(f"user:{server.user_id('tech')}")
    page.locator("[data-action=dispatch]").click()
    expect(page.locator("[data-job-page] [data-status=assigned]")).to_be_visible()

    # The technician keeps typing; the job comes onto the list meanwhile, no reload.
    bell = tech.locator("[data-bell]")
    unread = int(bell.get_attribute("data-unread-count") or 0)
    tech.evaluate("() => { window.notReloaded = true; }")
    note.press_sequentially("，电话先联系", delay=300)
    expect(mine.locator(f"[data-job='{number}']")).to_be_visible(timeout=WITHIN_MS)
    # The bell's count rose with it, also without a reload.
    expect(bell).to_have_attribute("data-unread-count", str(unread + 1), timeout=WITHIN_MS)
    note.press_sequentially("。", delay=50)
    expect(note).to_have_value("住户说下午三点后在家，电话先联系。")
    assert focused_name(tech) == "note"
    assert tech.evaluate("() => window.notReloaded") is True

    # A field in the list itself, with text in it, holds the list as it is...
    add_field(tech, "[data-list=mine]", "inside")
    inside = tech.locator("[data-list=mine] input[name=inside]")
    inside.fill("写了一半")
    second_id, second = report(server, "卫生间灯不亮")
    server.command("desk", "job.dispatch", f"job:{second_id}",
                   to=f"user:{server.user_id('tech')}")
    note.click()  # focus elsewhere: the unsent text alone still holds it
    tech.wait_for_timeout(WITHIN_MS)
    expect(mine.locator(f"[data-job='{second}']")).to_have_count(0)
    expect(inside).to_have_value("写了一半")
    # ... until it is emptied and left: then the list catches up.
    inside.fill("")
    note.click()
    expect(mine.locator(f"[data-job='{second}']")).to_be_visible(timeout=WITHIN_MS)

    # The notification opens the job it is about.
    bell.click()
    tech.locator("[data-notification]", has_text=number).locator("[data-open]").first.click()
    expect(tech).to_have_url(re.compile(rf"/jobs/{job_id}$"))


def test_the_board_shows_a_job_another_desk_reports(page: Page, new_context, server: Server):
    login(page, "desk")
    page.goto("/jobs")
    board = page.locator("[data-list=board]")
    expect(board).to_be_visible()
    page.locator("form.filters [name=status]").select_option("new")
    expect(page).to_have_url(re.compile(r"status=new"))
    search = page.locator("form.filters [name=q]")
    search.click()
    search.press_sequentially("J")  # every job number has it: the filter keeps the new one
    expect(page).to_have_url(re.compile(r"q=J"))
    first = board.locator("[data-job]").first.get_attribute("data-job")

    # Another desk session takes a report through the intake form.
    other = new_context().new_page()
    login(other, "desk")
    other.goto("/jobs/new")
    form = other.locator("[data-form=intake]")
    form.locator("[data-unit-query]").fill("101")
    form.locator("[data-unit-pick]").first.click()
    form.locator("[name=reporter_name]").fill("周")
    form.locator("[name=reporter_phone]").fill("13900139000")
    form.locator("[name=category]").select_option("plumbing")
    form.locator("[name=description]").fill("楼道水管渗水")
    form.locator("[data-submit]").click()
    number = other.locator("[data-job-page]").get_attribute("data-job-page")
    assert number and number != first

    # The board shows it at the top within seconds, under the same filter, and the search
    # box keeps its text and focus.
    row = board.locator("[data-job]").first
    expect(row).to_have_attribute("data-job", number, timeout=WITHIN_MS)
    expect(row).to_contain_text("楼道水管渗水")
    expect(search).to_have_value("J")
    assert focused_name(page) == "q"
    expect(page.locator("form.filters [name=status]")).to_have_value("new")


def test_the_board_keeps_the_rows_show_more_added(page: Page, server: Server):
    for n in range(55):  # more than two pages of the board, whatever else is there
        report(server, f"第{n}号测试报修")
    login(page, "desk")
    page.goto("/jobs?status=all&order=new")  # newest first: the next report goes on top
    board = page.locator("[data-list=board]")
    rows = board.locator("[data-job]")
    expect(rows).to_have_count(25)
    board.locator("[data-more-link]").click()
    expect(rows).to_have_count(50)
    expect(board.locator("[data-more-link]")).to_have_count(1)

    _job_id, number = report(server, "地下室积水")
    expect(rows.first).to_have_attribute("data-job", number, timeout=WITHIN_MS)
    expect(rows).to_have_count(50)  # the newest 50: the rows "show more" added stay
    expect(board.locator("[data-more-link]")).to_have_count(1)


def test_the_bell_follows_on_a_page_with_no_list(page: Page, server: Server):
    login(page, "tech")
    page.goto("/outbox")
    bell = page.locator("[data-bell]")
    unread = int(bell.get_attribute("data-unread-count") or 0)
    page.evaluate("() => { window.notReloaded = true; }")
    job_id, _number = report(server, "楼道灯不亮")
    server.command("desk", "job.dispatch", f"job:{job_id}",
                   to=f"user:{server.user_id('tech')}")
    expect(bell).to_have_attribute("data-unread-count", str(unread + 1), timeout=20_000)
    assert page.evaluate("() => window.notReloaded") is True


def test_a_signed_out_live_list_does_not_ask_each_time_it_is_shown(page: Page):
    """live.js on a page whose session ended: showing it again keeps the back-off rather
    than asking at once each time (a phone taken out of a pocket all day)."""
    from .test_sync import TOGGLE_JS

    login(page, "desk")
    page.goto("/jobs")
    asked: list[float] = []
    page.on("request", lambda r: asked.append(time.monotonic())
            if urlsplit(r.url).path.startswith("/live/") else None)
    page.context.clear_cookies()  # the session ends
    # The next check (every 5 s) is answered by the sign-in page.
    with page.expect_response(lambda r: urlsplit(r.url).path == "/login", timeout=15000):
        pass
    page.wait_for_timeout(300)
    start = time.monotonic()
    page.evaluate(TOGGLE_JS, [12, 200])
    page.wait_for_timeout(500)
    during = [t for t in asked if t >= start]
    assert len(during) <= 1, len(during)
