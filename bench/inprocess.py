"""CPU time per request, in-process: `python -m bench.inprocess [--profile PAGE]`.

The throughput runs (bench.run, bench.floor) share the machine's two cores with
whatever else runs, so their figures move by 10-15 % from run to run. This measures
what a page costs the server's CPU instead: Flask's test client against the
benchmark's data set (bench.generate), the same pages bench.run drives, and the bare
stack's pages (bench.floor_app) beside them. Each figure is the best of several runs
of process CPU time, so other work on the machine hardly moves it. `--profile PAGE`
prints cProfile's view of that page's requests.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from . import floor_app, generate

RUNS, REQUESTS = 5, 300


def _signed_in(app: Flask, username: str, password: str) -> FlaskClient:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    resp = client.post("/login", data={"csrf_token": m.group(1) if m else "",
                                       "username": username, "password": password})
    assert resp.status_code in (302, 303), resp.status_code
    client.get("/")  # settle the session (CSRF token), as bench.load does
    return client


def product_pages(info: dict[str, Any],
                  reuse: bool = False) -> list[tuple[str, FlaskClient, list[str]]]:
    """(name, signed-in client, paths) of the product's pages, on a migrated copy of the
    cached data set (as bench.run serves it); `reuse` keeps the copy an earlier run left
    when it needs no migration, which saves minutes between profiles."""
    from webapp.db import connect
    from webapp.migrations import migrations

    from .run import RUN_DB, prepare

    if reuse and RUN_DB.exists():
        db = connect(str(RUN_DB))
        reuse = not migrations.pending(db)
        db.close()
    if not reuse:
        prepare(info)
    os.environ.update(WUYE_DATABASE=str(RUN_DB),
                      WUYE_FILES_DIR=str(generate.OUT / "files"),
                      WUYE_SECRET_KEY="bench-" + secrets.token_hex(16))
    from webapp import create_app

    app = create_app()
    tech = _signed_in(app, info["users"]["tech"]["username"], info["password"])
    desk = _signed_in(app, info["users"]["desk"]["username"], info["password"])
    db = connect(str(RUN_DB))
    marks = ",".join("?" * len(info["tech_open_jobs"]))
    by_status: dict[str, int] = {}
    for row in db.query(f"SELECT id, status FROM jobs WHERE id IN ({marks}) ORDER BY id",
                        info["tech_open_jobs"]):
        by_status.setdefault(row["status"], row["id"])
    db.close()
    return [
        ("healthz", app.test_client(), ["/healthz"]),
        ("outbox", tech, ["/outbox"]),
        ("mine", tech, ["/jobs/mine"]),
        ("job", tech, [f"/jobs/{i}" for i in by_status.values()]),
        ("board", desk, ["/jobs"]),
        # What a live list asks every few seconds (views/live.py): the list's reads only.
        ("live mine", tech, ["/live/mine"]),
        ("live board", desk, ["/live/board"]),
    ]


def floor_pages() -> list[tuple[str, FlaskClient, list[str]]]:
    app = floor_app.create_app()
    client = _signed_in(app, "floor", "-")
    return [("floor healthz", app.test_client(), ["/healthz"]),
            ("floor empty", client, ["/empty"]), ("floor rows", client, ["/rows"])]


def cpu_ms(client: FlaskClient, paths: list[str], n: int = REQUESTS) -> float:
    """CPU milliseconds per request over n requests."""
    t = time.process_time()
    for i in range(n):
        resp = client.get(paths[i % len(paths)])
        assert resp.status_code == 200, (paths[i % len(paths)], resp.status_code)
    return (time.process_time() - t) * 1000 / n


def best(pages: list[tuple[str, FlaskClient, list[str]]], runs: int = RUNS) -> dict[str, float]:
    """Each page's best run; the pages take turns, so a busy moment on the machine
    falls on all of them rather than on one."""
    for _, client, paths in pages:
        cpu_ms(client, paths, 30)  # warm: caches, first-use imports
    out = {name: float("inf") for name, _, _ in pages}
    for _ in range(runs):
        for name, client, paths in pages:
            out[name] = min(out[name], cpu_ms(client, paths))
    return out


def profile(call: Callable[[], Any], lines: int = 45) -> None:
    prof = cProfile.Profile()
    prof.runcall(call)
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", help="print a cProfile of this page's requests")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the migrated copy an earlier run left, if current")
    args = parser.parse_args()
    info = generate.ensure(log=print)
    pages = floor_pages() + product_pages(info, args.reuse)
    if args.profile:
        name, client, paths = next(p for p in pages if p[0] == args.profile)
        cpu_ms(client, paths, 30)
        profile(lambda: cpu_ms(client, paths, 1000))
        return
    figures = best(pages, args.runs)
    rows = figures["floor rows"]
    print(f"{'page':<16} {'CPU ms/request':>14} {'floor rows / page':>18}")
    for name, ms in figures.items():
        print(f"{name:<16} {ms:>14.3f} {rows / ms:>18.0%}")


if __name__ == "__main__":
    main()
