"""Jobs: the desk's board and intake, the worker's list, the job page and its actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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
from ..args import record_id, shown_rows
from ..auth import require, utcnow
from ..db import get_db
from ..domain import (
    access,
    callbacks,
    jobs,
    notification_reading,
    page_versions,
    people,
    place_commands,
    places,
    record_checks,
    settings,
)
from ..domain import (
    board as board_order,
)
from ..domain.deadlines import job_deadlines, next_due
from ..htmx import is_partial, render
from ..payloads import job_payload
from . import notifications as notifications_view
from . import units

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
BOARD_PAGE = 25  # rows per step of the board; "show more" fetches the next
# The most rows a live board fetches again ("show more" tapped many times): past this
# the newest stay, and "show more" brings the rest back.
BOARD_SHOWN_MAX = 200

INTAKE_FIELDS = ("estate_id", "unit_id", "unit_label", "reporter_name", "reporter_phone",
                 "source", "category", "job_class", "description")


def load_job(job_id: int, read: bool = False) -> dict[str, Any]:
    """The job if this user may see it, else 404 (other estates' records do not exist).
    `read`: also a job a field worker may only read (access.reads_job); `read_only` says
    which."""
    job = jobs.get_job(get_db(), job_id)
    if not people.in_estates(job, current_user.estate_ids):
        abort(404)
    job["read_only"] = False
    if not current_user.can("job.view_all"):
        mine = job["assignee_id"] == current_user.id
        pool = job["status"] == "pooled" and job["department"] == current_user.department
        if not (current_user.is_field and (mine or pool)):
            if not (read and access.reads_job(get_db(), current_user.row, job_id)):
                abort(404)
            job["read_only"] = True
    return job


def with_deadlines(rows: list[dict]) -> list[dict]:
    """Attach deadlines (and the next one due) using each estate's settings."""
    now = utcnow()
    rules = settings.of_estates(get_db(), (row["estate_id"] for row in rows))
    for row in rows:
        row["deadlines"] = job_deadlines(row, rules[row["estate_id"]], now)
        row["next_due"] = next_due(row["deadlines"]) if row["status"] in jobs.OPEN_STATUSES \
            else None
    return rows


def board_filters() -> tuple[str, str, str]:
    """The board's status filter, search and order, as the address gives them."""
    order = request.args.get("order", "due")
    return (request.args.get("status", "open"), request.args.get("q", "").strip(),
            order if order in board_order.ORDERS else "due")


def board_read() -> tuple[int, list[dict[str, Any]], str]:
    """The board from its top, as many rows as shown (a live board sends how many):
    that number, the rows (one more, if there is one: "show more" shows then) and
    their version, which a live board compares."""
    status, q, order = board_filters()
    limit = shown_rows(BOARD_PAGE, BOARD_SHOWN_MAX)
    rows = board_order.board(get_db(), current_user.estate_ids, status, q, limit + 1, order)
    return limit, rows, page_versions.board_list(rows)


@bp.get("")
@require("job.view_all")
def board():
    """The desk's job board, filtered by status and a search, what is due first or the
    newest first."""
    status, q, order = board_filters()
    before = record_id("before")
    after = board_order.due_cursor(request.args.get("due", ""), record_id("after"))
    continued = before is not None or after is not None
    if not continued:
        limit, rows, version = board_read()
    else:  # "show more": the rows after the last one shown; not a live list
        limit, version = BOARD_PAGE, ""
        rows = board_order.board(get_db(), current_user.estate_ids, status, q, limit + 1,
                                 order, before, after)
    more = None
    if len(rows) > limit:  # the address of "show more", without url_for's cost
        more = urlencode({"status": status, **({"q": q} if q else {}),
                          **({"order": order} if order != "due" else {}),
                          **board_order.more_args(rows[limit - 1], order, q)})
    context = {"rows": board_order.shown_due(rows[:limit], utcnow()), "status": status,
               "q": q, "order": order, "more": more, "continued": continued,
               "live_version": version}
    if continued and is_partial():
        return render_template("jobs/_row_items.html", **context)
    if not is_partial():  # codes being flooded with reports, over the list
        context["floods"] = place_commands.floods(get_db(), current_user.estate_ids, utcnow())
    return render("jobs/board.html", "jobs/_rows.html", **context)


def mine_read() -> tuple[list[dict[str, Any]], int, str]:
    """A field worker's list: their jobs and the pool's, how many pool jobs it leaves
    out, and its version (the one the phone keeps the page by, and a live list
    compares)."""
    db, user, estates = get_db(), current_user.row, current_user.estate_ids
    rows = jobs.my_jobs(db, user, estates)
    pool_hidden = jobs.pool_hidden(db, user, estates, rows)
    return rows, pool_hidden, page_versions.job_list(rows, pool_hidden)


@bp.get("/mine")
@require("job.field")
def mine():
    """A field worker's jobs, what is due first at the top."""
    rows, pool_hidden, version = mine_read()
    # The badge and the order from each job's stored next due time (domain/board.py):
    # the same deadline job_deadlines would compute, without computing it per row.
    board_order.shown_due(rows, utcnow())
    rows.sort(key=lambda r: (r["status"] == "completed", r["next_due_at"] or "~"))
    return render("jobs/mine.html", "jobs/_mine_list.html", rows=rows, pool_hidden=pool_hidden,
                  live_version=version)


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
    staff = (jobs.dispatch_choices(db, job["estate_id"], job["department"])
             if current_user.can("job.dispatch") else [])
    pools = jobs.dispatch_pools(job["department"])
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
        # Each sign-off checked against the rows as they are now (domain/record_checks.py);
        # the photos' files are re-hashed by `flask verify-records`, not on every view.
        "checks": record_checks.check_job(db, current_app.config["RECORDS_KEY"], job["id"],
                                          Path(current_app.config["FILES_DIR"]),
                                          photo_files=False, job=job),
        "staff": staff,
        "pools": pools,
        "allowed": jobs.allowed,
        # The desk reviews every refused step; a field worker sees their own.
        "refused": [r for r in jobs.flagged_inputs(db, job["id"])
                    if current_user.can("job.dispatch") or r["user_id"] == current_user.id],
        # When the assignee was told and opened it, for the desk: the notify deadline is
        # measured here.
        "told": notification_reading.told(
            db, job, next(d.due for d in job["deadlines"] if d.name == "notify"))
        if current_user.can("job.view_all") else None,
        "NOTIFY_CHANNELS": notification_reading.CHANNELS,
        "DELIVERY_STATUSES": notification_reading.DELIVERY_STATUSES,
    }


@bp.get("/<int:job_id>")
@require()
def detail(job_id: int):
    """One job: its facts, deadlines, history and the actions that fit. Opening it counts
    as opening the user's notifications about it."""
    job = load_job(job_id, read=True)
    notifications_view.mark_opened(f"job:{job_id}")
    return render_template("jobs/detail.html", **page_context(job), errors={}, values={})


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


@bp.route("/<int:job_id>/edit", methods=["GET", "POST"])
@require("job.edit")
def edit(job_id: int):
    """The desk corrects a job's category, class, description or unit."""
    job = load_job(job_id)
    if request.method == "GET":
        values = {k: str(job[k] or "") for k in ("category", "job_class", "description",
                                                  "unit_id")}
        values.update(estate_id=str(job["estate_id"]), unit_label=(
            f"{job['building_name']}-{job['unit_number']}" if job["unit_id"] else ""))
        return render_template("jobs/edit.html", job=job, values=values, errors={})
    values = {k: request.form.get(k, "") for k in ("category", "job_class", "description",
                                                   "unit_id", "unit_label", "reason")}
    values["estate_id"] = str(job["estate_id"])
    errors = units.picked(values, request.form.get("unit_query", ""))
    try:
        if errors:
            raise Invalid(errors)
        outcome = commands.run("job.edit", f"job:{job_id}", job_payload("edit", values))
    except Invalid as exc:
        return render_template("jobs/edit.html", job=job, values=values,
                               errors=exc.errors), 422
    if not outcome.ok:
        return render_template("jobs/edit.html", job=job, values=values,
                               errors={"job": outcome.result.get("message", "")}), 409
    return redirect(url_for("jobs.detail", job_id=job_id), 303)


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
        extra = sign_context(job) if action == "signoff" else {}
        return render_template(template, **page_context(job), **extra, errors=exc.errors,
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
    return render_template("jobs/sign.html", **page_context(job), **sign_context(job),
                           errors={}, values={"signer_name": job["reporter_name"]})


def sign_context(job: dict[str, Any]) -> dict[str, Any]:
    """What the sign-off screen asks besides the signature: the resident's ratings, where
    the estate counts the signature as the callback."""
    counts = settings.estate_settings(get_db(), job["estate_id"])["signature_counts_as_callback"]
    return {"rate": bool(counts), "dims": callbacks.dimensions_for("job")}


@bp.get("/<int:job_id>/sheet.pdf")
@require("job.print")
def sheet(job_id: int):
    """The customer information sheet (COP7.4-1) as a PDF."""
    from ..pdf import job_sheet

    job = load_job(job_id)
    return job_sheet(page_context(job))
