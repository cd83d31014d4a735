"""The audit log: who changed what, when, from which device, online or replayed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command


def record(
    db: Database,
    cmd: Command,
    now: datetime,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    db.execute(
        "INSERT INTO audit_log (at, user_id, device_id, replayed, action, entity, entity_id,"
        " op_id, detail) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            now.isoformat(timespec="seconds"),
            cmd.user_id,
            cmd.device_id,
            int(cmd.replayed),
            action,
            entity,
            entity_id,
            cmd.op_id,
            json.dumps(detail or {}, ensure_ascii=False, default=str),
        ],
    )



def history(db: Database, entity: str, entity_id: int,
            notes: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """A record's history in the order the server applied it: each audited step with its
    detail, the time it was done, and the notes (`op_id`, `text`) written by the same
    command."""
    by_op: dict[str, list[str]] = {}
    for n in notes:
        by_op.setdefault(n["op_id"], []).append(n["text"])
    # When the step was done (a step sent later from a phone arrives after it), else
    # when the server recorded it.
    # Read without the savepoint db.query() puts around a statement (jobs.list_rows).
    cursor = db.execute(
        "SELECT coalesce(c.acted_at, a.at) AS at, a.action, a.replayed, a.op_id, a.detail,"
        " u.display_name FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
        " LEFT JOIN commands c ON c.op_id = a.op_id"
        " WHERE a.entity = ? AND a.entity_id = ? ORDER BY a.id", [entity, entity_id])
    keys = [d[0] for d in cursor.description]
    entries = [dict(zip(keys, row, strict=True)) for row in cursor]
    # Every command that writes a note also records its step here (the handlers'
    # `_done`/`audit.record`), so no note is left without an entry to show it under.
    for e in entries:
        e["notes"] = by_op.pop(e["op_id"], [])
        e["detail"] = json.loads(e["detail"] or "{}")
    return entries
