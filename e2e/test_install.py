"""Installing the app, as Chromium sees it: no installability errors for a signed-in
technician, the manifest as the browser parsed it, the add-to-home-screen box (the
browser's prompt, iOS Safari's steps, nothing once installed or dismissed), and the
manifest kept for a page opened with no signal."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, expect

from .conftest import Server, login
from .offline import cache_for_offline, poll

# The browser's install offer, as Chromium fires it (the event cannot be made real in a
# test: Chromium waits for user engagement). It records whether the page asked for it.
FIRE_INSTALL_OFFER = """() => {
    const ev = new Event("beforeinstallprompt", {cancelable: true});
    ev.prompt = () => { window.promptShown = true; return Promise.resolve(); };
    ev.userChoice = Promise.resolve({outcome: "accepted", platform: "web"});
    window.dispatchEvent(ev);
    return ev.defaultPrevented;
}"""
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
                 " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def profile_page(browser_type: BrowserType, browser_type_launch_args: dict,
                 browser_context_args: dict, tmp_path) -> Page:
    """A page in a browser profile on disk: Chromium offers no install in an incognito
    context, which is what a test's usual context is."""
    device = {k: v for k, v in browser_context_args.items() if k != "default_browser_type"}
    ctx = browser_type.launch_persistent_context(
        str(tmp_path / "profile"), **browser_type_launch_args, **device)
    try:
        yield ctx.pages[0] if ctx.pages else ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture
def iphone(browser: Browser, browser_context_args: dict) -> BrowserContext:
    """Safari on an iPhone, as far as the page can tell."""
    ctx = browser.new_context(**{**browser_context_args, "user_agent": IPHONE_SAFARI,
                                 "service_workers": "block"})
    try:
        yield ctx
    finally:
        ctx.close()


def installability(page: Page) -> tuple[list[dict], dict]:
    """Chromium's installability errors for this page, and its parsed manifest."""
    cdp = page.context.new_cdp_session(page)
    try:
        poll(page, "() => document.readyState === 'complete'")
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        manifest = cdp.send("Page.getAppManifest")
    finally:
        cdp.detach()
    return errors, manifest


def test_a_signed_in_technician_can_install_the_app(profile_page: Page, server: Server):
    page = profile_page
    login(page, "tech")
    page.goto("/")
    expect(page).to_have_url(f"{server.url}/jobs/mine")
    errors, manifest = installability(page)
    assert errors == []
    assert manifest["url"] == f"{server.url}/manifest.webmanifest"
    assert manifest["errors"] == []
    parsed = manifest["manifest"]  # as the browser read it: URLs resolved, colours read
    assert parsed["name"] == "物业服务"
    assert parsed["display"] == "kStandalone"
    assert parsed["startUrl"] == f"{server.url}/" and parsed["scope"] == f"{server.url}/"
    assert parsed["id"] == f"{server.url}/"
    assert parsed["themeColor"] == "rgba(29,53,87,1)"  # the header's navy
    assert parsed["backgroundColor"] == "rgba(243,245,248,1)"
    assert {i["sizes"] for i in parsed["icons"]} == {"192x192", "512x512"}
    # Purposes are not in the parsed form; the text the browser fetched has them.
    raw = json.loads(manifest["data"])
    assert {(i["sizes"], i["purpose"]) for i in raw["icons"]} == {
        (size, purpose) for size in ("192x192", "512x512") for purpose in ("any", "maskable")}
    for icon in parsed["icons"]:
        assert page.request.get(icon["url"]).headers["content-type"] == "image/png"


def test_the_login_page_links_the_manifest(profile_page: Page, server: Server):
    page = profile_page
    page.goto("/login")
    errors, manifest = installability(page)
    assert manifest["url"] == f"{server.url}/manifest.webmanifest"
    assert manifest["errors"] == [] and manifest["manifest"]["name"] == "物业服务"


def test_the_browser_offer_behind_our_button_once_dismissed_never_again(new_context):
    page = new_context(service_workers="block").new_page()
    login(page, "tech")
    page.goto("/jobs/mine")
    box = page.locator("[data-install]")
    poll(page, "() => document.readyState === 'complete'")
    expect(box).to_be_hidden()  # no offer from the browser, no box
    assert page.evaluate(FIRE_INSTALL_OFFER) is True  # our button instead of its banner
    expect(box.locator("[data-install-add]")).to_be_visible()
    expect(box.locator("[data-install-add]")).to_have_text("添加到主屏幕")
    expect(box.locator("[data-install-ios]")).to_be_hidden()
    box.locator("[data-install-add]").click()
    assert page.evaluate("() => window.promptShown") is True
    expect(box).to_be_hidden()  # accepted: installed

    page.evaluate("() => localStorage.removeItem('install_dismissed')")
    page.reload()
    page.evaluate(FIRE_INSTALL_OFFER)
    expect(box).to_be_visible()
    box.locator("[data-install-dismiss]").click()
    expect(box).to_be_hidden()
    page.reload()  # remembered on this phone
    assert page.evaluate(FIRE_INSTALL_OFFER) is False  # the browser's own offer stays
    expect(box).to_be_hidden()


def test_iphone_safari_gets_the_share_steps(iphone: BrowserContext):
    page = iphone.new_page()
    login(page, "tech")
    page.goto("/jobs/mine")
    box = page.locator("[data-install]")
    expect(box.locator("[data-install-ios]")).to_be_visible()
    expect(box.locator("[data-install-ios]")).to_contain_text("添加到主屏幕")
    expect(box.locator("[data-install-add]")).to_be_hidden()
    box.locator("[data-install-dismiss]").click()
    page.reload()
    poll(page, "() => document.readyState === 'complete'")
    expect(box).to_be_hidden()


def test_nothing_when_already_on_the_home_screen(iphone: BrowserContext):
    # Opened from the home screen: iOS sets navigator.standalone.
    iphone.add_init_script("Object.defineProperty(navigator, 'standalone', {value: true})")
    page = iphone.new_page()
    login(page, "tech")
    page.goto("/jobs/mine")
    poll(page, "() => document.readyState === 'complete'")
    page.evaluate(FIRE_INSTALL_OFFER)
    expect(page.locator("[data-install]")).to_be_hidden()


def test_the_manifest_is_kept_for_a_page_opened_with_no_signal(new_context):
    ctx = new_context()
    page = ctx.new_page()
    login(page, "tech")
    cache_for_offline(page)
    ctx.set_offline(True)
    try:
        kept = page.evaluate("""() => fetch('/manifest.webmanifest', {credentials: 'include'})
            .then(r => r.json())""")
        assert kept["name"] == "物业服务" and len(kept["icons"]) >= 4
        icon = page.evaluate("src => fetch(src).then(r => r.ok)", kept["icons"][0]["src"])
        assert icon is True
    finally:
        ctx.set_offline(False)


def test_nothing_in_the_installed_app_on_android(new_context):
    ctx = new_context(service_workers="block")
    # Chromium's media emulation has no display-mode: the app's window, as the page sees it.
    ctx.add_init_script("""{
        const real = window.matchMedia.bind(window);
        window.matchMedia = q => q === "(display-mode: standalone)"
            ? {matches: true, media: q} : real(q);
    }""")
    page = ctx.new_page()
    login(page, "tech")
    page.goto("/jobs/mine")
    poll(page, "() => document.readyState === 'complete'")
    assert page.evaluate(FIRE_INSTALL_OFFER) is False
    expect(page.locator("[data-install]")).to_be_hidden()
