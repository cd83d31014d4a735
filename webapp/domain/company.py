"""A new company's first estate and first administrator, on an empty database.

The `company.create` command is applied by the CLI only: it is not in the web's
handler table, so no request can reach it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected

from . import audit, settings, users
from .text import N_, plain

# Short letters-and-digits codes like the ones in import files ('CH', 'JX').
ESTATE_CODE = re.compile(r"^[A-Z0-9]{1,12}$")


def is_empty(db: Database) -> bool:
    return not db["estates"].count and not db["users"].count


def generate_password() -> str:
    # 18 random bytes: 24 URL-safe characters, far past any guessing.
    return secrets.token_urlsafe(18)


def estate_code(raw: object) -> str:
    """The code as typed on any keyboard ('ｃｈ ') made plain: 'CH'."""
    return plain(str(raw or "")).upper()


def validate(p: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not str(p.get("estate_name") or "").strip():
        errors["estate_name"] = N_("Enter the estate's name.")
    if not ESTATE_CODE.match(estate_code(p.get("estate_code"))):
        errors["estate_code"] = N_("1 to 12 capital letters or digits, e.g. CH.")
    username = str(p.get("username") or "").strip()
    if not users.USERNAME.match(username):
        errors["username"] = N_("3 to 32 lower-case letters, digits, dot, dash or underscore.")
    if not str(p.get("display_name") or "").strip():
        errors["display_name"] = N_("Enter the name colleagues know them by.")
    hints = [username, str(p.get("display_name") or "").strip(),
             str(p.get("estate_name") or ""), estate_code(p.get("estate_code"))]
    if (weak := users.password_problem(str(p.get("password") or ""), hints)) is not None:
        errors["password"] = weak
    return errors


def create_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `company.create`: the estate with the default settings, and its admin."""
    if not is_empty(db):
        raise Rejected("not_empty", N_("This database already has estates or staff: a company "
                                       "is created only once, on an empty database."))
    p = cmd.payload
    errors = validate(p)
    if errors:
        raise Invalid(errors)
    estate_id = db.execute(
        "INSERT INTO estates (code, name, address) VALUES (?,?,?)",
        [estate_code(p["estate_code"]), p["estate_name"].strip(),
         str(p.get("address") or "").strip()],
    ).lastrowid
    # Stored, not implied: a later change of a default does not move a running estate.
    settings.save(db, estate_id, {s.key: s.default for s in settings.SETTINGS})
    user_id = db.execute(
        "INSERT INTO users (username, password_hash, display_name, department, role)"
        " VALUES (?,?,?,'management','admin')",
        [p["username"].strip(), users.hash_password(p["password"]),
         p["display_name"].strip()],
    ).lastrowid
    db.execute("INSERT INTO user_estates (user_id, estate_id) VALUES (?,?)", [user_id, estate_id])
    audit.record(db, cmd, now, "create", "estate", estate_id,
                 {"code": estate_code(p["estate_code"]), "name": p["estate_name"].strip()})
    audit.record(db, cmd, now, "create", "user", user_id,
                 {"username": p["username"].strip(), "role": "admin"})
    return {"estate_id": estate_id, "user_id": user_id}


HANDLERS: dict[str, Handler] = {"company.create": create_command}
