"""Shift handover in the browser: the desk records a handover; the next shift (another
desk user of the same estate) finds it on top of the log and acknowledges it with a
signature drawn on the pad."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

import sync
from webapp.auth import utcnow
from webapp.db import connect
from webapp.domain.handlers import HANDLERS

from .conftest import Server, draw_signature, login

NIGHT_PASSWORD = "Ye-ban-qian-tai-2026!"


def add_desk(server: Server, username: str) -> None:
    """A second desk user of the first estate, made by the admin (`user.save`; its
    `username` field is why Server.command cannot carry it)."""
    db = connect(server.database)
    try:
        outcome = sync.apply(db, sync.Command(
            op_id=str(uuid.uuid4()), kind="user.save", target="user:new",
            payload={"username": username, "display_name": "夜班前台",
                     "department": "service", "role": "desk", "password": NIGHT_PASSWORD,
                     "estate_ids": [1]},
            user_id=server.user_id("admin"), device_id="e2e"), HANDLERS, utcnow())
    finally:
        db.close()
    assert outcome.status == "applied", outcome.result


def test_the_desk_hands_over_and_the_next_shift_signs_for_it(page: Page, server: Server):
    # The demo's second desk serves the other estate: the night desk is one of this test's.
    night = f"night{uuid.uuid4().hex[:6]}"
    add_desk(server, night)
    marker = f"2栋电梯困人已解救 {uuid.uuid4().hex[:6]}"

    login(page, "desk")
    page.goto("/handovers")
    page.locator("[data-nav=handover-new]").click()
    expect(page.locator("[data-handover-known] [data-count=jobs_open]")).to_be_visible()
    form = page.locator("[data-form=handover]")
    form.locator("[name=happened]").fill(marker)
    form.locator("[name=open_items]").fill("3栋水泵待修，已报工程部")
    form.locator("[data-check=keys]").check()
    form.locator("[data-check=radios]").check()
    form.locator("[data-action=record-handover]").click()
    shown = page.locator("[data-handover-page]")
    expect(shown).to_have_attribute("data-acknowledged", "no")
    expect(page.locator("[data-field=happened]")).to_have_text(marker)
    expect(page.locator("[data-signature-pad]")).to_have_count(0)  # not one's own
    handover_id = shown.get_attribute("data-handover-page")
    page.locator("[data-logout]").click()

    login(page, night, NIGHT_PASSWORD)
    page.goto("/handovers")
    top = page.locator("[data-handover-row]").first
    expect(top).to_have_attribute("data-handover-row", handover_id)
    expect(top).to_have_attribute("data-acknowledged", "no")
    top.locator("a").click()
    draw_signature(page)
    page.locator("[data-action=acknowledge-handover]").click()
    expect(page.locator("[data-handover-page]")).to_have_attribute("data-acknowledged", "yes")
    expect(page.locator("[data-ack]")).to_contain_text("夜班前台")
    expect(page.locator("[data-ack-signature]")).to_be_visible()
    (row,) = server.query("SELECT acknowledged_by, signature_sha256, signature_strokes"
                          " FROM handovers WHERE id = ?", [int(handover_id)])
    assert row["acknowledged_by"] == server.user_id(night)
    assert row["signature_sha256"] and row["signature_strokes"].startswith("[")
