"""Benchmark sections keep a run per machine, and the reference measure has its shape."""

from datetime import datetime

import pytest

from bench import doc, reference
from bench.reference import Reference

BEGIN, END = "<!-- demo:start -->", "<!-- demo:end -->"
WHEN = datetime(2026, 12, 7, 12, 0)
REF = Reference(best=0.020, median=0.021, runs=20)


@pytest.fixture
def bench_doc(tmp_path, monkeypatch):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Intro\n\nText before.\n\n## Demo\n\n"
                    f"{BEGIN}\n{END}\n\n## After\n\nText after.\n")
    monkeypatch.setattr(doc, "DOC", path)
    return path


def rows_of(text: str) -> list[list[str]]:
    """The runs table's body rows, read independently of bench.doc."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| CPU | Date |"))
    out = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        out.append([c.strip() for c in line.strip("|").split("|")])
    return out


def run(cpu: str, figure: str, ref: Reference | None = REF) -> None:
    """What a section does: build its text with the runs table, then write it."""
    row = doc.run_row(cpu, figure, ref, "x", when=WHEN)
    doc.write_section(BEGIN, END, "Demo", "Run now.\n\n"
                      + doc.runs_table(BEGIN, END, "Key figure", row))


def test_a_new_cpu_adds_a_row_and_the_same_cpu_replaces_its_own(bench_doc):
    run("Intel(R) Xeon(R) Processor", "7.5 s", None)
    run("AMD EPYC", "4.0 s")
    rows = rows_of(doc.section_text(BEGIN, END))
    assert [r[0] for r in rows] == ["Intel(R) Xeon(R) Processor", "AMD EPYC"]
    assert rows[0] == ["Intel(R) Xeon(R) Processor", "2026-12-07", "7.5 s", "–", "x"]
    assert rows[1][3] == "20.0 ms (v1)"

    run("AMD EPYC", "3.8 s")
    rows = rows_of(doc.section_text(BEGIN, END))
    assert [(r[0], r[2]) for r in rows] == [("Intel(R) Xeon(R) Processor", "7.5 s"),
                                          ("AMD EPYC", "3.8 s")]
    text = bench_doc.read_text()
    assert text.count("| CPU | Date |") == 1
    assert "Text before." in text and text.endswith("Text after.\n")


def test_the_rerun_cpu_moves_last_and_others_keep_their_order():
    old = [["A", "d1", "1", "–", "–"], ["B", "d2", "2", "–", "–"], ["C", "d3", "3", "–", "–"]]
    merged = doc.merge_runs(old, ["A", "d4", "0.9", "r", "q"])
    assert [r[0] for r in merged] == ["B", "C", "A"] and merged[-1][2] == "0.9"


def test_past_runs_reads_only_the_runs_table():
    text = ("| Target | Measured |\n|---|---|\n| a | 1 |\n\nRuns by machine:\n\n"
            "| CPU | Date | Figure | Reference | ÷ reference |\n|---|---|---|---|---|\n"
            "| Xeon | 2026-11-22 | 10.1 s | – | – |\n| EPYC | 2026-12-07 | 5.7 s |\n\nAfter.")
    assert doc.past_runs(text) == [["Xeon", "2026-11-22", "10.1 s", "–", "–"],
                                   ["EPYC", "2026-12-07", "5.7 s", "–", "–"]]
    assert doc.past_runs("no table here") == []


def test_the_reference_workload_is_fixed_and_lists_the_open_rows():
    listed = sum(r[4] not in ("closed", "completed") for r in reference.ROWS)
    rows, length = reference.workload()
    assert (rows, length) == reference.workload()
    assert rows == listed and length > 100 * rows


def test_the_reference_is_a_best_of_runs_in_reference_units():
    ref = reference.measure(runs=3)
    assert ref.runs == 3 and 0 < ref.best <= ref.median and ref.version == reference.VERSION
    assert reference.measure(runs=100, budget_s=0).runs == reference.MIN_RUNS
    assert REF.of(5.0) == "250 ref" and REF.of(0.0138) == "0.69 ref"
    assert REF.per(3000) == "60.0 per ref"


def test_the_header_names_the_machine_and_the_reference():
    mach = reference.machine()
    assert {"cpu", "cores", "ram", "python", "sqlite"} <= set(mach)
    line = reference.header(mach, REF)
    assert line.startswith(f"**Machine:** {mach['cpu']}, {mach['cores']} cores")
    assert "**Reference:** 20.0 ms" in line and f"SQLite {mach['sqlite']}" in line
    opening = reference.opening(mach, REF)
    assert opening.startswith("Run 20") and opening.endswith(line)
