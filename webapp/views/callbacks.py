"""Callbacks: the clerk's list, the callback form (works offline), the record PDF and the
month's statistics with CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid

from .. import commands
from ..auth import require, utcnow
from ..db import get_db
from ..domain import callback_stats, callbacks, complaints, jobs
from ..htmx import render
from ..payloads import callback_payload

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")


def load(task_id: int) -> dict[str, Any]:
    task = callbacks.get_task(get_db(), task_id)
    if task is None or task["estate_id"] not in current_user.estate_ids:
        abort(404)
    return task


@bp.get("")
@require("callback.work")
def today():
    """The clerk's callbacks: theirs and their team's, what is due first at the top."""
    rows = callbacks.today(get_db(), current_user.row, current_user.estate_ids, utcnow())
    return render("callbacks/today.html", "callbacks/_list.html", rows=rows, now=utcnow())


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
    return render_template("callbacks/task.html", **page(load(task_id)))


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
    return redirect(url_for("callbacks.today"), 303)


@bp.get("/<int:task_id>/record.pdf")
@require("callback.work")
def record_pdf(task_id: int):
    """The callback record: who, when, how, ratings, comments, signature, record hash."""
    from ..pdf import callback_sheet

    return callback_sheet(page(load(task_id)))


def _month() -> str:
    month = request.args.get("month", "")
    if len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit():
        return month
    return utcnow().strftime("%Y-%m")


@bp.get("/stats")
@require("callback.stats")
def stats():
    """The month's callback statistics and complaint counts."""
    month, now = _month(), utcnow()
    db = get_db()
    return render_template(
        "callbacks/stats.html", month=month,
        cb=callback_stats.callbacks(db, current_user.estate_ids, month, now),
        counts=callback_stats.complaint_counts(db, current_user.estate_ids, month, now))


@bp.get("/stats.csv")
@require("callback.stats")
def stats_csv():
    """Both tables as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    month, now = _month(), utcnow()
    db = get_db()
    cb = callback_stats.callbacks(db, current_user.estate_ids, month, now)
    counts = callback_stats.complaint_counts(db, current_user.estate_ids, month, now)
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow([_("Month"), _("Measure"), _("Value")])
    for key in ("due", "done_on_time", "late", "not_reached", "open"):
        w.writerow([month, key, cb[key]])
    for dim, s in cb["satisfaction"].items():
        w.writerow([month, f"satisfaction.{dim}.average", s["average"]])
        w.writerow([month, f"satisfaction.{dim}.satisfied_pct", s["satisfied_pct"]])
    for group, values in counts.items():
        for key, n in values.items():
            w.writerow([month, f"complaints.{group}.{key}", n])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="callbacks-{month}.csv"'
    return response
