"""The in-app channel: the header's bell, the notifications page, opening one, marking all
read, and one's own preferences (muted kinds, quiet hours)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask_login import current_user

from sync import Invalid

from .. import commands
from ..args import record_id
from ..auth import require, utcnow
from ..db import get_db
from ..domain import notification_reading, notifications
from ..domain.transactions import write_tx
from ..htmx import is_partial, render
from ..i18n import locale_name

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PAGE = 30  # notifications per step of the page; "show more" fetches the older ones


@bp.record_once
def template_globals(state: BlueprintSetupState) -> None:
    """The bell's unread count, counted only when the header shows it (one indexed
    count, capped): template globals, set once, rather than a context processor every
    page would run."""
    state.app.jinja_env.globals.update(
        notify_unread=lambda: notification_reading.unread_count(get_db(), current_user.id),
        NOTIFY_CAP=notification_reading.UNREAD_CAP, NOTIFY_RULES=notifications.RULES,
        NOTIFY_MUTABLE=notifications.MUTABLE)


def _items(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    locale = locale_name()
    for row in rows:
        row["title"], row["body"] = notifications.render(
            row["kind"], json.loads(row["params"]), locale)
    return rows


@bp.get("")
@require()
def index():
    """The user's notifications, newest first, unread marked."""
    before = record_id("before")
    rows = notification_reading.page(get_db(), current_user.id, before, PAGE + 1)
    context = {"rows": _items(rows[:PAGE]), "continued": before is not None,
               "more": rows[PAGE - 1]["id"] if len(rows) > PAGE else None}
    if before is not None and is_partial():  # "show more": the older ones only
        return render_template("notifications/_items.html", **context)
    return render("notifications/index.html", "notifications/_items.html", **context)


@bp.post("/<int:notification_id>/open")
@require()
def open_one(notification_id: int):
    """Tapping a notification: read and opened, then the record it is about."""
    with write_tx(get_db()) as db:
        path = notification_reading.open_one(db, current_user.id, notification_id, utcnow())
    if path is None:
        abort(404)
    return redirect(request.script_root + path, 303)


@bp.post("/read")
@require()
def read_all():
    with write_tx(get_db()) as db:
        notification_reading.mark_all_read(db, current_user.id, utcnow())
    return redirect(url_for("notifications.index"), 303)


def mark_opened(target: str) -> None:
    """The user opened a record directly: their notifications about it count as opened
    (a read first, so a page with nothing to mark writes nothing). The service worker's
    refresh fetches the pages a phone keeps (Sec-Fetch-Dest: empty): nobody opened
    those."""
    if request.headers.get("Sec-Fetch-Dest", "document") != "document":
        return
    db = get_db()
    ids = notification_reading.unopened(db, current_user.id, target)
    if ids:
        with write_tx(db):
            notification_reading.mark_opened(db, ids, utcnow())


@bp.route("/prefs", methods=["GET", "POST"])
@require()
def prefs():
    """Kinds not addressed to me personally that I do not want, and my quiet hours."""
    db = get_db()
    if request.method == "GET":
        return render_template("notifications/prefs.html", errors={},
                               values=notifications.prefs(db, current_user.id),
                               saved=request.args.get("saved") == "1")
    values = {"muted": request.form.getlist("muted"),
              "quiet_from": request.form.get("quiet_from", "").strip(),
              "quiet_until": request.form.get("quiet_until", "").strip()}
    try:
        outcome = commands.run("notify.prefs", f"user:{current_user.id}", values)
    except Invalid as exc:
        return render_template("notifications/prefs.html", errors=exc.errors,
                               values=values), 422
    if not outcome.ok:
        abort(403)
    return redirect(url_for("notifications.prefs", saved=1), 303)
