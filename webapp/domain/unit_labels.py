"""Reading a unit label as people type it: '1-502', '1 502', '1栋502', '1#502', '１－５０２'.

`parse()` is the one reading of a typed unit label in the app: the desk's unit
picker, the inspection round's "add a unit" field and the board's search all go
through it, so a label one of them takes, the others take too. `find()` turns a
reading into the units it names in some estates.

A building is matched on its name without the suffix ('1' names the building
'1栋' or '1号楼', and '1栋' names '1号楼'), never by prefix: '1' is not '11栋'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from .text import plain

# Longest first: '号楼' before '号'. Not '楼' alone: '5楼502' says the fifth floor.
SUFFIXES = ("号楼", "栋", "幢", "座", "号", "#")
# A building, a suffix and/or '-' or a space, then a room. The room holds no suffix
# character, so '1栋' or '1号楼' alone is no room, and no '楼', so '5楼502' is no label.
_LABEL = re.compile(
    r"(?:(?P<building>\S+?) ?(?:(?P<suffix>号楼|栋|幢|座|号|#) ?-?|-| ) ?)?"
    r"(?P<room>[^\s#\-栋幢座号楼]+)"
)
_SUFFIX_END = re.compile("(?:" + "|".join(SUFFIXES) + ")$")


@dataclass(frozen=True)
class UnitLabel:
    building: str | None  # as typed, with its suffix ('1栋', '1'); None: a room alone
    room: str


def parse(text: str) -> UnitLabel | None:
    """The building and room a typed label names, or None when it does not read as one.

    Accepts '1-502', '1 502', '1栋502', '1栋-502', '1栋 502', '1#502', '1号楼502',
    '1幢502', 'A座1201', a trailing '室' ('1栋502室'), full-width forms ('１－５０２'),
    spaces around the parts, and a room alone ('502', building None).
    """
    text = re.sub(r" ?- ?", "-", plain(text))
    m = _LABEL.fullmatch(text)
    if m is None:
        return None
    room = m["room"].removesuffix("室")
    if not room:
        return None
    building = m["building"]
    if building is not None:
        building += m["suffix"] or ""
    return UnitLabel(building, room)


def building_key(name: str) -> str:
    """A building's name without its suffix: '1栋', '1号楼' and '1' are all '1'."""
    key = _SUFFIX_END.sub("", name.strip())
    return key or name.strip()


def find(db: Database, estate_ids: list[int], label: UnitLabel) -> list[dict[str, Any]]:
    """The units of the estates the label names, those whose building is named exactly
    as typed first. A room alone names that room in every building.

    Buildings are looked up by the names the typed one may stand for, then rooms by
    number through the (building_id, number) index, or (estate_id, number) for a
    room alone.
    """
    if not estate_ids:
        return []
    marks = ",".join("?" * len(estate_ids))
    sql = ("SELECT u.id, u.estate_id, u.building_id, b.name AS building_name, u.number"
           " FROM units u JOIN buildings b ON b.id = u.building_id"
           # A room alone goes by the units' own (estate_id, number) index.
           f" WHERE {'b' if label.building else 'u'}.estate_id IN ({marks})"
           " AND u.number IN (?, ?, ?)")
    # '502a' finds '502A': the spellings listed, not COLLATE NOCASE, which no index serves.
    params: list[Any] = [*estate_ids, label.room, label.room.upper(), label.room.lower()]
    if label.building is not None:
        key = building_key(label.building)
        names = [key, *(key + s for s in SUFFIXES)]
        sql += f" AND b.name COLLATE NOCASE IN ({','.join('?' * len(names))})"
        params += names
        sql += " ORDER BY b.name = ? DESC, b.estate_id, b.id"
        params.append(label.building)
    else:
        sql += " ORDER BY b.estate_id, length(b.name), b.name"
    return list(db.query(sql, params))
