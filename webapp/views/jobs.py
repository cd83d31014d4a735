"""Jobs: the desk's board and intake, the worker's list, the job page and its actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid

from .. import commands
from ..args import record_id
from ..auth import require, utcnow
from ..db import get_db
from ..domain import access, jobs, people, place_commands, places, records
from ..domain.deadlines import job_deadlines, next_due
from ..domain.settings import estate_settings
from ..htmx import is_partial, render
from ..payloads import job_payload
from . import units

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
BOARD_PAGE = 25  # rows per step of the board; "show more" fetches the next

INTAKE_FIELDS = ("estate_id", "unit_id", "unit_label", "reporter_name", "reporter_phone",
                 "source", "category", "job_class", "description")


def load_job(job_id: int) -> dict[str, Any]:
    """The job if this user may see it, else 404 (other estates' records do not exist)."""
    job = jobs.get_job(get_db(), job_id)
    if job is None or job["estate_id"] not in current_user.estate_ids:
        abort(404)
    if not current_user.can("job.view_all"):
        mine = job["assignee_id"] == current_user.id
        pool = job["status"] == "pooled" and job["department"] == current_user.department
        if not (current_user.is_field and (mine or pool)):
            abort(404)
    return job


def with_deadlines(rows: list[dict]) -> list[dict]:
    """Attach deadlines (and the next one due) using each estate's settings."""
    now, cache = utcnow(), {}
    for row in rows:
        if row["estate_id"] not in cache:
            cache[row["estate_id"]] = estate_settings(get_db(), row["estate_id"])
        row["deadlines"] = job_deadlines(row, cache[row["estate_id"]], now)
        row["next_due"] = next_due(row["deadlines"]) if row["status"] in jobs.OPEN_STATUSES \
            else None
    return rows


@bp.get("")
@require("job.view_all")
def board():
    """The desk's job board, filtered by status and a search."""
    status = request.args.get("status", "open")
    q = request.args.get("q", "").strip()
    before = record_id("before")
    rows = jobs.board(get_db(), current_user.estate_ids, status, q, BOARD_PAGE + 1, before)
    more = rows[BOARD_PAGE - 1]["id"] if len(rows) > BOARD_PAGE else None
    context = {"rows": with_deadlines(rows[:BOARD_PAGE]), "status": status, "q": q,
               "more": more, "continued": before is not None}
    if before is not None and is_partial():  # "show more": the next rows only
        return render_template("jobs/_row_items.html", **context)
    if not is_partial():  # codes being flooded with reports, over the list
        context["floods"] = place_commands.floods(get_db(), current_user.estate_ids, utcnow())
    return render("jobs/board.html", "jobs/_rows.html", **context)


@bp.get("/mine")
@require("job.field")
def mine():
    """A field worker's jobs, what is due first at the top."""
    db, user, estates = get_db(), current_user.row, current_user.estate_ids
    rows = jobs.my_jobs(db, user, estates)
    pool_hidden = jobs.pool_hidden(db, user, estates, rows)
    with_deadlines(rows)
    far = utcnow().replace(year=9999)
    rows.sort(key=lambda r: (r["status"] == "completed", r["next_due"].due if r["next_due"]
                             else far))
    return render("jobs/mine.html", "jobs/_mine_list.html", rows=rows, pool_hidden=pool_hidden)


@bp.route("/new", methods=["GET", "POST"])
@require("job.intake")
def new():
    """Desk intake of a repair report."""
    values = {k: request.form.get(k, "") for k in INTAKE_FIELDS}
    if request.method == "GET":
        values.update(source="phone", job_class="small",
                      estate_id=str(current_user.estate_ids[0]) if current_user.estate_ids else "")
        values.update(places.intake_prefill(get_db(), request.args.get("place_type", ""),
                                            record_id("place_id") or 0,
                                            current_user.estate_ids))
        return render_template("jobs/new.html", values=values, errors={})
    errors = units.picked(values, request.form.get("unit_query", ""))
    if errors:
        return render_template("jobs/new.html", values=values, errors=errors), 422
    payload: dict[str, Any] = {k: values[k] for k in INTAKE_FIELDS if k != "unit_label"}
    try:
        payload["unit_id"] = int(values["unit_id"]) if values["unit_id"] else None
        payload["photos"] = commands.save_photos()
        outcome = commands.run("job.create", "job:new", payload)
    except Invalid as exc:
        return render_template("jobs/new.html", values=values, errors=exc.errors), 422
    except ValueError:
        errors = {"unit_id": "Choose a unit of this estate from the list."}
        return render_template("jobs/new.html", values=values, errors=errors), 422
    return redirect(url_for("jobs.detail", job_id=outcome.result["job_id"]), 303)


def page_context(job: dict[str, Any]) -> dict[str, Any]:
    db = get_db()
    with_deadlines([job])
    staff = people.staff_for(db, job["estate_id"]) if current_user.can("job.dispatch") else []
    notes = jobs.job_notes(db, job["id"])
    return {
        "job": job,
        # The reporter as this user may see them (domain/access.py).
        "contact": access.job_contact(current_user.row, current_user.estate_ids, job),
        "photos": jobs.job_photos(db, job["id"]),
        "notes": notes,
        "timeline": jobs.timeline(db, job["id"], notes),
        "signature": jobs.latest_signature(db, job["id"]),
        "visits": jobs.visits(db, job["id"]),
        # Each sign-off checked against the rows as they are now (domain/records.py);
        # the photos' files are re-hashed by `flask verify-records`, not on every view.
        "checks": records.check_job(db, current_app.config["RECORDS_KEY"], job["id"],
                                    Path(current_app.config["FILES_DIR"]), photo_files=False,
                                    job=job),
        "staff": staff,
        "allowed": jobs.allowed,
        "refused": jobs.flagged_inputs(db, job["id"])
        if current_user.can("job.dispatch") else [],
    }


@bp.get("/<int:job_id>")
@require()
def detail(job_id: int):
    """One job: its facts, deadlines, history and the actions that fit."""
    return render_template("jobs/detail.html", **page_context(load_job(job_id)),
                           errors={}, values={})


def _fields(action: str) -> dict[str, Any]:
    """The posted form, with its photos and drawn signature stored by hash first."""
    fields: dict[str, Any] = request.form.to_dict()
    if action == "complete":
        fields["photos"] = commands.save_photos()
    if action == "signoff":
        fields["signature_image"] = commands.save_data_url(
            request.form.get("signature_data", ""), "signature"
        )
    return fields


ACTIONS = ("dispatch", "reassign", "claim", "accept", "decline", "arrive", "pause", "complete",
           "signoff", "reopen", "cancel", "resolve")


@bp.post("/<int:job_id>/<action>")
@require()
def act(job_id: int, action: str):
    """Apply one step to a job through the command path."""
    if action not in ACTIONS:
        abort(404)
    job = load_job(job_id)
    template = "jobs/sign.html" if action == "signoff" else "jobs/detail.html"
    try:
        payload = job_payload(action, _fields(action))
        outcome = commands.run(f"job.{action}", f"job:{job_id}", payload)
    except Invalid as exc:
        values = dict(request.form)
        return render_template(template, **page_context(job), errors=exc.errors,
                               values=values, action=action), 422
    if not outcome.ok:
        if outcome.result.get("reason") == "forbidden":
            abort(403)
        notice = outcome.result.get("message", "")
        return render_template("jobs/detail.html", **page_context(load_job(job_id)),
                               errors={}, values={}, notice=_(notice)), 409
    if not current_user.can("job.view_all") and action in ("decline",):
        return redirect(url_for("jobs.mine"), 303)
    return redirect(url_for("jobs.detail", job_id=job_id), 303)


@bp.get("/<int:job_id>/sign")
@require("job.field")
def sign(job_id: int):
    """The resident signs on the technician's screen."""
    job = load_job(job_id)
    # Before the work is recorded too: the phone keeps this page for every open job, as
    # the steps before it (accept, arrive, complete) may be taken with no signal and
    # still be waiting in the outbox.
    mine = (job["assignee_id"] == current_user.id
            and job["status"] in jobs.ACTIVE_FIELD_STATUSES)
    pool = job["status"] == "pooled" and job["department"] == current_user.department
    if not (mine or pool):
        return redirect(url_for("jobs.detail", job_id=job_id))
    return render_template("jobs/sign.html", **page_context(job), errors={},
                           values={"signer_name": job["reporter_name"]})


@bp.get("/<int:job_id>/sheet.pdf")
@require("job.print")
def sheet(job_id: int):
    """The customer information sheet (COP7.4-1) as a PDF."""
    from ..pdf import job_sheet

    job = load_job(job_id)
    return job_sheet(page_context(job))
