"""The owners' committee on the desk's phone (Pixel 5): a chair added, a contact recorded
from the member's row, shown on the committee page as no longer due; the page fits."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Server, login


def test_the_desk_records_a_contact_with_the_chair(page: Page, server: Server):
    login(page, "desk")
    page.goto("/committee")
    page.locator("[data-nav=committee-member]").click()
    form = page.locator("[data-form=committee-member]")
    form.locator("[name=name]").fill("陈主任")
    form.locator("[name=role]").select_option("chair")
    form.locator("[name=since]").fill("2026-01-05")
    form.locator("[data-action=save-member]").click()
    (member,) = server.query("SELECT id FROM committee_members WHERE name = '陈主任'")
    chair = page.locator("[data-chair-due]:has-text('陈主任')")
    expect(chair).to_have_attribute("data-overdue", "1")  # never contacted since January

    page.locator(f"[data-contact-member='{member['id']}']").click()
    form = page.locator("[data-form=committee-contact]")
    form.locator("[name=method]").select_option("visit")
    form.locator("[name=topics]").fill("电梯更换方案与维修基金使用")
    form.locator("[data-action=save-contact]").click()
    expect(page.locator("[data-committee=contacts]")).to_contain_text("电梯更换方案")
    expect(chair).to_have_attribute("data-overdue", "0")  # contacted today
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
