"""The benchmark's report: the Markdown written into docs/BENCHMARKS.md."""

from __future__ import annotations

import statistics
from typing import Any

from .doc import run_row, runs_table, write_section
from .reference import header
from .run import (
    BEGIN,
    END,
    REFERENCE,
    TARGET_FIRST_LOAD,
    TARGET_HTML,
    TARGET_P95_MS,
    TARGET_THROUGHPUT,
    THREADS,
    WORKERS,
)


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def ms(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def offline_lines(ctx: dict[str, Any]) -> list[str]:
    """The service worker's traffic for the technician, next to one view of their list."""
    off = ctx["load"].get("offline")
    if not off:
        return []
    inst, ref = off["install"], off["refresh"]
    server = ctx["server"].get("offline|refresh", {}).get("total_ms", 0) / ref["rounds"]
    mine = ctx["server"]["mine|c1"]["ms"]["p50"]
    lines = [
        "### Offline cache (service worker)",
        "",
        f"For `{ctx['info']['users']['tech']['username']}`, installing the service worker "
        f"fetches {inst['requests']} files, {kb(inst['gzip'])} gzip -9 ({kb(inst['raw'])} "
        f"raw). Fetching every one of the {len(ref['pages'])} pages the manifest lists "
        f"(what each refresh did before pages had versions; now a refresh fetches only "
        f"the pages whose version changed, section \"Phone data\") costs "
        f"{kb(ref['gzip'])} gzip -9 ({kb(ref['raw'])} raw) and {server:.0f} ms of server "
        f"time, {server / mine:.0f} times one view of the technician's list.",
    ]
    if ref["not_ok"]:
        lines.append(f"Pages in the manifest that did not answer 200: {', '.join(ref['not_ok'])}.")
    return [*lines, ""]


def round_share(c8: dict[str, Any], ref: dict[str, Any]) -> float:
    """The page's requests/s as a share of the reference's in the same round; the
    median over the rounds."""
    return statistics.median(r / f for r, f in zip(c8["rounds"], ref["rounds"], strict=True))


def runs(ctx: dict[str, Any]) -> str:
    """The key figures beside earlier machines': p95 at eight clients and the share of
    the bare stack's list page, for the list, the job page and the board."""
    ref, load, srv = ctx["reference"], ctx["load"], ctx["server"]
    ref_c8 = load["pages"][REFERENCE]["phases"]["c8"]
    keys = ("mine", "job", "board")
    p95 = [srv[f"{k}|c8"]["ms"]["p95"] for k in keys]
    shares = [round_share(load["pages"][k]["phases"]["c8"], ref_c8) for k in keys]
    figure = ("p95 at 8 " + " / ".join(f"{x:.1f}" for x in p95) + " ms; "
              + " / ".join(f"{s:.0%}" for s in shares) + " of the floor")
    row = run_row(ctx["machine"]["cpu"], figure, ref,
                  " / ".join(ref.of(x / 1000).removesuffix(" ref") for x in p95) + " ref")
    row[3] += f"; floor {ref_c8['rps']:.0f}/s"
    return runs_table(BEGIN, END, "List / job page / board: p95 at 8 clients, share of "
                      "the floor's list page", row)


def report(ctx: dict[str, Any]) -> str:
    info, mach, load, srv = ctx["info"], ctx["machine"], ctx["load"], ctx["server"]
    ref = ctx["reference"]
    counts = info["counts"]
    ref_c8 = load["pages"][REFERENCE]["phases"]["c8"]
    ref_rps = ref_c8["rps"]
    rows, checks = [], []
    for page in ctx["pages"]:
        res = load["pages"][page["name"]]
        s1 = srv.get(f"{page['name']}|c1", {}).get("ms", {})
        s8 = srv.get(f"{page['name']}|c8", {}).get("ms", {})
        c1 = res["phases"].get("c1", {}).get("client_ms", {})
        c8 = res["phases"].get("c8")
        share = round_share(c8, ref_c8) if c8 else None
        html = max(s["html_gzip"] for s in res["sizes"])
        total = max(s["total_gzip"] for s in res["sizes"])
        label = page["label"] + ("" if page["kind"] != "info" else " *(info)*")
        if page["kind"] == "info" and s1.get("p95", 0) > TARGET_P95_MS:
            label += f" ⚠ p95 > {TARGET_P95_MS:.0f} ms"
        path = page["paths"][0] + (" …" if len(page["paths"]) > 1 else "")
        rps = f"{c8['rps']:.0f}" if c8 else "–"
        pct = f"{share:.0%}" if share is not None else "–"
        rows.append(
            f"| {label} | `{path}` | {ms(s1.get('p50'))} / {ms(s1.get('p95'))} "
            f"| {ms(c1.get('p50'))} / {ms(c1.get('p95'))} | {rps} | {pct} "
            f"| {ms(s8.get('p95'))} | {kb(html)} | {kb(total)} |")
        if page["kind"] in ("field", "desk"):
            checks.append((f"p95 server time ≤ {TARGET_P95_MS:.0f} ms with "
                           f"{WORKERS * THREADS} clients", page["label"],
                           f"{s8['p95']:.1f} ms ({s1['p95']:.1f} ms with one client)",
                           ref.of(s8["p95"] / 1000), s8["p95"] <= TARGET_P95_MS))
            checks.append((f"throughput ≥ {TARGET_THROUGHPUT:.0%} of the bare stack's list page's",
                           page["label"], f"{share:.0%} (median of {len(c8['rounds'])} "
                           f"rounds: {c8['rps']:.0f} vs {ref_rps:.0f}/s; "
                           + ", ".join(f"{r / f:.0%}" for r, f in
                                       zip(c8["rounds"], ref_c8["rounds"], strict=True))
                           + ")", f"{share:.0%} of the floor",
                           share >= TARGET_THROUGHPUT))
        if page["kind"] == "field":
            checks.append(("HTML ≤ 14 KB compressed", page["label"], f"{html:,} B", "–",
                           html <= TARGET_HTML))
            checks.append(("first load with all assets ≤ 60 KB compressed", page["label"],
                           f"{total:,} B", "–", total <= TARGET_FIRST_LOAD))
    failed = [c for c in checks if not c[-1]]
    first = load["pages"]["mine"]["sizes"][0]
    asset_lines = [f"| `{a['url']}` | {a['status']} | {a['raw']:,} | {a['gzip']:,} | "
                   f"{a['cache_control'] or '(none)'} |" for a in first["assets"]]
    mix = ", ".join(f"{k} {v / counts['jobs']:.2%}" for k, v in info["status_mix"].items())
    errors = sum(v["errors"] for k, v in srv.items() if "|" in k)
    built = (f"cached from an earlier run (built {info['generated_at']} in "
             f"{info['generation_seconds']:.0f} s)" if info["cached"]
             else f"built in this run in {info['generation_seconds']:.0f} s")
    job = next(p for p in ctx["pages"] if p["name"] == "job")
    c = ctx["cpu"]
    other = max(0.0, c["tasks"] - c["server"] - c["load"])
    out = [
        f"Run {ctx['date']} · `make bench` took {ctx['seconds'] / 60:.1f} min · "
        f"**{len(checks) - len(failed)} of {len(checks)} targets met**.",
        "",
        f"- {header(mach, ref)} Throughput's reference is the bare stack's list page, "
        f"served beside the product; gunicorn {mach['gunicorn']} "
        f"(`--workers {WORKERS} --threads {THREADS}`).",
        f"- **CPU while the server ran:** server {c['server']:.0f} s, load process "
        f"{c['load']:.0f} s (it shares the cores), other processes on the machine "
        f"{other:.0f} s, interrupts (mostly loopback network) {c['irq']:.0f} s, stolen by "
        f"the host {c['steal']:.0f} s."
        + (" **Other work on the machine competed with this run; expect lower figures "
           "than on a quiet machine.**" if other > 0.1 * c["server"] else ""),
        f"- **Data set** (generator v{info['version']}, {built}; "
        f"{info['size_bytes'] / 1e9:.2f} GB): {counts['estates']} estates, "
        f"{counts['buildings']:,} buildings, {counts['units']:,} units, "
        f"{counts['residents']:,} residents, {counts['users']:,} staff, "
        f"**{counts['jobs']:,} jobs** over two years, {counts['audit']:,} audit entries, "
        f"{counts['notes']:,} notes, {counts['photos']:,} photos, "
        f"{counts['signatures']:,} signatures.",
        f"- **Job status mix:** {mix}.",
        f"- **Measured users:** `{info['users']['tech']['username']}` (technician, one estate, "
        f"{counts['jobs_open_per_technician']} open jobs plus the estate's maintenance pool) and "
        f"`{info['users']['desk']['username']}` (service desk, one estate of "
        f"{counts['jobs'] // counts['estates']:,} jobs). Job pages: "
        f"{', '.join(f'`/jobs/{i}`' for i in ctx['prep']['job_ids'])} "
        f"({', '.join(ctx['prep']['statuses'])}, closed).",
        f"- Requests that did not answer 200: {errors}.",
        "",
        "### Targets",
        "",
        "| Target | Page | Measured | ÷ reference | Result |",
        "|---|---|---|---|---|",
        *[f"| {t} | {p} | {m} | {r} | {'pass' if ok else '**FAIL**'} |"
          for t, p, m, r, ok in checks],
        "",
        runs(ctx),
        "",
        "### Pages",
        "",
        "Server time is gunicorn's `%(D)s` (request in, response written), client time is what "
        "the load process saw. Latency at concurrency 1; throughput with "
        f"{WORKERS * THREADS} clients in a closed loop. Sizes are gzip -9 of the HTML, and of "
        f"the HTML plus every stylesheet and script it references (largest of the "
        f"{len(job['paths'])} job pages).",
        "",
        "| Page | Path | Server p50 / p95 ms | Client p50 / p95 ms | req/s at "
        f"{WORKERS * THREADS} | % of the bare stack's list | Server p95 ms at "
        f"{WORKERS * THREADS} | HTML gz "
        "| Page + assets gz |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Assets of a first load (same for every page):",
        "",
        "| Asset | HTTP | Bytes | gzip -9 | Cache-Control |",
        "|---|---|---|---|---|",
        *asset_lines,
        "",
        f"Uncompressed (this load process sends no Accept-Encoding; browsers get brotli "
        f"or gzip from the app, or from Caddy under `make serve`), the technician's list "
        f"costs {kb(first['total_raw'])} on first load ({kb(first['html_raw'])} of HTML).",
        "",
        *offline_lines(ctx),
        "### Queries",
        "",
        "The list queries behind the pages, in-process on the same database (20 runs each):",
        "",
    ]
    out += ["| Query | Rows | Median ms | Max ms |", "|---|---|---|---|"]
    out += [f"| {q['name']} | {q['rows']} | {q['p50']:.1f} | {q['max']:.1f} |"
            for q in ctx["queries"]]
    out += ["", "Query plans (EXPLAIN QUERY PLAN):", ""]
    for q in ctx["queries"]:
        if q["plan"]:
            out += [f"*{q['name']}*", "", "```", *q["plan"], "```", ""]
    if ctx["prep"]["pending"]:
        out += [f"Migrations applied to the cached data set before this run: "
                f"{', '.join(ctx['prep']['pending'])}.", ""]
    return "\n".join(out).rstrip() + "\n"


INTRO = f"""# Benchmarks

`make bench` measures the production server (gunicorn with the flags of `make run`)
on the data of a large property-management company and rewrites the results
section below. The first run builds the data set (about 2.5 minutes on two cores,
then cached in `bench/out/`); a run takes about two minutes after that.

## How it works

- `bench/generate.py` builds the data set with bulk SQL after the app's own
  migrations: 50 estates, 100,000 units (25 buildings of 20 floors per estate), one
  resident per unit, 30 staff per estate, and 1,000,000 jobs over two years with
  what the app writes for each (audit trail, notes, photo and signature records).
  Open jobs are mostly recent; a small share of old ones is stuck, as in real data.
  The measured technician has 20 open jobs; the measured desk user serves one
  estate. Change what it makes, bump its `VERSION`.
- `bench/run.py` copies the cached data set, applies pending migrations to the
  copy, explains and times the list queries, starts gunicorn on a free loopback
  port with an access log of server times (`%(D)s`), and a second one serving the
  bare stack (`bench/floor_app.py`) as the throughput reference, runs the load,
  and writes this file.
- `bench/inprocess.py` (not part of `make bench`) measures what a page costs the
  server's CPU in-process: the test client against the data set, best of several
  runs, the bare stack's pages beside the product's; `--profile PAGE` prints
  cProfile's view of one. It counts the server's CPU only and takes each page's best
  run, the pages in turns, so it moves less than throughput does; on a busy machine
  it still moves by 10–20 %: compare versions run one after the other.
- `bench/load.py` is the load process, separate from the server: it signs in
  (with the login form's CSRF token), weighs each page and its stylesheets and
  scripts (gzip -9), then runs one client for latency and eight for throughput,
  each bounded by a request count and a time limit; the eight clients run in three
  rounds, every page once a round, and a page's share of the reference is taken
  within a round (the median is reported). Last it fetches what the
  service worker would for the technician: its app shell, then the manifest and
  every page it lists.

Targets: p95 server time ≤ 25 ms with eight clients for the technician's job list,
the job page and the desk's board; their throughput ≥ 50 % of the bare stack's list
page's in the same run (`bench/floor_app.py`'s `/rows`: Flask, flask-login, flask-wtf
and Jinja printing 23 rows from a constant list, served by a second gunicorn with the
same flags beside the product and driven by the same load process); a field page's
HTML ≤ 14 KB compressed and its first load with all assets ≤ 60 KB. The trivial route
(`/healthz`: `SELECT 1` on a pooled connection, no template) and a static file are
reported beside them.

Read the figures with the setup in mind: the load process shares the machine's
cores with the server, and so does any other work on the machine (the results
say how much CPU other processes took during the run).

## Results

{BEGIN}
{END}
"""


def write_doc(text: str) -> None:
    write_section(BEGIN, END, "Results", text, empty=INTRO)


