"""QR codes in the browser: a signed-out visitor reports a problem through a unit's code, and
a supervisor scans a label (a picture of it, decoded in the page by jsQR), offline too."""

from __future__ import annotations

import io
import re

from playwright.sync_api import BrowserContext, Page, expect

from webapp.labels import qr_png

from .conftest import Server, login


def live_token(server: Server, place_type: str, place_id: int) -> str:
    (row,) = server.query("SELECT token FROM qr_tokens WHERE place_type = ? AND place_id = ?"
                          " AND revoked_at IS NULL", [place_type, place_id])
    return row["token"]


def test_a_visitor_reports_a_problem_and_the_desk_gets_it(page: Page, server: Server):
    (unit,) = server.query(
        "SELECT u.id, u.number, b.name AS building FROM units u JOIN buildings b"
        " ON b.id = u.building_id WHERE u.id = (SELECT unit_id FROM jobs"
        " WHERE unit_id IS NOT NULL ORDER BY id LIMIT 1)")
    private = [v for r in server.query("SELECT name, phone FROM residents WHERE unit_id = ?",
                                       [unit["id"]]) for v in r.values()]
    private += [v for r in server.query("SELECT reporter_name, reporter_phone, description"
                                        " FROM jobs WHERE unit_id = ?", [unit["id"]])
                for v in r.values()]
    token = live_token(server, "unit", unit["id"])

    page.goto(f"/q/{token}")
    place = page.locator("[data-public-place=unit]")
    expect(place).to_contain_text("翠湖花园")
    expect(place.locator("[data-place-name]")).to_contain_text(unit["building"])
    expect(place).not_to_contain_text(unit["number"])
    html = page.content()
    for value in private:
        assert value not in html, value
    expect(page.locator("[data-logout]")).to_have_count(0)

    form = page.locator("[data-form=public-report]")
    form.locator("[name=description]").fill("楼道的灯一直在闪")
    form.locator("[name=phone]").fill("13600136000")
    page.wait_for_timeout(3200)  # a person takes a few seconds; quicker forms are refused
    form.locator("[data-submit]").click()
    sent = page.locator("[data-sent]")
    expect(sent).to_be_visible()
    number = sent.get_attribute("data-sent")
    assert number and re.fullmatch(r"J\d{8}-\d{4}", number)
    (job,) = server.query("SELECT id, source, received_by, reporter_name, unit_id, status"
                          " FROM jobs WHERE number = ?", [number])
    assert job == {"id": job["id"], "source": "qr", "received_by": None,
                   "reporter_name": "住户", "unit_id": unit["id"], "status": "new"}

    login(page, "desk")
    page.goto("/jobs?status=new&order=new")  # newest first: the report just sent
    expect(page.locator(f"[data-job='{number}']")).to_be_visible()
    page.goto(f"/jobs/{job['id']}")
    expect(page.locator("main")).to_contain_text("楼道的灯一直在闪")
    expect(page.locator("main")).to_contain_text("13600136000")


def qr_file(url: str) -> dict:
    """A photo of a label, as the phone's camera would hand it over."""
    from PIL import Image

    img = Image.open(io.BytesIO(qr_png(url))).convert("RGB")
    canvas = Image.new("RGB", (img.width * 3, img.height * 3), "white")
    canvas.paste(img, (img.width, img.height))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return {"name": "label.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def test_a_supervisor_scans_a_label_offline_too(page: Page, context: BrowserContext,
                                                server: Server):
    (area,) = server.query("SELECT id FROM common_areas WHERE estate_id = 1 AND name = '地下车库'")
    token = live_token(server, "area", area["id"])
    login(page, "supervisor")
    page.locator("[data-nav-menu] summary").click()  # on a phone the office's areas: a menu
    page.locator("[data-menu-nav=scan]").click()
    expect(page.locator("[data-scan]")).to_be_visible()
    # The worker may have started on the page before; once it is ready, a reload is
    # a page it controls.
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    expect(page.locator("body")).to_have_attribute("data-cached", "1")

    # Another site's code is shown, not followed.
    page.locator("[data-scan-file]").set_input_files(qr_file("https://example.com/x"))
    expect(page.locator("[data-scan-error]")).to_contain_text("https://example.com/x")

    # No signal: the scanner still opens and reads a label.
    context.set_offline(True)
    page.reload()
    expect(page.locator("[data-scan]")).to_be_visible()
    assert page.evaluate("() => typeof window.jsQR") == "function"
    context.set_offline(False)

    # A label printed for this site (https) opens the place here.
    page.locator("[data-scan-file]").set_input_files(
        qr_file(f"https://{server.url.split('://')[1]}/q/{token}"))
    expect(page).to_have_url(re.compile(rf"/places/area/{area['id']}$"))
    expect(page.locator("[data-place-name]")).to_have_text("地下车库")
    expect(page.locator("[data-place-action=inspect]")).to_be_visible()


def y4m_of(url: str, path) -> str:
    """A video file (three frames) of a label held up to the camera, for Chromium's fake
    camera."""
    from PIL import Image

    width, height = 640, 480
    code = Image.open(io.BytesIO(qr_png(url))).convert("L").resize((300, 300), Image.NEAREST)
    frame = Image.new("L", (width, height), 255)
    frame.paste(code, ((width - 300) // 2, (height - 300) // 2))
    chroma = bytes([128]) * (width * height // 4)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(3):
            out.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return str(path)


def test_the_camera_finds_a_code_and_opens_the_place(playwright, server: Server, tmp_path):
    (pump,) = server.query("SELECT id FROM equipment WHERE name = '1号水泵房水泵'")
    video = y4m_of(f"{server.url}/q/{live_token(server, 'equipment', pump['id'])}",
                   tmp_path / "label.y4m")
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
        "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = browser.new_context(**playwright.devices["Pixel 5"], base_url=server.url,
                                      locale="zh-CN", permissions=["camera"])
        page = context.new_page()
        login(page, "supervisor")
        page.goto("/scan")
        expect(page).to_have_url(re.compile(rf"/places/equipment/{pump['id']}$"))
        expect(page.locator("[data-place-name]")).to_have_text("1号水泵房水泵")
    finally:
        browser.close()
