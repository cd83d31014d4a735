"""Estates, buildings, units and residents: read queries."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlite_utils import Database

from sync import Invalid, fields

from . import unit_labels
from .text import N_, plain


def address(row: Mapping[str, Any]) -> str:
    """Where a record is, as pages, sheets and board rows print it: the estate, then the
    building and room ('阳光花园 1栋-502'); the estate alone for a common area. `row`
    holds estate_name, building_name and unit_number (as the records' reads name them)."""
    unit = row["unit_number"]
    return f"{row['estate_name']} {row['building_name'] or ''}{f'-{unit}' if unit else ''}"


def list_estates(db: Database, ids: list[int]) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return list(db.query(f"SELECT * FROM estates WHERE id IN ({marks}) ORDER BY id", ids))


def search_units(db: Database, estate_id: int, q: str, limit: int = 12) -> list[dict[str, Any]]:
    """Units of one estate for the intake picker: first those the text names as a unit
    label ('1-1202', '3栋1202', '1202', see unit_labels.parse), then those whose
    'building-room', room number, resident's name or phone contains it."""
    parsed = unit_labels.parse(q)
    named = [u["id"] for u in unit_labels.find(db, [estate_id], parsed)] if parsed else []
    marks = ",".join("?" * len(named)) or "NULL"
    like = f"%{plain(q)}%"
    return list(
        db.query(
            f"""SELECT u.id, u.number, b.name AS building_name,
                      group_concat(r.name, '、') AS residents,
                      min(r.name) AS first_name, min(r.phone) AS first_phone
               FROM units u JOIN buildings b ON b.id = u.building_id
               LEFT JOIN residents r ON r.unit_id = u.id
               WHERE u.estate_id = ? AND (u.id IN ({marks}) OR u.number LIKE ?
                     OR b.name || '-' || u.number LIKE ? OR r.name LIKE ? OR r.phone LIKE ?)
               GROUP BY u.id ORDER BY u.id IN ({marks}) DESC, b.name, u.number LIMIT ?""",
            [estate_id, *named, like, like, like, like, *named, limit],
        )
    )


def get_unit(db: Database, unit_id: int) -> dict[str, Any] | None:
    return get_units(db, [unit_id]).get(unit_id)


def get_units(db: Database, unit_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Units by id, with their building's and estate's names (the unit page's head)."""
    return {u["id"]: u for u in db.query(
        "SELECT u.*, b.name AS building_name, e.name AS estate_name FROM units u "
        "JOIN buildings b ON b.id = u.building_id JOIN estates e ON e.id = u.estate_id "
        f"WHERE u.id IN ({_marks(unit_ids)})", unit_ids)} if unit_ids else {}


def _marks(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


def residents(db: Database, unit_id: int) -> list[dict[str, Any]]:
    return residents_of(db, [unit_id])[unit_id]


def residents_of(db: Database, unit_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {u: [] for u in unit_ids}
    if unit_ids:
        for r in db.query(f"SELECT * FROM residents WHERE unit_id IN ({_marks(unit_ids)})"
                          " ORDER BY id", unit_ids):
            out[r["unit_id"]].append(r)
    return out


def unit_jobs(db: Database, unit_id: int, limit: int = 20) -> list[dict[str, Any]]:
    return units_jobs(db, [unit_id], limit)[unit_id]


def units_jobs(db: Database, unit_ids: list[int],
               limit: int = 20) -> dict[int, list[dict[str, Any]]]:
    """The newest `limit` jobs of each unit."""
    out: dict[int, list[dict[str, Any]]] = {u: [] for u in unit_ids}
    if unit_ids:
        for r in db.query(
            "SELECT unit_id, id, number, status, category, received_at FROM (SELECT *,"
            " row_number() OVER (PARTITION BY unit_id ORDER BY id DESC) AS n FROM jobs"
            f" WHERE unit_id IN ({_marks(unit_ids)})) WHERE n <= ? ORDER BY unit_id, id DESC",
            [*unit_ids, limit],
        ):
            out[r.pop("unit_id")].append(r)
    return out


# Flags that make a household a key customer (door-to-door callbacks, docs/DOMAIN.md).
UNIT_FLAGS = {"unpaid_fees": N_("Long-unpaid fees"), "important_owner": N_("Important owner")}


def unit_flags(db: Database, unit_id: int) -> set[str]:
    return units_flags(db, [unit_id])[unit_id]


def units_flags(db: Database, unit_ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {u: set() for u in unit_ids}
    if unit_ids:
        for unit_id, flag in db.execute(
                f"SELECT unit_id, flag FROM unit_flags WHERE unit_id IN ({_marks(unit_ids)})",
                unit_ids):
            out[unit_id].add(flag)
    return out


def flags_command(db: Database, cmd, now) -> dict:  # noqa: ANN001 - sync.Handler
    """Handler for `unit.flags`: set which key-customer flags a unit carries."""
    from sync import Invalid, fields

    from . import audit, people

    user = people.actor(db, cmd, "estate.settings")
    unit = get_unit(db, fields.target_id(cmd.target, "target", N_("Unknown place.")))
    if unit is None:
        raise Invalid({"target": N_("Unknown place.")})
    people.require_estate(db, user["id"], unit["estate_id"])
    wanted = [f for f in cmd.payload.get("flags") or [] if f in UNIT_FLAGS]
    db.execute("DELETE FROM unit_flags WHERE unit_id = ?", [unit["id"]])
    for flag in wanted:
        db.execute("INSERT INTO unit_flags (unit_id, flag) VALUES (?, ?)", [unit["id"], flag])
    audit.record(db, cmd, now, "flags", "unit", unit["id"], {"flags": wanted})
    return {"unit_id": unit["id"], "flags": wanted}


def intake_place(db: Database, p: Any, allowed: Collection[int]
                 ) -> tuple[int, int | None, dict[str, str]]:
    """The estate and unit an intake form names (a job's or a complaint's), with errors
    under their fields: one of the user's estates, and no unit or a unit of that estate."""
    errors: dict[str, str] = {}
    try:
        estate_id = int(p.get("estate_id") or 0)
    except (TypeError, ValueError):
        estate_id = 0
    if estate_id not in allowed:
        errors["estate_id"] = N_("Choose one of your estates.")
    wrong_unit = N_("Choose a unit of this estate from the list.")
    try:
        unit_id = fields.optional_id(p.get("unit_id") or None, "unit_id", wrong_unit)
    except Invalid as exc:
        unit_id = None
        errors.update(exc.errors)
    if unit_id is not None:
        row = db.execute("SELECT estate_id FROM units WHERE id = ?", [unit_id]).fetchone()
        if row is None or row[0] != estate_id:
            errors["unit_id"] = wrong_unit
    return estate_id, unit_id, errors
