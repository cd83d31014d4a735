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

import functools
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlite_utils import Database

from . import callbacks, files, job_facts
from .jobs import get_job, list_rows, signed_record_hash
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
    return _job_content(db, job, _visit_of(job), signoff, job["rework_count"] + 1, upto)


def _visit_of(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in VISIT_FIELDS}


def _job_content(db: Database, job: Mapping[str, Any], visit: Mapping[str, Any],
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


# --- checking ------------------------------------------------------------------------


@dataclass
class Check:
    """One record's check: `changed` names what differs from what was sealed."""

    kind: Literal["job", "callback"]
    record_id: int
    label: str
    status: Status
    changed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("verified", "old_format")


def _flat(content: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted field names to values; lists stay whole (photos, notes)."""
    if not isinstance(content, dict):
        return {prefix: content}
    out: dict[str, Any] = {}
    for k, v in content.items():
        out.update(_flat(v, f"{prefix}.{k}" if prefix else k))
    return out


def diff(sealed_content: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    return _diff_flat(_flat(dict(sealed_content)), current)


def _diff_flat(a: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    b = _flat(dict(current))
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


@functools.lru_cache(maxsize=1024)
def _opened(key: str, snapshot: str, record_hash: str
            ) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """A stored snapshot: whether its seal matches, its content, and that flattened (as
    `diff` compares it). Kept per process for the exact (key, snapshot, hash): a job page
    checks its sign-offs on every view, and this was a third of each check. A changed
    row is another entry, checked afresh; what the rows say now is read every time.
    Callers must not change what it returns."""
    then = json.loads(snapshot)
    return sealed(key, snapshot, record_hash), then, _flat(then)


def _file_changed(files_dir: Path | None, sha256: str | None) -> bool:
    """A stored file whose bytes no longer hash to its name (swapped on disk)."""
    if files_dir is None or not sha256:
        return False
    try:
        data = files.path_for(str(files_dir), sha256).read_bytes()
    except OSError:
        return True
    return hashlib.sha256(data).hexdigest() != sha256


def _visit_row(db: Database, job_id: int, number: int) -> dict[str, Any] | None:
    found = list_rows(db, "SELECT * FROM job_visits WHERE job_id = ? AND visit = ?",
                      [job_id, number])
    return found[0] if found else None


def check_signature(db: Database, key: str, sig: Mapping[str, Any],
                    files_dir: Path | None = None, photo_files: bool = True,
                    job: Mapping[str, Any] | None = None) -> Check:
    """Check one row of `signatures` against the rows as they are now; with `files_dir`,
    the signature image's bytes too, and the photos' unless `photo_files` is off (a page
    view: a few hundred kB each to hash on every view). `job`: its job, if already read."""
    if job is None:
        job = get_job(db, sig["job_id"]) or {}
    label = str(job.get("number") or f"#{sig['job_id']}")
    check = Check("job", sig["id"], label, "verified")
    record_hash, snapshot = sig.get("record_hash") or "", sig.get("snapshot") or ""
    if not record_hash.startswith(f"{FORMAT}:") and sig["id"] <= legacy_last(db, key, "job"):
        return _check_old_signature(db, sig, job, check)
    # Signed since records are sealed: without a seal that matches, a plain hash or an
    # edited snapshot was written by hand. The snapshot, if any, still says what differs.
    if not snapshot:
        check.status, check.changed = "seal_broken", ["seal"]
        return check
    seal_ok, then, then_flat = _opened(key, snapshot, record_hash)
    if not seal_ok:
        check.status, check.changed = "seal_broken", ["seal"]
    number = then["visit"]["number"]
    if job and number == job["rework_count"] + 1:
        visit = _visit_of(job)
    else:
        row = _visit_row(db, sig["job_id"], number)
        visit = _visit_of(row) if row else {}
    now = _job_content(db, job or {"id": sig["job_id"]}, visit, sig, number, then["upto"])
    check.changed += _diff_flat(then_flat, now)
    if then["signoff"]["image_sha256"] and _file_changed(files_dir, sig.get("image_sha256")):
        check.changed.append("signature_image_file")
    check.changed += [f"photo_file:{p['sha256'][:12]}" for p in now["photos"]
                      if photo_files and _file_changed(files_dir, p["sha256"])]
    if check.changed and check.status == "verified":
        check.status = "changed"
    return check


def _check_old_signature(db: Database, sig: Mapping[str, Any], job: Mapping[str, Any],
                         check: Check) -> Check:
    """Before v2: a bare SHA-256 of the job as signed (jobs.signed_record_hash). It cannot
    say which field changed; an earlier visit's times come from its history row."""
    visit = next(iter(db.query("SELECT * FROM job_visits WHERE signature_id = ?",
                               [sig["id"]])), None)
    as_signed = {**job, **(_visit_of(visit) if visit else {})}
    if visit:
        as_signed["rework_count"] = visit["visit"] - 1
    photos = [r[0] for r in db.execute("SELECT sha256 FROM job_photos WHERE job_id = ?",
                                       [sig["job_id"]])]
    if job and signed_record_hash(as_signed, photos, sig["signer_name"],
                                  sig["signed_at"]) == sig.get("record_hash"):
        check.status = "old_format"
    else:
        check.status, check.changed = "changed", ["record"]
    return check


def _task(db: Database, task_id: int) -> Mapping[str, Any]:
    return next(iter(db.query("SELECT * FROM callback_tasks WHERE id = ?", [task_id])),
                None) or {"id": task_id}


def _callback_label(db: Database, task: Mapping[str, Any]) -> str:
    """The number of the job or complaint a callback followed up (as the sheets show it)."""
    table = {"job": "jobs", "complaint": "complaints"}.get(str(task.get("source")))
    row = db.execute(f"SELECT number FROM {table} WHERE id = ?",
                     [task.get("source_id")]).fetchone() if table else None
    return str(row[0]) if row else f"#{task['id']}"


def check_callback(db: Database, key: str, rec: Mapping[str, Any],
                   files_dir: Path | None = None) -> Check:
    """Check one row of `callback_records` against the rows as they are now."""
    task = _task(db, rec["task_id"])
    check = Check("callback", rec["id"], _callback_label(db, task), "verified")
    record_hash, snapshot = rec.get("record_hash") or "", rec.get("snapshot") or ""
    ratings = rec.get("ratings") or "{}"
    current_row = {**rec, "ratings": json.loads(ratings) if isinstance(ratings, str)
                   else ratings}
    if not record_hash.startswith(f"{FORMAT}:") and rec["id"] <= legacy_last(db, key,
                                                                            "callback"):
        if callbacks.record_hash(task, current_row) == record_hash:
            check.status = "old_format"
        else:
            check.status, check.changed = "changed", ["record"]
        return check
    if not snapshot or not sealed(key, snapshot, record_hash):
        check.status, check.changed = "seal_broken", ["seal"]
        if not snapshot:
            return check
    check.changed += diff(json.loads(snapshot), callback_content(task, current_row))
    if _file_changed(files_dir, rec.get("signature_sha256")):
        check.changed.append("signature_image_file")
    if check.changed and check.status == "verified":
        check.status = "changed"
    return check


def check_job(db: Database, key: str, job_id: int, files_dir: Path | None = None,
              photo_files: bool = True, job: Mapping[str, Any] | None = None
              ) -> dict[int, Check]:
    """Each of a job's signatures by id (for its page and sheet). `job`: the job as the
    caller read it (its page has), else read here once for all its visits' signatures,
    and only if there are any (most open jobs have none)."""
    signatures = list_rows(db, "SELECT * FROM signatures WHERE job_id = ?", [job_id])
    if signatures and job is None:
        job = get_job(db, job_id) or {}
    return {s["id"]: check_signature(db, key, s, files_dir, photo_files, job)
            for s in signatures}


def verify_all(db: Database, key: str, files_dir: Path | None = None) -> list[Check]:
    """Every signed record: job sign-offs and callback records. Callback records that
    only stand for an on-site signature (no hash of their own) rest on that sign-off."""
    out = [check_signature(db, key, s, files_dir)
           for s in db.query("SELECT * FROM signatures ORDER BY id")]
    out += [check_callback(db, key, r, files_dir)
            for r in db.query("SELECT * FROM callback_records ORDER BY id")
            if not stands_on_signoff(r)]
    return out + missing(db)


def stands_on_signoff(rec: Mapping[str, Any]) -> bool:
    """A callback record the app writes when the resident's signature on site counts as the
    callback (callbacks.on_handled): it records nothing of its own, so it has no seal.
    Any other row with an empty hash, or one of these with something recorded, is checked
    (and fails): blanking a record's hash does not take it out of the check."""
    return (rec.get("method") == "signature" and not rec.get("record_hash")
            and str(rec.get("op_id") or "").startswith("signature-")
            and rec.get("ratings") in (None, "", "{}")
            and not any(rec.get(k) for k in ("comments", "signer_name", "signature_sha256",
                                              "strokes")))


def missing(db: Database) -> list[Check]:
    """Records the audit log says were made (by the same command) but that are gone."""
    jobs_gone = db.query(
        "SELECT a.id, a.entity_id, j.number FROM audit_log a LEFT JOIN jobs j"
        " ON j.id = a.entity_id WHERE a.entity = 'job' AND a.action = 'signoff' AND NOT"
        " EXISTS (SELECT 1 FROM signatures s WHERE s.op_id = a.op_id) ORDER BY a.id")
    calls_gone = db.query(
        "SELECT a.id, a.entity_id FROM audit_log a WHERE a.entity = 'callback' AND a.action"
        " IN ('done', 'not_reached', 'record_extra') AND NOT EXISTS (SELECT 1 FROM"
        " callback_records r WHERE r.op_id = a.op_id) ORDER BY a.id")
    return [
        *(Check("job", 0, r["number"] or f"#{r['entity_id']}", "missing", ["record"])
          for r in jobs_gone),
        *(Check("callback", 0, _callback_label(db, _task(db, r["entity_id"])), "missing",
                ["record"]) for r in calls_gone),
    ]
