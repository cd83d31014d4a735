"""The machine a benchmark ran on, and a fixed in-process reference measure.

Runs on different machines compare by ratio: every section of docs/BENCHMARKS.md names
the machine and prints the reference beside its figures, and a figure divided by the
reference ("÷ reference") is in reference units. The reference is one fixed, CPU-bound
workload of the stack's own kinds of work (SQLite reads, Python over the rows, a Jinja
template with autoescaping), timed the same way every run: the best of several runs
after a warm-up, in this process. It is for single-process timings; throughput keeps
the bare stack's floor (bench.floor_app, served beside the product) as its reference.

Changing the workload changes the unit: bump VERSION, so runs of different versions are
not divided by each other.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version

from jinja2 import Environment

VERSION = 1
RUNS = 20  # best of; a run is 16–18 ms of CPU on the EPYC
BUDGET_S = 2.5  # stop early on a very slow or busy machine, after at least MIN_RUNS
MIN_RUNS = 5

# A fixed data set: 2,000 rows like a job list's (Chinese text, values to escape).
ROWS = [(i, f"J20261122{i:04d}", f"{i % 25 + 1}栋", f"{i % 20 + 1}0{i % 4 + 1}",
         ("new", "assigned", "accepted", "arrived", "paused", "completed", "closed")[i % 7],
         f"卫生间水龙头漏水 <{i % 13}> 需要更换阀芯 & 住户下午在家")
        for i in range(2000)]
TEMPLATE = Environment(autoescape=True).from_string(
    '<ul>{% for r in rows %}<li data-job="{{ r.number }}"><a href="/jobs/{{ r.id }}">'
    "<strong>{{ r.building }}-{{ r.unit }}</strong> <span>{{ r.status }}</span>"
    "<div>{{ r.text }}</div></a></li>{% endfor %}</ul>"
    "{% for b, n in counts %}<p>{{ b }}: {{ n }}</p>{% endfor %}")
COLUMNS = ("id", "number", "building", "unit", "status", "text")


def workload() -> tuple[int, int]:
    """One run: load the rows into SQLite, read them back two ways, render them.
    Returns the rows listed and the page's length, the same every run."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, number TEXT, building TEXT,"
               " unit TEXT, status TEXT, text TEXT)")
    db.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    db.execute("CREATE INDEX jobs_status ON jobs (status, building)")
    rows = [dict(zip(COLUMNS, r, strict=True)) for r in db.execute(
        "SELECT * FROM jobs WHERE status NOT IN ('closed', 'completed')"
        " ORDER BY building, number DESC")]
    counts = db.execute("SELECT building, count(*) FROM jobs GROUP BY building"
                        " ORDER BY count(*) DESC, building").fetchall()
    db.close()
    for r in rows:  # what a view does to rows before the template
        r["unit"] = r["unit"].rjust(4, "0")
    html = TEMPLATE.render(rows=rows, counts=counts)
    return len(rows), len(html)


@dataclass(frozen=True)
class Reference:
    best: float  # seconds: the reference unit
    median: float
    runs: int
    version: int = VERSION

    def of(self, seconds: float) -> str:
        """A time in reference units."""
        return f"{number(seconds / self.best)} ref"

    def per(self, per_second: float) -> str:
        """A rate as how many in one reference unit of time."""
        return f"{number(per_second * self.best)} per ref"

    def text(self) -> str:
        return f"{self.best * 1000:.1f} ms"


def number(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def measure(runs: int = RUNS, budget_s: float = BUDGET_S) -> Reference:
    """The workload's best of `runs` after one warm-up (fewer when over the budget), in
    this thread's CPU time: the core's speed, not how busy the machine is (each section
    says that separately where it matters)."""
    workload()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < runs and (len(times) < MIN_RUNS
                                 or time.perf_counter() - started < budget_s):
        t = time.thread_time()
        workload()
        times.append(time.thread_time() - t)
    return Reference(best=min(times), median=statistics.median(times), runs=len(times))


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, system and the versions the figures depend on."""
    cpu, mem_kb = platform.processor() or platform.machine(), 0
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
        with open("/proc/meminfo") as f:
            mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu.replace("|", "/"),  # it goes into table cells
        "cores": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GB" if mem_kb else "RAM unknown",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "jinja": version("jinja2"),
        "gunicorn": version("gunicorn"),
        "load": f"{os.getloadavg()[0]:.1f}",  # taken at the start: how busy the machine was
    }


def header(mach: dict[str, str], ref: Reference) -> str:
    """The line every section opens with: the machine, then the reference."""
    return (f"**Machine:** {mach['cpu']}, {mach['cores']} cores, {mach['ram']} RAM, "
            f"{mach['os']}; Python {mach['python']}, SQLite {mach['sqlite']}, Jinja "
            f"{mach['jinja']}. **Reference:** {ref.text()} (`bench/reference.py` v"
            f"{ref.version}, best of {ref.runs} runs, median {ref.median * 1000:.1f} ms, CPU "
            f"time); ÷ reference is a figure in reference units. Load average "
            f"{mach['load']} at the start (a busy machine inflates wall times, not the "
            f"reference).")


def opening(mach: dict[str, str], ref: Reference) -> str:
    """The header after the run's time, for a section that prints no other opening."""
    return f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {header(mach, ref)}"
