"""Stored photos and signatures, served by content hash to signed-in staff."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, send_file
from flask_login import current_user

from ..auth import require
from ..db import get_db
from ..domain import files

bp = Blueprint("files", __name__, url_prefix="/files")
SHA = re.compile(r"^[0-9a-f]{64}$")


@bp.get("/<sha256>")
@require()
def show(sha256: str):
    """One stored file, if it belongs to a record in the user's estates."""
    if not SHA.match(sha256):
        abort(404)
    db = get_db()
    marks = ",".join("?" * len(current_user.estate_ids)) or "NULL"
    owner = db.execute(
        f"""SELECT f.mime FROM files f WHERE f.sha256 = ? AND (
              EXISTS (SELECT 1 FROM job_photos p JOIN jobs j ON j.id = p.job_id
                      WHERE p.sha256 = f.sha256 AND j.estate_id IN ({marks}))
           OR EXISTS (SELECT 1 FROM signatures s JOIN jobs j ON j.id = s.job_id
                      WHERE s.image_sha256 = f.sha256 AND j.estate_id IN ({marks})))""",
        [sha256, *current_user.estate_ids, *current_user.estate_ids],
    ).fetchone()
    if owner is None:
        abort(404)
    response = send_file(files.path_for(current_app.config["FILES_DIR"], sha256),
                         mimetype=owner[0], max_age=31536000)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
