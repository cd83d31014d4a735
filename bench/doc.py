"""docs/BENCHMARKS.md is shared: each benchmark rewrites only its own marked section."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"


def write_section(begin: str, end: str, title: str, text: str,
                  empty: str = "# Benchmarks\n") -> None:
    """Put `text` between the markers, adding the section (with its title) if missing."""
    DOC.parent.mkdir(exist_ok=True)
    doc = DOC.read_text() if DOC.exists() else empty
    if begin not in doc or end not in doc:
        doc = doc.rstrip() + f"\n\n## {title}\n\n{begin}\n{end}\n"
    head, rest = doc.split(begin, 1)
    tail = rest.split(end, 1)[1]
    DOC.write_text(f"{head}{begin}\n{text.rstrip()}\n{end}{tail}")
