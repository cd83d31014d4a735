"""The stack's floor: `python -m bench.floor`.

Serves bench.floor_app (Flask, flask-login, flask-wtf, Jinja; nothing of the
product's) with gunicorn and `make run`'s flags, drives it like bench.run drives the
product (one client, then eight, from this process), and writes the figures into
docs/BENCHMARKS.md between the floor markers. Run after bench.run, so the two can
be read side by side.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from typing import Any

from . import reference
from .doc import run_row, runs_table, write_section
from .load import drive, sign_in
from .reference import Reference, header, machine
from .run import PHASES, ROOT, TARGET_THROUGHPUT, free_port, server, server_times

BEGIN, END = "<!-- floor:begin -->", "<!-- floor:end -->"
PAGES = [
    ("healthz", "`/healthz`: `SELECT 1` on a kept connection (reference)", "/healthz", False),
    ("empty", "`/empty`: signed in, base template with the CSRF token, no rows", "/empty", True),
    ("rows", "`/rows`: the same with 23 rows of six escaped fields", "/rows", True),
]


ROUNDS = 5  # throughput varies by 10-15 % from run to run on a shared machine


def measure(port: int) -> dict[str, dict[str, Any]]:
    """Per route: latency at one client, and requests/s at eight for each round."""
    cookies = sign_in(port, "floor", "-")
    out: dict[str, dict[str, Any]] = {name: {"rps": []} for name, *_ in PAGES}
    for name, _, path, signed_in in PAGES:
        jar = cookies if signed_in else {}
        drive(port, jar, [path], "warmup", 1, 50, 5)
        one = PHASES[0]
        drive(port, jar, [path], f"{name}|c1", 1, one["max_requests"], one["max_seconds"])
    eight = PHASES[1]
    for _ in range(ROUNDS):
        for name, _, path, signed_in in PAGES:
            res = drive(port, cookies if signed_in else {}, [path], f"{name}|c8",
                        eight["concurrency"], eight["max_requests"], eight["max_seconds"])
            out[name]["rps"].append(res["rps"])
            time.sleep(0.5)
    return out


def report(load: dict[str, dict[str, Any]], times: dict[str, dict[str, Any]],
           mach: dict[str, str], ref: Reference) -> str:
    refs = load["healthz"]["rps"]
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M UTC}. {header(mach, ref)} gunicorn "
        f"{mach['gunicorn']} (`make run`'s flags). Server time is gunicorn's, at one client. "
        "`/rows` is the throughput reference: bench.run serves it beside the product.",
        "",
        f"| Route | Server p50 / p95 ms | p50 ÷ reference | req/s at 8, {ROUNDS} rounds "
        "| % of `/healthz`, same round |",
        "|---|---|---|---|---|",
    ]
    for name, label, _, _ in PAGES:
        ms = times.get(f"{name}|c1", {}).get("ms", {})
        rps = load[name]["rps"]
        shares = [r / h for r, h in zip(rps, refs, strict=True)]
        lines.append(f"| {label} | {ms.get('p50', 0):.2f} / {ms.get('p95', 0):.2f} | "
                     f"{ref.of(ms.get('p50', 0) / 1000)} | "
                     + ", ".join(f"{r:.0f}" for r in rps) + " | "
                     + ", ".join(f"{s:.0%}" for s in shares) + " |")
    shares = [r / h for r, h in zip(load["rows"]["rps"], refs, strict=True)]
    met = sum(s >= TARGET_THROUGHPUT for s in shares)
    rows_rps = statistics.median(load["rows"]["rps"])
    row = run_row(mach["cpu"], f"`/rows` {rows_rps:.0f}/s, {statistics.median(shares):.0%} "
                  "of `/healthz`", ref, ref.per(rows_rps))
    lines += ["", f"The bare stack's list page reached {statistics.median(shares):.0%} of its "
              f"trivial route (median; {min(shares):.0%}–{max(shares):.0%}): at or above the "
              f"{TARGET_THROUGHPUT:.0%} target in {met} of {ROUNDS} rounds.", "",
              runs_table(BEGIN, END, "`/rows` req/s at 8 (median of the rounds)", row)]
    return "\n".join(lines)


def main() -> None:
    mach, ref = machine(), reference.measure()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    access_log, error_log = out / "floor-access.log", out / "floor-error.log"
    port = free_port()
    with server(port, access_log, error_log, app="bench.floor_app:create_app()"):
        load = measure(port)
    text = report(load, server_times(access_log), mach, ref)
    write_section(BEGIN, END, "The stack's floor", text)
    print(text)


if __name__ == "__main__":
    main()
