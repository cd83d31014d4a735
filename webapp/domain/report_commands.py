"""The reports' commands (domain/reports.py says what a report holds):

- `report.draft` (target `estate:<id>`, payload kind, period): a draft of the period, made
  by a manager on demand or by the schedule (a command with no user); the estate's
  managers are told, in the same transaction;
- `report.text` (target `report:<id>`): the manager's analysis and improvement measures;
- `report.issue` (target `report:<id>`, payload `early` "1" to issue before the period
  has ended): freeze it: the figures computed now, stored as the snapshot with its hash
  and the rendered document;
- `report.correct` (target `report:<id>`, an issued one): a new version as a draft.

The document is rendered by the web layer (templates, translations), which hands its
renderer to `use_renderer`: the domain imports no Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Invalid, Rejected, fields

from . import audit, notifications, people, reports
from .jobs import iso
from .text import N_

TEXT_LIMIT = 5000  # each of the analysis and the measures, in characters
# Issued before its month (or year) ends, a report leaves out the rest of it for good: a
# manager may mean to (the month's meeting is on the 28th), but says so.
NOT_ENDED = N_("This period has not ended yet: work after issuing will not be in the "
               "report. Tick the box to issue it early anyway, or wait until it ends.")
Render = Callable[[Mapping[str, Any]], str]  # a snapshot (with its hash) → the document
_renderer: dict[str, Render] = {}


def use_renderer(render: Render) -> None:
    """The function that renders an issued report's document (the web app sets it)."""
    _renderer["html"] = render


def _manager(db: Database, cmd: Command) -> dict[str, Any]:
    return people.actor(db, cmd, "report.manage")



def _report(db: Database, cmd: Command) -> tuple[dict[str, Any], dict[str, Any]]:
    """The signed-in manager and the report the command names, in an estate they serve."""
    user = _manager(db, cmd)
    report = reports.get(db, fields.target_id(cmd.target, "target", N_("Unknown report.")))
    if report is None:
        raise Invalid({"target": N_("Unknown report.")})
    people.require_estate(db, user["id"], report["estate_id"])
    return user, report


def _draft_only(report: Mapping[str, Any], cmd: Command) -> None:
    if report["status"] != "draft":
        raise Rejected("issued", N_("This report is issued and can no longer change. "
                                    "Make a corrected version instead."))
    if cmd.base_version is not None and cmd.base_version != report["row_version"]:
        raise Rejected("stale", N_("Someone changed this report since you opened it. "
                                   "Look at it again, then send your change."))


def _insert_draft(db: Database, estate_id: int, kind: str, period: str, version: int,
                  user_id: int | None, now: datetime, analysis: str = "",
                  measures: str = "") -> int:
    at = iso(now)
    return db.execute(
        "INSERT INTO reports (estate_id, kind, period, version, status, analysis, measures,"
        " created_at, created_by, updated_at) VALUES (?,?,?,?,'draft',?,?,?,?,?)",
        [estate_id, kind, period, version, analysis, measures, at, user_id, at]).lastrowid


def _announce(db: Database, cmd: Command, report_id: int, estate_id: int, period: str,
              now: datetime) -> None:
    estate = db.execute("SELECT name FROM estates WHERE id = ?", [estate_id]).fetchone()[0]
    notifications.announce(db, "report.drafted", target=f"report:{report_id}",
                           estate_id=estate_id, params={"period": period, "estate": estate},
                           now=now, op_id=cmd.op_id, actor=cmd.user_id,
                           dedupe=f"report.drafted:{report_id}")


def draft_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `report.draft`. A period that has a report already returns it
    (created False): the schedule and a manager may ask for the same month."""
    user = None if cmd.user_id is None and cmd.device_id == "schedule" \
        else _manager(db, cmd)
    kind_, _, raw_id = cmd.target.partition(":")
    estate_id = fields.maybe_id(raw_id)
    if kind_ != "estate" or estate_id is None or \
            db.execute("SELECT 1 FROM estates WHERE id = ?", [estate_id]).fetchone() is None:
        raise Invalid({"estate_id": N_("Choose one of your estates.")})
    if user is not None:
        people.require_estate(db, user["id"], estate_id)
    kind, key = str(cmd.payload.get("kind") or ""), str(cmd.payload.get("period") or "")
    try:
        period = reports.parse_period(kind, key, now).key
    except ValueError:
        raise Invalid({"period": N_("Choose a month or a year that has begun, "
                                    "as 2026-11 or 2026.")}) from None
    found = reports.latest(db, estate_id, kind, period)
    if found is not None:
        return {"report_id": found["id"], "created": False}
    report_id = _insert_draft(db, estate_id, kind, period, 1, cmd.user_id, now)
    audit.record(db, cmd, now, "draft", "report", report_id, {"kind": kind, "period": period})
    _announce(db, cmd, report_id, estate_id, period, now)
    return {"report_id": report_id, "created": True}


def text_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `report.text`: payload analysis, measures (each up to TEXT_LIMIT)."""
    _, report = _report(db, cmd)
    values = {}
    for name in ("analysis", "measures"):
        value = cmd.payload.get(name)
        value = value.strip() if isinstance(value, str) else ""
        if len(value) > TEXT_LIMIT:
            raise Invalid({name: N_("At most 5000 characters. Shorten it and send it again.")})
        values[name] = value
    _draft_only(report, cmd)
    db.execute("UPDATE reports SET analysis = ?, measures = ?, updated_at = ?,"
               " row_version = row_version + 1 WHERE id = ?",
               [values["analysis"], values["measures"], iso(now), report["id"]])
    audit.record(db, cmd, now, "text", "report", report["id"], {})
    return {"report_id": report["id"], "row_version": report["row_version"] + 1}


def issue_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `report.issue`: the figures computed now, frozen with the manager's
    text; the document rendered from that snapshot. Refused without the analysis."""
    user, report = _report(db, cmd)
    _draft_only(report, cmd)
    if not report["analysis"].strip() or not report["measures"].strip():
        raise Rejected("no_analysis", N_("Write the analysis and the improvement measures "
                                         "before issuing the report."))
    early = reports.last_day_ahead(report["kind"], report["period"], now)
    if early is not None and cmd.payload.get("early") not in ("1", 1, True):
        raise Invalid({"early": NOT_ENDED})
    render = _renderer.get("html")
    if render is None:
        raise RuntimeError("no report renderer: the web app sets one (use_renderer)")
    period = reports.parse_period(report["kind"], report["period"], now)
    body = reports.contents(db, report["estate_id"], report["kind"], period, now)
    snap = reports.snapshot(report, body, user["display_name"], now)
    stored = reports.canonical(snap).decode("utf-8")
    sha256 = reports.digest(snap)
    document = render({**snap, "sha256": sha256, "status": "issued"})
    db.execute(
        "UPDATE reports SET status = 'issued', issued_at = ?, issued_by = ?, snapshot = ?,"
        " sha256 = ?, html = ?, updated_at = ?, row_version = row_version + 1 WHERE id = ?",
        [iso(now), user["id"], stored, sha256, reports.compress(document), iso(now),
         report["id"]])
    audit.record(db, cmd, now, "issue", "report", report["id"],
                 {"sha256": sha256, "early": early is not None})
    return {"report_id": report["id"], "sha256": sha256}


def correct_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `report.correct`: a new version of an issued report, as a draft with
    its text to correct (the issued one stays as it was)."""
    user, report = _report(db, cmd)
    newest = reports.latest(db, report["estate_id"], report["kind"], report["period"])
    if report["status"] != "issued" or newest is None or newest["id"] != report["id"]:
        raise Rejected("not_latest", N_("Only the newest issued version can be corrected."))
    report_id = _insert_draft(db, report["estate_id"], report["kind"], report["period"],
                              report["version"] + 1, user["id"], now, report["analysis"],
                              report["measures"])
    audit.record(db, cmd, now, "correct", "report", report_id,
                 {"corrects": report["id"], "version": report["version"] + 1})
    return {"report_id": report_id, "created": True}


HANDLERS = {
    "report.draft": draft_command,
    "report.text": text_command,
    "report.issue": issue_command,
    "report.correct": correct_command,
}
