"""Fuzz: no input makes the server fail. Every POST and PUT route of the app (read from
its URL map, so a new route is fuzzed without being listed here) and the offline batch
get generated ids, numbers, dates, texts and JSON, from each role that can reach them;
every answer must be below 500. The app runs with TESTING, so an exception in a view
reaches the test instead of becoming an error page."""

from __future__ import annotations

import re
import sqlite3
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import Rule

from webapp import create_app
from webapp.db import pool
from webapp.domain.handlers import HANDLERS
from webapp.payloads import OUTBOX

from .conftest import copy_db

ROLES = ("admin", "manager", "desk", "callback", "supervisor", "tech", "guard", "cleaner")
TEMPLATES = Path(__file__).parent.parent / "webapp" / "templates"
FUZZ = settings(max_examples=30, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
ORIGIN = {"Origin": "http://localhost"}


def form_names() -> list[str]:
    """Every field name the templates' forms send (`result_{{ id }}` as `result_1`)."""
    names = set()
    for page in TEMPLATES.rglob("*.html"):
        for name, dynamic in re.findall(r'name="([A-Za-z_]+)(\{\{)?', page.read_text()):
            names.add(f"{name}1" if dynamic else name)
    return sorted(names)


def words() -> list[str]:
    """Path words the app knows: the parts of its command kinds (`job.pause` → `pause`)."""
    parts = {p for kind in HANDLERS for p in re.split(r"[._]", kind)}
    return sorted(parts | {kind.split(".", 1)[1] for kind in HANDLERS})


# Values people, broken pages and attackers send.
HUGE = st.sampled_from([2**63, 2**64 + 1, 10**30, -(2**63) - 1, 0, -1])
NUMBERS = st.one_of(st.integers(1, 60), HUGE, st.integers())
DATES = st.sampled_from(["0001-01-01T00:00", "9999-12-31T23:59", "2026-11-12T10:00",
                         "2026-11-12", "0001-01-01", "2026-02-30", "1970-01-01T00:00:00Z",
                         "2026-11-10T09:00:00+14:00", "T", "24:00"])
ODD = st.sampled_from(["", " ", "²", "١٢", "1e400", "nan", "user:" + str(10**30),
                       "pool:" + "x" * 300, "unit:1", "area:" + str(2**64), "x" * 30000,
                       "'; DROP TABLE jobs; --", "\x00", "１２", "-5", "new"])
# Forms are sent encoded, so they cannot carry a lone surrogate (the JSON below does).
FORM_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
FORM_VALUE = st.one_of(NUMBERS.map(str), DATES, ODD, FORM_TEXT)
JSON_TEXT = st.text(max_size=40)  # lone surrogates included
JSON_SCALAR = st.one_of(st.none(), st.booleans(), NUMBERS, st.floats(), JSON_TEXT, DATES, ODD)
JSON_VALUE = st.recursive(JSON_SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(JSON_TEXT, inner, max_size=3)), max_leaves=8)


def nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


def post_rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.methods & {"POST", "PUT"}),
                  key=lambda r: r.rule)


VARIABLE = re.compile(r"<(?:([^:<>(]+)(?:\([^)]*\))?:)?([^<>]+)>")


def url_values(rule: Rule):
    """A strategy for the rule's URL variables: ids for `int:`, words and numbers else."""
    fields = {}
    for converter, name in VARIABLE.findall(rule.rule):
        if converter == "int":
            fields[name] = st.one_of(st.integers(1, 40), HUGE.filter(lambda n: n >= 0))
        else:
            fields[name] = st.one_of(st.sampled_from(words() + ["unit", "area", "new"]),
                                     NUMBERS.map(str), FORM_TEXT.filter(lambda t: "/" not in t
                                                                        and t.strip()))
    return st.fixed_dictionaries(fields)


def build_url(rule: Rule, values: dict) -> str:
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), url)
    return url


@pytest.fixture
def fuzz_app(tmp_path, template_db):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "DATABASE": str(tmp_path / "fuzz.db"),
                      "FILES_DIR": str(tmp_path / "files")})
    target = sqlite3.connect(app.config["DATABASE"])
    copy_db(template_db, target)
    target.close()
    yield app
    pool(app).close()


def signed_in(app, username: str):
    client = app.test_client()
    client.post("/login", data={"username": username, "password": "demo1234"})
    return client


def reachable(app, rule: Rule, clients: dict) -> list[str]:
    """The roles this route answers with more than a refusal (a probe with no fields)."""
    method = "POST" if "POST" in rule.methods else "PUT"
    url = build_url(rule, {name: 1 for _converter, name in VARIABLE.findall(rule.rule)})
    roles = []
    for role, client in clients.items():
        status = client.open(url, method=method, data={}, headers=ORIGIN).status_code
        assert status < 500, (role, url)
        if status not in (401, 403):
            roles.append(role)
    return roles or ["admin"]


def test_every_form_route_is_fuzzed(fuzz_app):
    """The list below is the URL map's: at least the job, complaint and batch routes."""
    rules = {r.rule for r in post_rules(fuzz_app)}
    assert {"/jobs/<int:job_id>/<action>", "/sync/batch", "/jobs/new"} <= rules


def route_ids() -> list[str]:
    """The rules to fuzz, read at collection from an app with nothing behind it."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE": ":memory:",
                          "FILES_DIR": folder})
        return [r.rule for r in post_rules(app)]


@pytest.mark.parametrize("route", route_ids())
def test_no_post_answers_with_a_server_error(fuzz_app, route):
    (rule,) = [r for r in post_rules(fuzz_app) if r.rule == route]
    method = "POST" if "POST" in rule.methods else "PUT"
    clients = {role: signed_in(fuzz_app, role) for role in ROLES}
    roles = reachable(fuzz_app, rule, clients)
    names = form_names()

    @FUZZ
    @given(role=st.sampled_from(roles), values=url_values(rule),
           form=st.dictionaries(st.sampled_from(names), FORM_VALUE, max_size=len(names)),
           everything=st.booleans(), value=FORM_VALUE)
    def fuzz(role, values, form, everything, value):
        if everything:  # every field the templates name, all with the same value
            form = dict.fromkeys(names, value) | form
        url = build_url(rule, values)
        response = clients[role].open(url, method=method, data=form, headers=ORIGIN)
        assert response.status_code < 500, (role, url, form)

    fuzz()


def query_names() -> list[str]:
    """The query parameters the views read (`request.args.get("q")`, `record_id("before")`)."""
    views = Path(__file__).parent.parent / "webapp" / "views"
    found = set()
    for source in views.glob("*.py"):
        found |= set(re.findall(r'(?:args\.get|record_id)\("(\w+)"', source.read_text()))
    return sorted(found)


def get_rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods
                   and r.endpoint not in ("static", "files.show")), key=lambda r: r.rule)


def test_no_page_answers_with_a_server_error(fuzz_app):
    """Every page with generated ids in its address and the query parameters views read."""
    clients = {role: signed_in(fuzz_app, role) for role in ("admin", "tech", "callback")}
    names = query_names()
    assert {"before", "place_id", "year"} <= set(names)
    rules = get_rules(fuzz_app)

    @settings(FUZZ, max_examples=len(rules) * 3)
    @given(rule=st.sampled_from(rules), role=st.sampled_from(sorted(clients)),
           data=st.data(), query=st.dictionaries(st.sampled_from(names), FORM_VALUE,
                                                 max_size=4))
    def fuzz(rule, role, data, query):
        url = build_url(rule, data.draw(url_values(rule)))
        response = clients[role].get(url, query_string=query)
        assert response.status_code < 500, (role, url, query)

    fuzz()


def batch_item():
    return st.fixed_dictionaries(
        {"kind": st.one_of(st.sampled_from(sorted(OUTBOX)), JSON_SCALAR)},
        optional={
            "op_id": st.one_of(st.uuids().map(str), JSON_SCALAR),
            "target": st.one_of(st.builds(lambda k, n: f"{k}:{n}", st.sampled_from(
                ["job", "callback", "unit", "area", "equipment", "feedback"]), NUMBERS),
                JSON_SCALAR),
            "fields": st.one_of(st.dictionaries(st.sampled_from(form_names()), JSON_VALUE,
                                                max_size=12), JSON_VALUE),
            "device_time": st.one_of(DATES, JSON_VALUE),
            "base_version": st.one_of(NUMBERS, JSON_SCALAR),
            "queued": JSON_SCALAR,
            "user_id": st.one_of(st.none(), NUMBERS, JSON_SCALAR),
        })


@pytest.mark.parametrize("role", ["tech", "desk", "guard", "callback"])
def test_no_batch_answers_with_a_server_error(fuzz_app, role):
    client = signed_in(fuzz_app, role)

    @settings(FUZZ, max_examples=25)
    @given(items=st.lists(st.one_of(batch_item(), JSON_VALUE), max_size=4),
           sent_at=st.one_of(DATES, JSON_SCALAR), device_id=JSON_SCALAR)
    def fuzz(items, sent_at, device_id):
        response = client.post("/sync/batch", headers=ORIGIN, json={
            "commands": items, "sent_at": sent_at, "device_id": device_id})
        assert response.status_code < 500, items
        if response.status_code == 200:
            assert len(response.json["results"]) == len(items)

    fuzz()


@pytest.mark.parametrize("body", [
    b"", b"not json", b"[", b"\xff\xfe", b"{\"commands\": 5}", b"1e999999",
    b"[" * 100_000 + b"]" * 100_000, b"{\"commands\": " + b"[" * 40 + b"]" * 40 + b"}",
])
def test_an_unreadable_batch_is_400_with_a_json_error(client, auth, body):
    auth.login("tech")
    response = client.post("/sync/batch", data=body, headers={
        **ORIGIN, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"] == "bad_batch"


def test_the_server_error_is_not_swallowed_in_tests(fuzz_app):
    """A view that raises reaches the test as its exception, so the fuzz sees every 500."""
    @fuzz_app.get("/boom-" + uuid.uuid4().hex)
    def boom():
        raise RuntimeError("boom")

    (rule,) = [r for r in fuzz_app.url_map.iter_rules() if r.rule.startswith("/boom-")]
    with pytest.raises(RuntimeError):
        fuzz_app.test_client().get(rule.rule)
