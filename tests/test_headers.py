"""Security headers on every response, and pages the policy can run: no inline script or
style, no handler attributes, no javascript: URLs (webapp/headers.py)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import url_for

from webapp.db import connect
from webapp.headers import CSP

ROLES = ("admin", "manager", "desk", "callback", "supervisor", "tech", "guard", "cleaner")


class InlineCode(HTMLParser):
    """What a policy without 'unsafe-inline' would block, as (tag, what) pairs."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and "src" not in a:
            self.found.append((tag, "inline script"))
        if tag == "style":
            self.found.append((tag, "style element"))
        for name, value in a.items():
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append((tag, name))
            if name == "style":
                self.found.append((tag, "style attribute"))
            if name in ("href", "src", "action", "formaction") and \
                    value.strip().lower().startswith("javascript:"):
                self.found.append((tag, f"{name}=javascript:"))


def get_urls(app) -> list[str]:
    db = connect(app.config["DATABASE"])
    token = db.execute("SELECT token FROM qr_tokens WHERE revoked_at IS NULL LIMIT 1").fetchone()[0]
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        # The demo's first record where an id fits, else a miss (404): headers either way.
        values = dict.fromkeys(rule.arguments, "1")
        if rule.endpoint.startswith("places.qr"):
            values["token"] = token
        if "place_type" in values:
            values["place_type"] = "area"
        with app.test_request_context():
            urls.append(url_for(rule.endpoint, **values))
    return sorted(set(urls))


def check_headers(url: str, response) -> None:
    h = response.headers
    csp = h["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")
    features = dict(p.strip().split("=", 1) for p in h["Permissions-Policy"].split(","))
    assert features["camera"] == "(self)"
    assert features["microphone"] == features["geolocation"] == "()"
    assert "Strict-Transport-Security" not in h  # Caddy's decision (deploy/Caddyfile)
    assert "Server" not in h
    if response.mimetype == "text/html":
        assert "private" in h["Cache-Control"], url


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_get_route_sends_the_headers_and_runs_no_inline_code(app, client, auth, role):
    if role:
        auth.login(role)
    seen = 0
    for url in get_urls(app):
        if url in ("/logout",):
            continue
        response = client.get(url)
        assert response.status_code < 500, url
        check_headers(url, response)
        if response.mimetype == "text/html":
            seen += 1
            assert InlineCode(response.get_data(as_text=True)).found == [], url
    assert seen > 5


def test_errors_carry_them_and_static_files_what_files_need(client):
    check_headers("404", client.get("/no/such/page"))
    check_headers("/sw.js", client.get("/sw.js"))  # a worker's script: its own policy
    with client.get("/static/common.js") as response:
        # Not a document: no document policies (bytes on each file of a first load).
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in response.headers
        assert "Permissions-Policy" not in response.headers
        assert "Content-Disposition" not in response.headers  # never saved as a file


def test_https_is_left_to_the_proxy(app, client):
    """Talisman neither redirects plain http nor marks cookies Secure on its own (with no
    https PUBLIC_URL, webapp/https.py leaves them plain)."""
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert client.get("/login", base_url="http://example.org").status_code == 200


def test_the_policy_names_what_the_phone_makes():
    """Photo and signature previews are data: and blob: images."""
    assert {"data:", "blob:"} <= set(CSP["img-src"])


def test_talisman_works_the_headers_out_once_per_view(client, monkeypatch):
    """After a view's first answer its headers are copied, not rebuilt: talisman re-joined
    its policies on every answer (webapp/headers.py)."""
    from flask_talisman import Talisman

    check_headers("/login", client.get("/login"))
    client.get("/static/app.js").close()
    calls = []
    parse = Talisman._parse_policy
    monkeypatch.setattr(Talisman, "_parse_policy",
                        lambda self, policy: calls.append(policy) or parse(self, policy))
    check_headers("/login", client.get("/login"))
    with client.get("/static/app.js") as response:
        assert "Content-Security-Policy" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert calls == []
