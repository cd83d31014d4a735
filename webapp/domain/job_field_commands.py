"""The field worker's steps on a job: take it from the pool, accept or decline, arrive,
pause for the customer, complete and have the resident sign off. What the worker brings
from the field (being on site, the work, the signature) is a fact: kept, and the job
flagged, when the step no longer fits (DESIGN.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, acted_time, fields

from . import access, audit, callbacks, records
from .job_commands import (
    _attach,
    _check_mine,
    _current,
    _done,
    _note,
    _photos,
    _step,
    _text,
    _update,
)
from .jobs import N_, iso


def claim(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, job = _step(db, cmd, "job.field")
    if job["status"] == "pooled" and job["department"] != user["department"]:
        raise Rejected("forbidden", N_("This job is for another department."), _current(job))
    if job["status"] != "pooled":
        # Two workers went for the same job: the desk should know.
        taken = Rejected("taken", N_("Someone else already took this job."), _current(job))
        return _keep_facts(db, cmd, job, taken, now)
    _update(db, job, now, status="accepted", assignee_id=user["id"],
            accepted_at=iso(acted_time(cmd, now)))
    return _done(db, cmd, now, job, "claim")


def _simple_step(status: str, stamp: str, is_fact: bool) -> Handler:
    """A step with no input: the worker's own job moves to `status`, stamped with the time.

    When the step is a fact (being on site), a refusal still records it and flags the job.
    """

    def handler(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
        user, job = _step(db, cmd, "job.field")
        try:
            _check_mine(cmd, job, user)
        except Rejected as exc:
            if is_fact:
                return _keep_facts(db, cmd, job, exc, now)
            raise
        _update(db, job, now, status=status, **{stamp: iso(acted_time(cmd, now))})
        return _done(db, cmd, now, job, cmd.kind.split(".", 1)[1])

    return handler


accept = _simple_step("accepted", "accepted_at", is_fact=False)
arrive = _simple_step("arrived", "arrived_at", is_fact=True)


def decline(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, job = _step(db, cmd, "job.field")
    reason = _text(cmd.payload, "reason", 500)
    if not reason:
        raise Invalid({"reason": N_("Say why you decline.")})
    _note(db, cmd, job["id"], "decline", reason, now)
    try:
        _check_mine(cmd, job, user)
    except Rejected as exc:
        return _keep_facts(db, cmd, job, exc, now)
    _update(db, job, now, status="new", assignee_id=None)
    return _done(db, cmd, now, job, "decline", reason=reason)


def pause(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, job = _step(db, cmd, "job.field")
    reason = _text(cmd.payload, "reason", 500)
    errors = {}
    if not reason:
        errors["reason"] = N_("Say what the customer asked for.")
    try:  # a time of the kit's years, as the form's local time made UTC
        agreed = fields.utc(cmd.payload.get("agreed_at"), "agreed_at",
                            N_("Enter the new time agreed with the customer."))
    except Invalid as exc:
        agreed = None
        errors.update(exc.errors)
    if agreed is not None and agreed <= acted_time(cmd, now):
        errors["agreed_at"] = N_("The agreed time must be in the future.")
    if errors:
        raise Invalid(errors)
    assert agreed is not None
    _note(db, cmd, job["id"], "pause", reason, now)
    try:
        _check_mine(cmd, job, user)
    except Rejected as exc:
        return _keep_facts(db, cmd, job, exc, now)
    _update(db, job, now, status="paused", agreed_at=iso(agreed), pause_reason=reason)
    return _done(db, cmd, now, job, "pause", reason=reason, agreed_at=iso(agreed))


def _keep_facts(db: Database, cmd: Command, job: dict, exc: Rejected, now: datetime) -> dict:
    """Store what the worker brought from the field, flag the job, refuse the state change."""
    db.execute("UPDATE jobs SET flagged = 1 WHERE id = ?", [job["id"]])
    audit.record(db, cmd, now, "flag", "job", job["id"], {
        "reason": exc.code, "kind": cmd.kind,
        "acted_at": iso(acted_time(cmd, now)), "base_version": cmd.base_version,
    })
    return {
        "_rejected": True, "reason": exc.code, "message": exc.message,
        "current": exc.current, "kept": True,
    }


def complete(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, job = _step(db, cmd, "job.field")
    work = _text(cmd.payload, "work_done")
    if not work:
        raise Invalid({"work_done": N_("Describe the work done.")})
    materials = _text(cmd.payload, "materials", 500)
    photos = _photos(db, cmd)
    # Facts first: the work notes and photos are kept whatever the job's state.
    _note(db, cmd, job["id"], "work", work + (f"\n{materials}" if materials else ""), now)
    _attach(db, cmd, job["id"], photos, "completion")
    try:
        _check_mine(cmd, job, user)
    except Rejected as exc:
        return _keep_facts(db, cmd, job, exc, now)
    _update(db, job, now, status="completed", completed_at=iso(acted_time(cmd, now)),
            work_done=work,
            materials=materials)
    return _done(db, cmd, now, job, "complete", photos=len(photos))


def signoff(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, job = _step(db, cmd, "job.field")
    p = cmd.payload
    outcome = p.get("outcome")
    signer = _text(p, "signer_name", 50)
    reason = _text(p, "reason", 500)
    image = str(p.get("signature_image") or "")
    if outcome == "signed":
        errors = {}
        if not signer:
            errors["signer_name"] = N_("Enter the name of the person signing.")
        if not image:
            errors["signature"] = N_("Ask the resident to sign in the box.")
        if errors:
            raise Invalid(errors)
        if access.unusable_files(db, cmd.user_id, [image]):
            raise Invalid({"signature": N_("The signature has not been uploaded yet.")})
    elif outcome in ("absent", "refused"):
        if not reason:
            raise Invalid({"reason": N_("Say why there is no signature.")})
        # No signature, so no image: a hash sent along would attach a file unchecked.
        image = ""
    else:
        raise Invalid({"outcome": N_("Choose signed, absent or refused.")})
    # The resident's ratings beside the signature (the callback's, where the estate
    # counts the signature as the callback); none from a page kept before they were asked.
    ratings = callbacks.parse_ratings(p, "job") if outcome == "signed" else {}
    # A rating left out never costs the signature: a sign-off made with no signal is
    # checked only when the signal is back, after the resident has gone.
    at = iso(acted_time(cmd, now))
    # Sealed with the records key: what the resident signed for (domain/records.py).
    snapshot = records.canonical(records.job_content(db, job, {
        "outcome": outcome, "reason": reason, "signer_name": signer, "signed_at": at,
        "image_sha256": image or None}))
    record_hash = records.seal(db, snapshot)
    signature_id = db.execute(
        "INSERT INTO signatures (job_id, signer_name, outcome, reason, strokes, image_sha256,"
        " signed_at, record_hash, snapshot, op_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [job["id"], signer, outcome, reason, (image and p.get("strokes")) or None,
         image or None, at,
         record_hash, snapshot, cmd.op_id],
    ).lastrowid
    try:
        _check_mine(cmd, job, user)
    except Rejected as exc:
        return _keep_facts(db, cmd, job, exc, now)
    _update(db, job, now, status="closed", closed_at=at)
    callbacks.on_handled(
        db, estate_id=job["estate_id"], source="job", source_id=job["id"],
        unit_id=job["unit_id"], contact_name=job["reporter_name"],
        contact_phone=job["reporter_phone"], received_by=job["received_by"], major=False,
        handled_at=acted_time(cmd, now),
        signature={"id": signature_id, "signer_name": signer, "image_sha256": image,
                   "user_id": user["id"], "ratings": ratings} if outcome == "signed" else None,
    )
    result = _done(db, cmd, now, job, "signoff", outcome=outcome, record_hash=record_hash)
    result["record_hash"] = record_hash
    return result


HANDLERS: dict[str, Handler] = {
    "job.claim": claim,
    "job.accept": accept,
    "job.decline": decline,
    "job.arrive": arrive,
    "job.pause": pause,
    "job.complete": complete,
    "job.signoff": signoff,
}
