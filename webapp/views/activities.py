"""Community activities (社区活动): the list (upcoming and past, searched by title), a new
activity, an activity's page (its details, how many took part, its feedback: questions
while a draft, the shared link and QR code, results), the QR code to show or print, and a
paper form recorded. The feedback is a survey (views/surveys.py answers its link)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid

from .. import commands
from ..auth import require, utcnow
from ..db import get_db
from ..domain import activities, estates, people, surveys
from ..htmx import render
from ..https import external_url
from ..i18n import local_time, to_utc
from ..labels import qr_data_uri
from . import surveys as survey_views

bp = Blueprint("activities", __name__)


@bp.context_processor
def _vocabularies() -> dict[str, Any]:
    return {**survey_views.vocabularies(), "ACTIVITY_WHEN": activities.WHEN}


FIELDS = ("estate_id", "title", "starts_at", "place", "organiser", "description")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what a datetime-local field holds
SEARCH_MAX = 40


def _load(activity_id: int) -> dict[str, Any]:
    """The activity if it is one of the user's estates', else 404."""
    found = activities.get(get_db(), activity_id)
    if not people.in_estates(found, current_user.estate_ids):
        abort(404)
    return found


def _typed() -> dict[str, str]:
    return {k: request.form.get(k, "")[:2000] for k in FIELDS}


def _payload(values: dict[str, str]) -> dict[str, Any]:
    """The local start time as UTC ISO text ('' when unreadable: the handler says)."""
    start = to_utc(values["starts_at"])
    return {**values, "starts_at": start.isoformat(timespec="seconds") if start else ""}


@bp.get("/activities")
@require("activity.manage")
def index():
    """Upcoming activities (soonest first) and past ones (latest first); `q` searches
    titles, `when` shows one of the two."""
    text = request.args.get("q", "").strip()[:SEARCH_MAX]
    when = request.args.get("when", "")
    shown = [when] if when in activities.WHEN else list(activities.WHEN)
    db, now = get_db(), utcnow()
    lists = {w: activities.listing(db, current_user.estate_ids, w, now, text) for w in shown}
    return render("activities/index.html", "activities/_list.html", lists=lists, q=text,
                  when=when)


def _new_page(values: dict[str, str], errors: dict[str, str], status: int = 200):
    return render_template("activities/new.html", values=values, errors=errors,
                           estates=estates.list_estates(get_db(), current_user.estate_ids)
                           ), status


@bp.route("/activities/new", methods=["GET", "POST"])
@require("activity.manage")
def new():
    """A new activity; its feedback starts as the default questions in the reader's
    language, changed on its page before feedback opens."""
    if request.method == "GET":
        ids = current_user.estate_ids
        values = {k: "" for k in FIELDS}
        values["estate_id"] = str(ids[0]) if len(ids) == 1 else ""
        return _new_page(values, {})
    values = _typed()
    try:
        outcome = commands.run("activity.save", "activity:new",
                               {**_payload(values),
                                "questions": activities.default_questions(_)})
    except Invalid as exc:
        return _new_page(values, exc.errors, 422)
    if not outcome.ok:
        abort(403)
    return redirect(url_for("activities.detail", activity_id=outcome.result["activity_id"]),
                    303)


def _stored(found: dict[str, Any]) -> dict[str, str]:
    return {"estate_id": str(found["estate_id"]), "title": found["title"],
            "starts_at": local_time(found["starts_at"], LOCAL_INPUT), "place": found["place"],
            "organiser": found["organiser"], "description": found["description"]}


def _detail(found: dict[str, Any], errors: dict[str, str] | None = None, status: int = 200,
            values: dict[str, str] | None = None, rows: list[dict[str, str]] | None = None,
            notice: str = "", editing: bool = False):
    """The activity's page; `editing`: the details form is shown open (its errors)."""
    db, now = get_db(), utcnow()
    survey = surveys.get(db, found["survey_id"])
    assert survey is not None
    qs = surveys.questions(db, survey["id"])
    days = activities.feedback_days(db, found["estate_id"])
    start = datetime.fromisoformat(found["starts_at"])
    first, last = activities.feedback_window(start, days)
    return render_template(
        "activities/detail.html", activity=found, survey=survey, questions=qs,
        results=surveys.results(db, survey), errors=errors or {},
        values=values or _stored(found),
        rows=rows if rows is not None else survey_views.rows_of(qs), notice=notice,
        started=activities.started(found, now), first=first, last=last,
        window=activities.feedback_state(start, days, now),
        link=external_url("surveys.public", token=survey["token"]), editing=editing), status


@bp.get("/activities/<int:activity_id>")
@require("activity.manage")
def detail(activity_id: int):
    """One activity: details, participants, its feedback and results."""
    return _detail(_load(activity_id))


def _refused(found: dict[str, Any], outcome: Any, **kw: Any):
    if outcome.result.get("reason") == "forbidden":
        abort(403)
    return _detail(_load(found["id"]), status=409, notice=outcome.result.get("message", ""),
                   **kw)


@bp.post("/activities/<int:activity_id>")
@require("activity.manage")
def save(activity_id: int):
    """Change the activity's details (the version seen is checked)."""
    found = _load(activity_id)
    values = {**_typed(), "estate_id": str(found["estate_id"])}
    try:
        outcome = commands.run("activity.save", f"activity:{activity_id}", _payload(values))
    except Invalid as exc:
        return _detail(found, exc.errors, 422, values=values, editing=True)
    if not outcome.ok:
        return _refused(found, outcome, values=values, editing=True)
    return redirect(url_for("activities.detail", activity_id=activity_id), 303)


@bp.post("/activities/<int:activity_id>/participants")
@require("activity.manage")
def participants(activity_id: int):
    """How many took part, once it has begun."""
    found = _load(activity_id)
    typed = request.form.get("participants", "")[:20]
    try:
        outcome = commands.run("activity.participants", f"activity:{activity_id}",
                               {"participants": typed})
    except Invalid as exc:
        return _detail(found, exc.errors, 422, values={**_stored(found),
                                                       "participants": typed})
    if not outcome.ok:
        return _refused(found, outcome)
    return redirect(url_for("activities.detail", activity_id=activity_id), 303)


@bp.post("/activities/<int:activity_id>/questions")
@require("activity.manage")
def questions(activity_id: int):
    """The feedback's questions, while it is a draft (survey.save)."""
    found = _load(activity_id)
    rows = survey_views.question_rows(request.form)
    payload = {"intro": request.form.get("intro", "")[:2000], "questions": rows}
    try:
        outcome = commands.run("survey.save", f"survey:{found['survey_id']}", payload)
    except Invalid as exc:
        return _detail(found, exc.errors, 422, rows=rows)
    if not outcome.ok:
        return _refused(found, outcome, rows=rows)
    return redirect(url_for("activities.detail", activity_id=activity_id), 303)


@bp.post("/activities/<int:activity_id>/feedback")
@require("activity.manage")
def feedback(activity_id: int):
    """Open the feedback (its shared link starts taking answers) or close it early."""
    found = _load(activity_id)
    outcome = commands.run("survey.status", f"survey:{found['survey_id']}",
                           {"to": request.form.get("to", "")[:10]})
    if not outcome.ok:
        return _refused(found, outcome)
    return redirect(url_for("activities.detail", activity_id=activity_id), 303)


@bp.get("/activities/<int:activity_id>/qr")
@require("activity.manage")
def qr(activity_id: int):
    """The shared link's QR code, large: shown on a screen at the event or printed as a
    slip (the browser's print; no personal data on it)."""
    found = _load(activity_id)
    if found["survey_status"] == "draft":
        abort(404)
    url = external_url("surveys.public", token=found["survey_token"])
    return render_template("activities/qr.html", activity=found, url=url,
                           qr_src=qr_data_uri(url, module_px=12))


def _paper_page(found: dict[str, Any], values: dict[str, str], errors: dict[str, str],
                status: int = 200, notice: str = ""):
    db = get_db()
    survey = surveys.get(db, found["survey_id"])
    return render_template("activities/paper.html", activity=found, survey=survey,
                           questions=surveys.questions(db, found["survey_id"]),
                           values=values, errors=errors, notice=notice), status


@bp.route("/activities/<int:activity_id>/paper", methods=["GET", "POST"])
@require("activity.manage")
def paper(activity_id: int):
    """A clerk records one paper feedback form (survey.record, method paper)."""
    found = _load(activity_id)
    if request.method == "GET":
        return _paper_page(found, {}, {})
    values = {k: request.form.get(k, "")[:2000] for k in request.form
              if k.startswith("answer_")}
    answers = {k[len("answer_"):]: v for k, v in values.items()}
    try:
        outcome = commands.run("survey.record", f"survey:{found['survey_id']}",
                               {"method": "paper", "answers": answers})
    except Invalid as exc:
        return _paper_page(found, values, exc.errors, 422)
    if not outcome.ok:
        if outcome.result.get("reason") == "forbidden":
            abort(403)
        return _paper_page(found, values, {}, 409, notice=outcome.result.get("message", ""))
    return redirect(url_for("activities.detail", activity_id=activity_id, recorded=1), 303)

