"""The callback record: reached or not, ratings, comments, a visit's signature; and the
one-step follow-up of an unsatisfied answer (rework or a new complaint)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, acted_time, fields

from . import access, audit, callbacks, complaint_commands, jobs, people, records
from .job_commands import reopen_job
from .settings import estate_settings
from .text import N_


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _text(p: Any, key: str, limit: int = 2000) -> str:
    return fields.text(p.get(key), limit).strip()


def _may_record(user: dict[str, Any], task: dict[str, Any]) -> bool:
    """A clerk records on their own or their pool's tasks; the manager level on any of
    the estate's (they hand out and check the work)."""
    return callbacks.can_take(user, task) or user["role"] in ("manager", "admin")


def record(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Record one callback attempt. The record is a fact: it is kept even when the task was
    already done by someone else; only an open task changes state."""
    user = people.actor(db, cmd, "callback.work")
    try:
        task = callbacks.get_task(db, fields.target_id(cmd.target))
    except Invalid:
        task = None
    if task is None:
        raise Invalid({"target": N_("Unknown callback.")})
    people.require_estate(db, user["id"], task["estate_id"])
    theirs = task["status"] == "open" and not _may_record(user, task)
    if theirs and not cmd.replayed:
        raise Rejected("not_yours", N_("This callback is someone else's task: ask them or "
                                       "the desk to hand it to you first."))
    p = cmd.payload
    method = p.get("method")
    if method not in ("phone", "sms", "email", "visit"):
        raise Invalid({"method": N_("Choose how you called back.")})
    reached = p.get("reached") in ("1", 1, True)
    ratings = callbacks.parse_ratings(p, task["source"]) if reached else {}
    follow = str(p.get("follow_up") or "")
    errors: dict[str, str] = {}
    if reached and not ratings:
        errors["ratings"] = N_("Record at least the overall satisfaction.")
    signer, image = _text(p, "signer_name", 50), str(p.get("signature_image") or "")
    if reached and method == "visit":
        if not signer:
            errors["signer_name"] = N_("Enter the name of the person signing.")
        if not image:
            errors["signature"] = N_("Ask the resident to sign in the box.")
        elif access.unusable_files(db, cmd.user_id, [image]):
            errors["signature"] = N_("The signature has not been uploaded yet.")
    else:
        # Only a visit is signed: a hash sent along otherwise would attach a file unchecked.
        image = ""
    unhappy = callbacks.satisfied(ratings) is False
    if follow and follow not in ("rework", "complaint"):
        errors["follow_up"] = N_("Choose rework or a new complaint.")
    if follow == "rework" and task["source"] != "job":
        errors["follow_up"] = N_("Only a repair job can be reopened.")
    if follow and not unhappy:
        errors["follow_up"] = N_("Only an unsatisfied answer leads to rework or a complaint.")
    if errors:
        raise Invalid(errors)
    at = iso(acted_time(cmd, now))
    row = {"method": method, "reached": int(reached), "ratings": ratings,
           "comments": _text(p, "comments"), "signer_name": signer,
           "signature_sha256": image or None, "at": at, "user_id": user["id"]}
    row["satisfied"] = None if not ratings else int(not unhappy)
    # Sealed with the records key (domain/records.py).
    record_id, digest = records.add_callback(db, task, row, cmd.op_id,
                                             (image and p.get("strokes")) or None)
    result: dict[str, Any] = {"task_id": task["id"], "record_id": record_id,
                              "record_hash": digest}
    if task["status"] != "open":
        audit.record(db, cmd, now, "record_extra", "callback", task["id"], {"reached": reached})
        return {**result, "status": task["status"], "already_done": True}
    if not reached:
        retry = estate_settings(db, task["estate_id"])["callback_retry_hours"]
        db.execute("UPDATE callback_tasks SET attempts = attempts + 1, next_try_at = ?, "
                   "version = version + 1 WHERE id = ?",
                   [iso(acted_time(cmd, now) + timedelta(hours=retry)), task["id"]])
        audit.record(db, cmd, now, "not_reached", "callback", task["id"], {"method": method})
        return {**result, "status": "open"}
    callbacks.close_task(db, task["id"], at, user["id"])
    # A call made from the outbox on another's task happened: it is kept and closes the
    # task (calling the household twice helps nobody); the task's history shows who made it.
    audit.record(db, cmd, now, "done", "callback", task["id"],
                 {"method": method, "satisfied": not unhappy, "ratings": ratings,
                  **({"owner": task["assignee_id"] or task["pool"]} if theirs else {})})
    if follow:
        result.update(_follow_up(db, cmd, task, follow, row["comments"], user, now, record_id))
    return {**result, "status": "done", "satisfied": not unhappy}


def _follow_up(db: Database, cmd: Command, task: dict, follow: str, comments: str,
               user: dict, now: datetime, record_id: int) -> dict[str, Any]:
    reason = comments or N_("Unsatisfied at the callback.")
    if follow == "rework":
        job = jobs.get_job(db, task["source_id"])
        if job is None or not jobs.allowed("job.reopen", job["status"]):
            raise Rejected("illegal_transition", N_("This job cannot be reopened now."))
        reopen_job(db, cmd, job, reason, "resident", now)
        link = ("job", job["id"])
    else:
        payload = {
            "estate_id": task["estate_id"], "unit_id": task["unit_id"],
            "complainant_name": task["contact_name"] or "—",
            "contact": task["contact_phone"] or "—", "channel": "callback",
            "identity": "owner", "category": _category_of(db, task), "level": "minor",
            "content": reason, "photos": [],
        }
        sub = Command(op_id=cmd.op_id, kind="complaint.create", target="complaint:new",
                      payload=payload, user_id=cmd.user_id, device_id=cmd.device_id,
                      replayed=cmd.replayed, acted_at=cmd.acted_at)
        cid = complaint_commands.create_complaint(db, sub, user, now,
                                                  source_callback_id=task["id"])
        link = ("complaint", cid)
    db.execute("UPDATE callback_records SET follow_up = ?, follow_up_id = ? WHERE id = ?",
               [link[0], link[1], record_id])
    return {"follow_up": link[0], "follow_up_id": link[1]}


def _category_of(db: Database, task: dict) -> str:
    """A complaint from a job's callback is about repairs; otherwise about service."""
    return "repairs" if task["source"] == "job" else "service"


HANDLERS: dict[str, Handler] = {"callback.record": record}
