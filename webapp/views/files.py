"""Stored photos and signatures, served by content hash to signed-in staff."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, send_file
from flask_login import current_user

from ..auth import require
from ..db import get_db
from ..domain import access, files

bp = Blueprint("files", __name__, url_prefix="/files")
SHA = re.compile(r"^[0-9a-f]{64}$")


@bp.get("/<sha256>")
@require()
def show(sha256: str):
    """One stored file, if it belongs to a record in the user's estates."""
    if not SHA.match(sha256):
        abort(404)
    mime = access.readable_file(get_db(), current_user.estate_ids, sha256)
    if mime is None:
        abort(404)
    response = send_file(files.path_for(current_app.config["FILES_DIR"], sha256),
                         mimetype=mime, max_age=31536000)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
