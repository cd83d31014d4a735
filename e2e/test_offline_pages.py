"""What the phone keeps for offline use follows the worker: the language they chose and
the steps they have just taken."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from webapp.auth import utcnow
from webapp.db import connect
from webapp.domain import files

from .conftest import Server, draw_signature, login
from .offline import cache_for_offline, expect_pending, jpeg, new_job, poll


def test_saved_pages_follow_a_change_of_language(page: Page, context: BrowserContext,
                                                 server: Server):
    login(page, "guard")
    cache_for_offline(page)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.evaluate("() => { delete document.body.dataset.cached; }")
    page.locator("[data-locale=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # The new language makes the phone fetch its saved pages again at once.
    expect(page.locator("body")).to_have_attribute("data-cached", "1")
    context.set_offline(True)
    page.goto("/outbox")
    expect(page.locator("h1")).to_have_text("Outbox")
    context.set_offline(False)
    page.locator("[data-locale=zh_CN]").click()  # the guard's language as it was
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_the_saved_list_shows_a_step_just_taken(page: Page, context: BrowserContext,
                                                server: Server):
    job_id = new_job(server, upto="assigned", worker="tech2", description="走廊灯闪烁")
    number = server.query("SELECT number FROM jobs WHERE id = ?", [job_id])[0]["number"]
    login(page, "tech2")
    cache_for_offline(page)
    page.goto(f"/jobs/{job_id}")
    page.locator("[data-action=accept]").click()
    expect(page.locator("[data-action=arrive]")).to_be_visible()
    page.wait_for_load_state("networkidle")  # the step is sent and the page reloaded
    # The phone fetches its saved pages again once the step is sent, even when a
    # refresh was already under way.
    poll(page, """n => caches.match('/jobs/mine').then(r => r ? r.text() : '').then(t => {
        const row = new DOMParser().parseFromString(t, 'text/html')
          .querySelector(`[data-job="${n}"] [data-status]`);
        return row !== null && row.dataset.status === 'accepted';
      })""", number, timeout=15_000)
    page.wait_for_load_state()
    context.set_offline(True)
    page.goto("/jobs/mine")
    row = page.locator(f"[data-list=mine] [data-job='{number}']")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "accepted")
    context.set_offline(False)


def test_arrival_to_signature_with_no_signal(page: Page, context: BrowserContext,
                                             server: Server):
    # Accepted with signal, then everything at the door without: the sign page was kept
    # before the work existed, and shows the work the resident is signing for.
    job_id = new_job(server, upto="accepted", worker="tech2", description="阳台下水堵塞")
    login(page, "tech2")
    cache_for_offline(page)
    context.set_offline(True)
    page.goto(f"/jobs/{job_id}")
    page.locator("[data-action=arrive]").click()
    # The status shown follows the step saved on the phone.
    expect(page.locator("[data-job-page] .badge[data-status]")).to_have_text("到场")
    # Before the work is recorded the kept sign page asks to finish it first.
    page.goto(f"/jobs/{job_id}/sign")
    expect(page.locator("[data-sign-later]")).to_be_visible()
    expect(page.locator("[data-form=signoff]")).to_be_hidden()
    page.goto(f"/jobs/{job_id}")
    done = page.locator("[data-form=complete]")
    expect(done).to_be_visible()
    done.locator("[name=work_done]").fill("疏通阳台地漏，清出毛发")
    page.locator("[data-action=complete]").click()
    page.locator("[data-queued] [data-continue]").click()
    expect(page).to_have_url(f"/jobs/{job_id}/sign")
    work = page.locator("[data-work-done]")
    expect(work).to_be_visible()
    expect(work.locator("[data-work-text]")).to_have_text("疏通阳台地漏，清出毛发")
    draw_signature(page)
    page.locator("[data-form=signoff] [name=signer_name]").fill("王阿姨")
    page.locator("[data-action=signoff]").click()
    expect_pending(page, 3)
    # Opened again, the kept page has nothing left to sign (not a blank page).
    page.goto(f"/jobs/{job_id}/sign")
    expect(page.locator("[data-sign-none]")).to_be_visible()
    expect(page.locator("[data-form=signoff]")).to_be_hidden()
    context.set_offline(False)
    poll(page, "() => Outbox.pendingCount().then(n => n === 0)", timeout=20_000)
    job = server.query("SELECT status, work_done FROM jobs WHERE id = ?", [job_id])[0]
    assert (job["status"], job["work_done"]) == ("closed", "疏通阳台地漏，清出毛发")


def job_with_photo(server: Server, worker: str, colour: tuple[int, int, int]) -> tuple[int, str]:
    """A job reported with a photo, dispatched to `worker`: (job id, the photo's hash)."""
    db = connect(server.database)
    try:
        desk = db.execute("SELECT id FROM users WHERE username = 'desk'").fetchone()[0]
        # Sent by the desk, who attaches it (only the sender or a reader of it may).
        sha = files.store(db, server.files_dir, jpeg(colour), "image/jpeg", utcnow(), desk)
        db.conn.commit()
    finally:
        db.close()
    job = server.command("desk", "job.create", "job:new", estate_id=1, unit_id=6,
                         reporter_name="何", reporter_phone="13900000002", source="phone",
                         category="plumbing", job_class="small", description="墙面渗水",
                         photos=[sha])
    server.command("desk", "job.dispatch", f"job:{job['job_id']}",
                   to=f"user:{server.user_id(worker)}")
    return job["job_id"], sha


def test_the_reported_photo_opens_offline(page: Page, context: BrowserContext, server: Server):
    # On site with no signal, the worker still sees the problem the resident photographed.
    job_id, sha = job_with_photo(server, "tech2", (220, 120, 40))
    login(page, "tech2")
    cache_for_offline(page)
    # The refresh also measured the phone's clock against the server's (here the same).
    offset = page.evaluate("() => localStorage.getItem('clock_offset_ms')")
    assert offset is not None and abs(int(offset)) < 60_000
    context.set_offline(True)
    page.goto(f"/jobs/{job_id}")
    photo = page.locator(f"[data-photos] img[src$='{sha}']")
    expect(photo).to_be_visible()
    poll(page, "sha => [...document.images].some(i => i.src.endsWith(sha) && i.complete"
               " && i.naturalWidth > 0)", sha)
    context.set_offline(False)


def test_what_the_phone_kept_leaves_with_the_person_who_signs_out(page: Page, server: Server):
    # A shared phone: the next person sees none of the last one's jobs or photos.
    job_id, sha = job_with_photo(server, "tech2", (40, 90, 200))
    login(page, "tech2")
    cache_for_offline(page)
    assert page.evaluate("u => caches.match(u).then(r => !!r)", f"/jobs/{job_id}")
    page.locator("[data-logout]").click()
    poll(page, "u => caches.match(u).then(r => !r)", f"/jobs/{job_id}")
    login(page, "tech3")  # another estate
    page.goto("/jobs/mine")
    assert page.evaluate("u => fetch(u).then(r => r.status)", f"/files/{sha}") == 404
    assert page.evaluate("u => caches.match(u).then(r => !!r)", f"/jobs/{job_id}") is False


def test_what_the_phone_kept_goes_when_the_session_ends_elsewhere(page: Page, server: Server):
    # A lost phone: the account is disabled, or its sessions ended from another device.
    # The next refresh finds no session and drops the kept pages (residents' data).
    job_id, _sha = job_with_photo(server, "tech2", (200, 40, 90))
    login(page, "tech2")
    cache_for_offline(page)
    assert page.evaluate("u => caches.match(u).then(r => !!r)", f"/jobs/{job_id}")
    db = connect(server.database)
    try:
        db.execute("UPDATE users SET session_version = session_version + 1"
                   " WHERE username = 'tech2'")
        db.conn.commit()
    finally:
        db.close()
    page.evaluate("() => navigator.serviceWorker.controller.postMessage("
                  "{type: 'refresh', force: true})")
    poll(page, "u => caches.match(u).then(r => !r)", f"/jobs/{job_id}")
    # The page shown with no signal is nobody's now: it no longer names him.
    poll(page, "() => caches.match('/offline').then(r => r.text())"
               ".then(t => !t.includes('李师傅'))")


def test_pages_show_only_the_signed_in_persons_waiting_items(page: Page, context: BrowserContext,
                                                             server: Server):
    # On a shared phone the last person's unsent feedback waits for them; it is not
    # listed as this person's.
    login(page, "guard")
    cache_for_offline(page)
    context.set_offline(True)
    page.goto("/feedback/mine")
    for who in ("guard", "cleaner"):
        page.evaluate("""uid => Outbox.add({op_id: crypto.randomUUID(), user_id: uid,
            kind: "feedback.create", target: "feedback:new", base_version: null,
            device_id: "e2e", device_time: new Date().toISOString(), fields: {note: "x"},
            blobs: [], label: "环境反馈", return_url: "/feedback/mine", queued: true})""",
                      server.user_id(who))
    page.reload()
    expect(page.locator("[data-queued-feedback-row]")).to_have_count(1)
    # Made-up items: they leave the phone before the signal comes back.
    page.evaluate("() => Outbox.all().then(a => Promise.all(a.map(i => Outbox.remove(i.op_id))))")
    context.set_offline(False)


def test_the_outbox_names_items_in_todays_language(page: Page, server: Server):
    login(page, "cleaner")
    page.goto("/outbox")
    if page.locator("html").get_attribute("lang") == "en":  # left so by another test
        page.locator("[data-locale=zh_CN]").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    add = """([subject, label]) => Outbox.add({op_id: crypto.randomUUID(),
        user_id: -1, kind: "job.arrive", target: "job:1", base_version: null,
        device_id: "e2e", device_time: new Date().toISOString(), fields: {}, blobs: [],
        label: label, subject: subject, return_url: "/outbox", queued: true})"""
    # Held for someone else, so they stay put; one saved before items had a subject.
    page.evaluate(add, ["J20261122-0007", "J20261122-0007 · 到场"])
    page.evaluate(add, [None, "旧的说法"])
    page.locator("[data-locale=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/outbox")
    labels = page.locator("[data-outbox-list] [data-label]")
    expect(labels).to_have_count(2)
    assert sorted(labels.all_text_contents()) == ["J20261122-0007 · Arrived on site", "旧的说法"]
    page.evaluate("() => Outbox.all().then(a => Promise.all(a.map(i => Outbox.remove(i.op_id))))")
    page.locator("[data-locale=zh_CN]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
