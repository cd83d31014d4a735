"""Offline first (docs/SYNC.md): what a field worker does with no signal is kept on the
phone and reaches the server exactly once when the signal is back, and what no longer
fits is refused with a reason while the facts from the field are kept."""

from __future__ import annotations

import hashlib
import io
import json
import time

from PIL import Image, ImageDraw
from playwright.sync_api import BrowserContext, Page, expect

from webapp.demo import DEMO_PASSWORD

from .conftest import OwnServer, Server, draw_signature, login


def jpeg(colour: tuple[int, int, int]) -> bytes:
    """A small photo; each colour gives a different file (and hash)."""
    img = Image.new("RGB", (64, 48), colour)
    ImageDraw.Draw(img).rectangle([8, 8, 40, 30], fill=(30, 60, 120))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_job(
    server: Server, upto: str = "arrived", worker: str = "tech", description: str = "厨房水龙头漏水"
) -> int:
    """A job set up through the command path: created, then dispatched to `worker` (or
    to a pool: worker="pool:maintenance"), then accepted and arrived as far as `upto`."""
    job = server.command(
        "desk",
        "job.create",
        "job:new",
        estate_id=1,
        unit_id=2,
        reporter_name="陈",
        reporter_phone="13800138000",
        source="phone",
        category="plumbing",
        job_class="small",
        description=description,
        photos=[],
    )
    job_id = job["job_id"]
    target = f"job:{job_id}"
    if worker.startswith("pool:"):
        server.command("desk", "job.dispatch", target, to=worker)
        return job_id
    server.command("desk", "job.dispatch", target, to=f"user:{server.user_id(worker)}")
    steps = ["accepted", "arrived"]
    for step in steps[: steps.index(upto) + 1] if upto in steps else []:
        kind = {"accepted": "job.accept", "arrived": "job.arrive"}[step]
        server.command(worker, kind, target)
    return job_id


def cache_for_offline(page: Page) -> None:
    """Open the app once online so the service worker keeps this worker's pages."""
    page.goto("/jobs/mine")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-cached", "1")


def pending(page: Page):
    return page.locator("header [data-pending-count]")


def expect_pending(page: Page, n: int, timeout: float = 10_000) -> None:
    """The outbox holds `n` items waiting to be sent, and the header says so. (The header
    reads 0 until the page's script has counted, so the outbox itself is asked first.)"""
    poll(page, "n => Outbox.pendingCount().then(c => c === n)", n, timeout)
    expect(pending(page)).to_have_text(str(n))


def poll(page: Page, js: str, arg=None, timeout: float = 10_000) -> None:
    """Wait until `js` (which may return a promise) is true in the page. (wait_for_function
    takes a promise for true at once.)"""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(js, arg):
        assert time.monotonic() < deadline, f"timed out waiting for {js} ({arg})"
        page.wait_for_timeout(50)


def outbox_items(page: Page) -> list[dict]:
    """What IndexedDB holds, without the blobs' bytes, once no attempt to send is under way.
    (Offline, the page's retry timer still tries: the items it takes are "sending" until the
    attempt fails.)"""
    poll(page, "() => Outbox.all().then(a => !a.some(i => i.state === 'sending'))")
    return page.evaluate(
        """() => Outbox.all().then(items => items.map(i => ({
            op_id: i.op_id, kind: i.kind, target: i.target, state: i.state,
            message: i.message || '', blobs: (i.blobs || []).length})))"""
    )


QUEUE_JS = """async ([kind, target, fields, photo]) => {
    // An item as app.js's queue() builds it from a form, kept in the outbox.
    const blobs = [];
    fields = {...fields};
    if (photo) {
        const blob = new Blob([new Uint8Array(photo)], {type: "image/jpeg"});
        const sha = await Outbox.sha256(blob);
        blobs.push({field: "photos", sha256: sha, blob: blob});
        fields.photos = [sha];
    }
    const item = await Outbox.add({
        op_id: crypto.randomUUID(), user_id: Number(document.body.dataset.userId) || null,
        kind: kind, target: target, base_version: null,
        device_id: localStorage.getItem("device_id") || "e2e-phone",
        device_time: new Date().toISOString(), fields: fields, blobs: blobs,
        label: target + " · " + kind, return_url: location.pathname, queued: true
    });
    return item.op_id;
}"""


def queue(page: Page, kind: str, target: str, fields: dict, photo: bytes | None = None) -> str:
    """Put one command in the page's outbox the way a field form would; returns its op_id."""
    return page.evaluate(QUEUE_JS, [kind, target, fields, list(photo) if photo else None])


def complete_offline(page: Page, job_id: int, work: str, photo: bytes, signer: str) -> None:
    """On site with no signal: record the work with a photo, then the resident signs."""
    page.goto(f"/jobs/{job_id}")
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(page.locator("[data-job-page] [data-status]")).to_have_attribute(
        "data-status", "arrived"
    )
    done = page.locator("[data-form=complete]")
    done.locator("[name=work_done]").fill(work)
    done.locator("[name=materials]").fill("阀芯1个")
    done.locator("[data-photos-input]").set_input_files(
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    page.locator("[data-action=complete]").click()
    queued = page.locator("[data-queued]")
    expect(queued).to_be_visible()
    expect(done).to_be_hidden()
    queued.locator("[data-continue]").click()

    expect(page).to_have_url(f"/jobs/{job_id}/sign")
    sign = page.locator("[data-form=signoff]")
    draw_signature(page)
    sign.locator("[name=signer_name]").fill(signer)
    page.locator("[data-action=signoff]").click()
    expect(page.locator("[data-queued]")).to_be_visible()
    expect(sign).to_be_hidden()


def audit_rows(server: Server, op_ids: list[str]) -> dict[str, list[str]]:
    """The audit log's actions for each op_id."""
    marks = ",".join("?" * len(op_ids))
    out: dict[str, list[str]] = {op: [] for op in op_ids}
    for r in server.query(
        f"SELECT op_id, action FROM audit_log WHERE op_id IN ({marks}) ORDER BY id", op_ids
    ):
        out[r["op_id"]].append(r["action"])
    return out


def command_counts(server: Server, op_ids: list[str]) -> dict[str, int]:
    marks = ",".join("?" * len(op_ids))
    rows = server.query(
        f"SELECT op_id, count(*) AS n FROM commands WHERE op_id IN ({marks}) GROUP BY op_id",
        op_ids,
    )
    return {r["op_id"]: r["n"] for r in rows}


def test_work_done_offline_survives_a_browser_restart_and_is_sent_once(
    playwright, browser_type_launch_args, browser_context_args, server: Server, tmp_path
):
    jobs = [new_job(server, description=f"离线工单{n}") for n in (1, 2)]
    photos = {jobs[0]: jpeg((200, 30, 30)), jobs[1]: jpeg((30, 200, 30))}
    profile = tmp_path / "profile"
    # The same browser and phone as the other tests, with a profile kept on disk.
    launch = {**browser_type_launch_args, **browser_context_args}
    launch.pop("default_browser_type", None)

    def open_browser() -> tuple[BrowserContext, Page]:
        ctx = playwright.chromium.launch_persistent_context(profile, **launch)
        return ctx, (ctx.pages[0] if ctx.pages else ctx.new_page())

    ctx, page = open_browser()
    try:
        login(page, "tech")
        cache_for_offline(page)
        ctx.set_offline(True)
        for n, job_id in enumerate(jobs, start=1):
            complete_offline(page, job_id, f"更换阀芯{n}", photos[job_id], f"陈小明{n}")
            expect_pending(page, 2 * n)
        saved = outbox_items(page)
    finally:
        ctx.close()
    assert [(i["kind"], i["target"], i["state"], i["blobs"]) for i in saved] == [
        (kind, f"job:{job_id}", "saved", 1)
        for job_id in jobs
        for kind in ("job.complete", "job.signoff")
    ]
    op_ids = [i["op_id"] for i in saved]
    assert server.query(
        f"SELECT count(*) AS n FROM commands WHERE op_id IN ({','.join('?' * 4)})", op_ids
    ) == [{"n": 0}]

    # The phone's browser is opened again, still with no signal: the outbox is still there.
    ctx, page = open_browser()
    try:
        ctx.set_offline(True)
        page.goto("/outbox")
        items = page.locator("[data-outbox-list] li[data-op-id]")
        expect(items).to_have_count(4)
        expect(page.locator("[data-outbox-list] li[data-state-now=saved]")).to_have_count(4)
        assert sorted(items.evaluate_all("els => els.map(e => e.dataset.opId)")) == sorted(op_ids)
        expect_pending(page, 4)

        # The signal is back, but the session expired meanwhile (sign-in is remembered
        # for two weeks; clearing the cookies stands for that): the server answers 401,
        # nothing leaves the phone, and the page asks to sign in.
        ctx.clear_cookies()
        ctx.set_offline(False)
        page.goto("/outbox")
        signed_out = page.locator("[data-outbox-signed-out]")
        expect(signed_out).to_be_visible()
        expect_pending(page, 4)
        signed_out.locator("a").click()
        form = page.locator("[data-form=login]")
        form.locator("[name=username]").fill("tech")
        form.locator("[name=password]").fill(DEMO_PASSWORD)
        form.locator("button[type=submit]").click()
        # Back on the outbox, signed in: everything is sent.
        expect(page.locator("[data-outbox-list]")).to_be_visible()
        expect_pending(page, 0)
        expect(page.locator("[data-outbox-list] li[data-state-now=synced]")).to_have_count(4)
        # Opening the job shows it closed, as the server has it.
        page.goto(f"/jobs/{jobs[1]}")
        expect(page.locator("[data-job-page] [data-status]")).to_have_attribute(
            "data-status", "closed"
        )
        expect(page.locator("[data-signature=signed] img")).to_be_visible()
        # Another page load replays nothing more.
        page.goto("/outbox")
        expect_pending(page, 0)
    finally:
        ctx.close()

    # On the server: each command once, each step applied once, with its facts.
    assert command_counts(server, op_ids) == {op: 1 for op in op_ids}
    rows = server.query(
        f"SELECT op_id, outcome, replayed FROM commands WHERE op_id IN ({','.join('?' * 4)})",
        op_ids,
    )
    assert {r["op_id"]: (r["outcome"], r["replayed"]) for r in rows} == {
        op: ("applied", 1) for op in op_ids
    }
    assert audit_rows(server, op_ids) == {i["op_id"]: [i["kind"].split(".")[1]] for i in saved}
    for n, job_id in enumerate(jobs, start=1):
        complete_op, signoff_op = op_ids[2 * n - 2], op_ids[2 * n - 1]
        (job,) = server.query("SELECT status, work_done FROM jobs WHERE id = ?", [job_id])
        assert job == {"status": "closed", "work_done": f"更换阀芯{n}"}
        assert server.query(
            "SELECT sha256, stage, op_id FROM job_photos WHERE job_id = ?", [job_id]
        ) == [{"sha256": sha(photos[job_id]), "stage": "completion", "op_id": complete_op}]
        (signature,) = server.query(
            "SELECT s.signer_name, s.outcome, s.op_id, s.strokes, f.mime, f.size"
            " FROM signatures s JOIN files f ON f.sha256 = s.image_sha256 WHERE s.job_id = ?",
            [job_id],
        )
        assert signature["signer_name"] == f"陈小明{n}"
        assert signature["outcome"] == "signed" and signature["op_id"] == signoff_op
        assert signature["mime"] == "image/png" and signature["size"] > 500
        assert signature["strokes"] and len(json.loads(signature["strokes"])) == 1


def claim_offline(page: Page, job_id: int) -> None:
    page.goto(f"/jobs/{job_id}")
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(page.locator("[data-job-page] [data-status]")).to_have_attribute("data-status", "pooled")
    page.locator("[data-action=claim]").click()
    expect(page.locator("[data-queued]")).to_be_visible()
    expect(page.locator("[data-action=claim]")).to_be_hidden()


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


def test_replay_survives_the_server_killed_mid_batch(
    browser, browser_context_args, own_server: OwnServer
):
    srv = own_server
    jobs = [new_job(srv, upto="accepted", description=f"批量工单{n}") for n in range(20)]
    ctx = browser.new_context(**{**browser_context_args, "base_url": srv.url})
    try:
        page = ctx.new_page()
        login(page, "tech")
        page.goto("/outbox")
        # A day in the field with no signal: 60 steps saved on the phone.
        ctx.set_offline(True)
        ops = []
        for n, job_id in enumerate(jobs):
            target = f"job:{job_id}"
            ops.append(queue(page, "job.arrive", target, {}))
            ops.append(
                queue(page, "job.complete", target, {"work_done": f"修复{n}", "materials": ""})
            )
            ops.append(
                queue(page, "job.signoff", target, {"outcome": "absent", "reason": "住户不在家"})
            )
        expect_pending(page, 60)
        marks = ",".join("?" * len(ops))

        def applied() -> int:
            sql = f"SELECT count(*) AS n FROM commands WHERE op_id IN ({marks})"
            return srv.query(sql, ops)[0]["n"]

        # The signal is back and the phone sends in batches of 20. Once the first batch
        # is answered and the server is applying the second, the server dies.
        batches = []

        def second_batch(request) -> bool:
            if request.method == "POST" and request.url.endswith("/sync/batch"):
                batches.append(request)
            return len(batches) == 2

        with page.expect_request(second_batch):
            ctx.set_offline(False)
        deadline = time.monotonic() + 10
        while applied() <= 20:
            assert time.monotonic() < deadline, "the second batch never reached the server"
            time.sleep(0.001)
        srv.kill()
        assert batches[0].response().status == 200
        at_kill = applied()
        assert 20 < at_kill < 60, at_kill
        # The phone did not get its answer: the items wait to be sent again.
        states = [i["state"] for i in outbox_items(page)]
        assert states.count("synced") == 20 and states.count("saved") == 40, states
        expect_pending(page, 40)

        # The server comes back on the same port with the same data; the phone resends.
        answers = []
        page.on(
            "response",
            lambda r: answers.append(r) if r.url.endswith("/sync/batch") else None,
        )
        srv.start()
        page.goto("/outbox")
        expect_pending(page, 0, timeout=20_000)
        expect(page.locator("[data-outbox-list] li[data-state-now=synced]")).to_have_count(60)
        results = [res for r in answers for res in r.json()["results"]]
        # What the server had applied before it died is answered as a duplicate.
        assert sorted(r["op_id"] for r in results) == sorted(ops[20:])
        assert [r["status"] for r in results].count("duplicate") == at_kill - 20
        assert {r["first_status"] for r in results} <= {None, "applied"}
    finally:
        ctx.close()

    # Each op_id once in the command log, each step applied once, in the order queued.
    assert command_counts(srv, ops) == {op: 1 for op in ops}
    outcomes = srv.query(
        f"SELECT outcome, count(*) AS n FROM commands WHERE op_id IN ({marks}) GROUP BY outcome",
        ops,
    )
    assert outcomes == [{"outcome": "applied", "n": 60}]
    actions = ["arrive", "complete", "signoff"] * 20
    assert audit_rows(srv, ops) == {op: [a] for op, a in zip(ops, actions, strict=True)}
    in_order = srv.query(f"SELECT op_id FROM audit_log WHERE op_id IN ({marks}) ORDER BY id", ops)
    assert [r["op_id"] for r in in_order] == ops
    statuses = srv.query(
        f"SELECT DISTINCT status FROM jobs WHERE id IN ({','.join('?' * len(jobs))})", jobs
    )
    assert statuses == [{"status": "closed"}]
