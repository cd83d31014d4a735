"""Complaints: intake, the desk's list, the complaint page and its steps, the sheet."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid
from sync.fields import maybe_id

from .. import commands
from ..auth import require, utcnow
from ..db import get_db
from ..domain import complaints, people, settings
from ..htmx import render
from ..payloads import complaint_payload
from . import notifications as notifications_view
from . import units

bp = Blueprint("complaints", __name__, url_prefix="/complaints")
INTAKE = ("estate_id", "unit_id", "unit_label", "complainant_name", "contact", "identity",
          "channel", "category", "level", "content")
ACTIONS = ("verify", "route", "investigate", "answer", "follow_up", "level")


def load(complaint_id: int) -> dict[str, Any]:
    """The complaint if it is in one of the user's estates, else 404."""
    c = complaints.get(get_db(), complaint_id)
    if not people.in_estates(c, current_user.estate_ids):
        abort(404)
    return c


def with_levels(rows: list[dict]) -> list[dict]:
    """The level and time left now, by each estate's settings."""
    now = utcnow()
    rules = settings.of_estates(get_db(), (c["estate_id"] for c in rows))
    for c in rows:
        s = rules[c["estate_id"]]
        c["level_now"] = complaints.effective_level(c, s, now)
        c["remaining"] = complaints.remaining(c, s, now)
    return rows


@bp.get("")
@require("complaint.view")
def index():
    """Complaints of the user's estates, unresolved first."""
    status = request.args.get("status", "open")
    rows = with_levels(complaints.board(get_db(), current_user.estate_ids, status))
    return render("complaints/index.html", "complaints/_rows.html", rows=rows, status=status)


@bp.route("/new", methods=["GET", "POST"])
@require("complaint.intake")
def new():
    """Record a complaint from any channel."""
    values = {k: request.form.get(k, "") for k in INTAKE}
    if request.method == "GET":
        values.update(channel="phone", identity="owner", level="minor",
                      estate_id=str(current_user.estate_ids[0]) if current_user.estate_ids else "")
        return render_template("complaints/new.html", values=values, errors={})
    errors = units.picked(values, request.form.get("unit_query", ""))
    if errors:
        return render_template("complaints/new.html", values=values, errors=errors), 422
    fields: dict[str, Any] = {k: values[k] for k in INTAKE if k != "unit_label"}
    try:
        fields["unit_id"] = maybe_id(values["unit_id"])
        fields["photos"] = commands.save_photos()
        outcome = commands.run("complaint.create", "complaint:new", fields)
    except Invalid as exc:
        return render_template("complaints/new.html", values=values, errors=exc.errors), 422
    return redirect(url_for("complaints.detail", complaint_id=outcome.result["complaint_id"]),
                    303)


def page(c: dict[str, Any], **extra: Any) -> dict[str, Any]:
    db = get_db()
    with_levels([c])
    staff = people.staff_for(db, c["estate_id"])
    written = complaints.notes(db, c["id"])
    return {"c": c, "notes": written, "history": complaints.history(db, c["id"], written),
            "evidence": complaints.evidence(db, c["id"]), "staff": staff,
            "allowed": lambda kind: c["status"] in complaints.TRANSITIONS[kind],
            "errors": {}, "values": {}, **extra}


@bp.get("/<int:complaint_id>")
@require("complaint.view")
def detail(complaint_id: int):
    """One complaint: what was said, its level and deadline, the steps that fit."""
    complaint = load(complaint_id)
    notifications_view.mark_opened(f"complaint:{complaint_id}")
    return render_template("complaints/detail.html", **page(complaint))


@bp.post("/<int:complaint_id>/<action>")
@require("complaint.view")
def act(complaint_id: int, action: str):
    """Apply one handling step through the command path."""
    if action not in ACTIONS:
        abort(404)
    c = load(complaint_id)
    fields: dict[str, Any] = request.form.to_dict()
    try:
        if action == "investigate":
            fields["photos"] = commands.save_photos()
        outcome = commands.run(f"complaint.{action}", f"complaint:{complaint_id}",
                               complaint_payload(action, fields))
    except Invalid as exc:
        return render_template("complaints/detail.html",
                               **page(c, errors=exc.errors, values=fields, action=action)), 422
    if not outcome.ok:
        if outcome.result.get("reason") == "forbidden":
            abort(403)
        return render_template("complaints/detail.html", **page(
            load(complaint_id), notice=_(outcome.result.get("message", "")))), 409
    return redirect(url_for("complaints.detail", complaint_id=complaint_id), 303)


@bp.get("/<int:complaint_id>/sheet.pdf")
@require("complaint.view")
def sheet(complaint_id: int):
    """The customer information sheet (COP7.4-1) for a complaint."""
    from ..pdf import complaint_sheet

    return complaint_sheet(page(load(complaint_id)))
