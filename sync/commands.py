"""Idempotent application of commands.

A command is stored with its result in the same transaction as its effects, so
applying the same op_id again returns the first result and changes nothing.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlite_utils import Database

OP_ID = re.compile(r"^[0-9a-fA-F-]{16,64}$")
# Payload fields never written to the command log (a password being set, or the one
# typed to prove who is changing it).
REDACTED = frozenset({"password", "password_again", "current_password"})


@dataclass(frozen=True)
class Command:
    op_id: str
    kind: str
    target: str
    payload: Mapping[str, Any]
    user_id: int | None
    device_id: str = ""
    device_time: datetime | None = None
    base_version: int | None = None
    replayed: bool = False
    # When the worker acted, corrected to the server's clock (None: now).
    acted_at: datetime | None = None


@dataclass
class Outcome:
    status: Literal["applied", "duplicate", "rejected"]
    result: dict[str, Any] = field(default_factory=dict)
    # For a duplicate: what the first application's status was.
    first_status: str | None = None

    @property
    def ok(self) -> bool:
        first = self.first_status or self.status
        return first == "applied"


class Invalid(Exception):
    """Bad input: nothing is stored, the user fixes the form and resends the same op_id."""

    def __init__(self, errors: Mapping[str, Any]):
        super().__init__(dict(errors))
        self.errors = dict(errors)


class Rejected(Exception):
    """A state change that no longer fits. It is recorded, so a replay gets the same answer."""

    def __init__(self, code: str, message: str, current: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.current = dict(current or {})


Handler = Callable[[Database, Command, datetime], dict[str, Any]]


def acted_time(cmd: Command, now: datetime) -> datetime:
    """The time a fact happened: when the worker acted, else when the server got it."""
    return cmd.acted_at or now


def parse_device_time(value: str | None) -> datetime | None:
    """Parse the device's ISO time; None when missing or unreadable (a fact we can live without)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _stored(row: dict[str, Any]) -> Outcome:
    return Outcome("duplicate", json.loads(row["result"]), first_status=row["outcome"])


def apply(
    db: Database, cmd: Command, handlers: Mapping[str, Handler], now: datetime
) -> Outcome:
    """Apply `cmd` exactly once. Raises Invalid for bad input (nothing stored)."""
    if not OP_ID.match(cmd.op_id or ""):
        raise Invalid({"op_id": "missing or malformed op_id"})
    handler = handlers.get(cmd.kind)
    if handler is None:
        raise Invalid({"kind": f"unknown command {cmd.kind!r}"})
    try:
        return _apply_once(db, cmd, handler, now)
    except sqlite3.IntegrityError:
        # Another process stored the same op_id between our check and insert.
        row = _find(db, cmd.op_id)
        if row is None:
            raise
        return _stored(row)


def _find(db: Database, op_id: str) -> dict[str, Any] | None:
    return next(iter(db.query("SELECT * FROM commands WHERE op_id = ?", [op_id])), None)


def _apply_once(db: Database, cmd: Command, handler: Handler, now: datetime) -> Outcome:
    db.execute("BEGIN IMMEDIATE")
    try:
        row = _find(db, cmd.op_id)
        if row is not None:
            db.rollback()
            if row["user_id"] != cmd.user_id or row["kind"] != cmd.kind:
                return Outcome(
                    "rejected",
                    {"reason": "op_id_reused", "message": "op_id belongs to another command"},
                )
            return _stored(row)
        db.execute("SAVEPOINT handler")
        try:
            result = handler(db, cmd, now)
            status: Literal["applied", "rejected"] = "applied"
            db.execute("RELEASE SAVEPOINT handler")
        except Rejected as rej:
            db.execute("ROLLBACK TO SAVEPOINT handler")
            db.execute("RELEASE SAVEPOINT handler")
            result = {"reason": rej.code, "message": rej.message, "current": rej.current}
            status = "rejected"
        if result.pop("_rejected", False):
            # A handler that kept the facts but refused the state change.
            status = "rejected"
        db.execute(
            """INSERT INTO commands (op_id, kind, target, user_id, device_id, device_time,
               received_at, base_version, replayed, payload, outcome, result, acted_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            [
                cmd.op_id,
                cmd.kind,
                cmd.target,
                cmd.user_id,
                cmd.device_id,
                _iso(cmd.device_time),
                _iso(now),
                cmd.base_version,
                int(cmd.replayed),
                json.dumps(
                    {k: "***" if k in REDACTED else v for k, v in cmd.payload.items()},
                    ensure_ascii=False,
                    default=str,
                ),
                status,
                json.dumps(result, ensure_ascii=False, default=str),
                _iso(cmd.acted_at),
            ],
        )
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise
    return Outcome(status, result)
