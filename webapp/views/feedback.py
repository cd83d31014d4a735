"""Environment feedback: the field worker's form (works offline) and sent list, the desk's
queue and each item's answer, close or turn-into-a-job."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.sansio.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid
from sync.fields import maybe_id

from .. import commands
from ..auth import require
from ..db import get_db
from ..domain import feedback, feedback_commands, jobs, page_versions, people, places
from ..htmx import render
from ..payloads import feedback_payload
from . import files as files_view

bp = Blueprint("feedback", __name__, url_prefix="/feedback")
FIELDS = ("place", "building_id", "unit_number", "category", "note")
ACTIONS = ("answer", "close", "to_job")


@bp.record_once
def template_globals(state: BlueprintSetupState) -> None:
    """The vocabularies, and the count of new feedback in the desk's estates for the nav
    link (counted only when shown): template globals, set once, rather than a context
    processor every page would run."""
    state.app.jinja_env.globals.update(
        feedback_new_count=lambda: feedback.new_count(get_db(), current_user.estate_ids),
        FB_CATEGORIES=feedback.CATEGORIES, FB_STATUSES=feedback.STATUSES,
        FB_ACTIONS=feedback.ACTIONS)


def load(feedback_id: int) -> dict[str, Any]:
    """The item if this user handles it or sent it, else 404."""
    item = feedback.get(get_db(), feedback_id)
    if not people.in_estates(item, current_user.estate_ids):
        abort(404)
    if not (current_user.can("feedback.handle") or item["user_id"] == current_user.id):
        abort(404)
    return item


def _chosen(value: str) -> dict[str, Any] | None:
    """The place named by a `type:id` value, if it is in one of the user's estates."""
    place_type, _sep, ident = value.partition(":")
    place_id = maybe_id(ident)
    if place_type not in places.PLACE_TYPES or place_id is None:
        return None
    place = places.get_place(get_db(), place_type, place_id)
    if not people.in_estates(place, current_user.estate_ids):
        return None
    return place


def new_page(values: dict[str, str], errors: dict[str, str], status: int = 200):
    chosen = _chosen(values.get("place", ""))
    return render_template(
        "feedback/new.html", values=values, errors=errors, chosen=chosen,
        estates=feedback.places_for(get_db(), current_user.estate_ids),
        categories=feedback.CATEGORIES), status


@bp.route("/new", methods=["GET", "POST"])
@require("feedback.send")
def new():
    """Send feedback about a place: category chips, a photo, a note (works offline)."""
    values = {k: request.form.get(k, "") for k in FIELDS}
    if request.method == "GET":
        place_type = request.args.get("place_type", "")
        place_id = request.args.get("place_id", "")
        values["place"] = f"{place_type}:{place_id}" if place_type and place_id else ""
        if _chosen(values["place"]) is None:
            values["place"] = ""
        return new_page(values, {})
    fields: dict[str, Any] = dict(values)
    try:
        fields["photos"] = commands.save_photos()
        outcome = commands.run("feedback.create", "feedback:new", feedback_payload(fields))
    except Invalid as exc:
        return new_page(values, exc.errors, 422)
    if not outcome.ok:
        abort(403)
    return redirect(url_for("feedback.mine"), 303)


@bp.get("/mine")
@require("feedback.send")
def mine():
    """What I sent, and what the desk made of it."""
    return render_template("feedback/mine.html",
                           rows=feedback.mine(get_db(), current_user.id))


@bp.get("")
@require("feedback.handle")
def index():
    """The desk's queue: new items first, with place, category, photos, who and when."""
    status = request.args.get("status", "all")
    rows = feedback.queue(get_db(), current_user.estate_ids, status)
    return render("feedback/index.html", "feedback/_rows.html", rows=rows, status=status,
                  live_version=queue_version(status))


def queue_version(status: str) -> str:
    """The queue's version, which a live queue compares (domain/page_versions.py)."""
    return page_versions.feedback_queue(get_db(), current_user.estate_ids, status)


def page_context(item: dict[str, Any], **extra: Any) -> dict[str, Any]:
    job_category = feedback.JOB_CATEGORY.get(item["category"])
    return {
        "item": item,
        "history": feedback.audit_trail(get_db(), item["id"]),
        "job_department": jobs.CATEGORIES[job_category][1] if job_category else None,
        "departments": {k: people.DEPARTMENTS[k] for k in feedback.DEPARTMENT_CATEGORY},
        "default_description": feedback_commands.default_description(item),
        "errors": {}, "values": {}, "action": None, **extra,
    }


@bp.get("/<int:feedback_id>")
@require("feedback.handle")
def detail(feedback_id: int):
    """One item: what was seen where, and the desk's answer, close or job."""
    return render_template("feedback/detail.html", **page_context(load(feedback_id)))


@bp.post("/<int:feedback_id>/<action>")
@require("feedback.handle")
def act(feedback_id: int, action: str):
    """Answer, close, or turn into a job, through the command path."""
    if action not in ACTIONS:
        abort(404)
    item = load(feedback_id)
    payload = {k: request.form.get(k, "") for k in
               ("answer", "note", "department", "job_class", "description")}
    try:
        outcome = commands.run(f"feedback.{action}", f"feedback:{feedback_id}", payload)
    except Invalid as exc:
        return render_template("feedback/detail.html", **page_context(
            item, errors=exc.errors, values=payload, action=action)), 422
    if not outcome.ok:
        if outcome.result.get("reason") == "forbidden":
            abort(403)
        return render_template("feedback/detail.html", **page_context(
            load(feedback_id), notice=_(outcome.result.get("message", "")))), 409
    return redirect(url_for("feedback.detail", feedback_id=feedback_id), 303)


@bp.get("/<int:feedback_id>/photos/<sha256>")
@require()
def photo(feedback_id: int, sha256: str):
    """A photo of an item, for the desk and for the worker who sent it."""
    item = load(feedback_id)
    if sha256 not in item["photos"]:
        abort(404)
    mime = get_db().execute("SELECT mime FROM files WHERE sha256 = ?", [sha256]).fetchone()[0]
    return files_view.send(sha256, mime)
