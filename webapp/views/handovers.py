"""Shift handovers: the log (unacknowledged on top, searchable), recording a shift,
acknowledging one with a signature, and its PDF."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid
from sync.fields import maybe_id

from .. import commands, payloads
from ..auth import require, utcnow
from ..db import get_db
from ..domain import estates, handovers, people
from ..htmx import render
from ..pdf import handover_sheet

bp = Blueprint("handovers", __name__)
SEARCH_MAX = 50


@bp.app_context_processor
def template_globals() -> dict[str, Any]:
    return {"HANDOVER_POSTS": handovers.POSTS, "HANDOVER_SUMMARY": handovers.SUMMARY,
            "HANDOVER_CHECKLIST": handovers.CHECKLIST}


def _user() -> dict[str, Any]:
    return {"id": current_user.id, "role": current_user.role}


def _estates() -> list[dict[str, Any]]:
    return estates.list_estates(get_db(), current_user.estate_ids)


def load(handover_id: int) -> dict[str, Any]:
    """The handover if the user sees its estate and post, else 404."""
    found = handovers.get(get_db(), handover_id)
    if (not people.in_estates(found, current_user.estate_ids)
            or found["post"] not in handovers.visible_posts(_user())):
        abort(404)
    return found


@bp.get("/handovers")
@require("handover.view")
def index():
    """The log: unacknowledged first, then newest; `q` searches the typed text."""
    text = request.args.get("q", "").strip()[:SEARCH_MAX]
    rows = handovers.listing(get_db(), current_user.estate_ids,
                             handovers.visible_posts(_user()), text)
    return render("handovers/index.html", "handovers/_list.html", rows=rows, q=text,
                  may_record=current_user.can("handover.record"))


def _form_page(values: dict[str, Any], errors: dict[str, str], status: int = 200):
    estates = _estates()
    posts = handovers.posts_for(current_user.role)
    # Only the person's own estates: the id comes from the form.
    chosen = maybe_id(values.get("estate_id"))
    estate_id = chosen if chosen in current_user.estate_ids else (
        estates[0]["id"] if estates else 0)
    post = values.get("post") if values.get("post") in posts else (posts[0] if posts else "")
    now = utcnow()
    known: dict[str, int] = {}
    start = ""
    if estate_id in current_user.estate_ids and post:
        start = handovers.window_start(get_db(), estate_id, post, now)
        known = handovers.summary(get_db(), estate_id, start, now)
    context = {"values": values, "errors": errors, "estates": estates, "posts": posts,
               "known": known, "window_start": start,
               "items": handovers.checklist(get_db(), estate_id) if estate_id else [],
               "chosen": {"estate_id": estate_id, "post": post}}
    if request.method == "GET":
        return render("handovers/new.html", "handovers/_known.html", status, **context)
    return render_template("handovers/new.html", **context), status


@bp.route("/handovers/new", methods=["GET", "POST"])
@require("handover.record")
def new():
    """Record the shift: what happened, open items, instructions, shared items checked,
    with what the app knows of the window shown."""
    if request.method == "GET":
        values: dict[str, Any] = {k: "" for k in handovers.TEXT_FIELDS}
        values.update(estate_id=request.args.get("estate_id", "")[:20],
                      post=request.args.get("post", "")[:20], checked=[])
        return _form_page(values, {})
    form = request.form
    # The same payload as the phone's outbox sends (payloads.OUTBOX).
    payload = payloads.handover_payload(form.to_dict())
    values = {k: form.get(k, "")[:handovers.TEXT_MAX] for k in handovers.TEXT_FIELDS}
    values.update(estate_id=form.get("estate_id", "")[:20], post=form.get("post", "")[:20],
                  checked=payload["checked"])
    try:
        outcome = commands.run("handover.record", "handover:new", payload)
    except Invalid as exc:
        return _form_page(values, exc.errors, 422)
    if not outcome.ok:
        abort(403)
    return redirect(url_for("handovers.detail", handover_id=outcome.result["handover_id"]),
                    303)


def _detail_page(handover: dict[str, Any], errors: dict[str, str] | None = None,
                 refused: str = "", status: int = 200):
    may_ack = (not handover["acknowledged_at"] and current_user.can("handover.record")
               and handover["post"] in handovers.posts_for(current_user.role)
               and handover["recorded_by"] != current_user.id)
    return render_template("handovers/detail.html", h=handover, errors=errors or {},
                           refused=refused, may_acknowledge=may_ack), status


@bp.get("/handovers/<int:handover_id>")
@require("handover.view")
def detail(handover_id: int):
    """One handover as recorded, and the incoming person's signature pad."""
    return _detail_page(load(handover_id))


@bp.post("/handovers/<int:handover_id>/acknowledge")
@require("handover.record")
def acknowledge(handover_id: int):
    """The incoming person signs for the handover (once; never their own)."""
    handover = load(handover_id)
    try:
        image = commands.save_data_url(request.form.get("signature_data", ""), "signature")
        outcome = commands.run("handover.acknowledge", f"handover:{handover_id}",
                               payloads.handover_ack_payload(
                                   {"signature_image": image,
                                    "strokes": request.form.get("strokes", "")}))
    except Invalid as exc:
        return _detail_page(handover, exc.errors, status=422)
    if not outcome.ok:
        return _detail_page(load(handover_id), refused=_(outcome.result.get("message", "")),
                            status=409)
    return redirect(url_for("handovers.detail", handover_id=handover_id), 303)


@bp.get("/handovers/<int:handover_id>.pdf")
@require("handover.view")
def sheet(handover_id: int) -> Response:
    """The handover on an A4 page, with the incoming person's signature."""
    return handover_sheet(load(handover_id))


@bp.route("/handovers/checklist", methods=["GET", "POST"])
@require("estate.settings")
def checklist():
    """An estate's own shared-items checklist (one item a line; empty: the default)."""
    estates = _estates()
    chosen = maybe_id(request.values.get("estate_id"))
    estate_id = chosen if chosen in current_user.estate_ids else (
        estates[0]["id"] if estates else 0)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        typed = request.form.get("items", "")[:4000]
        try:
            outcome = commands.run("handover.checklist", f"estate:{estate_id}",
                                   {"estate_id": estate_id, "items": typed})
        except Invalid as exc:
            errors, status = exc.errors, 422
        else:
            if outcome.ok:
                return redirect(url_for("handovers.checklist", estate_id=estate_id), 303)
            # Refused (the estate is not this person's to set): say why, keep the text.
            errors = {"items": _(outcome.result.get("message", ""))}
            status = 409
    else:
        typed = "\n".join(_(label) if key in handovers.CHECKLIST else label
                          for key, label in handovers.checklist(get_db(), estate_id))
    return render_template("handovers/checklist.html", estates=estates, estate_id=estate_id,
                           typed=typed, errors=errors), status
