"""What goes over the phone's data: static files under versioned URLs, how long a phone
may keep what we send, the page scripts as one response, and compression (flask-compress,
configured in webapp/__init__.py).

The scripts every page runs are one behaviour per file in static/ (views/sync.PAGE_SCRIPTS,
in the order they run). A phone gets them as one response, `/static/page.js`, joined in
that order and minified (rjsmin) once per process: sixteen small files cost a phone 30 KB
on its first load, headers and all, against 10 KB as one (docs/BENCHMARKS.md).

`url_for('static', filename=...)` adds `v=<hash of the file>` (computed once per file
and process), so a release changes the address of every file that changed. A request
that carries the file's current hash is answered `public, max-age=1 year, immutable`:
the phone never asks again. Without it, or with an old one, the file is `no-cache`
(revalidated), so a stale address can never pin an old file. Everything else the app
answers is `private, no-cache` unless a view said otherwise.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import rjsmin
from flask import Flask, Response, current_app, request, url_for
from flask_compress import Compress
from werkzeug.security import safe_join

# The scripts every page runs, one behaviour each, in the order they run; a page gets them
# joined as one response (/static/page.js). outbox.js (window.Outbox) and queued.js
# (window.Queued) come first, then common.js (window.App, which the rest extend); the
# ones that act once the page has loaded do so in this order.
PAGE_SCRIPTS = ("vendor/htmx-2.0.11.min.js", "outbox.js", "queued.js", "common.js",
                "submit-guard.js", "photo-resize.js", "drafts.js", "outbox-form.js",
                "nav-scroll.js", "place-from-query.js", "countdown.js", "show-when.js",
                "url-filters.js", "offline-banner.js", "pending-count.js", "sw-register.js",
                "sync-loop.js", "live.js", "install.js")

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
PAGES = "private, no-cache"


def file_version(filename: str) -> str | None:
    """The first 10 hex digits of the file's SHA-256, or None for no such file."""
    versions: dict[str, str] = current_app.extensions.setdefault("static_versions", {})
    if filename not in versions:
        path = safe_join(current_app.static_folder or "", filename)
        if not path or not Path(path).is_file():
            return None  # not remembered: a client could fill the table with names
        versions[filename] = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:10]
    return versions[filename]


def version() -> str:
    """One hash of every static file: names the service worker's caches."""
    cached = current_app.extensions.get("asset_version")
    if cached is None:
        static = Path(current_app.static_folder or "")
        digest = hashlib.sha256()
        for path in sorted(p for p in static.rglob("*") if p.is_file()):
            name = path.relative_to(static).as_posix()
            digest.update(f"{name}={file_version(name)};".encode())
        cached = current_app.extensions["asset_version"] = digest.hexdigest()[:12]
    return cached


def release() -> str:
    """One hash of the app's own files (code, templates, catalogs, static files): a new
    release changes what pages look like, so every kept page's version changes."""
    cached = current_app.extensions.get("release")
    if cached is None:
        package = Path(current_app.root_path)
        digest = hashlib.sha256()
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".po":
                digest.update(f"{path.relative_to(package).as_posix()}\0".encode())
                digest.update(path.read_bytes())
        cached = current_app.extensions["release"] = digest.hexdigest()[:12]
    return cached


def add_version(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        v = file_version(values["filename"])
        if v is not None:
            values["v"] = v


def cache_headers(response: Response) -> Response:
    if request.endpoint == "static":
        filename = (request.view_args or {}).get("filename", "")
        current = request.args.get("v") is not None and \
            request.args.get("v") == file_version(filename)
        response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE
        # werkzeug names every file sent (`inline; filename=…`); a stylesheet or script is
        # never saved, and the header is bytes on each file of a phone's first load.
        response.headers.pop("Content-Disposition", None)
        # flask-compress swaps a streamed body for its compressed stream, and the
        # file under it would then be left for the garbage collector to close.
        close = getattr(response.response, "close", None)
        if response.is_streamed and close is not None:
            response.call_on_close(close)
    elif "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = PAGES
    return response


def page_script() -> tuple[bytes, str]:
    """The page scripts joined in order and minified, and the hash naming them."""
    cached = current_app.extensions.get("page_script")
    if cached is None:
        static = Path(current_app.static_folder or "")
        parts = []
        for name in PAGE_SCRIPTS:
            text = (static / name).read_text(encoding="utf-8")
            # A vendor file comes minified already; each file ends its own statement.
            parts.append(text if name.startswith("vendor/") else rjsmin.jsmin(text))
        body = ";\n".join(parts).encode()
        cached = (body, hashlib.sha256(body).hexdigest()[:10])
        current_app.extensions["page_script"] = cached
    return cached


def page_script_url() -> str:
    return url_for("page_script", v=page_script()[1])


def serve_page_script() -> Response:
    body, version = page_script()
    response = Response(body, mimetype="text/javascript")
    response.set_etag(version)
    response.headers["Cache-Control"] = (IMMUTABLE if request.args.get("v") == version
                                         else REVALIDATE)
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)
    app.after_request(cache_headers)
    # A rule of its own under /static/: the service worker keeps /static/ files.
    app.add_url_rule("/static/page.js", "page_script", serve_page_script)
    app.jinja_env.globals["page_script_url"] = page_script_url


def init_compression(app: Flask) -> None:
    """Called first in create_app: Flask runs after_request hooks in reverse order of
    registration, so the first one registered compresses the final body."""
    Compress(app)
