"""Live lists: the version of a list a person keeps open (my jobs, the board, today's
callbacks, the feedback queue), asked for every few seconds by static/live.js, which
fetches the list itself again only when it differs from the one shown.

Each answer runs the list's own reads, with the same query (status, search, how many
rows shown), and no rendering; the version is the one the list's partial carries
(domain/page_versions.py). A list shows only what its reader may see, so its version
tells nothing of other estates or other people's jobs.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user

from ..auth import require, utcnow
from ..db import get_db
from ..domain import notification_reading
from . import callbacks, feedback, jobs

bp = Blueprint("live", __name__, url_prefix="/live")


def _answer(version: str) -> Response:
    # The header's bell follows with the same ask: one indexed count.
    response = jsonify(version=version,
                       unread=notification_reading.unread_count(get_db(), current_user.id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/bell")
@require()
def bell():
    """The header's bell alone, for a page that keeps no list (one indexed count)."""
    response = jsonify(unread=notification_reading.unread_count(get_db(), current_user.id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/mine")
@require("job.field")
def mine():
    return _answer(jobs.mine_read()[2])


@bp.get("/board")
@require("job.view_all")
def board():
    return _answer(jobs.board_read()[2])


@bp.get("/callbacks")
@require("callback.work")
def callbacks_today():
    return _answer(callbacks.today_read(utcnow())[3])


@bp.get("/feedback")
@require("feedback.handle")
def feedback_queue():
    return _answer(feedback.queue_version(request.args.get("status", "all")))
