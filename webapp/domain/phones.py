"""Phone numbers as people type them: one rule for the desk's intake, the resident's
report from a code and the CSV import, and a message that says what is wrong."""

from __future__ import annotations

import re

from .text import N_, plain

# Spaces, dashes and brackets are how people group digits; a leading + is a country code.
SEPARATORS = re.compile(r"[\s\-()]")
DIGITS = re.compile(r"\+?[0-9]+")
MIN_DIGITS, MAX_DIGITS = 5, 15  # a short hotline; the international maximum (E.164)


def normalise(text: str) -> str:
    """The number as stored: ASCII digits without separators, `１３８-0013 8000` ->
    `13800138000` (a Chinese keyboard may type full-width digits; `tel:` links and the
    board's search by digits need plain ones)."""
    return SEPARATORS.sub("", plain(text))


def problem(text: str) -> str | None:
    """None for a phone number, else the message (an untranslated msgid) saying why not."""
    number = normalise(text)
    if not number:
        return N_("Enter a phone number.")
    if not DIGITS.fullmatch(number):
        return N_("A phone number has digits only (spaces, - and + are fine).")
    digits = len(number.lstrip("+"))
    if digits < MIN_DIGITS:
        return N_("This number is too short: a phone number has at least 5 digits.")
    if digits > MAX_DIGITS:
        return N_("This number is too long: a phone number has at most 15 digits.")
    return None
