"""The annual opinion survey (意见调查): the manager's surveys (questions, opening and
closing, the households' slips, results), a clerk's answer recorded by phone or at the
door, and the household's own page from its personal link (/q/s/<token>, no sign-in).
The same public page answers an activity's shared link (views/activities.py), once per
browser: a cookie holds the browser's random token."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

import sync
from sync import Command, Invalid
from sync.fields import maybe_id

from .. import commands
from .. import labels as label_sheets
from ..auth import require, utcnow
from ..db import get_db
from ..domain import activities, estates, people, surveys, unit_labels
from ..domain.handlers import HANDLERS
from ..domain.text import N_
from ..htmx import render
from ..https import external_url

bp = Blueprint("surveys", __name__)
BLANK_ROWS = 3  # empty question rows the edit form offers for new questions
# The answering browser's token for shared links: random, kept a year, sent only to the
# public survey pages.
BROWSER_COOKIE = "survey_browser"
BROWSER_PATH = "/q/s/"


def vocabularies() -> dict[str, Any]:
    return {"S_KINDS": surveys.KINDS, "S_STATUSES": surveys.STATUSES,
            "S_METHODS": surveys.METHODS, "RATINGS": surveys.RATINGS}


bp.context_processor(vocabularies)


def _load(survey_id: int) -> dict[str, Any]:
    """The annual survey if it is one of the user's estates', else 404 (an activity's
    survey is managed on its activity's page)."""
    survey = surveys.get(get_db(), survey_id)
    if not people.in_estates(survey, current_user.estate_ids) or survey["kind"] != "annual":
        abort(404)
    return survey


def question_rows(form: Any) -> list[dict[str, str]]:
    """The edit form's question rows (`q-<n>-kind`, `-text`, `-options`, `-position`,
    `-remove`), as typed."""
    try:
        count = min(int(form.get("q_count", "0")), surveys.MAX_QUESTIONS + BLANK_ROWS)
    except ValueError:
        count = 0
    return [{key: form.get(f"q-{n}-{key}", "")[:2000]
             for key in ("kind", "text", "options", "position", "remove")}
            for n in range(count)]


def rows_of(qs: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = [{"kind": q["kind"], "text": q["text"], "options": "\n".join(q["options"]),
             "position": str(q["position"]), "remove": ""} for q in qs]
    return rows + [{"kind": "rating", "text": "", "options": "", "position": "", "remove": ""}
                   for _ in range(BLANK_ROWS)]


def _values(form: Any) -> dict[str, str]:
    return {k: form.get(k, "")[:2000] for k in ("estate_id", "year", "title", "intro")}


# -- The manager's and the clerk's pages -----------------------------------------------------

def _index(values: dict[str, str], rows: list[dict[str, str]], errors: dict[str, str],
           status: int = 200):
    db = get_db()
    return render_template(
        "surveys/index.html", surveys=surveys.list_surveys(db, current_user.estate_ids),
        estates=estates.list_estates(db, current_user.estate_ids), values=values, rows=rows,
        errors=errors, can_manage=current_user.can("survey.manage")), status


@bp.get("/surveys")
@require("survey.record")
def index():
    """The surveys of the user's estates; a manager starts a new one here."""
    values = {"estate_id": "", "year": str(utcnow().year), "title": "", "intro": ""}
    return _index(values, rows_of([]), {})


@bp.post("/surveys")
@require("survey.manage")
def create():
    values, rows = _values(request.form), question_rows(request.form)
    try:
        outcome = commands.run("survey.save", "survey:new", {**values, "questions": rows})
    except Invalid as exc:
        return _index(values, rows, exc.errors, 422)
    if not outcome.ok:
        abort(403)
    return redirect(url_for("surveys.detail", survey_id=outcome.result["survey_id"]), 303)


def _detail(survey: dict[str, Any], errors: dict[str, str], status: int = 200,
            values: dict[str, str] | None = None, rows: list[dict[str, str]] | None = None,
            notice: str = ""):
    db = get_db()
    qs = surveys.questions(db, survey["id"])
    return render("surveys/detail.html", "surveys/_results.html", status, survey=survey,
                  questions=qs, results=surveys.results(db, survey), errors=errors,
                  values=values or {k: str(survey[k]) for k in ("year", "title", "intro")},
                  rows=rows if rows is not None else rows_of(qs), notice=notice,
                  typed=request.args.get("unit", "")[:40],
                  can_manage=current_user.can("survey.manage"))


@bp.get("/surveys/<int:survey_id>")
@require("survey.record")
def detail(survey_id: int):
    """The survey: its questions (a form while a draft), opening and closing, the slips,
    the results, and finding a household to record its answer."""
    return _detail(_load(survey_id), {})


@bp.post("/surveys/<int:survey_id>")
@require("survey.manage")
def save(survey_id: int):
    survey = _load(survey_id)
    values, rows = _values(request.form), question_rows(request.form)
    try:
        outcome = commands.run("survey.save", f"survey:{survey_id}",
                               {**values, "questions": rows})
    except Invalid as exc:
        return _detail(survey, exc.errors, 422, values, rows)
    if not outcome.ok:
        return _detail(survey, {}, 409, values, rows, notice=outcome.result.get("message", ""))
    return redirect(url_for("surveys.detail", survey_id=survey_id, saved=1), 303)


@bp.post("/surveys/<int:survey_id>/status")
@require("survey.manage")
def status(survey_id: int):
    survey = _load(survey_id)
    outcome = commands.run("survey.status", f"survey:{survey_id}",
                           {"to": request.form.get("to", "")[:10]})
    if not outcome.ok:
        return _detail(survey, {}, 409, notice=outcome.result.get("message", ""))
    return redirect(url_for("surveys.detail", survey_id=survey_id), 303)


@bp.get("/surveys/<int:survey_id>/slips.pdf")
@require("survey.manage")
def slips(survey_id: int):
    """A4 sheets of slips, one per household: its building and number and its QR code."""
    survey = _load(survey_id)
    # A building's slips alone: a large estate's whole sheet takes a while to make.
    building = maybe_id(request.args.get("building_id", ""))
    rows = surveys.slips(get_db(), survey_id, building)
    if not rows:
        abort(404)
    for row in rows:
        row["url"] = external_url("surveys.public", token=row["token"])
    name = f"survey-{survey_id}" + (f"-building-{building}" if building else "")
    return label_sheets.survey_slips(survey, rows, name)


@bp.get("/surveys/<int:survey_id>/find")
@require("survey.record")
def find(survey_id: int):
    """A household typed as people say it ('1-502', '1栋502'): its page, or the survey
    page again with what was typed and why it was not found."""
    survey = _load(survey_id)
    typed = request.args.get("unit", "")[:40]
    if not typed.strip():
        return _detail(survey, {})
    label = unit_labels.parse(typed)
    db = get_db()
    found = [u for u in unit_labels.find(db, [survey["estate_id"]], label)
             if surveys.household(db, survey_id, u["id"])] if label else []
    if len(found) == 1 or (found and found[0]["building_name"] == label.building):
        return redirect(url_for("surveys.household", survey_id=survey_id,
                                unit_id=found[0]["id"]), 303)
    message = N_("Type one household, such as 1-502.") if found else \
        N_("No household of this survey is called that.")
    return _detail(survey, {"unit": message}, 422)


def _household_page(survey: dict[str, Any], home: dict[str, Any], values: dict[str, str],
                    errors: dict[str, str], status: int = 200, notice: str = ""):
    db = get_db()
    return render_template(
        "surveys/household.html", survey=survey, home=home,
        questions=surveys.questions(db, survey["id"]),
        response=surveys.response(db, survey["id"], home["unit_id"]), values=values,
        errors=errors, notice=notice), status


@bp.route("/surveys/<int:survey_id>/units/<int:unit_id>", methods=["GET", "POST"])
@require("survey.record")
def household(survey_id: int, unit_id: int):
    """A clerk records a household's answer told by phone or at the door (the outbox
    keeps it when there is no signal)."""
    survey = _load(survey_id)
    home = surveys.household(get_db(), survey_id, unit_id)
    if home is None:
        abort(404)
    if request.method == "GET":
        return _household_page(survey, home, {}, {})
    values = {k: request.form.get(k, "")[:2000] for k in request.form
              if k.startswith("answer_") or k == "method"}
    answers = {k[len("answer_"):]: v for k, v in values.items() if k.startswith("answer_")}
    try:
        outcome = commands.run("survey.record", f"survey:{survey_id}",
                               {"unit_id": str(unit_id), "method": values.get("method", ""),
                                "answers": answers})
    except Invalid as exc:
        return _household_page(survey, home, values, exc.errors, 422)
    if not outcome.ok:
        return _household_page(survey, home, values, {}, 409,
                               notice=outcome.result.get("message", ""))
    return redirect(url_for("surveys.detail", survey_id=survey_id, recorded=unit_id), 303)


# -- The household's own page, from its personal link; an activity's shared link ------------

def _browser() -> str | None:
    """This browser's token for shared links (its cookie), if it holds a valid one."""
    return surveys.read_token(request.cookies.get(BROWSER_COOKIE, ""))


def _public(link: dict[str, Any], values: dict[str, str], errors: dict[str, str],
            status: int = 200, notice: str = ""):
    """The survey for one household (the estate, the survey, the building and number, never
    a resident's name or phone), or an activity's (its title, time and place)."""
    db = get_db()
    survey = surveys.get(db, link["survey_id"])
    assert survey is not None
    window = "open"
    if link["unit_id"] is not None:
        answered = surveys.response(db, survey["id"], link["unit_id"]) is not None
    else:
        browser = _browser()
        answered = bool(browser) and surveys.browser_response(
            db, survey["id"], browser) is not None
        window = activities.feedback_state(datetime.fromisoformat(link["starts_at"]),
                                           activities.feedback_days(db, survey["estate_id"]),
                                           utcnow())
    response = make_response(render_template(
        "surveys/public.html", survey=survey, link=link, answered=answered, window=window,
        questions=surveys.questions(db, survey["id"]), values=values, errors=errors,
        notice=notice), status)
    if link["unit_id"] is None and _browser() is None:
        response.set_cookie(BROWSER_COOKIE, surveys.new_token(), max_age=365 * 86400,
                            path=BROWSER_PATH, httponly=True, samesite="Lax",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def _link(token: str) -> dict[str, Any]:
    """A household's personal link, or an activity's shared link (no household)."""
    if not surveys.read_token(token):
        abort(404)
    db = get_db()
    found = surveys.link(db, token)
    if found is None:
        found = surveys.shared(db, token)
        if found is None:
            abort(404)
        found = {**found, "unit_id": None}
    return found


@bp.route("/q/s/<token>", methods=["GET", "POST"])
def public(token: str):
    """A household (or a browser, through a shared link) answers once; a second answer
    shows the thanks page and changes nothing (domain/surveys.py says why an answer is
    final)."""
    link = _link(token)
    if request.method == "GET":
        return _public(link, {}, {})
    values = {k: request.form.get(k, "")[:2000] for k in request.form
              if k.startswith("answer_")}
    try:
        op_id = sync.fields.op_id(request.form.get("op_id") or str(uuid.uuid4()))
    except Invalid:
        abort(422, description=_(sync.fields.DAMAGED))  # a hidden field nobody types
    payload = {"token": token, "remote_addr": (request.remote_addr or "")[:64],
               "answers": {k[len("answer_"):]: v for k, v in values.items()}}
    if link["unit_id"] is None:
        payload["browser"] = _browser() or ""
    cmd = Command(op_id=op_id, kind="survey.answer", target=f"survey:{link['survey_id']}",
                  payload=payload, user_id=None, device_id="")
    try:
        outcome = sync.apply(get_db(), cmd, HANDLERS, utcnow())
    except Invalid as exc:
        return _public(link, values, exc.errors, 422)
    reason = outcome.result.get("reason")
    if outcome.ok or reason == "answered":
        return redirect(url_for("surveys.public", token=token), 303)
    if reason == "limited":
        page = _public(link, values, {}, notice=outcome.result.get("message", ""))
        page.status_code = 429
        page.headers["Retry-After"] = "3600"
        return page
    return _public(link, values, {}, 409, notice=outcome.result.get("message", ""))
