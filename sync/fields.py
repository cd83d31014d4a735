"""The one kit every command's fields are read through: record ids, bounded integers,
dates in a sane range, bounded text and nesting, each failing as `Invalid` with a message
(an English msgid the web layer translates), never with an exception that becomes a 500.

No Flask: the online forms, the batch replay and the handlers all call these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from .errors import Invalid

MAX_ID = 2**63 - 1  # SQLite's INTEGER
# Dates people and phones may mean; outside it a value is a typo or a reset clock (and
# year 1 or 9999 overflows when moved between time zones).
FIRST_YEAR, LAST_YEAR = 2000, 2100
TEXT_LIMIT = 2000  # one field a person types
# Any string of a command as stored (typed fields are cut shorter, at TEXT_LIMIT or their
# handler's limit); longer is refused. The long ones: a drawn signature's points and an
# imported CSV file's text.
STORED_LIMIT = 20_000
LONG_FIELDS = {"strokes": 500_000, "text": 8_000_000}
MAX_DEPTH = 8  # a command's fields: a dict of lists of dicts is as deep as forms go
JSON_MAX_DEPTH = 32  # a request body (the batch wraps the fields in two more levels)

OP_ID = re.compile(r"^[0-9a-fA-F-]{16,64}$")
_SURROGATES = re.compile("[\ud800-\udfff]")


def N_(text: str) -> str:
    """Mark an English msgid for extraction; the web layer translates it when shown."""
    return text


BAD_ID = N_("This record does not exist.")
BAD_NUMBER = N_("Enter a whole number.")
BAD_DATE = N_("Enter a date between the years 2000 and 2100.")
TOO_LONG = N_("This text is too long. Shorten it and send it again.")
# A field no person types (a version, nesting) is wrong: the page or the phone sent it so.
DAMAGED = N_("The form could not be read. Reload the page and send it again.")


def _invalid(field: str, message: str) -> Invalid:
    return Invalid({field: message})


def integer(value: Any, field: str, low: int, high: int, message: str = BAD_NUMBER) -> int:
    """A whole number in [low, high] from an int or its digits; else Invalid."""
    if isinstance(value, bool):
        raise _invalid(field, message)
    if isinstance(value, str):
        value = value.strip()
        # int() reads 4300 digits before it refuses; a number this long is not one.
        if not value or len(value) > 24:
            raise _invalid(field, message)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(field, message) from None
    if isinstance(value, float) or not low <= number <= high:
        raise _invalid(field, message)
    return number


def optional_integer(value: Any, field: str, low: int, high: int,
                     message: str = BAD_NUMBER) -> int | None:
    """As integer(), with None or an empty value read as absent."""
    if value is None or value == "":
        return None
    return integer(value, field, low, high, message)


def record_id(value: Any, field: str, message: str = BAD_ID) -> int:
    """A record's id: 1 .. 2^63-1 (what SQLite can hold)."""
    return integer(value, field, 1, MAX_ID, message)


def optional_id(value: Any, field: str, message: str = BAD_ID) -> int | None:
    return optional_integer(value, field, 1, MAX_ID, message)


def maybe_id(value: Any) -> int | None:
    """A record id, or None for anything else (a choice left empty, a word, "²")."""
    try:
        return record_id(value, "id")
    except Invalid:
        return None


def target_id(target: str, field: str = "target", message: str = BAD_ID) -> int:
    """The id in a command's target (`job:42`)."""
    return record_id(str(target).partition(":")[2], field, message)


def _in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def day(value: Any, field: str, message: str = BAD_DATE) -> date:
    """An ISO date (2026-11-10) between FIRST_YEAR and LAST_YEAR."""
    try:
        parsed = date.fromisoformat(text(value, 32))
    except ValueError:
        raise _invalid(field, message) from None
    if not _in_range(parsed.year):
        raise _invalid(field, message)
    return parsed


def moment(value: Any, field: str, message: str = BAD_DATE) -> datetime:
    """An ISO date and time between FIRST_YEAR and LAST_YEAR, as given (naive or aware)."""
    try:
        parsed = datetime.fromisoformat(text(value, 64).replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(field, message) from None
    if not _in_range(parsed.year):
        raise _invalid(field, message)
    return parsed


def utc(value: Any, field: str, message: str = BAD_DATE) -> datetime:
    """As moment(), as naive UTC (a time without a zone is taken as UTC already)."""
    parsed = moment(value, field, message)
    if parsed.tzinfo is None:
        return parsed
    return parsed.astimezone(UTC).replace(tzinfo=None)


def optional_utc(value: Any) -> datetime | None:
    """A device's ISO time as naive UTC; None when missing, unreadable or out of range
    (a fact we can live without)."""
    try:
        return utc(value, "time")
    except Invalid:
        return None


def op_id(value: Any) -> str:
    """A command's id as the browser makes it (a UUID's hex digits and dashes)."""
    if not isinstance(value, str) or not OP_ID.match(value):
        raise _invalid("op_id", DAMAGED)
    return value


def text(value: Any, limit: int = TEXT_LIMIT) -> str:
    """A typed text: anything not a string reads as empty, lone surrogates (which no
    encoding can store) are dropped, and it is cut at `limit` characters."""
    if not isinstance(value, str):
        return ""
    return _SURROGATES.sub("", value[: limit * 2])[:limit]


def depth(value: Any) -> int:
    """How deeply lists and dicts nest in `value` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, Mapping):
            children = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def bounded(payload: Mapping[str, Any], field: str = "payload") -> dict[str, Any]:
    """A command's fields as they may be stored: nesting refused past MAX_DEPTH, lone
    surrogates dropped, and a string longer than any field holds (STORED_LIMIT, or the
    field's LONG_FIELDS limit) refused under its top-level field, not cut: a cut
    file or drawing would be stored as something else."""
    if depth(payload) > MAX_DEPTH:
        raise _invalid(field, DAMAGED)

    def clean(value: Any, key: str, limit: int) -> Any:
        if isinstance(value, str):
            if len(value) > limit:
                raise _invalid(key, TOO_LONG)
            return _SURROGATES.sub("", value)
        if isinstance(value, Mapping):
            return {text(str(k), 200): clean(v, key, limit) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v, key, limit) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return value if -MAX_ID - 1 <= value <= MAX_ID else str(value)[:40]
        if isinstance(value, float):
            return value if value == value and abs(value) != float("inf") else None
        return clean(str(value), key, limit)

    return {text(str(k), 200): clean(v, str(k), LONG_FIELDS.get(str(k), STORED_LIMIT))
            for k, v in payload.items()}


def loads(body: bytes | str) -> Any:
    """A request body as JSON, refused (ValueError) when unreadable or nested deeper than
    JSON_MAX_DEPTH; the parser's own recursion limit answers as ValueError too."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise ValueError("too deep") from None
    if depth(data) > JSON_MAX_DEPTH:
        raise ValueError("too deep")
    return data
