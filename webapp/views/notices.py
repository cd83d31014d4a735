"""Notices to residents: the desk's list (current, upcoming, past), posting, editing and
withdrawing one, its A4 print, and its public page (the printed QR code's address)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid
from sync.fields import maybe_id

from .. import commands
from ..auth import require, utcnow
from ..db import get_db
from ..domain import notices, people
from ..https import external_url
from ..i18n import local_time, to_utc
from ..labels import qr_data_uri
from ..pdf import render_pdf

bp = Blueprint("notices", __name__)
FIELDS = ("estate_id", "title", "body", "starts_at", "ends_at")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what a datetime-local field holds


@bp.record_once
def template_globals(state: BlueprintSetupState) -> None:
    state.app.jinja_env.globals["NOTICE_STATUSES"] = notices.STATUSES


def _typed() -> dict[str, Any]:
    """The form as typed (kept on a mistake), places as the ticked 'type:id' values."""
    values: dict[str, Any] = {k: request.form.get(k, "")[:2000] for k in FIELDS}
    values["places"] = request.form.getlist("places")[:200]
    return values


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    """Local form times as UTC ISO text ('' when missing or unreadable: the handler says)."""
    times = {k: to_utc(values[k]) for k in ("starts_at", "ends_at")}
    return {**values, **{k: v.isoformat(timespec="seconds") if v else ""
                         for k, v in times.items()}}


def load(notice_id: int) -> dict[str, Any]:
    """The notice if it is of one of the user's estates, else 404."""
    notice = notices.get(get_db(), notice_id)
    if not people.in_estates(notice, current_user.estate_ids):
        abort(404)
    return notice


def _form_page(template: str, values: dict[str, Any], errors: dict[str, str],
               status: int = 200, **extra: Any):
    return render_template(template, values=values, errors=errors,
                           estates=notices.choices(get_db(), current_user.estate_ids),
                           **extra), status


@bp.get("/notices")
@require("notice.post")
def index():
    """Current notices, then upcoming ones, then the last ended or withdrawn."""
    return render_template("notices/index.html",
                           lists=notices.listing(get_db(), current_user.estate_ids, utcnow()))


@bp.route("/notices/new", methods=["GET", "POST"])
@require("notice.post")
def new():
    """Post a notice for an estate, some of its buildings, or an area or equipment."""
    if request.method == "GET":
        ids = current_user.estate_ids
        values: dict[str, Any] = {k: "" for k in FIELDS}
        values["estate_id"] = str(ids[0]) if len(ids) == 1 else ""
        # Most notices take effect now (a cut already under way): the start is filled in.
        values["starts_at"] = local_time(utcnow(), LOCAL_INPUT)
        ref = request.args.get("place", "")
        values["places"] = [ref] if ref.partition(":")[0] in notices.TARGET_TYPES else []
        return _form_page("notices/new.html", values, {})
    values = _typed()
    try:
        outcome = commands.run("notice.post", f"estate:{maybe_id(values['estate_id']) or 0}",
                               _payload(values))
    except Invalid as exc:
        return _form_page("notices/new.html", values, exc.errors, 422)
    if not outcome.ok:
        abort(403)
    return redirect(url_for("notices.detail", notice_id=outcome.result["notice_id"]), 303)


def _stored_values(notice: dict[str, Any]) -> dict[str, Any]:
    return {"estate_id": str(notice["estate_id"]), "title": notice["title"],
            "body": notice["body"], "starts_at": local_time(notice["starts_at"], LOCAL_INPUT),
            "ends_at": local_time(notice["ends_at"], LOCAL_INPUT),
            "places": [f"{p['place_type']}:{p['place_id']}" for p in notice["places"]]}


def _detail_page(notice: dict[str, Any], values: dict[str, Any] | None = None,
                 errors: dict[str, str] | None = None, status: int = 200,
                 refused: str = ""):
    now = utcnow()
    return _form_page(
        "notices/detail.html", values or _stored_values(notice), errors or {}, status,
        notice=notice, state=notices.status(notice, now),
        changeable=notices.changeable(notice, now), where=notices.where_text(notice),
        refused=refused)


@bp.get("/notices/<int:notice_id>")
@require("notice.post")
def detail(notice_id: int):
    """One notice: how it reads, where it applies, edit, withdraw, print."""
    return _detail_page(load(notice_id))


@bp.post("/notices/<int:notice_id>/<any(edit, withdraw):action>")
@require("notice.post")
def act(notice_id: int, action: str):
    """Edit or withdraw through the command path; refused once the notice has ended."""
    notice = load(notice_id)
    values = _typed() if action == "edit" else None
    try:
        outcome = commands.run(f"notice.{action}", f"notice:{notice_id}",
                               _payload(values) if values else {})
    except Invalid as exc:
        return _detail_page(notice, values, exc.errors, 422)
    if not outcome.ok:
        if outcome.result.get("reason") == "forbidden":
            abort(403)
        return _detail_page(load(notice_id), refused=_(outcome.result.get("message", "")),
                            status=409)
    return redirect(url_for("notices.detail", notice_id=notice_id), 303)


@bp.get("/notices/<int:notice_id>.pdf")
@require("notice.post")
def sheet(notice_id: int):
    """The notice on an A4 page to put up: large title, times, estate, a QR code to its
    public page."""
    notice = load(notice_id)
    url = external_url("notices.public", token=notice["token"])
    html = render_template("notices/sheet.html", notice=notice, qr_src=qr_data_uri(url),
                           url=url, where=notices.where_text(notice))
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="notice-{notice_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/n/<token>")
def public(token: str):
    """A printed notice's QR code: the notice as residents read it, no sign-in, nothing
    personal; once ended or withdrawn it says so."""
    notice = notices.by_token(get_db(), token[:64]) if token else None
    if notice is None:
        abort(404)
    return render_template("notices/public.html", notice=notice,
                           state=notices.status(notice, utcnow()),
                           where=notices.where_text(notice))
