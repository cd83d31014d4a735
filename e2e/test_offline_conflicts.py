"""Offline conflicts: two workers take the same job, or the desk cancels while the work
is done offline; what was done is kept and the desk sees the job flagged."""


from __future__ import annotations

import json

from playwright.sync_api import BrowserContext, Page, expect

from .conftest import Server, login
from .offline import (
    audit_rows,
    cache_for_offline,
    claim_offline,
    command_counts,
    complete_offline,
    expect_pending,
    jpeg,
    new_job,
    outbox_items,
    queue,
    sha,
)


def test_two_technicians_take_the_same_pool_job_offline(new_context, server: Server):
    job_id = new_job(server, worker="pool:maintenance", description="楼道水管滴水")
    target = f"job:{job_id}"
    number = server.query("SELECT number FROM jobs WHERE id = ?", [job_id])[0]["number"]
    phones = {}
    for who in ("tech", "tech2"):
        ctx = new_context()
        page = ctx.new_page()
        login(page, who)
        cache_for_offline(page)
        phones[who] = (ctx, page)

    # Both are in the basement with no signal and take the job, then do the work.
    photos = {"tech": jpeg((10, 10, 220)), "tech2": jpeg((220, 220, 10))}
    work = {"tech": "王师傅:更换水管接头", "tech2": "李师傅:缠生料带止漏"}
    ops: dict[str, list[str]] = {}
    for who, (ctx, page) in phones.items():
        ctx.set_offline(True)
        claim_offline(page, job_id)
        (claim_op,) = [i["op_id"] for i in outbox_items(page) if i["target"] == target]
        # The job page offers no further step after an offline claim (see
        # test_offline_claim_offers_the_next_steps): the steps go to the outbox as the
        # job page's forms would queue them.
        arrive_op = queue(page, "job.arrive", target, {})
        complete_op = queue(
            page, "job.complete", target, {"work_done": work[who], "materials": ""}, photos[who]
        )
        ops[who] = [claim_op, arrive_op, complete_op]
        expect_pending(page, 3)
        assert [i["state"] for i in outbox_items(page)] == ["saved"] * 3

    # 王师傅 gets signal first: the job is his.
    ctx, page = phones["tech"]
    ctx.set_offline(False)
    page.goto("/outbox")
    expect_pending(page, 0)
    expect(page.locator("[data-outbox-list] li[data-state-now=synced]")).to_have_count(3)

    # Then 李师傅: his claim and steps are refused with the reason; his work is kept.
    ctx, page = phones["tech2"]
    ctx.set_offline(False)
    page.goto("/outbox")
    expect_pending(page, 0)
    attention = page.locator("[data-outbox-list] li[data-state-now=attention]")
    expect(attention).to_have_count(3)
    claim_item = page.locator(f"[data-outbox-list] li[data-op-id='{ops['tech2'][0]}']")
    expect(claim_item).to_have_attribute("data-state-now", "attention")
    expect(claim_item.locator("[data-message]")).to_have_text("此单已被他人领取。")
    expect(claim_item.locator("[data-state]")).to_have_text("需处理")
    for op in ops["tech2"][1:]:
        item = page.locator(f"[data-outbox-list] li[data-op-id='{op}']")
        expect(item.locator("[data-message]")).to_have_text("此单已派给其他人。")
    expect(page.locator("[data-outbox-list] [data-dismiss]:visible")).to_have_count(3)

    # On the server: one holder, the other's visit kept, the job flagged for the desk.
    (job,) = server.query(
        "SELECT status, assignee_id, flagged, work_done FROM jobs WHERE id = ?", [job_id]
    )
    assert job == {
        "status": "completed",
        "assignee_id": server.user_id("tech"),
        "flagged": 1,
        "work_done": work["tech"],
    }
    all_ops = ops["tech"] + ops["tech2"]
    assert command_counts(server, all_ops) == {op: 1 for op in all_ops}
    outcomes = {
        r["op_id"]: r["outcome"]
        for r in server.query(
            f"SELECT op_id, outcome FROM commands WHERE op_id IN ({','.join('?' * 6)})", all_ops
        )
    }
    assert [outcomes[op] for op in all_ops] == ["applied"] * 3 + ["rejected"] * 3
    assert audit_rows(server, all_ops) == {
        ops["tech"][0]: ["claim"],
        ops["tech"][1]: ["arrive"],
        ops["tech"][2]: ["complete"],
        ops["tech2"][0]: ["flag"],
        ops["tech2"][1]: ["flag"],
        ops["tech2"][2]: ["flag"],
    }
    notes = server.query(
        "SELECT user_id, kind, text, op_id FROM job_notes WHERE job_id = ? ORDER BY id", [job_id]
    )
    assert notes == [
        {"user_id": server.user_id(who), "kind": "work", "text": work[who], "op_id": ops[who][2]}
        for who in ("tech", "tech2")
    ]
    photo_rows = server.query(
        "SELECT sha256, op_id FROM job_photos WHERE job_id = ? ORDER BY id", [job_id]
    )
    assert photo_rows == [
        {"sha256": sha(photos[who]), "op_id": ops[who][2]} for who in ("tech", "tech2")
    ]

    # The desk finds it in the review list.
    desk = new_context().new_page()
    login(desk, "desk")
    desk.goto("/jobs?status=flagged")
    row = desk.locator(f"[data-list=board] [data-job='{number}']")
    expect(row.locator("[data-flagged]")).to_be_visible()
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "completed")


def test_desk_cancels_while_the_work_is_done_offline(new_context, server: Server):
    job_id = new_job(server, description="阳台灯不亮")
    ctx = new_context()
    page = ctx.new_page()
    login(page, "tech")
    cache_for_offline(page)
    ctx.set_offline(True)
    # Meanwhile the resident calls the desk, and the desk cancels the job.
    server.command("desk", "job.cancel", f"job:{job_id}", reason="住户已自行修好")
    photo = jpeg((120, 40, 160))
    complete_offline(page, job_id, "更换灯泡", photo, "陈先生")
    saved = outbox_items(page)
    ops = [i["op_id"] for i in saved if i["target"] == f"job:{job_id}"]
    assert [i["kind"] for i in saved if i["target"] == f"job:{job_id}"] == [
        "job.complete",
        "job.signoff",
    ]

    ctx.set_offline(False)
    page.goto("/outbox")
    expect_pending(page, 0)
    for op in ops:
        item = page.locator(f"[data-outbox-list] li[data-op-id='{op}']")
        expect(item).to_have_attribute("data-state-now", "attention")
        expect(item.locator("[data-message]")).to_have_text("此单已被取消。")

    (job,) = server.query("SELECT status, flagged FROM jobs WHERE id = ?", [job_id])
    assert job == {"status": "cancelled", "flagged": 1}
    assert command_counts(server, ops) == {op: 1 for op in ops}
    results = server.query(
        "SELECT outcome, result FROM commands WHERE op_id IN (?, ?) ORDER BY received_at, rowid",
        ops,
    )
    assert [(r["outcome"], json.loads(r["result"])["reason"]) for r in results] == [
        ("rejected", "cancelled")
    ] * 2
    assert audit_rows(server, ops) == {op: ["flag"] for op in ops}
    # The facts from the field are kept: the work notes, the photo, the signature.
    assert server.query("SELECT user_id, kind, text FROM job_notes WHERE op_id = ?", [ops[0]]) == [
        {"user_id": server.user_id("tech"), "kind": "work", "text": "更换灯泡\n阀芯1个"}
    ]
    assert server.query("SELECT sha256 FROM job_photos WHERE job_id = ?", [job_id]) == [
        {"sha256": sha(photo)}
    ]
    (signature,) = server.query(
        "SELECT s.signer_name, s.op_id, f.mime FROM signatures s"
        " JOIN files f ON f.sha256 = s.image_sha256 WHERE s.job_id = ?",
        [job_id],
    )
    assert signature == {"signer_name": "陈先生", "op_id": ops[1], "mime": "image/png"}


def test_offline_claim_offers_the_next_steps(page: Page, context: BrowserContext, server: Server):
    job_id = new_job(server, worker="pool:maintenance", description="单元门禁刷卡无反应")
    login(page, "tech2")
    cache_for_offline(page)
    context.set_offline(True)
    claim_offline(page, job_id)
    expect(page.locator("[data-action=arrive]")).to_be_visible(timeout=2000)
