"""Inspections: the supervisor's round for the day, the checklist of a visit (works
offline), an inspection's results and checklist editing (the month's summary moved to
the figures' inspections area, /figures/inspections)."""

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
from ..domain import inspections, months, people, places
from ..domain.workdays import LOCAL
from ..payloads import inspection_payload
from . import figures as figures_views

bp = Blueprint("inspections", __name__, url_prefix="/inspections")


@bp.context_processor
def vocabularies() -> dict[str, Any]:
    return {"KINDS": inspections.PLACE_KINDS, "RESULTS": inspections.RESULTS,
            "PLACE_TYPES": places.PLACE_TYPES, "FIX_DEPARTMENTS": inspections.FIX_DEPARTMENTS}


def load_place(place_type: str, place_id: str) -> dict[str, Any]:
    """The place if it is in one of the user's estates, else 404."""
    ident = maybe_id(place_id)
    if place_type not in places.PLACE_TYPES or ident is None:
        abort(404)
    place = places.get_place(get_db(), place_type, ident)
    if not people.in_estates(place, current_user.estate_ids):
        abort(404)
    return place


def refused(outcome) -> str:
    """Why a command was not applied ('' when it was); a refusal for the role is a 403."""
    if outcome.ok:
        return ""
    if outcome.result.get("reason") == "forbidden":
        abort(403)
    return _(outcome.result.get("message", ""))


def round_page(errors: dict | None = None, values: dict | None = None, status: int = 200):
    db, day = get_db(), inspections.local_day(utcnow())
    everyone = current_user.can("inspection.assign")
    rows = inspections.rounds(db, day, current_user.estate_ids,
                              None if everyone else current_user.id)
    who = inspections.inspectors(db, current_user.estate_ids,
                                 people.CAPABILITIES["inspection.do"]) if everyone else []
    return render_template(
        "inspections/round.html", rounds=rows, day=day, inspectors=who,
        choices=inspections.place_choices(db, current_user.estate_ids),
        errors=errors or {}, values=values or {"supervisor_id": str(current_user.id)}), status


@bp.get("")
@require("inspection.do")
def index():
    """Today's round: the places to visit, each with its checklist and whether visited."""
    return round_page()


@bp.post("/round")
@require("inspection.do")
def add_place():
    """Add a place (a common area, equipment, or a unit by its number) to today's round."""
    values = request.form.to_dict()
    payload = {k: values.get(k, "") for k in ("estate_id", "supervisor_id", "place", "unit")}
    try:
        outcome = commands.run("inspection.round_add", "round:new", payload)
    except Invalid as exc:
        return round_page(exc.errors, values, 422)
    refused(outcome)
    return redirect(url_for("inspections.index"), 303)


def visit_context(place: dict[str, Any], **extra: Any) -> dict[str, Any]:
    db = get_db()
    template = (inspections.round_template(db, current_user.id, place,
                                           inspections.local_day(utcnow()))
                or inspections.template_for(db, place))
    return {"place": place, "template": template,
            "items": inspections.items(db, template["id"]) if template else [],
            "kind": inspections.checklist_kind(place),
            "summary": inspections.place_summary(db, place["place_type"], place["id"], 3),
            "now": utcnow(), "errors": {}, "values": {}, **extra}


@bp.route("/visit", methods=["GET", "POST"])
@require("inspection.do")
def visit():
    """A place's checklist. Opening it stamps the visit's time; it is sent as one command."""
    place = load_place(request.args.get("place_type", ""), request.args.get("place_id", ""))
    if request.method == "GET":
        return render_template("inspections/visit.html", **visit_context(place))
    fields: dict[str, Any] = request.form.to_dict()
    try:
        for item_id in fields.get("items", "").split(","):
            if maybe_id(item_id) is not None:
                fields[f"photos_{item_id}"] = commands.save_photos(f"photos_{item_id}")
        outcome = commands.run("inspection.record", f"{place['place_type']}:{place['id']}",
                               inspection_payload(fields))
    except Invalid as exc:
        return render_template("inspections/visit.html", **visit_context(
            place, errors=exc.errors, values=request.form.to_dict())), 422
    refused(outcome)
    return redirect(url_for("inspections.detail",
                            inspection_id=outcome.result["inspection_id"]), 303)


def load_inspection(inspection_id: int) -> dict[str, Any]:
    found = inspections.get_inspection(get_db(), inspection_id)
    if not people.in_estates(found, current_user.estate_ids):
        abort(404)
    return found


def detail_page(found: dict[str, Any], notice: str = "", status: int = 200):
    db = get_db()
    place = places.get_place(db, found["place_type"], found["place_id"])
    return render_template("inspections/detail.html", inspection=found, place=place,
                           results=inspections.results(db, found["id"]), notice=notice), status


@bp.get("/<int:inspection_id>")
@require("inspection.view")
def detail(inspection_id: int):
    """One inspection: each item's result, notes, photos, and the jobs made of failures."""
    return detail_page(load_inspection(inspection_id))


@bp.post("/results/<int:result_id>/job")
@require("inspection.do")
def make_job(result_id: int):
    """Make a job of a failed item that has none."""
    row = get_db().execute("SELECT inspection_id FROM inspection_results WHERE id = ?",
                           [result_id]).fetchone()
    found = load_inspection(row[0] if row else 0)
    try:
        outcome = commands.run("inspection.make_job", f"result:{result_id}", {})
    except Invalid:
        abort(404)
    notice = refused(outcome)
    if notice:
        return detail_page(found, notice, 409)
    return redirect(url_for("inspections.detail", inspection_id=found["id"]), 303)


def _month() -> str:
    """The month asked for, else this month in the estates' time zone (not UTC's)."""
    return months.month_or_current(request.args.get("month", ""), utcnow(), LOCAL)


@bp.get("/summary")
@require()
def summary():
    """Moved: the month's summary is the figures' inspections area, per estate."""
    return figures_views.moved("inspections")


@bp.get("/summary.csv")
@require()
def summary_csv():
    return figures_views.moved("inspections", export=True)


# --- Checklist templates (administrators) ----------------------------------------------

def template_payload(form) -> dict[str, Any]:
    """The posted template form; a "move" button (`<item id>:up|down`) reorders as it saves."""
    order = [i for i in form.getlist("item") if maybe_id(i) is not None]
    ident, _sep, direction = form.get("move", "").partition(":")
    if ident in order:
        i = order.index(ident)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    rows = [{"id": i, "text": form.get(f"text_{i}", ""), "active": form.get(f"active_{i}") == "1",
             "department": form.get(f"department_{i}", "")} for i in order]
    if form.get("text_new", "").strip():
        rows.append({"id": "", "text": form["text_new"], "active": True,
                     "department": form.get("department_new", "")})
    return {"name": form.get("name", ""), "place_kind": form.get("place_kind", ""),
            "active": form.get("active") == "1", "items": rows}


@bp.get("/templates")
@require("inspection.templates")
def templates():
    """The checklists, which kind of place each is for, and a form to add one."""
    return render_template("inspections/templates.html",
                           templates=inspections.templates(get_db()), errors={},
                           values={"department_new": "maintenance"})


@bp.post("/templates")
@require("inspection.templates")
def add_template():
    """Add a checklist with its first item."""
    try:
        outcome = commands.run("inspection.template_save", "template:new",
                               template_payload(request.form))
    except Invalid as exc:
        return render_template("inspections/templates.html",
                               templates=inspections.templates(get_db()), errors=exc.errors,
                               values=request.form.to_dict()), 422
    return redirect(url_for("inspections.edit_template",
                            template_id=outcome.result["template_id"]), 303)


def load_template(template_id: int) -> dict[str, Any]:
    template = inspections.get_template(get_db(), template_id)
    if template is None:
        abort(404)
    return template


@bp.get("/templates/<int:template_id>")
@require("inspection.templates")
def edit_template(template_id: int):
    """One checklist: rename, reorder, add items, change departments, take items out of use."""
    template = load_template(template_id)
    rows = inspections.items(get_db(), template_id, active_only=False)
    return render_template("inspections/template.html", template=template, rows=rows,
                           errors={}, values={**template, "department_new": "maintenance"})


@bp.post("/templates/<int:template_id>")
@require("inspection.templates")
def save_template(template_id: int):
    """Save the checklist through the command path."""
    template = load_template(template_id)
    payload = template_payload(request.form)
    try:
        commands.run("inspection.template_save", f"template:{template_id}", payload)
    except Invalid as exc:
        rows = [{**r, "id": int(r["id"]) if r["id"] else ""} for r in payload["items"]]
        values = {**request.form.to_dict(), "active": payload["active"]}
        return render_template("inspections/template.html", template=template,
                               rows=[r for r in rows if r["id"]], errors=exc.errors,
                               values=values), 422
    moved = request.form.get("move", "").partition(":")[0]
    anchor = f"#item-{moved}" if moved.isdigit() else ""
    return redirect(url_for("inspections.edit_template", template_id=template_id) + anchor, 303)
