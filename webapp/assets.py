"""What goes over the phone's data: static files under versioned URLs, how long a phone
may keep what we send, and compression (flask-compress, configured in webapp/__init__.py).

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

from flask import Flask, Response, current_app, request
from flask_compress import Compress
from werkzeug.security import safe_join

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


def init_app(app: Flask) -> None:
    app.url_defaults(add_version)
    app.after_request(cache_headers)


def init_compression(app: Flask) -> None:
    """Called first in create_app: Flask runs after_request hooks in reverse order of
    registration, so the first one registered compresses the final body."""
    Compress(app)
