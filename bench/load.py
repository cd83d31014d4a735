"""The load process: signs in, fetches each page once for its sizes, then drives it.

Run by bench.run as a separate process, so the client's work is not counted in
the server's processes: `python -m bench.load PLAN.json RESULT.json`.

A small HTTP/1.1 client over keep-alive sockets keeps the client's own CPU
use low (the server and this process share the machine). Every request carries
an `X-Bench: page|phase` header, which the server's access log records with the
server-side time, so bench.run can match the two.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import socket
import statistics
import sys
import threading
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit


class Client:
    """One keep-alive connection with its own cookie jar."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None,
                 headers: list[str] | None = None):
        self.port = port
        self.cookies = dict(cookies or {})
        self.sock: socket.socket | None = None
        self.buf = b""
        self.headers: dict[str, str] = {}
        self.extra = list(headers or [])  # e.g. "Accept-Encoding: br", as a browser sends
        self.sent = self.received = 0  # bytes on the wire, both ways

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def request(self, method: str, path: str, tag: str = "-", form: dict | None = None,
                ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                 "User-Agent: wuye-bench", f"X-Bench: {tag}", *self.extra]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if form is not None:
            body = urlencode(form).encode()
            lines += ["Content-Type: application/x-www-form-urlencoded",
                      f"Content-Length: {len(body)}"]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self.sock.sendall(raw)
                self.sent += len(raw)
                return self._response()
            except (ConnectionError, EOFError):
                self.close()  # the server closed an idle keep-alive connection
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _recv(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(262144)
        if not data:
            raise EOFError
        self.received += len(data)
        self.buf += data

    def _response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buf:
            self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            key, value = key.strip().lower(), value.strip()
            if key == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            headers[key] = value
        self.headers = headers
        if headers.get("transfer-encoding", "").lower() == "chunked":
            return status, self._chunks()
        if "content-length" not in headers:
            raise RuntimeError(f"response without Content-Length: {lines[0]} {headers}")
        length = int(headers["content-length"])
        while len(self.buf) < length:
            self._recv()
        body, self.buf = self.buf[:length], self.buf[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body


    def _chunks(self) -> bytes:
        """A chunked body (a streamed, compressed static file), as sent."""
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                self._recv()
            size_line, _, self.buf = self.buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(self.buf) < size + 2:
                self._recv()
            body, self.buf = body + self.buf[:size], self.buf[size + 2:]
            if size == 0:
                return body


def sign_in(port: int, username: str, password: str) -> dict[str, str]:
    """The session cookies of a signed-in user (CSRF token from the login form)."""
    c = Client(port)
    status, body = c.request("GET", "/login", "login")
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    if status != 200 or not m:
        raise RuntimeError(f"no login form (HTTP {status})")
    form = {"csrf_token": m.group(1).decode(), "username": username, "password": password}
    status, _ = c.request("POST", "/login", "login", form)
    if status not in (302, 303):
        raise RuntimeError(f"sign-in as {username} failed (HTTP {status})")
    status, _ = c.request("GET", "/", "login")  # settle the session (CSRF token) once
    c.close()
    return c.cookies


class Assets(HTMLParser):
    """The stylesheets and scripts a page references."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"] or "")
        elif tag == "script" and a.get("src"):
            self.urls.append(a["src"] or "")


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def sizes(port: int, cookies: dict[str, str], path: str) -> dict[str, Any]:
    """Raw and gzip -9 bytes of a page and of the page with all its assets."""
    c = Client(port, cookies)
    status, html = c.request("GET", path, "size")
    page_headers = c.headers
    if status != 200:
        raise RuntimeError(f"GET {path} answered HTTP {status}")
    parser = Assets()
    parser.feed(html.decode())
    assets = []
    for url in parser.urls:
        parts = urlsplit(urljoin(f"http://127.0.0.1:{port}{path}", url))
        if parts.scheme not in ("http", "https"):
            continue  # inline (data:)
        if parts.netloc != f"127.0.0.1:{port}":  # another site's: not fetched, not counted
            assets.append({"url": url, "status": "external", "raw": 0, "gzip": 0,
                           "cache_control": "", "content_encoding": ""})
            continue
        st, data = c.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                             "size")
        assets.append({"url": url, "status": st, "raw": len(data), "gzip": gz(data),
                       "cache_control": c.headers.get("cache-control", ""),
                       "content_encoding": c.headers.get("content-encoding", "")})
    c.close()
    html_gz = gz(html)
    return {"path": path, "html_raw": len(html), "html_gzip": html_gz,
            "content_encoding": page_headers.get("content-encoding", ""),
            "assets": assets, "total_gzip": html_gz + sum(a["gzip"] for a in assets),
            "total_raw": len(html) + sum(a["raw"] for a in assets)}


def offline(port: int, cookies: dict[str, str], rounds: int = 3) -> dict[str, Any]:
    """What the service worker fetches: its app shell once, then the user's pages.

    The refresh (the manifest and every page it lists) runs `rounds` times, tagged
    `offline|refresh`, so bench.run can add up its server time.
    """
    c = Client(port, cookies)
    status, sw = c.request("GET", "/sw.js", "offline|install")
    if status != 200:
        return {}
    m = re.search(r"SHELL_URLS\s*=\s*\[(.*?)\]", sw.decode(), re.S)
    shell = re.findall(r'"(/[^"]*)"', m.group(1)) if m else []
    install = [sw] + [c.request("GET", u, "offline|install")[1] for u in shell]
    for _ in range(rounds):
        status, body = c.request("GET", "/sync/manifest", "offline|refresh")
        pages = json.loads(body)["pages"] if status == 200 else []
        fetched = [(p, *c.request("GET", p, "offline|refresh")) for p in pages]
    c.close()
    return {
        "install": {"requests": len(install), "raw": sum(map(len, install)),
                    "gzip": sum(map(gz, install))},
        "refresh": {"rounds": rounds, "requests": len(fetched) + 1,
                    "pages": [p for p, _, _ in fetched],
                    "not_ok": [p for p, st, _ in fetched if st != 200],
                    "raw": sum(len(b) for _, _, b in fetched),
                    "gzip": sum(gz(b) for _, _, b in fetched)},
    }


def summary(latencies: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies)
    if not ms:
        return {}

    def pct(p: float) -> float:
        return ms[min(len(ms) - 1, int(round(p / 100 * (len(ms) - 1))))]

    return {"n": len(ms), "p50": pct(50), "p95": pct(95), "p99": pct(99), "max": ms[-1],
            "mean": statistics.fmean(ms)}


def drive(port: int, cookies: dict[str, str], paths: list[str], tag: str, concurrency: int,
          max_requests: int, max_seconds: float) -> dict[str, Any]:
    """`concurrency` clients in a closed loop until the request or time budget is spent."""
    counter = itertools.count()
    results: list[tuple[list[float], int]] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + max_seconds

    def client() -> None:
        c, lat, errors = Client(port, cookies), [], 0
        while True:
            n = next(counter)
            if n >= max_requests or time.perf_counter() > deadline:
                break
            t = time.perf_counter()
            status, _ = c.request("GET", paths[n % len(paths)], tag)
            lat.append(time.perf_counter() - t)
            errors += status != 200
        c.close()
        with lock:
            results.append((lat, errors))

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies = [x for lat, _ in results for x in lat]
    return {"concurrency": concurrency, "requests": len(latencies),
            "errors": sum(e for _, e in results), "seconds": elapsed,
            "rps": len(latencies) / elapsed, "client_ms": summary(latencies)}


def main(plan_file: str, result_file: str) -> None:
    plan = json.loads(open(plan_file).read())
    password = plan["password"]
    # A page may be served by another server (the stack's floor, bench.floor_app).
    port_of = {p["name"]: p.get("port", plan["port"]) for p in plan["pages"]}
    sessions: dict[tuple[int, str | None], dict[str, str]] = {}
    for page in plan["pages"]:
        key = (port_of[page["name"]], page["user"])
        if key not in sessions:
            sessions[key] = sign_in(key[0], page["user"], password) if page["user"] else {}
    out: dict[str, Any] = {"pages": {}}
    for page in plan["pages"]:
        port = port_of[page["name"]]
        cookies = sessions[(port, page["user"])]
        out["pages"][page["name"]] = {"sizes": [sizes(port, cookies, p) for p in page["paths"]],
                                      "phases": {}}
        c = Client(port, cookies)
        for n in range(plan["warmup"]):
            c.request("GET", page["paths"][n % len(page["paths"])], "warmup")
        c.close()
    for phase in plan["phases"]:
        # In rounds, the pages one after another in each: other work on the machine then
        # falls on every page of a round alike, and a page's share of another's is taken
        # within a round.
        rounds = phase.get("rounds", 1)
        runs: dict[str, list[dict[str, Any]]] = {}
        for _ in range(rounds):
            for page in plan["pages"]:
                if phase["name"] not in page["phases"]:
                    continue
                tag = f"{page['name']}|{phase['name']}"
                port = port_of[page["name"]]
                res = drive(port, sessions[(port, page["user"])], page["paths"], tag,
                            phase["concurrency"], phase["max_requests"] // rounds,
                            phase["max_seconds"] / rounds)
                runs.setdefault(page["name"], []).append(res)
                print(f"  {tag:<24} {res['requests']:>6} requests  {res['rps']:8.1f}/s  "
                      f"p95 {res['client_ms']['p95']:6.1f} ms (client)", flush=True)
                time.sleep(0.5)
        for name, results in runs.items():
            out["pages"][name]["phases"][phase["name"]] = {
                **results[0], "rps": statistics.median(r["rps"] for r in results),
                "rounds": [r["rps"] for r in results],
                "requests": sum(r["requests"] for r in results)}
    if plan.get("offline_user"):
        out["offline"] = offline(plan["port"], sessions[(plan["port"], plan["offline_user"])])
    with open(result_file, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main(*sys.argv[1:3])
