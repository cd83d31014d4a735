"""The owners' committee and residents' meetings: an estate's overview (what is due and
overdue, members, contacts, submissions, meetings), the forms that record each, and a
submission's reply and a meeting's minutes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user

from sync import Invalid
from sync.fields import maybe_id

from .. import commands
from ..args import record_id
from ..auth import require, utcnow
from ..db import get_db
from ..domain import committee, estates, people, workdays
from ..domain.text import N_

bp = Blueprint("committee", __name__)

# The form of each kind of record: its command and its fields (kept as typed).
FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "member": ("committee.member", ("name", "role", "contact", "since")),
    "contact": ("committee.contact", ("member_id", "contacted_on", "method", "topics")),
    "submission": ("committee.submit", ("title", "body", "received_on")),
    "meeting": ("committee.meeting", ("kind", "title", "held_on")),
}
TITLES = {"member": N_("Add a committee member"), "contact": N_("Record a contact"),
          "submission": N_("Record a written submission"),
          "meeting": N_("Record a meeting or activity")}


@bp.record_once
def template_globals(state: BlueprintSetupState) -> None:
    state.app.jinja_env.globals.update(
        COMMITTEE_ROLES=committee.ROLES, COMMITTEE_METHODS=committee.METHODS,
        COMMITTEE_KINDS=committee.KINDS)


def _estate_id() -> int:
    """The estate asked for (`estate`), else the user's first; 404 for one not theirs."""
    ids = current_user.estate_ids
    wanted = record_id("estate")
    if wanted is None:
        wanted = maybe_id(request.form.get("estate_id")) if request.method == "POST" else None
    if wanted is None and ids:
        wanted = ids[0]
    if wanted not in ids:
        abort(404)
    return wanted


@bp.get("/committee")
@require("committee.record")
def index():
    """An estate's committee: what is due and overdue, then the records."""
    db, now = get_db(), utcnow()
    estate_id = _estate_id()
    return render_template(
        "committee/index.html", estate_id=estate_id,
        estates=estates.list_estates(db, current_user.estate_ids),
        status=committee.contacts_status(db, estate_id, now),
        overdue=committee.overdue(db, estate_id, now),
        contacts=committee.recent_contacts(db, estate_id),
        submissions=committee.submissions(db, estate_id, now),
        meetings=committee.meetings(db, estate_id, now))


# Plain <kind> segments, not any(...): an unknown kind is a 404 like a missing record.
@bp.route("/committee/<kind>", methods=["GET", "POST"])
@require("committee.record")
def new(kind: str):
    """Record a member, a contact, a submission or a meeting; a mistake keeps the form."""
    if kind not in FORMS:
        abort(404)
    db = get_db()
    estate_id = _estate_id()
    command, names = FORMS[kind]
    today = str(workdays.local_date(utcnow()))
    values = {k: (request.form.get(k, "")[:4000] if request.method == "POST" else "")
              for k in names}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            outcome = commands.run(command, f"estate:{estate_id}",
                                   {**values, "estate_id": estate_id})
        except Invalid as exc:
            errors = exc.errors
        else:
            if not outcome.ok:
                abort(403)
            return redirect(url_for("committee.index", estate=estate_id), 303)
    else:
        for k in ("since", "contacted_on", "received_on", "held_on"):
            if k in values:
                values[k] = today
        values["member_id"] = request.args.get("member", "")[:20] if kind == "contact" else ""
    return render_template("committee/new.html", kind=kind, title=_(TITLES[kind]),
                           command=command,
                           values=values, errors=errors, estate_id=estate_id,
                           members=committee.members(db, estate_id)), 422 if errors else 200


def _load(table: str, record: int) -> dict[str, Any]:
    row = committee.get(get_db(), table, record)
    if not people.in_estates(row, current_user.estate_ids):
        abort(404)
    return row


@bp.route("/committee/<kind>/<int:record>", methods=["GET", "POST"])
@require("committee.record")
def record(kind: str, record: int):
    """A submission with its reply, or a meeting with its minutes; the form to add
    them while they are missing."""
    if kind not in ("submissions", "meetings"):
        abort(404)
    db, now = get_db(), utcnow()
    table = f"committee_{kind}"
    row = _load(table, record)
    field, day_field, command = (("reply", "replied_on", "committee.reply")
                                 if kind == "submissions"
                                 else ("minutes", "published_on", "committee.minutes"))
    values = {field: "", day_field: str(workdays.local_date(now))}
    errors: dict[str, str] = {}
    refused, status = "", 200
    if request.method == "POST":
        values = {k: request.form.get(k, "")[:4000] for k in (field, day_field)}
        try:
            outcome = commands.run(command, f"{kind[:-1]}:{record}", values)
        except Invalid as exc:
            errors, status = exc.errors, 422
        else:
            if outcome.ok:
                return redirect(url_for("committee.record", kind=kind, record=record), 303)
            if outcome.result.get("reason") == "forbidden":
                abort(403)
            refused, status = _(outcome.result.get("message", "")), 409
            row = _load(table, record)
    listed = (committee.submissions if kind == "submissions" else committee.meetings)(
        db, row["estate_id"], now)
    shown = next((r for r in listed if r["id"] == record), {**row, "due": None,
                                                            "overdue": False})
    return render_template("committee/record.html", kind=kind, row=shown, field=field,
                           command=command,
                           day_field=day_field, values=values, errors=errors,
                           refused=refused), status
