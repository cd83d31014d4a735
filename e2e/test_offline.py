"""Offline first (docs/SYNC.md): what a field worker does with no signal is kept on the
phone and reaches the server exactly once when the signal is back, and what no longer
fits is refused with a reason while the facts from the field are kept."""

from __future__ import annotations

import json
import time

from playwright.sync_api import BrowserContext, Page, expect

from webapp.demo import DEMO_PASSWORD

from .conftest import OwnServer, Server, login
from .offline import (
    audit_rows,
    cache_for_offline,
    command_counts,
    complete_offline,
    expect_pending,
    jpeg,
    new_job,
    outbox_items,
    queue,
    sha,
)


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
        # The session expires while the phone is off (sign-in is remembered for two
        # weeks; clearing the cookies stands for that). It also keeps the restarted
        # browser's service worker, which Playwright's offline switch does not reach
        # and which Background Sync wakes at start-up, from sending before the test
        # says the signal is back.
        ctx.clear_cookies()
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

        # The signal is back, but the session expired meanwhile: the server answers 401,
        # nothing leaves the phone, and the page asks to sign in.
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
        # Signed (closed, the resident's signature is no longer shown to the technician).
        expect(page.locator("[data-signature=signed]")).to_be_visible()
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


def test_replay_resumes_within_5_s_of_the_server_coming_back(
    browser, browser_context_args, own_server: OwnServer
):
    srv = own_server
    jobs = [new_job(srv, upto="accepted", description=f"重启后补发{n}") for n in range(3)]
    ctx = browser.new_context(**{**browser_context_args, "base_url": srv.url})
    try:
        page = ctx.new_page()
        login(page, "tech")
        page.goto("/outbox")
        srv.kill()
        # The phone has its network; the server is down long enough for any back-off to
        # have grown (5, 10, 20 s ... before), and the page stays open all along.
        ops = [queue(page, "job.arrive", f"job:{j}", {}) for j in jobs]
        page.evaluate("() => App.flushNow().then(s => { if (s && s.offline) App.retryLater(); })")
        page.wait_for_timeout(22_000)
        expect_pending(page, 3)
        srv.start()
        back = time.monotonic()
        expect_pending(page, 0, timeout=8_000)
        assert time.monotonic() - back <= 6.5  # 5 s and the answer on a busy machine
    finally:
        ctx.close()
    assert command_counts(srv, ops) == {op: 1 for op in ops}


def test_a_long_outage_is_asked_about_less_often(
    browser, browser_context_args, own_server: OwnServer
):
    """5 s between asks while a restart could be under way, then slower, at most once a
    minute: ten minutes of a dead uplink cost some 30 asks, not 120."""
    srv = own_server
    job = new_job(srv, upto="accepted", description="长时间断网")
    ctx = browser.new_context(**{**browser_context_args, "base_url": srv.url})
    try:
        page = ctx.new_page()
        page.clock.install()
        login(page, "tech")
        page.goto("/outbox")
        srv.kill()
        asks: list[str] = []
        page.on("requestfailed", lambda r: asks.append(r.url) if "/sync" in r.url else None)
        queue(page, "job.arrive", f"job:{job}", {})
        page.evaluate("() => App.flushNow().then(s => { if (s && s.offline) App.retryLater(); })")
        page.wait_for_timeout(300)
        for _ in range(120):  # ten minutes of the page's clock, 5 s at a time
            page.clock.run_for(5000)
            page.wait_for_timeout(60)  # the failed ask settles and the next is scheduled
        expect_pending(page, 1)
        # Two minutes at 5 s (24), then 7.5 s growing to 60 s over the other eight.
        assert 25 <= len(asks) <= 45, len(asks)
    finally:
        ctx.close()
