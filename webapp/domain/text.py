"""Text as people type it, and marking user-facing domain text for translation (no Flask)."""

from __future__ import annotations

import unicodedata

# Dashes people type or paste for '-' (NFKC already makes a Chinese keyboard's '－' one).
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−﹣"), "-")


def N_(text: str) -> str:
    """Mark an English msgid for extraction; the web layer translates it when shown."""
    return text


def plain(text: str) -> str:
    """Full-width digits, letters and dashes (１２０２, ＣＨ, －) as typed on a Chinese
    keyboard made plain, spaces trimmed and single: one cleaning for every typed field."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return " ".join(text.split())
