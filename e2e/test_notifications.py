"""The in-app channel: the desk dispatches, the technician's bell counts it after a
reload, and tapping the notification opens the job (the desk then sees it opened)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Server, login


def test_dispatch_rings_the_bell_and_the_notification_opens_the_job(
        page: Page, new_context, server: Server):
    tech = new_context().new_page()
    login(tech, "tech2")
    tech.goto("/notifications")
    tech.locator("[data-read-all]").click()
    expect(tech.locator("[data-bell-count]")).to_be_hidden()

    job = server.command("desk", "job.create", "job:new", estate_id=1, unit_id=3,
                         reporter_name="周", reporter_phone="13800138001", source="phone",
                         category="electrical", job_class="small", description="客厅灯不亮",
                         photos=[])["job_id"]
    login(page, "desk")
    page.goto(f"/jobs/{job}")
    page.locator("[data-dispatch-to]").select_option(f"user:{server.user_id('tech2')}")
    page.locator("[data-action=dispatch]").click()
    expect(page.locator("[data-assignee]")).to_have_text("李师傅")
    expect(page.locator("[data-opened]")).to_have_text("尚未查看")

    tech.reload()
    expect(tech.locator("[data-bell-count]")).to_have_text("1")
    tech.locator("[data-bell]").click()
    first = tech.locator("[data-notification]").first
    expect(first.locator("[data-title]")).to_contain_text("新工单")
    first.locator("[data-open]").click()
    expect(tech).to_have_url(f"{server.url}/jobs/{job}")
    expect(tech.locator("[data-job-page]")).to_be_visible()
    expect(tech.locator("[data-bell-count]")).to_be_hidden()

    page.reload()
    expect(page.locator("[data-told=met]")).to_be_visible()
    expect(page.locator("[data-opened]")).not_to_have_text("尚未查看")
