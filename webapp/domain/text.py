"""Marking user-facing domain text for translation without importing Flask."""


def N_(text: str) -> str:
    """Mark an English msgid for extraction; the web layer translates it when shown."""
    return text
