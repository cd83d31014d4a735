"""A weak signal never wipes what is typed: the page does not reload itself over a form
holding input, and a field form keeps a draft on the phone until it is sent."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import Server, login
from .offline import new_job, poll


def test_a_slow_answer_does_not_reload_the_page_over_the_work_being_typed(new_context,
                                                                          server: Server):
    job_id = new_job(server, upto="accepted", description="卫生间下水慢")
    # No service worker here: the page's own requests are held back like a slow network.
    page = new_context(service_workers="block").new_page()
    login(page, "tech")
    held, holding = [], [True]
    page.route("**/sync/batch",
               lambda route: held.append(route) if holding[0] else route.continue_())
    page.goto(f"/jobs/{job_id}")
    page.evaluate("window.sameDocument = true")
    page.locator("[data-action=arrive]").click()
    # "On site" is saved on the phone and on its way: the work form opens at once.
    work = page.locator("[data-form=complete] [name=work_done]")
    expect(work).to_be_visible()
    work.fill("疏通下水管，清出毛发")
    for _ in range(200):  # the click's send reaches the held route
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    holding[0] = False
    held[0].continue_()  # the answer to "on site" lands while the work is being typed
    poll(page, """id => fetch('/jobs/' + id).then(r => r.text())
        .then(t => t.includes('data-status="arrived"'))""", job_id, timeout=10_000)
    page.wait_for_timeout(1500)  # as long as the reload took on the slow link
    assert page.evaluate("window.sameDocument") is True
    expect(work).to_have_value("疏通下水管，清出毛发")
    page.locator("[data-action=complete]").click()
    poll(page, """id => fetch('/jobs/' + id).then(r => r.text())
        .then(t => t.includes('data-status="completed"'))""", job_id, timeout=10_000)
    [row] = server.query("SELECT status, work_done FROM jobs WHERE id = ?", [job_id])
    assert row == {"status": "completed", "work_done": "疏通下水管，清出毛发"}


def test_what_is_typed_comes_back_after_a_reload_until_it_is_sent(page, server: Server):
    job_id = new_job(server, upto="arrived", description="阳台灯不亮")
    login(page, "tech")
    page.goto(f"/jobs/{job_id}")
    work = page.locator("[data-form=complete] [name=work_done]")
    work.fill("更换灯泡，检查线路")
    page.reload()
    expect(work).to_have_value("更换灯泡，检查线路")
    page.locator("[data-action=complete]").click()
    expect(page).to_have_url(f"/jobs/{job_id}/sign")
    # Sent: the draft is gone, and the job page opens with an empty form next time.
    keys = page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('draft:'))")
    assert keys == []


def test_signing_out_leaves_no_draft_on_the_phone(page, server: Server):
    job_id = new_job(server, upto="arrived", description="门锁坏了")
    login(page, "tech")
    page.goto(f"/jobs/{job_id}")
    page.locator("[data-form=complete] [name=work_done]").fill("更换锁芯")
    drafts = "() => Object.keys(localStorage).filter(k => k.startsWith('draft:')).length"
    assert page.evaluate(drafts) == 1
    page.locator("[data-logout]").click()
    expect(page.locator("[data-form=login]")).to_be_visible()
    assert page.evaluate(drafts) == 0
