"""The pages under their Content-Security-Policy in real Chromium: every role's pages, the
scanner with a camera, a photo, a signature and the sign-off, the public report page. Any
policy violation (the page's securitypolicyviolation event, or Chromium's console report)
fails the test; and the behaviours moved out of inline code still work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import Server, draw_signature, login
from .offline import jpeg, new_job

# Reported to the console, where the test collects it; added before any page script runs.
LISTEN = """document.addEventListener("securitypolicyviolation", function (e) {
  console.error("csp-violation " + e.violatedDirective + " " + e.blockedURI + " "
                + e.sourceFile + ":" + e.lineNumber);
});"""
REPORTS = ("csp-violation", "Content Security Policy", "Content-Security-Policy",
           "Permissions policy", "Permissions-Policy")
ROLES = ("desk", "tech", "supervisor", "manager", "admin", "callback", "guard", "cleaner")


def watch(page: Page) -> list[str]:
    """The policy problems the page reports from now on, and its script errors."""
    found: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda m: found.append(m.text)
            if any(r in m.text for r in REPORTS) else None)
    page.on("pageerror", lambda e: found.append(f"pageerror {e}"))
    return found


def visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)  # deferred scripts and htmx's first requests


def live_token(server: Server) -> str:
    return server.query("SELECT token FROM qr_tokens WHERE revoked_at IS NULL"
                        " AND place_type = 'unit' LIMIT 1")[0]["token"]


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_pages_run_with_no_violation(page: Page, role: str):
    found = watch(page)
    login(page, role)
    links = [a.get_attribute("href") for a in page.locator("[data-nav]").all()]
    assert links
    for url in links:
        visit(page, url)
    visit(page, "/account/password")
    assert found == [], found


def test_the_watch_sees_a_violation(page: Page, server: Server):
    """The listener is live: an inline script added by hand is refused and reported."""
    found = watch(page)
    visit(page, f"/q/{live_token(server)}")
    assert found == []  # the public report page itself runs clean
    page.evaluate("""() => { const s = document.createElement("script");
                             s.textContent = "window.ran = 1"; document.body.append(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.ran") is None
    assert any("csp-violation script-src" in f for f in found)


def test_month_pickers_import_form_and_checklist_work_without_inline_code(page: Page):
    found = watch(page)
    login(page, "admin")
    visit(page, "/figures")
    page.locator("select[data-autosubmit]").select_option("1")
    expect(page).to_have_url(re.compile(r"estate=1"))
    # A file with a wrong row: the 422 answer is swapped in (swap-status.js).
    visit(page, "/admin/import")
    page.locator("[data-form=import] [name=file]").set_input_files({
        "name": "units.csv", "mimeType": "text/csv",
        "buffer": "estate_code,building,unit,floor,resident_name,resident_phone,is_owner\n"
                  "ZZ,9栋,101,1,,,\n".encode()})
    page.locator("[data-form=import] [data-submit]").click()
    expect(page.locator("[data-import-errors] [data-line]")).to_have_count(1)
    expect(page.locator("[data-progress]")).to_have_css("opacity", "0")
    # The inspection form: the visit's time stamped, "mark the rest as passed".
    visit(page, "/inspections/visit?place_type=area&place_id=2")
    assert page.locator("[name=visited_at]").input_value().endswith("Z")
    page.locator("[data-result=fail]").first.check()
    page.locator("[data-rest-pass]").click()
    expect(page.locator("[data-result=pass]:checked")).to_have_count(
        page.locator("[data-item]").count() - 1)
    assert found == [], found


def test_photo_signature_and_sign_off_with_no_violation(page: Page, server: Server):
    job_id = new_job(server, upto="arrived", worker="tech", description="卫生间灯不亮")
    found = watch(page)
    login(page, "tech")
    visit(page, f"/jobs/{job_id}")
    done = page.locator("[data-form=complete]")
    done.locator("[name=work_done]").fill("更换灯泡")
    done.locator("[data-photos-input]").set_input_files(
        {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg((90, 160, 90))})
    page.locator("[data-action=complete]").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{job_id}/sign$"))
    draw_signature(page)
    page.locator("[data-form=signoff] [name=signer_name]").fill("陈小明")
    page.locator("[data-action=signoff]").click()
    expect(page.locator("[data-job-page] [data-status=closed]")).to_be_visible()
    expect(page.locator("[data-signature=signed]")).to_be_visible()
    assert found == [], found


def test_the_scanner_uses_the_camera_with_no_violation(playwright, server: Server):
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
        "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
    try:
        context = browser.new_context(**playwright.devices["Pixel 5"], base_url=server.url,
                                      locale="zh-CN", permissions=["camera"])
        page = context.new_page()
        found = watch(page)
        login(page, "supervisor")
        visit(page, "/scan")
        page.wait_for_function("() => { const v = document.querySelector('[data-scan-video]');"
                               " return v && v.readyState >= 2 && v.videoWidth > 0; }")
        assert found == [], found
    finally:
        browser.close()


def test_another_site_cannot_frame_the_sign_off_page(page: Page, server: Server):
    job_id = new_job(server, upto="arrived", worker="tech")
    login(page, "tech")
    found = watch(page)
    page.set_content(f'<iframe src="{server.url}/jobs/{job_id}/sign"></iframe>')
    page.wait_for_timeout(1000)
    frame = page.frames[1]
    assert frame.locator("[data-form=signoff]").count() == 0
    assert any("frame-ancestors" in f for f in found) or not frame.url.startswith(server.url)
