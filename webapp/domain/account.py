"""A signed-in user's own account: changing their password (`account.password`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database
from werkzeug.security import check_password_hash

from sync import Command, Handler, Invalid, Rejected

from . import audit, people, users
from .text import N_


def validate(user: Mapping[str, Any], p: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not check_password_hash(user["password_hash"], str(p.get("current_password") or "")):
        errors["current_password"] = N_("This is not your current password.")
    password = str(p.get("password") or "")
    hints = [user["username"], user["display_name"]]
    if (weak := users.password_problem(password, hints)) is not None:
        errors["password"] = weak
    elif password != str(p.get("password_again") or ""):
        errors["password_again"] = N_("The two new passwords differ. Type them again.")
    elif check_password_hash(user["password_hash"], password):
        errors["password"] = N_("Choose a password different from the current one.")
    return errors


def password_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `account.password`: the sender's own password, which ends every
    session of theirs (the view signs this one in again)."""
    user = people.get_user(db, cmd.user_id)
    if user is None or not user["active"]:
        raise Rejected("forbidden", N_("You are not signed in."))
    if cmd.target != f"user:{user['id']}":
        raise Rejected("forbidden", N_("You can change only your own password."))
    errors = validate(user, cmd.payload)
    if errors:
        raise Invalid(errors)
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?",
               [users.hash_password(cmd.payload["password"]), user["id"]])
    users.end_sessions(db, user["id"], now)
    audit.record(db, cmd, now, "password", "user", user["id"], {"password_changed": True})
    return {"user_id": user["id"]}


HANDLERS: dict[str, Handler] = {"account.password": password_command}
