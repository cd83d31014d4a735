"""A resident following their report from a QR code (/t/<code>): how far the job got,
without anyone's name or phone, and once it is signed off their rating, which counts as
the callback's where the estate counts the resident's signature as the callback
(docs/DOMAIN.md: ratings given on the tracking page)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected

from . import audit, callbacks, records
from .settings import estate_settings
from .text import N_

# Read out over the phone or copied by hand: no 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
CODE = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")
METHOD = "tracking"

# How far a job got, as a resident follows it: each step and the column that dates it.
STEPS = (
    ("received", N_("Report received"), "received_at"),
    ("dispatched", N_("Sent to the repair team"), "dispatched_at"),
    ("accepted", N_("A technician took it"), "accepted_at"),
    ("arrived", N_("The technician is on site"), "arrived_at"),
    ("done", N_("Work done"), "completed_at"),
)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """The code as people read it: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def read(text: str) -> str | None:
    """A typed code (any case, dashes and spaces) as stored, or None."""
    code = re.sub(r"[\s\-]", "", text or "").upper()
    return code if CODE.match(code) else None


def job(db: Database, code: str) -> dict[str, Any] | None:
    """The job of a code: what a resident may see of it (no names, no phones)."""
    return next(iter(db.query(
        "SELECT j.id, j.number, j.estate_id, j.status, j.received_at, j.dispatched_at,"
        " j.accepted_at, j.arrived_at, j.completed_at, j.closed_at, j.track_code,"
        " e.name AS estate_name FROM jobs j JOIN estates e ON e.id = j.estate_id"
        " WHERE j.track_code = ?", [code])), None)


def steps(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "label": label, "at": row[column]} for key, label, column in STEPS]


def rating(db: Database, job_id: int) -> dict[str, Any] | None:
    """The resident's rating from this page, if they gave one."""
    return next(iter(db.query(
        "SELECT r.* FROM callback_records r JOIN callback_tasks t ON t.id = r.task_id"
        " WHERE t.source = 'job' AND t.source_id = ? AND r.method = ?", [job_id, METHOD])),
        None)


def _task(db: Database, job_id: int) -> dict[str, Any] | None:
    found = db.execute("SELECT id FROM callback_tasks WHERE source = 'job' AND source_id = ?"
                       " AND kind = 'information' ORDER BY id DESC LIMIT 1", [job_id]).fetchone()
    return callbacks.get_task(db, found[0]) if found else None


def rate_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `public.rate` (target `track:<code>`, no user): once per job, after the
    sign-off. Where the estate counts the signature as the callback, the rating is the
    callback's and closes an open task; elsewhere the clerk still calls, and the rating
    is kept beside it."""
    code = read(cmd.target.partition(":")[2])
    row = job(db, code) if code else None
    if row is None:
        raise Invalid({"target": N_("Unknown report.")})
    ratings = callbacks.parse_ratings(cmd.payload, "job")
    if "overall" not in ratings:
        raise Invalid({"rating_overall": N_("Choose how satisfied you are.")})
    task = _task(db, row["id"])
    if row["status"] != "closed" or task is None:
        raise Rejected("not_yet", N_("You can rate the work once it is signed off."))
    if rating(db, row["id"]) is not None:
        raise Rejected("rated", N_("This report has been rated already. Thank you."))
    at = now.isoformat(timespec="seconds")
    record = {"method": METHOD, "reached": 1, "ratings": ratings,
              "satisfied": int(bool(callbacks.satisfied(ratings))), "comments": "",
              "signer_name": "", "signature_sha256": None, "at": at, "user_id": None}
    record_id, _digest = records.add_callback(db, task, record, cmd.op_id)
    counts = bool(estate_settings(db, row["estate_id"])["signature_counts_as_callback"])
    if counts and task["status"] == "open":
        callbacks.close_task(db, task["id"], at, None)
    audit.record(db, cmd, now, "rate", "job", row["id"], {"ratings": ratings})
    return {"job_id": row["id"], "record_id": record_id}


HANDLERS: dict[str, Handler] = {"public.rate": rate_command}
