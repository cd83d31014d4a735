"""The outbox's sending loop (sync-loop.js, docs/SYNC.md) on a signed-out phone: showing
the page again does not make it ask at once, so a phone woken all day does not hammer
the server; signing in sends what waits."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, expect

from webapp.demo import DEMO_PASSWORD

from .conftest import Server, login
from .offline import expect_pending, new_job, queue

# The page hidden and shown again, as a phone put away and taken out: Chromium shows a
# headless page all the time, so the state is the page's own and the event a synthetic one.
TOGGLE_JS = """async ([times, pause]) => {
    let state = "visible";
    Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
    Object.defineProperty(document, "hidden", {configurable: true,
                                               get: () => state !== "visible"});
    for (let n = 0; n < times; n++) {
        for (const next of ["hidden", "visible"]) {
            state = next;
            document.dispatchEvent(new Event("visibilitychange"));
            await new Promise(done => setTimeout(done, pause));
        }
    }
}"""


def test_a_signed_out_phone_does_not_ask_again_each_time_it_is_shown(page: Page,
                                                                     server: Server):
    job_id = new_job(server, upto="arrived", worker="tech")
    login(page, "tech")
    page.goto("/outbox")
    queue(page, "job.complete", f"job:{job_id}", {"work_done": "更换阀芯", "photos": []})
    asked: list[float] = []

    def count(request: Request) -> None:
        if urlsplit(request.url).path.startswith("/sync/"):
            asked.append(time.monotonic())

    page.on("request", count)
    # The session ends (it lasts two weeks; clearing the cookies stands for that) and the
    # page is loaded again: its first attempt is answered "signed out".
    page.context.clear_cookies()
    asked.clear()  # what the loop sent before the session ended does not count
    page.goto("/outbox")
    notice = page.locator("[data-outbox-signed-out]")
    expect(notice).to_be_visible()
    assert asked  # its first attempt, answered "signed out"
    # Shown twelve times in about five seconds: at most the one retry its back-off had
    # planned (5 s after the first), not one each time.
    start = time.monotonic()
    page.evaluate(TOGGLE_JS, [12, 200])
    page.wait_for_timeout(500)
    during = [t for t in asked if t >= start]
    assert len(during) <= 1, len(during)
    expect_pending(page, 1)
    expect(notice).to_be_visible()

    # Signing in again (the notice's link, back to the outbox) sends what waited.
    notice.locator("a").click()
    form = page.locator("[data-form=login]")
    form.locator("[name=username]").fill("tech")
    form.locator("[name=password]").fill(DEMO_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-outbox-list]")).to_be_visible()
    expect_pending(page, 0)
    expect(notice).to_be_hidden()
    assert server.query("SELECT status FROM jobs WHERE id = ?", [job_id]) == [
        {"status": "completed"}]
