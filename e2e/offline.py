"""Helpers for the offline browser tests: jobs set up on the server, the phone's cache,
its outbox in IndexedDB, and what reached the server."""


from __future__ import annotations

import hashlib
import io
import time

from PIL import Image, ImageDraw
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from .conftest import Server, draw_signature


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
    # Wait for an active worker, not for it to claim this page: Chromium sometimes
    # never hands an open page to a new worker. A page loaded after that is its.
    poll(page, "() => navigator.serviceWorker.ready.then(r => r.active !== null)",
         timeout=30_000)
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
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
    while not _evaluate(page, js, arg):
        assert time.monotonic() < deadline, f"timed out waiting for {js} ({arg})"
        page.wait_for_timeout(50)


def _evaluate(page: Page, js: str, arg=None):
    """The page's answer, or None while it navigates: a form's answer may load a new page
    between two polls, whose deferred scripts (Outbox) may not have run yet; the next poll
    asks the new page."""
    try:
        return page.evaluate(js, arg)
    except PlaywrightError as exc:
        if "Execution context was destroyed" not in str(exc) and \
                "is not defined" not in str(exc):
            raise
        page.wait_for_load_state()
        return None


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
    // An item as outbox-form.js's queue() builds it from a form, kept in the outbox.
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


def claim_offline(page: Page, job_id: int) -> None:
    page.goto(f"/jobs/{job_id}")
    expect(page.locator("[data-offline-banner]")).to_be_visible()
    expect(page.locator("[data-job-page] [data-status]")).to_have_attribute("data-status", "pooled")
    page.locator("[data-action=claim]").click()
    expect(page.locator("[data-queued]")).to_be_visible()
    expect(page.locator("[data-action=claim]")).to_be_hidden()


def garage_id(server: Server) -> int:
    """The demo estate's underground car park, where the cleaners' feedback tests report."""
    (garage,) = server.query(
        "SELECT id FROM common_areas WHERE estate_id = 1 AND name = '地下车库'")
    return garage["id"]


def send_feedback(page: Page, place: str, note: str, photo: bytes | None = None,
                  name: str = "a.jpg") -> None:
    """A cleaner's litter report at `place`, with the photo if any, sent from the form
    (online it goes at once; offline it waits in the outbox)."""
    page.goto("/feedback/new")
    form = page.locator("[data-form=feedback]")
    form.locator(f"[data-place='{place}']").check()
    form.locator("[data-category=litter]").check()
    if photo is not None:
        form.locator("[data-photos-input]").set_input_files(
            {"name": name, "mimeType": "image/jpeg", "buffer": photo})
    form.locator("[name=note]").fill(note)
    page.locator("[data-action=send-feedback]").click()
