"""Checking signed records: each sign-off and callback record's sealed snapshot against
the content rebuilt from the rows as they are now (domain/records.py seals them), naming
the fields that differ; records sealed under the old rule are checked under it."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlite_utils import Database

from . import callbacks, files
from .jobs import get_job, list_rows, signed_record_hash
from .records import (
    FORMAT,
    Status,
    callback_content,
    legacy_last,
    sealed,
    visit_content,
    visit_of,
)


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
        visit = visit_of(job)
    else:
        row = _visit_row(db, sig["job_id"], number)
        visit = visit_of(row) if row else {}
    now = visit_content(db, job or {"id": sig["job_id"]}, visit, sig, number, then["upto"])
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
    as_signed = {**job, **(visit_of(visit) if visit else {})}
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
