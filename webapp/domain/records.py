"""Signed records that hold up: what a resident signed for, sealed with a key kept
outside the database, and checked against the rows as they are now.

A sign-off (and a callback record) stores the content it covers as canonical JSON
(`snapshot`) and `record_hash = "v2:" + HMAC-SHA256(records key, snapshot)`. Someone
with the database alone can edit rows and even the snapshot, but cannot make a seal
that matches without the key. `check_*` compare the sealed snapshot with the content
rebuilt from the current rows and name the fields that differ. Records sealed before
(a bare SHA-256, no prefix) are checked under their old rule and reported as
`old_format`.

The handlers run inside `sync.apply` with only the database: the app registers the
key on each connection it opens as the SQL function `records_mac` (`use_key`), so the
key travels with the connection, never in a table.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from sqlite_utils import Database

from . import job_facts
from .jobs import list_rows
from .text import N_

FORMAT = "v2"
Status = Literal["verified", "old_format", "changed", "seal_broken", "missing"]

# The job's fields the resident signed for, and those of the visit (rework restarts them).
JOB_FIELDS = ("id", "number", "estate_id", "unit_id", "reporter_name", "reporter_phone",
              "source", "received_by", "received_at", "category", "job_class", "description")
VISIT_FIELDS = ("assignee_id", "accepted_at", "arrived_at", "agreed_at", "pause_reason",
                "completed_at", "work_done", "materials")
SIGNOFF_FIELDS = ("outcome", "reason", "signer_name", "signed_at", "image_sha256")
CALLBACK_FIELDS = ("method", "reached", "ratings", "satisfied", "comments", "signer_name",
                   "signature_sha256", "at", "user_id")


# What a check names, as people read it (a changed field's dotted name, or its head).
FIELD_LABELS = {
    "job.id": N_("Job"),
    "job.number": N_("Job number"),
    "job.estate_id": N_("Estate"),
    "job.unit_id": N_("Unit"),
    "job.reporter_name": N_("Reporter"),
    "job.reporter_phone": N_("Reporter's phone"),
    "job.source": N_("Source"),
    "job.received_by": N_("Received by"),
    "job.received_at": N_("Time received"),
    "job.category": N_("Category"),
    "job.job_class": N_("Type"),
    "job.description": N_("What the customer reported"),
    "visit.number": N_("Visit"),
    "visit.assignee_id": N_("Handled by"),
    "visit.accepted_at": N_("Time accepted"),
    "visit.arrived_at": N_("Time on site"),
    "visit.agreed_at": N_("Agreed time with the customer"),
    "visit.pause_reason": N_("Pause reason"),
    "visit.completed_at": N_("Time handled"),
    "visit.work_done": N_("Work done"),
    "visit.materials": N_("Materials"),
    "signoff.outcome": N_("Sign-off outcome"),
    "signoff.reason": N_("Reason for no signature"),
    "signoff.signer_name": N_("Signed by"),
    "signoff.signed_at": N_("Signing time"),
    "signoff.image_sha256": N_("Signature image"),
    "photos": N_("Photos"),
    "notes": N_("Notes"),
    "upto": N_("Records covered"),
    "task": N_("Callback task"),
    "callback.method": N_("How"),
    "callback.reached": N_("Reached?"),
    "callback.ratings": N_("Ratings"),
    "callback.satisfied": N_("Satisfied"),
    "callback.comments": N_("Comments"),
    "callback.signer_name": N_("Signed by"),
    "callback.signature_sha256": N_("Signature image"),
    "callback.at": N_("Time"),
    "callback.user_id": N_("Called back by"),
    "signature_image_file": N_("Signature image file"),
    "photo_file": N_("Photo file"),
    "seal": N_("Seal (the stored record or its hash was altered)"),
    "record": N_("Record (signed before sealing: the fields cannot be named)"),
}


STATUS_LABELS = {
    "verified": N_("Verified"),
    "old_format": N_("Old format (signed before records were sealed)"),
    "changed": N_("Changed since it was signed"),
    "seal_broken": N_("The seal does not match"),
    "missing": N_("Deleted: the audit log names it, the record is gone"),
}
KIND_LABELS = {"job": N_("Sign-off"), "callback": N_("Callback record")}


def field_label(name: str) -> str:
    """The label of a changed field (a msgid): the whole name, else its head."""
    head = name.split(":", 1)[0]
    return (FIELD_LABELS.get(name) or FIELD_LABELS.get(head)
            or FIELD_LABELS.get(head.split(".", 1)[0]) or name)


def canonical(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def mac(key: str, text: str) -> str:
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def use_key(db: Database, key: str) -> None:
    """Let this connection seal records with `key` (the SQL function `records_mac`)."""
    db.register_function(lambda text: mac(key, text), deterministic=True, replace=True,
                         name="records_mac")


def seal(db: Database, snapshot: str) -> str:
    """The record hash of a snapshot, with the key the connection was opened with."""
    try:
        digest = db.execute("SELECT records_mac(?)", [snapshot]).fetchone()[0]
    except sqlite3.OperationalError as exc:
        # A configuration fault, not bad input: never seal without the key.
        raise RuntimeError("this database connection has no records key (records.use_key)") \
            from exc
    return f"{FORMAT}:{digest}"


def sealed(key: str, snapshot: str, record_hash: str) -> bool:
    return hmac.compare_digest(record_hash, f"{FORMAT}:{mac(key, snapshot)}")


def legacy_text(kind: str, last_id: int) -> str:
    """What seals the last record of `kind` signed under the old rule."""
    return canonical({"legacy": kind, "last_id": last_id})


def legacy_last(db: Database, key: str, kind: str) -> int:
    """The last record id that may carry an old-format hash (0 when the sealed cut-off is
    missing or does not match: then no old hash passes)."""
    row = next(iter(db.query("SELECT * FROM records_legacy WHERE kind = ?", [kind])), None)
    if not row or not row["last_id"]:
        return 0
    return row["last_id"] if sealed(key, legacy_text(kind, row["last_id"]), row["seal"]) else 0


# --- what a job's sign-off covers -------------------------------------------------


def _photos(db: Database, job_id: int, upto: int) -> list[dict[str, Any]]:
    return list_rows(db, "SELECT id, sha256, stage FROM job_photos WHERE job_id = ?"
                         " AND id <= ? ORDER BY id", [job_id, upto])


def _notes(db: Database, job_id: int, upto: int) -> list[dict[str, Any]]:
    return list_rows(db, "SELECT id, kind, text, at, user_id FROM job_notes WHERE job_id = ?"
                         " AND id <= ? ORDER BY id", [job_id, upto])


def _last_id(db: Database, table: str, job_id: int) -> int:
    return db.execute(f"SELECT coalesce(max(id), 0) FROM {table} WHERE job_id = ?",
                      [job_id]).fetchone()[0]


def job_content(db: Database, job: Mapping[str, Any], signoff: Mapping[str, Any]) -> dict:
    """What the resident signs for at sign-off: the job, this visit, the sign-off, and
    the photos and notes on record by then (`upto`: the last of each, so that later
    rework does not count as a change)."""
    upto = {"photo": _last_id(db, "job_photos", job["id"]),
            "note": _last_id(db, "job_notes", job["id"])}
    return visit_content(db, job, visit_of(job), signoff, job["rework_count"] + 1, upto)


def visit_of(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in VISIT_FIELDS}


def visit_content(db: Database, job: Mapping[str, Any], visit: Mapping[str, Any],
                 signoff: Mapping[str, Any], number: int, upto: Mapping[str, int]) -> dict:
    return {
        "format": FORMAT,
        "record": "job",
        "job": {k: job.get(k) for k in JOB_FIELDS},
        "visit": {"number": number, **visit},
        "signoff": {k: signoff.get(k) for k in SIGNOFF_FIELDS},
        "photos": [{k: p[k] for k in ("id", "sha256", "stage")}
                   for p in _photos(db, job["id"], upto["photo"])],
        "notes": _notes(db, job["id"], upto["note"]),
        "upto": dict(upto),
    }


def callback_content(task: Mapping[str, Any], record: Mapping[str, Any]) -> dict:
    """What a callback record covers: the task it answers and what was recorded."""
    return {
        "format": FORMAT,
        "record": "callback",
        "task": {k: task.get(k) for k in ("id", "source", "source_id", "unit_id",
                                          "contact_name", "contact_phone")},
        "callback": {k: record.get(k) for k in CALLBACK_FIELDS},
    }


def add_callback(db: Database, task: Mapping[str, Any], row: Mapping[str, Any], op_id: str,
                 strokes: str | None = None) -> tuple[int, str]:
    """Store a callback record, sealed: (its id, its hash). `row` holds CALLBACK_FIELDS
    (ratings as a dict) and `user_id`."""
    snapshot = canonical(callback_content(task, row))
    digest = seal(db, snapshot)
    record_id = db.execute(
        """INSERT INTO callback_records (task_id, user_id, method, reached, ratings, satisfied,
           comments, signer_name, signature_sha256, strokes, at, record_hash, snapshot, op_id)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        [task["id"], row["user_id"], row["method"], row["reached"], json.dumps(row["ratings"]),
         row["satisfied"], row["comments"], row["signer_name"], row["signature_sha256"],
         strokes, row["at"], digest, snapshot, op_id],
    ).lastrowid
    assert record_id is not None
    if row["reached"] and row["satisfied"] is not None:
        # The task's answer is its latest record, by when it was made, that reached the
        # resident with ratings: kept on the task, so the satisfaction figures add up an
        # index, not the records. A record replayed late from a phone's outbox does not
        # displace a later answer.
        db.execute(
            "UPDATE callback_tasks SET answer_id = ?, answer_satisfied = ? WHERE id = ? AND"
            " (answer_id IS NULL OR (SELECT at FROM callback_records WHERE id = answer_id)"
            " <= ?)", [record_id, int(row["satisfied"]), task["id"], row["at"]])
    if task.get("source") == "job" and task.get("source_id"):
        # What the callback heard is one of the job's facts (pass rate, satisfaction).
        job_facts.settle(db, int(task["source_id"]), datetime.fromisoformat(row["at"]))
    return record_id, digest
