"""Importing units and residents from a CSV file: parse and check, then apply all or nothing.

The file has a header row and one row per resident:
estate_code, building, unit, floor, resident_name, resident_phone, is_owner
(the last four optional). A row without a resident creates just the unit.
Buildings and units are reused when they exist; a resident is added unless the
same name and phone are already on that unit, so importing a file twice adds
nothing the second time.

Row problems are reported as (line, msgid, params): the line as a spreadsheet
shows it (the header is line 1) and an English msgid the web layer translates.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Invalid

from . import audit, people, phones
from .jobs import N_
from .text import plain

COLUMNS = ("estate_code", "building", "unit", "floor", "resident_name", "resident_phone",
           "is_owner")
REQUIRED = ("estate_code", "building", "unit")
MAX_ROWS = 20000
MAX_LENGTH = {"building": 50, "unit": 20, "resident_name": 50}
OWNER_VALUES = {"": True, "1": True, "是": True, "0": False, "否": False}

UNREADABLE = N_("The file is not UTF-8 or GBK text. Save it from the spreadsheet as CSV "
                "and try again.")
WORKBOOK = N_("This is an Excel workbook. Save it as CSV (comma separated) and try again.")


class Unreadable(ValueError):
    """The upload is not CSV text; the message is a msgid saying what to do."""


@dataclass(frozen=True)
class RowError:
    line: int
    msgid: str
    params: dict[str, str] = field(default_factory=dict)

    def english(self) -> str:
        return self.msgid % self.params if self.params else self.msgid

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Row:
    line: int
    estate_code: str
    estate_id: int
    building: str
    unit: str
    floor: int | None
    resident_name: str
    resident_phone: str
    is_owner: bool


@dataclass(frozen=True)
class Counts:
    buildings: int = 0
    units: int = 0
    residents: int = 0


def decode(data: bytes) -> str:
    """The upload as text: UTF-8 (with or without BOM), else GBK as Chinese Excel saves it."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Unreadable(WORKBOOK)
    if b"\x00" in data:
        raise Unreadable(UNREADABLE)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # a superset of GBK
    except UnicodeDecodeError:
        raise Unreadable(UNREADABLE) from None


def _header(cells: list[str]) -> tuple[dict[str, int], list[RowError]]:
    names = [plain(c).lower() for c in cells]
    errors = []
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            continue
        if name not in COLUMNS:
            errors.append(RowError(1, N_("Unknown column %(column)s."), {"column": name}))
        elif name in index:
            errors.append(RowError(1, N_("Column %(column)s appears twice."), {"column": name}))
        else:
            index[name] = i
    for name in REQUIRED:
        if name not in index:
            errors.append(
                RowError(1, N_("Column %(column)s is missing from the header."), {"column": name})
            )
    return index, errors


def _row(
    line: int,
    cell: Mapping[str, str],
    estates: Mapping[str, int],
    allowed: Collection[int],
) -> tuple[Row | None, list[RowError]]:
    """Check one row's cells; a row comes back only when it has no error."""
    errors: list[RowError] = []

    def bad(msgid: str, **params: str) -> None:
        errors.append(RowError(line, msgid, params))

    code = plain(cell["estate_code"]).upper()
    estate_id = estates.get(code)
    if not code:
        bad(N_("The estate code is missing."))
    elif estate_id is None:
        bad(N_("Unknown estate code %(code)s."), code=code)
    elif estate_id not in allowed:
        bad(N_("Estate %(code)s is not one of your estates."), code=code)
    building, unit = plain(cell["building"]), plain(cell["unit"])
    if not building:
        bad(N_("The building is missing."))
    if not unit:
        bad(N_("The unit number is missing."))
    name = cell["resident_name"].strip()
    for column, value in (("building", building), ("unit", unit), ("resident_name", name)):
        if len(value) > MAX_LENGTH[column]:
            bad(N_("%(column)s is too long (at most %(max)s characters)."),
                column=column, max=str(MAX_LENGTH[column]))
    floor_text = plain(cell["floor"])
    floor = None
    if floor_text:
        if re.fullmatch(r"-?\d{1,3}", floor_text):
            floor = int(floor_text)
        else:
            bad(N_("Floor %(floor)s is not a whole number."), floor=floor_text)
    phone_text = plain(cell["resident_phone"])
    phone = phones.normalise(phone_text)
    if phone and phones.problem(phone) is not None:
        bad(N_("Phone number %(phone)s is not valid."), phone=phone_text)
    owner_text = plain(cell["is_owner"]).lower()
    if owner_text not in OWNER_VALUES:
        bad(N_("is_owner must be 1, 0, 是 or 否, not %(value)s."), value=owner_text)
    if not name and (phone_text or owner_text):
        bad(N_("A phone number or owner flag needs a resident name."))
    if errors or estate_id is None:
        return None, errors
    return Row(line, code, estate_id, building, unit, floor, name, phone,
               OWNER_VALUES[owner_text]), []


def parse(
    text: str, estates: Mapping[str, int], allowed: Collection[int]
) -> tuple[list[Row], list[RowError]]:
    """Read the CSV text into rows, and every problem with its line number.

    `estates` maps each estate code (upper case) to its id; `allowed` holds the
    ids of the importing user's estates. Pure: no database, no clock.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    rows: list[Row] = []
    errors: list[RowError] = []
    index: dict[str, int] | None = None
    named: set[int] = set()
    seen: dict[tuple[str, ...], int] = {}
    floors: dict[tuple[str, ...], tuple[int, int]] = {}
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            if index is None:
                index, header_errors = _header(cells)
                if header_errors:
                    return [], header_errors
                named = set(index.values())
                continue
            if not any(c.strip() for c in cells):
                continue  # spreadsheets leave blank rows behind
            if line > MAX_ROWS + 1:
                errors.append(RowError(line, N_("The file has more than %(max)s rows."),
                                       {"max": str(MAX_ROWS)}))
                break
            if any(c.strip() for i, c in enumerate(cells) if i not in named):
                errors.append(RowError(line, N_("This row has values outside the named "
                                                "columns.")))
                continue
            cell = {name: cells[i] if i < len(cells) else "" for name, i in index.items()}
            cell.update({name: "" for name in COLUMNS if name not in index})
            row, row_errors = _row(line, cell, estates, allowed)
            errors.extend(row_errors)
            if row is None:
                continue
            unit_key = (row.estate_code, row.building, row.unit)
            key = (*unit_key, row.resident_name, row.resident_phone)
            if key in seen:
                errors.append(RowError(line, N_("Duplicate of line %(line)s."),
                                       {"line": str(seen[key])}))
                continue
            seen[key] = line
            if row.floor is not None:
                first = floors.setdefault(unit_key, (line, row.floor))
                if first[1] != row.floor:
                    errors.append(RowError(line, N_("Floor differs from line %(line)s for the "
                                                    "same unit."), {"line": str(first[0])}))
                    continue
            rows.append(row)
    except csv.Error:
        errors.append(RowError(line + 1, N_("This row could not be read as CSV.")))
    if index is None:
        errors.append(RowError(1, N_("The file is empty: it needs a header row.")))
    elif not rows and not errors:
        errors.append(RowError(1, N_("The file has a header but no rows.")))
    return ([] if errors else rows), errors


def estate_codes(db: Database) -> dict[str, int]:
    return {r["code"].upper(): r["id"] for r in db.query("SELECT id, code FROM estates")}


def _one(db: Database, sql: str, params: list[Any]) -> Any:
    row = db.execute(sql, params).fetchone()
    return row[0] if row else None


def apply(db: Database, rows: list[Row]) -> Counts:
    """Create what is missing, in one transaction (a savepoint inside a caller's)."""
    buildings = units = residents = 0
    building_ids: dict[tuple[int, str], int] = {}
    unit_ids: dict[tuple[int, str], int] = {}
    with db.atomic():
        for row in rows:
            bkey = (row.estate_id, row.building)
            if bkey not in building_ids:
                found = _one(db, "SELECT id FROM buildings WHERE estate_id = ? AND name = ?",
                             [row.estate_id, row.building])
                if found is None:
                    found = db.execute("INSERT INTO buildings (estate_id, name) VALUES (?,?)",
                                       [row.estate_id, row.building]).lastrowid
                    buildings += 1
                building_ids[bkey] = found
            building_id = building_ids[bkey]
            ukey = (building_id, row.unit)
            if ukey not in unit_ids:
                found = _one(db, "SELECT id FROM units WHERE building_id = ? AND number = ?",
                             [building_id, row.unit])
                if found is None:
                    found = db.execute(
                        "INSERT INTO units (estate_id, building_id, number, floor)"
                        " VALUES (?,?,?,?)",
                        [row.estate_id, building_id, row.unit, row.floor],
                    ).lastrowid
                    units += 1
                unit_ids[ukey] = found
            if not row.resident_name:
                continue
            unit_id = unit_ids[ukey]
            exists = _one(db, "SELECT 1 FROM residents WHERE unit_id = ? AND name = ?"
                          " AND phone = ?", [unit_id, row.resident_name, row.resident_phone])
            if not exists:
                db.execute(
                    "INSERT INTO residents (unit_id, name, phone, is_owner) VALUES (?,?,?,?)",
                    [unit_id, row.resident_name, row.resident_phone, int(row.is_owner)],
                )
                residents += 1
    return Counts(buildings, units, residents)


def import_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `estate.import`: the whole file is imported, or nothing of it.

    Raises Invalid with `file` (a summary msgid) and `rows` (a list of
    {line, msgid, params}) when any row is bad.
    """
    user = people.actor(db, cmd, "estate.import")
    text = cmd.payload.get("text")
    if not isinstance(text, str):
        raise Invalid({"file": N_("Choose a CSV file to import.")})
    rows, errors = parse(text, estate_codes(db), people.estate_ids(db, user["id"]))
    if errors:
        raise Invalid({
            "file": N_("Nothing was imported. Correct these rows and send the file again."),
            "rows": [e.as_dict() for e in errors],
        })
    counts = apply(db, rows)
    result = {**asdict(counts), "rows": len(rows),
              "estates": sorted({r.estate_code for r in rows})}
    audit.record(db, cmd, now, "import", "estate", None,
                 {**result, "filename": str(cmd.payload.get("filename", ""))[:200]})
    return result
