"""A refresh of the pages kept on the phone fetches only those whose version changed
(the manifest's `versions`), and the changed one shows offline as it is now."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

from .conftest import Server, login
from .offline import cache_for_offline, new_job


def refresh_now(page: Page) -> None:
    """Ask the service worker for a refresh now, and wait until it says it is done."""
    page.evaluate("() => { delete document.body.dataset.cached; }")
    page.evaluate("() => navigator.serviceWorker.controller.postMessage("
                  "{type: 'refresh', force: true})")
    expect(page.locator("body")).to_have_attribute("data-cached", "1")


def test_a_refresh_fetches_the_changed_job_and_not_the_unchanged(
        page: Page, context: BrowserContext, server: Server):
    changed = new_job(server, upto="accepted", worker="tech2", description="卫生间灯不亮")
    same = new_job(server, upto="accepted", worker="tech2", description="门锁松动")
    login(page, "tech2")
    cache_for_offline(page)
    refresh_now(page)  # a first full round, after the navigations above
    fetched: list[str] = []
    context.on("request", lambda r: fetched.append(urlsplit(r.url).path)
               if r.service_worker is not None else None)
    refresh_now(page)
    assert fetched == ["/sync/manifest"]  # nothing changed: nothing but the manifest

    server.command("tech2", "job.arrive", f"job:{changed}")
    fetched.clear()
    refresh_now(page)
    assert "/sync/manifest" in fetched
    assert {f"/jobs/{changed}", f"/jobs/{changed}/sign", "/jobs/mine"} <= set(fetched)
    # Unchanged pages stay as they were kept.
    for path in (f"/jobs/{same}", f"/jobs/{same}/sign", "/outbox", "/offline"):
        assert path not in fetched
    assert fetched.count(f"/jobs/{changed}") == 1

    context.set_offline(True)
    page.goto(f"/jobs/{changed}")
    expect(page.locator("[data-job-page] .badge[data-status]")).to_have_attribute(
        "data-status", "arrived")
    page.goto(f"/jobs/{same}")
    expect(page.locator("[data-job-page] .badge[data-status]")).to_have_attribute(
        "data-status", "accepted")
    context.set_offline(False)
