"""The app is installable: its manifest, icons at their declared sizes, the pages' links
and home-screen settings, the kept copies for offline use, and the field worker's
"add to home screen" box."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from webapp import assets
from webapp.views import install

from .pages import Page


class Head(HTMLParser):
    """The <link> and <meta> tags of a page."""

    def __init__(self, html: str):
        super().__init__()
        self.links: dict[str, dict[str, str]] = {}
        self.meta: dict[str, str] = {}
        self.scripts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "link":
            self.links[a.get("rel", "")] = a
        if tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content", "")
        if tag == "script" and "src" in a:
            self.scripts.append(urlsplit(a["src"]).path)


def manifest(client) -> dict:
    response = client.get(install.MANIFEST_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    return json.loads(response.get_data(as_text=True))


def static_file(app, url: str) -> Path:
    """The file a static URL serves (whatever query a cache-busting version adds)."""
    path = urlsplit(url).path
    prefix = app.static_url_path + "/"
    assert path.startswith(prefix), url
    return Path(app.static_folder) / path.removeprefix(prefix)


def test_the_manifest_names_the_app_in_chinese_and_opens_standalone(client):
    m = manifest(client)
    assert m["name"] == "物业服务" and m["short_name"]
    assert m["lang"] == "zh-CN"
    assert m["display"] == "standalone"
    for colour in ("theme_color", "background_color"):
        assert re.fullmatch(r"#[0-9a-f]{6}", m[colour])
    # The same origin and scope for every user: start_url and id inside the scope.
    assert m["start_url"].startswith(m["scope"]) and m["id"].startswith(m["scope"])


def test_an_english_user_gets_the_english_name(client, auth):
    auth.login("tech")
    client.post("/locale", data={"locale": "en"})
    m = manifest(client)
    assert (m["name"], m["lang"]) == ("Property service", "en")


@pytest.mark.parametrize("user, home", [("tech", "/jobs/mine"), ("cleaner", "/jobs/mine"),
                                        ("callback", "/callbacks"), ("desk", "/jobs")])
def test_the_start_url_lands_each_user_on_their_own_home(client, auth, user, home):
    start = manifest(client)["start_url"]
    auth.login(user)
    response = client.get(start)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == home


def test_icons_for_any_and_maskable_at_192_and_512(client):
    icons = manifest(client)["icons"]
    declared = {(i["purpose"], i["sizes"]) for i in icons}
    for purpose in ("any", "maskable"):
        assert {(purpose, "192x192"), (purpose, "512x512")} <= declared
    assert all(i["type"] == "image/png" for i in icons)


def test_every_declared_icon_is_a_png_of_its_declared_size(app, client):
    for icon in manifest(client)["icons"]:
        with Image.open(static_file(app, icon["src"])) as img:
            assert img.format == "PNG"
            assert "{}x{}".format(*img.size) == icon["sizes"], icon["src"]
        with client.get(icon["src"]) as response:
            assert response.status_code == 200 and response.mimetype == "image/png"


def test_maskable_icons_keep_their_mark_inside_the_safe_zone(app, client):
    """Outside the centre circle of 80 % of the size, only the full-bleed theme colour:
    a launcher's mask may cut any of it."""
    m = manifest(client)
    theme = tuple(int(m["theme_color"][i:i + 2], 16) for i in (1, 3, 5))
    maskable = [i for i in m["icons"] if i["purpose"] == "maskable"]
    assert maskable
    for icon in maskable:
        with Image.open(static_file(app, icon["src"])) as img:
            rgba = img.convert("RGBA")
        size = rgba.width
        centre, radius = size / 2, 0.4 * size
        pixels = rgba.load()
        outside = [pixels[x, y] for y in range(size) for x in range(size)
                   if math.hypot(x + 0.5 - centre, y + 0.5 - centre) > radius]
        assert outside and all(p == (*theme, 255) for p in outside), icon["src"]
        colours = {colour for _count, colour in rgba.getcolors(size * size)}
        assert (255, 255, 255, 255) in colours  # ...and the white mark inside


def page_head(client, url: str) -> Head:
    response = client.get(url)
    assert response.status_code == 200
    return Head(response.get_data(as_text=True))


@pytest.mark.parametrize("user, url", [(None, "/login"), ("tech", "/jobs/mine"),
                                       ("desk", "/jobs")])
def test_pages_link_the_manifest_icons_and_home_screen_settings(app, client, auth, user, url):
    if user:
        auth.login(user)
    head = page_head(client, url)
    m = head.links["manifest"]
    assert m["href"] == install.MANIFEST_URL
    assert m["crossorigin"] == "use-credentials"  # the manifest in the user's language
    assert head.meta["theme-color"] == manifest(client)["theme_color"]
    assert head.meta["apple-mobile-web-app-capable"] == "yes"
    assert head.meta["mobile-web-app-capable"] == "yes"
    assert head.meta["apple-mobile-web-app-title"] == "物业服务"
    assert head.meta["apple-mobile-web-app-status-bar-style"] in (
        "default", "black", "black-translucent")
    for rel, size in (("apple-touch-icon", 180), ("icon", None)):
        link = head.links[rel]
        with Image.open(static_file(app, link["href"])) as img:
            assert img.format == "PNG"
            assert "{}x{}".format(*img.size) == link["sizes"]
            if size:
                assert img.size == (size, size)
            if rel == "apple-touch-icon":  # iOS shows transparency as black
                assert img.convert("RGBA").getextrema()[3] == (255, 255)


def test_the_service_worker_keeps_the_manifest_and_icons(client, auth):
    body = client.get("/sw.js").get_data(as_text=True)
    shell = json.loads(re.search(r"const SHELL_URLS = (\[.*\]);", body).group(1))
    m = manifest(client)
    wanted = {install.MANIFEST_URL, *(i["src"] for i in m["icons"])}
    auth.login("tech")
    head = page_head(client, "/jobs/mine")
    wanted |= {head.links["icon"]["href"], head.links["apple-touch-icon"]["href"]}
    assert wanted <= set(shell)
    kept = client.get("/sync/manifest", headers={"Sec-Fetch-Site": "same-origin"}).get_json()
    assert wanted <= set(kept["pages"]) | set(kept["assets"])


@pytest.mark.parametrize("user, shown", [("tech", True), ("guard", True), ("desk", False)])
def test_field_workers_home_offers_the_home_screen(client, auth, user, shown):
    auth.login(user)
    response = client.get("/", follow_redirects=True)
    page = Page(response.get_data(as_text=True))
    boxes = page.find("data-install")
    assert bool(boxes) == shown
    if shown:
        assert "hidden" in boxes[0]  # the script shows it where the phone can install
        assert page.find("data-install-add") and page.find("data-install-ios")
        assert page.find("data-install-dismiss")
        assert page.text("data-install-add") == "添加到主屏幕"
        assert "添加到主屏幕" in page.text("data-install-ios")
        scripts = Head(response.get_data(as_text=True)).scripts
        # install.js runs among the page scripts every page gets as one (assets.py).
        assert "/static/page.js" in scripts
        assert "install.js" in assets.PAGE_SCRIPTS
