"""Shift handover at a field post with no signal: the guard records the handover from the
form kept on the phone, the incoming guard (on a phone of their own) acknowledges it with
a signature, also with no signal, from the handover's kept page; once the signal is back,
the handover and its acknowledgement are on the server exactly once, and the incoming
guard was told of it."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import expect

import sync
from webapp.auth import utcnow
from webapp.db import connect
from webapp.domain.handlers import HANDLERS

from .conftest import Server, draw_signature, login
from .offline import cache_for_offline, expect_pending, outbox_items, poll

NIGHT_PASSWORD = "Ye-ban-bao-an-2026!"


def add_guard(server: Server, username: str) -> None:
    """The incoming guard, made by the admin (`user.save`)."""
    db = connect(server.database)
    try:
        outcome = sync.apply(db, sync.Command(
            op_id=str(uuid.uuid4()), kind="user.save", target="user:new",
            payload={"username": username, "display_name": "夜班保安",
                     "department": "security", "role": "guard", "password": NIGHT_PASSWORD,
                     "estate_ids": [1]},
            user_id=server.user_id("admin"), device_id="e2e"), HANDLERS, utcnow())
    finally:
        db.close()
    assert outcome.status == "applied", outcome.result


def test_a_guard_hands_over_and_the_next_signs_with_no_signal(new_context, server: Server):
    night = f"guard{uuid.uuid4().hex[:6]}"
    add_guard(server, night)
    marker = f"东门道闸抬杆卡住已报修 {uuid.uuid4().hex[:6]}"

    # The outgoing guard's phone, at the security post.
    ctx = new_context()
    page = ctx.new_page()
    login(page, "guard")
    cache_for_offline(page)
    page.goto("/handovers/new")
    expect(page.locator("[data-handover-known] [data-count=jobs_open]")).to_be_visible()
    ctx.set_offline(True)
    page.reload()  # the kept copy of the form
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    form = page.locator("[data-form=handover]")
    form.locator("[name=happened]").fill(marker)
    form.locator("[name=open_items]").fill("东门道闸待修")
    form.locator("[data-check=keys]").check()
    form.locator("[data-check=radios]").check()
    page.locator("[data-action=record-handover]").click()
    expect(page.locator("[data-queued]")).to_be_visible()
    expect(form).to_be_hidden()
    expect_pending(page, 1)
    (record,) = [i for i in outbox_items(page) if i["kind"] == "handover.record"]
    assert (record["target"], record["state"]) == ("handover:new", "saved")
    assert server.query("SELECT id FROM handovers WHERE happened = ?", [marker]) == []
    # "Continue" opens the kept log, which lists the handover waiting on the phone.
    page.locator("[data-queued] [data-continue]").click()
    expect(page).to_have_url("/handovers")
    waiting = page.locator("[data-queued-handover-row]")
    expect(waiting).to_have_count(1)
    expect(waiting.locator("[data-text]")).to_have_text(marker)

    ctx.set_offline(False)  # signal again: sent once
    page.goto("/outbox")
    expect_pending(page, 0, timeout=20_000)
    (handover,) = server.query("SELECT id, checklist FROM handovers WHERE happened = ?",
                               [marker])
    # The shared items ticked went with it.
    assert [k for k, _label, ok in json.loads(handover["checklist"]) if ok] == ["keys", "radios"]
    handover_id = handover["id"]
    ctx.close()

    # The incoming guard's phone: the handover waiting for them is kept on it.
    ctx2 = new_context()
    page2 = ctx2.new_page()
    login(page2, night, NIGHT_PASSWORD)
    cache_for_offline(page2)
    url = f"/handovers/{handover_id}"
    poll(page2, "u => caches.match(u).then(r => r !== undefined)", url, timeout=20_000)
    ctx2.set_offline(True)
    page2.goto(url)
    expect(page2.locator("[data-offline-banner]")).to_be_visible()
    expect(page2.locator("[data-field=happened]")).to_have_text(marker)
    draw_signature(page2)
    page2.locator("[data-action=acknowledge-handover]").click()
    expect(page2.locator("[data-queued]")).to_be_visible()
    expect(page2.locator("[data-form=handover-ack]")).to_be_hidden()
    expect_pending(page2, 1)
    (ack,) = [i for i in outbox_items(page2) if i["kind"] == "handover.acknowledge"]
    assert (ack["target"], ack["blobs"]) == (f"handover:{handover_id}", 1)

    ctx2.set_offline(False)
    page2.goto("/outbox")
    expect_pending(page2, 0, timeout=20_000)
    page2.goto(url)
    expect(page2.locator("[data-handover-page]")).to_have_attribute("data-acknowledged", "yes")
    expect(page2.locator("[data-ack-signature]")).to_be_visible()
    ctx2.close()

    (row,) = server.query("SELECT acknowledged_by, signature_sha256 FROM handovers"
                          " WHERE happened = ?", [marker])
    assert row["acknowledged_by"] == server.user_id(night) and row["signature_sha256"]
    counts = server.query(
        "SELECT kind, count(*) AS n FROM commands WHERE op_id IN (?, ?) GROUP BY kind",
        [record["op_id"], ack["op_id"]])
    assert {c["kind"]: c["n"] for c in counts} == {"handover.record": 1,
                                                   "handover.acknowledge": 1}
    told = server.query(
        "SELECT u.username FROM notifications n JOIN users u ON u.id = n.user_id"
        " JOIN announcements a ON a.id = n.announcement_id"
        " WHERE a.kind = 'handover.recorded' AND a.target = ?", [f"handover:{handover_id}"])
    assert [t["username"] for t in told] == [night]
