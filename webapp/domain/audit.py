"""The audit log: who changed what, when, from which device, online or replayed."""

from __future__ import annotations

import json
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

