"""The web side of uploads: decode and store what the signed-in user sends, within their
day's quota, and now and then remove the files no record holds (domain/files.py)."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app
from flask_login import current_user

from .auth import utcnow
from .db import get_db
from .domain import files
from .domain.text import N_

NOT_AN_IMAGE = N_("Only photos (JPEG, PNG or WebP) can be attached.")
OVER_QUOTA = N_("You have uploaded too many files today. Try again tomorrow or ask the "
                "office.")


class Refused(Exception):
    """An upload not stored: `message` (a msgid) says why; `status` for the JSON API."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _quota() -> files.Quota:
    cfg = current_app.config
    return files.Quota(cfg["UPLOADS_PER_USER_DAY"], cfg["UPLOAD_BYTES_PER_USER_DAY"])


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def keep(data: bytes, *, reencode: bool) -> str:
    """Store one upload of the current user, within their day's quota: re-encoded as the
    server keeps photos, or as sent (still decoded to be accepted); its hash. Raises
    Refused."""
    if reencode:
        stored = files.reencode(data)
        mime = "image/jpeg" if stored is not None else None
    else:
        stored, mime = data, files.image_type(data)
    if stored is None or mime is None:
        raise Refused(NOT_AN_IMAGE, 415)
    db, now, user_id = get_db(), utcnow(), _user_id()
    sha = hashlib.sha256(stored).hexdigest()
    if user_id is not None and files.over_quota(db, user_id, sha, len(stored), now, _quota()):
        raise Refused(OVER_QUOTA, 429)
    files.store(db, current_app.config["FILES_DIR"], stored, mime, now, user_id)
    maybe_prune(current_app._get_current_object(), now)  # type: ignore[attr-defined]
    return sha


_prune_lock = threading.Lock()


def maybe_prune(app: Flask, now: datetime) -> int:
    """Remove unreferenced files if this process has not done so lately; how many. Runs
    on an upload, the moment junk grows, until a task queue takes this on."""
    every = timedelta(minutes=app.config["PRUNE_FILES_EVERY_MINUTES"])
    with _prune_lock:
        last = app.extensions.get("files_pruned_at")
        if last is not None and now - last < every:
            return 0
        app.extensions["files_pruned_at"] = now
    return files.prune(get_db(), app.config["FILES_DIR"], now)
