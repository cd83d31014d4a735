"""Idempotent application of commands.

A command is stored with its result in the same transaction as its effects, so
applying the same op_id again returns the first result and changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlite_utils import Database

from . import fields
from .errors import Invalid, Rejected

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


Handler = Callable[[Database, Command, datetime], dict[str, Any]]
# Told of a rejected outcome inside the transaction that stores it (a caller that wants
# the user told, without this package knowing who tells whom).
OnRejected = Callable[[Database, Command, dict[str, Any], datetime], None]


def acted_time(cmd: Command, now: datetime) -> datetime:
    """The time a fact happened: when the worker acted, else when the server got it."""
    return cmd.acted_at or now


def parse_device_time(value: Any) -> datetime | None:
    """The device's ISO time as naive UTC; None when missing, unreadable or out of range
    (a fact we can live without)."""
    return fields.optional_utc(value)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _stored(row: dict[str, Any]) -> Outcome:
    return Outcome("duplicate", json.loads(row["result"]), first_status=row["outcome"])


def apply(
    db: Database, cmd: Command, handlers: Mapping[str, Handler], now: datetime,
    on_rejected: OnRejected | None = None,
) -> Outcome:
    """Apply `cmd` exactly once. Raises Invalid for bad input (nothing stored).
    `on_rejected` runs in the same transaction when the outcome is a rejection."""
    fields.op_id(cmd.op_id)
    handler = handlers.get(cmd.kind) if isinstance(cmd.kind, str) else None
    if handler is None:
        raise Invalid({"kind": fields.DAMAGED})
    # A resend of a command applied before is answered as it was, even if today's bounds
    # (or a handler's checks) would refuse its fields: exactly once means the first answer.
    # Inside a caller's transaction (a phone's batch, `together`) this read is the one
    # the command needs: nothing can store the op_id between it and the command's
    # savepoint. Outside one, it answers a resend without taking the write lock, and the
    # command asks again once it holds it.
    checked = db.conn.in_transaction
    earlier = already(db, cmd.op_id, cmd.user_id, cmd.kind)
    if earlier is not None:
        return earlier
    # Whoever built the command, what reaches the handlers and the log is bounded.
    cmd = replace(
        cmd, payload=fields.bounded(cmd.payload), target=fields.text(cmd.target, 200),
        device_id=fields.text(cmd.device_id, 64),
        base_version=fields.optional_integer(cmd.base_version, "base_version", 0,
                                             fields.MAX_ID, fields.DAMAGED))
    try:
        return _apply_once(db, cmd, handler, now, on_rejected, checked)
    except sqlite3.IntegrityError:
        # Another process stored the same op_id between our check and insert.
        row = _find(db, cmd.op_id)
        if row is None:
            raise
        return _stored(row)


@contextmanager
def together(db: Database) -> Iterator[None]:
    """Apply a phone's batch of commands in one transaction. Each command is still all or
    nothing (a savepoint of its own, undone if it fails) and exactly once (its record is
    written with its effects); what they share is the commit, which was half the time of
    applying a small command. A command that fails with an error (a bug, not a refusal)
    stops the batch as it did when each had its own transaction: those applied before it
    are kept, so one bad command cannot hold back the work queued ahead of it; the phone,
    with no answer, sends the rest again. A server that dies mid-batch keeps none of it,
    and what was kept before is answered as a duplicate."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        try:
            db.execute("COMMIT")
        except sqlite3.Error:
            db.rollback()
        raise
    db.execute("COMMIT")


def already(db: Database, op_id: Any, user_id: int | None, kind: Any) -> Outcome | None:
    """The answer to a command stored under this op_id before, or None if there is none."""
    row = _find(db, op_id) if isinstance(op_id, str) else None
    if row is None:
        return None
    if row["user_id"] != user_id or row["kind"] != kind:
        return Outcome(
            "rejected", {"reason": "op_id_reused", "message": "op_id belongs to another command"})
    return _stored(row)


def _find(db: Database, op_id: str) -> dict[str, Any] | None:
    # execute(), not query(): asked twice for every command applied, and query() wraps
    # each read in a savepoint and dedupes its keys.
    cursor = db.execute("SELECT user_id, kind, outcome, result FROM commands WHERE op_id = ?",
                        [op_id])
    row = cursor.fetchone()
    return None if row is None else dict(zip(("user_id", "kind", "outcome", "result"), row,
                                             strict=True))


def _apply_once(db: Database, cmd: Command, handler: Handler, now: datetime,
                on_rejected: OnRejected | None, checked: bool = False) -> Outcome:
    # Within `together` the command is a savepoint of the batch's transaction.
    nested = db.conn.in_transaction
    db.execute("SAVEPOINT command" if nested else "BEGIN IMMEDIATE")

    def undo() -> None:
        if nested:
            db.execute("ROLLBACK TO SAVEPOINT command")
            db.execute("RELEASE SAVEPOINT command")
        else:
            db.rollback()

    try:
        earlier = None if checked else already(db, cmd.op_id, cmd.user_id, cmd.kind)
        if earlier is not None:
            undo()
            return earlier
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
        if status == "rejected" and on_rejected is not None:
            on_rejected(db, cmd, result, now)
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
        db.execute("RELEASE SAVEPOINT command" if nested else "COMMIT")
    except BaseException:
        undo()
        raise
    return Outcome(status, result)
