"""Staff accounts: validation and the `user.save` command an administrator sends."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from sync import Command, Invalid, Rejected
from sync.fields import target_id

from . import audit, people, phones
from .text import N_


def hash_password(password: str) -> str:
    """The one way a password is stored: scrypt, werkzeug's default."""
    return generate_password_hash(password)

USERNAME = re.compile(r"^[a-z0-9_.-]{3,32}$")
MIN_PASSWORD = 8
# zxcvbn's scale: 3 is "safely unguessable: moderate protection from offline attacks".
MIN_STRENGTH = 3


def password_problem(password: str, hints: list[str]) -> str | None:
    """Why a password is too weak (a msgid), or None: the one rule for every account.
    `hints` are words an attacker would try first: the username, the person's name,
    the estate's name and code."""
    if len(password) < MIN_PASSWORD:
        return N_("At least 8 characters.")
    if zxcvbn(password, user_inputs=[h for h in hints if h])["score"] < MIN_STRENGTH:
        return N_("This password is too easy to guess: use a longer one, or several words.")
    return None


def end_sessions(db: Database, user_id: int, now: datetime) -> None:
    """Sign the user out everywhere: every session and remember cookie carries the
    version it was issued under (auth.User.get_id), so raising it ends them all. Their
    phones stop getting their pushes too: a shared phone would show the next person the
    last one's jobs and addresses on its lock screen."""
    db.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?",
               [user_id])
    db.execute("UPDATE push_subscriptions SET gone_at = ? WHERE user_id = ? AND gone_at IS "
               "NULL", [now.isoformat(timespec="seconds"), user_id])


def list_users(db: Database, estate_ids: list[int]) -> list[dict[str, Any]]:
    """Staff who serve at least one of these estates, with their estates' names."""
    if not estate_ids:
        return []
    marks = ",".join("?" * len(estate_ids))
    return list(
        db.query(
            f"""SELECT u.id, u.username, u.display_name, u.department, u.role, u.active,
                       group_concat(e.name, '、') AS estates
                FROM users u JOIN user_estates ue ON ue.user_id = u.id
                JOIN estates e ON e.id = ue.estate_id
                WHERE u.id IN (SELECT user_id FROM user_estates WHERE estate_id IN ({marks}))
                GROUP BY u.id ORDER BY u.active DESC, u.department, u.role, u.username""",
            estate_ids,
        )
    )


def validate(
    db: Database, p: Mapping[str, Any], user_id: int | None, allowed_estates: list[int]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    username = str(p.get("username") or "").strip()
    if not USERNAME.match(username):
        errors["username"] = N_("3 to 32 lower-case letters, digits, dot, dash or underscore.")
    else:
        clash = db.execute(
            "SELECT id FROM users WHERE username = ? AND id IS NOT ?", [username, user_id]
        ).fetchone()
        if clash:
            errors["username"] = N_("This username is taken.")
    if not str(p.get("display_name") or "").strip():
        errors["display_name"] = N_("Enter the name colleagues know them by.")
    if p.get("department") not in people.DEPARTMENTS:
        errors["department"] = N_("Choose a department.")
    if p.get("role") not in people.ROLES:
        errors["role"] = N_("Choose a role.")
    estates = list(p.get("estate_ids") or [])
    if not estates or any(e not in allowed_estates for e in estates):
        errors["estate_ids"] = N_("Choose at least one of your estates.")
    phone = str(p.get("phone") or "").strip()
    if phone and (wrong := phones.problem(phone)) is not None:  # optional, but a number
        errors["phone"] = wrong
    password = str(p.get("password") or "")
    if user_id is None or password:  # empty on an edit keeps the old one
        hints = [username, str(p.get("display_name") or "").strip()]
        if (weak := password_problem(password, hints)) is not None:
            errors["password"] = weak
    return errors


def save_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Create or update a staff account (handler for `user.save`)."""
    actor = people.actor(db, cmd, "user.manage")
    user_id = (None if cmd.target == "user:new"
               else target_id(cmd.target, "target", N_("Unknown user.")))
    mine = people.estate_ids(db, actor["id"])
    if user_id is not None and not set(people.estate_ids(db, user_id)) & set(mine):
        raise Rejected("forbidden", N_("This record belongs to an estate you do not serve."))
    p = cmd.payload
    errors = validate(db, p, user_id, mine)
    if user_id == actor["id"] and (p.get("role") != "admin" or not p.get("active", True)):
        errors["role"] = N_("You cannot remove your own administrator access.")
    if errors:
        raise Invalid(errors)
    fields = {
        "username": p["username"].strip(),
        "display_name": p["display_name"].strip(),
        "department": p["department"],
        "role": p["role"],
        "phone": phones.normalise(str(p.get("phone") or "")),
        "active": 1 if p.get("active", True) else 0,
    }
    if p.get("password"):
        fields["password_hash"] = hash_password(p["password"])
    before = None if user_id is None else people.get_user(db, user_id)
    estates_before = [] if user_id is None else people.estate_ids(db, user_id)
    if user_id is None:
        cols = ", ".join(fields)
        user_id = db.execute(
            f"INSERT INTO users ({cols}) VALUES ({', '.join('?' * len(fields))})",
            list(fields.values()),
        ).lastrowid
    else:
        sets = ", ".join(f"{k} = ?" for k in fields)
        db.execute(f"UPDATE users SET {sets} WHERE id = ?", [*fields.values(), user_id])
    # Estates the actor does not serve are left as they were.
    marks = ",".join("?" * len(mine))
    db.execute(
        f"DELETE FROM user_estates WHERE user_id = ? AND estate_id IN ({marks})",
        [user_id, *mine],
    )
    for estate_id in p["estate_ids"]:
        db.execute(
            "INSERT OR IGNORE INTO user_estates (user_id, estate_id) VALUES (?,?)",
            [user_id, estate_id],
        )
    # What they may do, or whether they may sign in, changed: their open sessions were
    # granted under the old rules, so they sign in again.
    ended = before is not None and bool(
        p.get("password")
        or any(before[k] != fields[k] for k in ("role", "department", "active"))
        or estates_before != people.estate_ids(db, user_id)
    )
    if ended:
        end_sessions(db, user_id, now)
    detail = {k: v for k, v in fields.items() if k != "password_hash"}
    audit.record(db, cmd, now, "save", "user", user_id,
                 {**detail, "password_changed": bool(p.get("password")),
                  "sessions_ended": ended})
    return {"user_id": user_id}

