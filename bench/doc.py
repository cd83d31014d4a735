"""docs/BENCHMARKS.md is shared: each benchmark rewrites only its own marked section.

A section keeps a small table of its key figure per machine ("Runs by machine"): a run
replaces the row of its own CPU model and keeps the others', so the figures of earlier
machines stay beside the new ones instead of being overwritten.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from .reference import Reference

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"
RUNS_HEAD = "| CPU | Date | "  # how a section's table of runs by machine starts
COLUMNS = 5  # CPU, date, figure, reference, ÷ reference


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


def section_text(begin: str, end: str) -> str:
    """What the document holds between the markers now ('' if nothing)."""
    doc = DOC.read_text() if DOC.exists() else ""
    if begin not in doc or end not in doc.split(begin, 1)[1]:
        return ""
    return doc.split(begin, 1)[1].split(end, 1)[0]


def past_runs(text: str) -> list[list[str]]:
    """The rows of the runs-by-machine table in a section's text, as cells."""
    rows: list[list[str]] = []
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith(RUNS_HEAD):
            break
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if set("".join(cells)) <= set("-: "):
            continue  # the header's separator
        rows.append((cells + ["–"] * COLUMNS)[:COLUMNS])
    return rows


def merge_runs(old: list[list[str]], new: list[str]) -> list[list[str]]:
    """The last run per CPU model: the new run replaces its CPU's row and comes last."""
    return [row for row in old if row[0] != new[0]] + [new]


def run_row(cpu: str, figure: str, ref: Reference | None, in_ref: str,
            when: datetime | None = None) -> list[str]:
    """A row of the runs table: `figure` as printed, `in_ref` the same in reference units."""
    date = f"{when or datetime.now(UTC):%Y-%m-%d}"
    reference = f"{ref.text()} (v{ref.version})" if ref else "–"
    return [cpu.replace("|", "/"), date, figure, reference, in_ref]


def runs_table(begin: str, end: str, label: str, new: list[str]) -> str:
    """The section's runs by machine with `new` merged in, read from the document."""
    rows = merge_runs(past_runs(section_text(begin, end)), new)
    return "\n".join([
        "Runs by machine (the last run per CPU model; compare machines by ÷ reference):",
        "",
        f"{RUNS_HEAD}{label} | Reference | ÷ reference |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in rows],
    ])
