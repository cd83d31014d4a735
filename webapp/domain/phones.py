"""Phone numbers as people type them: one rule for the desk's intake, the resident's
report from a code, staff accounts and the CSV import, and a message that says what is
wrong.

Whether a number exists is libphonenumber's knowledge (the `phonenumbers` package: the
mainland's mobile ranges, area codes and their lengths, other countries after a +);
this module reads what people type around it (full-width digits, 转 for an extension)
and names the likely mistake."""

from __future__ import annotations

import re

import phonenumbers

from .text import N_, plain

# Spaces, dashes, dots and brackets are how people group digits; a leading + is a
# country code.
SEPARATORS = re.compile(r"[\s\-().]")
# An extension after the number: 转 (the word desks write), 分机, ext, x, # or a comma
# (the dialler's pause, which is also how the number is stored: `tel:` dials it).
EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|#|,)\s*(\d{1,6})$", re.IGNORECASE)
DIGITS = re.compile(r"\+?[0-9]+")
REGION = "CN"


def _split(text: str) -> tuple[str, str]:
    """(the number's characters without separators, its extension or '')."""
    text = plain(text)
    extension = ""
    if m := EXTENSION.search(text):
        extension, text = m.group(1), text[: m.start()]
    return SEPARATORS.sub("", text), extension


def _parsed(number: str, extension: str) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number, REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    parsed.extension = extension or None
    return parsed


def normalise(text: str) -> str:
    """The number as stored: `138-0013 8000` and `+86 138 0013 8000` -> `13800138000`,
    `(0755) 8600-1234 转 12` -> `075586001234,12`, a number abroad with its + country
    code. A number that is not valid keeps its digits (the form shows it back)."""
    number, extension = _split(text)
    parsed = _parsed(number, extension)
    if parsed is None:
        return number + ("," + extension if extension else "")
    if parsed.country_code == 86:
        stored = SEPARATORS.sub("", phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.NATIONAL).split(" ext.")[0])
    else:
        stored = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return stored + ("," + extension if extension else "")


def problem(text: str) -> str | None:
    """None for a phone number, else the message (an untranslated msgid) saying why not."""
    number, extension = _split(text)
    if not number:
        return N_("Enter a phone number.")
    if not DIGITS.fullmatch(number):
        return N_("A phone number has digits only (spaces, - and + are fine; "
                  "转 before an extension).")
    if _parsed(number, extension) is not None:
        return None
    national = re.sub(r"^(\+86|0086)", "", number)
    if national.startswith("+") or national.startswith("00"):
        return N_("This number is not valid for its country code.")
    if len(national) < 7:
        return N_("This number is too short: a mobile has 11 digits, a landline its "
                  "area code and 7 or 8 digits.")
    if national.startswith("1"):
        if len(national) != 11:
            return N_("A mobile number has 11 digits.")
        return N_("A mobile number starts with 13 to 19.")
    if national.startswith("0"):
        return N_("A landline is its area code and number, such as 0755-8600 1234.")
    if 7 <= len(national) <= 8:
        return N_("Add the area code, such as 0755-8600 1234.")
    return N_("This is not a phone number: a mobile has 11 digits, a landline starts "
              "with its area code.")
