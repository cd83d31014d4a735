"""What goes over the phone's data: versioned static addresses, caching headers,
compression."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import brotli

from webapp import assets
from webapp.views.sync import ASSETS

STATIC = Path(__file__).resolve().parent.parent / "webapp" / "static"


class Refs(HTMLParser):
    """The stylesheets and scripts a page loads."""

    def __init__(self, html: str):
        super().__init__()
        self.urls: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "stylesheet":
            self.urls.append(a["href"])
        elif tag == "script" and a.get("src"):
            self.urls.append(a["src"])


def get(client, url: str, **kw):
    """A response read and closed (static files are streamed from an open file)."""
    response = client.get(url, **kw)
    response.get_data()
    response.close()
    return response


def digest(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


def test_pages_load_static_files_by_their_content_hash(app, client, auth):
    auth.login("tech")
    urls = Refs(client.get("/jobs/mine").get_data(as_text=True)).urls
    assert urls
    with app.app_context():
        joined = assets.page_script()[1]
    for url in urls:
        parts = urlsplit(url)
        name = parts.path.removeprefix("/static/")
        expected = joined if name == "page.js" else digest(name)
        assert parse_qs(parts.query)["v"] == [expected]


def test_the_page_scripts_go_as_one_response_in_their_order(app, client, auth):
    auth.login("tech")
    for path in ("/jobs/mine", "/jobs/1/sign", "/outbox"):
        scripts = [u for u in Refs(client.get(path).get_data(as_text=True)).urls
                   if urlsplit(u).path == "/static/page.js"]
        assert len(scripts) == 1, path
    body = get(client, scripts[0]).get_data(as_text=True)
    # Each file is in it, minified, in PAGE_SCRIPTS's order (a marker of each, in turn).
    at = [body.index(marker) for marker in ('"[data-command]"', '"[data-outbox]"',
                                            '"[data-due-at]"', "reg.sync.register(")]
    assert at == sorted(at) and "/*" not in body.split("htmx", 1)[-1][-2000:]
    first_load = len(brotli.compress(body.encode(), quality=4))
    apart = sum(len(brotli.compress((STATIC / n).read_bytes(), quality=4))
                for n in assets.PAGE_SCRIPTS)
    assert first_load < apart * 0.8  # one response, minified: smaller than the files
    response = get(client, scripts[0])
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = get(client, "/static/page.js?v=0123456789")
    assert stale.headers["Cache-Control"] == "no-cache"
    again = client.get("/static/page.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


# A page script that reads another's global (`window.Outbox`, `window.App`) runs after
# the script that sets it (`window.App = `, outbox.js's `root.Outbox = `).
SETS = re.compile(r"\b(?:window|root)\.([A-Z]\w*)\s*=[^=]")
READS = re.compile(r"\bwindow\.([A-Z]\w*)\b")


def test_page_scripts_run_after_the_scripts_whose_globals_they_read():
    names = [n for n in assets.PAGE_SCRIPTS if not n.startswith("vendor/")]
    assert "common.js" in names
    setters: dict[str, int] = {}
    for i, name in enumerate(names):
        for glob in SETS.findall((STATIC / name).read_text()):
            assert setters.setdefault(glob, i) == i, (glob, name)
    for i, name in enumerate(names):
        for glob in set(READS.findall((STATIC / name).read_text())) & setters.keys():
            assert setters[glob] <= i, (name, "reads", glob, "set later")


# What each page behaviour looks for; exactly one of the page's scripts does.
BEHAVIOURS = {
    '"[data-command]"': "submit-guard.js",
    '"[data-outbox]"': "outbox-form.js",
    "createImageBitmap(": "photo-resize.js",
    '"[data-outbox-send]"': "sync-loop.js",
    "reg.sync.register(": "sync-loop.js",
    '"[data-due-at]"': "countdown.js",
    '"[data-pending-count]"': "pending-count.js",
    '"[data-offline-banner]"': "offline-banner.js",
    "serviceWorker.register(": "sw-register.js",
    '"[data-logout]"': "sw-register.js",
    "dataset.whenField": "show-when.js",
    "[data-place]": "place-from-query.js",
    "form[data-url-filters]": "url-filters.js",
    ".top nav [aria-current]": "nav-scroll.js",
    '"draft:"': "drafts.js",
}


def test_each_page_behaviour_is_one_small_file():
    scripts = {n: (STATIC / n).read_text() for n in assets.PAGE_SCRIPTS
               if not n.startswith("vendor/")}
    for marker, name in BEHAVIOURS.items():
        assert [n for n, text in scripts.items() if marker in text] == [name], marker
    assert not (STATIC / "app.js").exists()
    for name, text in scripts.items():
        if name not in ("outbox.js", "queued.js"):  # the outbox and its views, apart
            assert text.count("\n") <= 160, name


def test_a_current_address_is_kept_a_year_and_any_other_revalidates(client, app):
    with app.test_request_context():
        from flask import url_for
        current = url_for("static", filename="common.js")
    kept = get(client, current)
    assert kept.status_code == 200
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for stale in ("/static/common.js", "/static/common.js?v=0123456789"):
        response = get(client, stale)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"


def test_any_file_under_static_is_versioned(app, client, tmp_path):
    # A file added in another release (an icon, a web manifest) needs no list.
    app.static_folder = str(tmp_path)
    (tmp_path / "icons").mkdir()
    (tmp_path / "icons" / "icon-192.png").write_bytes(b"\x89PNG one")
    with app.test_request_context():
        from flask import url_for
        url = url_for("static", filename="icons/icon-192.png")
        assert url_for("static", filename="missing.js") == "/static/missing.js"
    assert parse_qs(urlsplit(url).query)["v"] == [
        hashlib.sha256(b"\x89PNG one").hexdigest()[:10]]
    assert get(client, url).headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_pages_are_private_and_revalidated(client, auth):
    auth.login("tech")
    for path in ("/jobs/mine", "/outbox", "/login"):
        assert client.get(path).headers["Cache-Control"] == "private, no-cache"
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"
    assert client.get("/sw.js").headers["Cache-Control"] == "no-cache"


def test_service_worker_imports_the_versioned_outbox_and_keeps_versioned_assets(client):
    body = client.get("/sw.js").get_data(as_text=True)
    line = next(x for x in body.splitlines() if x.startswith("const OUTBOX_URL = "))
    url = json.loads(line.removeprefix("const OUTBOX_URL = ").rstrip(";"))
    assert parse_qs(urlsplit(url).query)["v"] == [digest("outbox.js")]
    assert 'importScripts("/static/' not in body
    shell = json.loads(next(x for x in body.splitlines() if x.startswith("const SHELL_URLS"))
                       .removeprefix("const SHELL_URLS = ").rstrip(";"))
    for name in ASSETS:
        assert f"/static/{name}?v={digest(name)}" in shell


def test_pages_and_scripts_are_compressed_brotli_first(client, auth):
    auth.login("tech")
    page = client.get("/jobs/mine", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert page.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in page.headers["Vary"]
    html = brotli.decompress(page.get_data()).decode()
    assert 'data-nav="mine"' in html
    plain = client.get("/jobs/mine")
    assert "Content-Encoding" not in plain.headers
    # A page this small compresses about threefold.
    assert len(page.get_data()) < len(plain.get_data()) / 2.5
    gz = client.get("/jobs/mine", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert 'data-nav="mine"' in gzip.decompress(gz.get_data()).decode()
    # A static file is streamed: compressed as a stream, the same bytes unpacked.
    script = get(client, f"/static/outbox-form.js?v={digest('outbox-form.js')}",
                 headers={"Accept-Encoding": "br"})
    assert script.headers["Content-Encoding"] == "br"
    assert brotli.decompress(script.get_data()) == (STATIC / "outbox-form.js").read_bytes()
    deflated = get(client, f"/static/outbox-form.js?v={digest('outbox-form.js')}",
                   headers={"Accept-Encoding": "gzip, deflate"})
    assert deflated.headers["Content-Encoding"] == "deflate"
    assert zlib.decompress(deflated.get_data()) == (STATIC / "outbox-form.js").read_bytes()
    manifest = client.get("/sync/manifest", headers={"Accept-Encoding": "gzip"})
    assert manifest.headers["Content-Encoding"] == "gzip"


def test_photos_and_pdfs_are_not_compressed_again(app, client, auth, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 4000)
    image = get(client, "/static/photo.png", headers={"Accept-Encoding": "br, gzip"})
    assert image.status_code == 200 and "Content-Encoding" not in image.headers
    auth.login("desk")
    sheet = client.get("/jobs/1/sheet.pdf", headers={"Accept-Encoding": "br, gzip"})
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert "Content-Encoding" not in sheet.headers
    assert sheet.get_data().startswith(b"%PDF")


def test_asking_for_files_that_do_not_exist_remembers_nothing(app, client):
    with app.test_request_context():
        assets.file_version("common.js")
    for i in range(50):
        assert client.get(f"/static/nothere{i}.js?v=1").status_code == 404
    assert not any(name.startswith("nothere") for name in app.extensions["static_versions"])
