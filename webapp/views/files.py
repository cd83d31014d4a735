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
    # Every record that holds a file, with the estate it belongs to.
    holders = [
        "SELECT j.estate_id FROM job_photos x JOIN jobs j ON j.id = x.job_id "
        "WHERE x.sha256 = :sha",
        "SELECT j.estate_id FROM signatures x JOIN jobs j ON j.id = x.job_id "
        "WHERE x.image_sha256 = :sha",
        "SELECT c.estate_id FROM complaint_files x JOIN complaints c ON c.id = x.complaint_id "
        "WHERE x.sha256 = :sha",
        "SELECT t.estate_id FROM callback_records x JOIN callback_tasks t ON t.id = x.task_id "
        "WHERE x.signature_sha256 = :sha",
        "SELECT f.estate_id FROM feedback_photos x JOIN feedback f ON f.id = x.feedback_id "
        "WHERE x.sha256 = :sha",
        "SELECT i.estate_id FROM inspection_photos x JOIN inspection_results r "
        "ON r.id = x.result_id JOIN inspections i ON i.id = r.inspection_id "
        "WHERE x.sha256 = :sha",
    ]
    params = {"sha": sha256, **{f"e{i}": e for i, e in enumerate(current_user.estate_ids)}}
    estates = ",".join(f":e{i}" for i in range(len(current_user.estate_ids))) or "NULL"
    owner = db.execute(
        f"SELECT f.mime FROM files f WHERE f.sha256 = :sha AND EXISTS ("
        f"SELECT 1 FROM ({' UNION ALL '.join(holders)}) h WHERE h.estate_id IN ({estates}))",
        params,
    ).fetchone()
    if owner is None:
        abort(404)
    response = send_file(files.path_for(current_app.config["FILES_DIR"], sha256),
                         mimetype=owner[0], max_age=31536000)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
