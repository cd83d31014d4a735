"""Callbacks: the clerk's list, the callback form (works offline) and the record PDF (the
statistics moved to the figures' callbacks area, /figures/callbacks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid

from .. import commands
from ..args import record_id, shown_rows
from ..auth import require, utcnow
from ..db import get_db
from ..domain import callbacks, complaints, jobs, months, page_versions, people
from ..domain.workdays import LOCAL
from ..htmx import is_partial, render
from ..payloads import callback_payload
from . import figures as figures_views
from . import notifications as notifications_view

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")
LIST_PAGE = 50  # tasks per step of the clerk's list; "show more" fetches the next
# The most tasks a live list fetches again ("show more" tapped many times): past this
# the first stay, and "show more" brings the rest back.
SHOWN_MAX = 300


def load(task_id: int) -> dict[str, Any]:
    task = callbacks.get_task(get_db(), task_id)
    if not people.in_estates(task, current_user.estate_ids):
        abort(404)
    return task


def _cursor() -> tuple[str, int] | None:
    """The "show more" cursor (`after_due`, `after`); one that no task can have is
    ignored, so the list starts at the top rather than failing."""
    due, after = request.args.get("after_due", ""), record_id("after")
    if after is None:
        return None
    try:
        return callbacks.iso(datetime.fromisoformat(due)), after
    except ValueError:
        return None


def _saved(now: datetime) -> dict[str, Any] | None:
    """The task just recorded (`saved=<id>`, from the form's redirect or the outbox's
    return address) and what became of it, for the confirmation above the list."""
    task_id = record_id("saved")
    if task_id is None:
        return None
    task_ = callbacks.get_task(get_db(), task_id)
    if not people.in_estates(task_, current_user.estate_ids):
        return None
    state = callbacks.saved_state(task_, now)
    return {"state": state, "task": task_} if state else None


def today_read(now: datetime) -> tuple[int, list[dict[str, Any]], int, str]:
    """The clerk's list from its top, as many tasks as shown (a live list sends how
    many): that number, the tasks (one more, if there is one: "show more" shows then),
    how many the whole list holds, and their version, which a live list compares."""
    db, user, estates = get_db(), current_user.row, current_user.estate_ids
    limit = shown_rows(LIST_PAGE, SHOWN_MAX)
    rows = callbacks.today(db, user, estates, now, limit + 1)
    total = callbacks.due_count(db, user, estates, now)
    return limit, rows, total, page_versions.callback_list(rows, total, now)


@bp.get("")
@require("callback.work")
def today():
    """The clerk's callbacks: theirs and their team's, what is due first at the top."""
    db, now, after = get_db(), utcnow(), _cursor()
    if after is None:
        limit, rows, total, version = today_read(now)
    else:  # "show more": the tasks after the last one shown; not a live list
        limit, total, version = LIST_PAGE, 0, ""
        rows = callbacks.today(db, current_user.row, current_user.estate_ids, now,
                               limit + 1, after)
    last = rows[limit - 1] if len(rows) > limit else None
    context = {"rows": rows[:limit], "now": now, "continued": after is not None,
               "more": (last["due_at"], last["id"]) if last else None,
               "many_estates": len(current_user.estate_ids) > 1}
    if after is not None and is_partial():
        return render_template("callbacks/_list_items.html", **context)
    if after is not None:  # the same page of them, opened without scripts
        total = callbacks.due_count(db, current_user.row, current_user.estate_ids, now)
    return render("callbacks/today.html", "callbacks/_list.html", **context,
                  total=total, saved=_saved(now), live_version=version)


def page(task: dict[str, Any], **extra: Any) -> dict[str, Any]:
    db = get_db()
    source = None
    if task["source"] == "job":
        source = jobs.get_job(db, task["source_id"])
    elif task["source"] == "complaint":
        source = complaints.get(db, task["source_id"])
    return {"task": task, "source": source, "records": callbacks.records(db, task["id"]),
            "dims": callbacks.dimensions_for(task["source"]), "errors": {},
            "values": {"method": task["method_hint"]}, **extra}


@bp.get("/<int:task_id>")
@require("callback.work")
def task(task_id: int):
    """One callback: who to call and how, and the form to record it."""
    item = load(task_id)
    notifications_view.mark_opened(f"callback:{task_id}")
    return render_template("callbacks/task.html", **page(item))


@bp.post("/<int:task_id>/record")
@require("callback.work")
def record(task_id: int):
    """Record a callback from the form (the outbox replays the same command)."""
    task_ = load(task_id)
    fields: dict[str, Any] = request.form.to_dict()
    try:
        fields["signature_image"] = commands.save_data_url(
            request.form.get("signature_data", ""), "signature")
        outcome = commands.run("callback.record", f"callback:{task_id}",
                               callback_payload(fields))
    except Invalid as exc:
        return render_template("callbacks/task.html",
                               **page(task_, errors=exc.errors, values=fields)), 422
    if not outcome.ok:
        if outcome.result.get("reason") == "forbidden":
            abort(403)
        return render_template("callbacks/task.html", **page(
            task_, notice=_(outcome.result.get("message", "")))), 409
    return redirect(url_for("callbacks.today", saved=task_id), 303)


@bp.get("/<int:task_id>/record.pdf")
@require("callback.work")
def record_pdf(task_id: int):
    """The callback record: who, when, how, ratings, comments, signature, record hash."""
    from ..pdf import callback_sheet

    return callback_sheet(page(load(task_id)))


def _month() -> str:
    """The month asked for, else this month in the estates' time zone (not UTC's)."""
    return months.month_or_current(request.args.get("month", ""), utcnow(), LOCAL)


@bp.get("/stats")
@require()
def stats():
    """Moved: the callback statistics are the figures' callbacks area, per estate."""
    return figures_views.moved("callbacks")


@bp.get("/stats.csv")
@require()
def stats_csv():
    return figures_views.moved("callbacks", export=True)
