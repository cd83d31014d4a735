"""Stored photos and signatures, served by content hash through a record the user may
read (domain/access.readable_file)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, send_file
from flask_login import current_user

from ..auth import require
from ..db import get_db
from ..domain import access, files

bp = Blueprint("files", __name__, url_prefix="/files")
SHA = re.compile(r"^[0-9a-f]{64}$")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def send(sha256: str, mime: str) -> Response:
    """One stored file, as its checked type only: the browser must not guess another
    (nosniff), and anything not an accepted image (stored before uploads were decoded)
    is a download, never shown in the page's origin."""
    ext = EXTENSIONS.get(mime)
    response = send_file(files.path_for(current_app.config["FILES_DIR"], sha256),
                         mimetype=mime if ext else "application/octet-stream",
                         as_attachment=ext is None,
                         download_name=f"{sha256[:16]}.{ext or 'bin'}", max_age=31536000)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@bp.get("/<sha256>")
@require()
def show(sha256: str):
    """One stored file, if a record the user may read holds it."""
    if not SHA.match(sha256):
        abort(404)
    mime = access.readable_file(get_db(), current_user.row, current_user.estate_ids, sha256)
    if mime is None:
        abort(404)
    return send(sha256, mime)
