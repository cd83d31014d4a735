"""Sign-in, throttling, cookies, CSRF and the language switch."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from webapp import create_app
from webapp.db import get_db
from webapp.domain import people

from .pages import Page


class Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.values.setdefault(a["name"], a.get("value", ""))
        if tag == "body" and a.get("hx-headers"):
            self.values["hx-headers"] = a["hx-headers"]


def inputs(html: str) -> dict:
    p = Inputs()
    p.feed(html)
    return p.values


def test_login_and_logout(client, auth):
    assert client.get("/login").status_code == 200
    response = auth.login("desk")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/jobs"
    auth.logout()
    assert "/login" in client.get("/jobs").headers["Location"]


def test_wrong_password_keeps_the_username_and_says_why(client, auth):
    response = auth.login("desk", "nope")
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert inputs(html)["username"] == "desk"
    assert "用户名或密码错误" in html


def test_failed_logins_are_throttled(client, auth, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login("desk", "wrong").status_code == 401
    blocked = auth.login("desk", "demo1234")
    assert blocked.status_code == 429
    # Another account from elsewhere is not locked out by this.
    other = client.post("/login", data={"username": "tech", "password": "demo1234"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 302


def test_passwords_are_hashed_with_scrypt(app):
    from webapp.db import connect

    db = connect(app.config["DATABASE"])
    hashes = [r[0] for r in db.execute("SELECT password_hash FROM users")]
    assert hashes and all(h.startswith("scrypt:") for h in hashes)


def test_session_cookie_is_httponly_and_samesite(client, auth):
    response = auth.login("desk")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
    # Remembered, so a phone's browser restarted in the field stays signed in.
    assert any(c.startswith("remember_token=") for c in cookies)


@pytest.mark.parametrize("target, expected", [
    ("/jobs/new", "/jobs/new"),
    ("https://evil.example/x", "/"),
    ("//evil.example/x", "/"),
])
def test_login_follows_only_local_next(client, target, expected):
    response = client.post(f"/login?next={target}",
                           data={"username": "desk", "password": "demo1234"})
    assert response.headers["Location"] == expected


@pytest.fixture
def csrf_client(tmp_path, template_db):
    import sqlite3

    from .conftest import copy_db

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE": str(tmp_path / "c.db"),
                      "FILES_DIR": str(tmp_path / "f")})
    conn = sqlite3.connect(app.config["DATABASE"])
    copy_db(template_db, conn)
    conn.close()
    return app.test_client()


def test_csrf_is_required_on_forms_and_htmx(csrf_client):
    c = csrf_client
    assert c.post("/login", data={"username": "desk", "password": "demo1234"}).status_code == 400
    token = inputs(c.get("/login").get_data(as_text=True))["csrf_token"]
    ok = c.post("/login", data={"username": "desk", "password": "demo1234", "csrf_token": token})
    assert ok.status_code == 302
    page = c.get("/jobs").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', inputs(page)["hx-headers"]).group(1)
    data = {"op_id": str(uuid.uuid4()), "reason": "x"}
    assert c.post("/jobs/1/cancel", data=data).status_code == 400
    assert c.post("/jobs/1/cancel", data=data,
                  headers={"X-CSRFToken": header_token}).status_code == 303


def test_a_sessions_csrf_token_is_signed_once_and_stays_valid(csrf_client, monkeypatch):
    import itsdangerous.timed

    c = csrf_client
    token = inputs(c.get("/login").get_data(as_text=True))["csrf_token"]
    c.post("/login", data={"username": "desk", "password": "demo1234", "csrf_token": token})
    c.get("/jobs")  # the session's first page makes its token
    first = inputs(c.get("/jobs").get_data(as_text=True))["csrf_token"]
    # A signature made a minute later would differ (it holds the time it was made).
    later = itsdangerous.timed.time.time() + 60
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    page = c.get("/complaints").get_data(as_text=True)
    assert inputs(page)["csrf_token"] == first  # the same signature, not a new one
    assert first in inputs(page)["hx-headers"]
    data = {"op_id": str(uuid.uuid4()), "reason": "x", "csrf_token": first}
    assert c.post("/jobs/1/cancel", data=data).status_code == 303
    # Another session has its own token; the first one's is refused there.
    other = csrf_client.application.test_client()
    login = inputs(other.get("/login").get_data(as_text=True))["csrf_token"]
    assert login != first
    other.post("/login", data={"username": "desk", "password": "demo1234", "csrf_token": login})
    assert inputs(other.get("/jobs").get_data(as_text=True))["csrf_token"] != first
    data["op_id"] = str(uuid.uuid4())
    assert other.post("/jobs/1/cancel", data=data).status_code == 400


def test_language_switch_is_per_user(client, auth):
    auth.login("desk")
    assert "新建工单" in client.get("/jobs").get_data(as_text=True)
    client.post("/locale", data={"locale": "en", "next": "/jobs"})
    html = client.get("/jobs").get_data(as_text=True)
    assert "New job" in html and 'lang="en"' in html
    auth.logout()
    auth.login("desk")
    assert 'lang="en"' in client.get("/jobs").get_data(as_text=True)
    client.post("/locale", data={"locale": "zh_CN"})
    assert 'lang="zh-CN"' in client.get("/jobs").get_data(as_text=True)
    assert client.post("/locale", data={"locale": "fr"}).status_code == 400


def test_healthz_answers_without_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"


def test_a_form_address_opened_as_a_page_goes_to_the_form_s_page(client, auth):
    # A form shown again with errors keeps the address it was posted to; reopening that
    # tab asks for it with GET.
    auth.login("desk")
    again = client.get("/complaints/1/route")
    assert again.status_code == 303 and again.headers["Location"].endswith("/complaints/1")
    assert client.get("/jobs/1/dispatch").headers["Location"].endswith("/jobs/1")
    # No page one level up: a page that says what happened, in the user's language.
    lost = client.get("/sync/batch")
    assert lost.status_code == 405
    page = Page(lost.get_data(as_text=True))
    assert page.find("data-error-page", "405") and page.has_html


# --- Sessions end -------------------------------------------------------------------------

def signed_in_client(app, username="tech", remember=True):
    client = app.test_client()
    data = {"username": username, "password": "demo1234"}
    if remember:
        data["remember"] = "1"
    assert client.post("/login", data=data).status_code == 302
    return client


def with_cookies(app, cookies: dict):
    """A new browser that holds only these cookies (copied from another one)."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def opens_jobs(client) -> bool:
    response = client.get("/jobs/mine")
    return response.status_code == 200


def test_signing_out_ends_the_session_and_the_remember_cookie(app):
    client = signed_in_client(app)
    copied = {n: client.get_cookie(n).value for n in ("session", "remember_token")}
    assert opens_jobs(with_cookies(app, copied))
    client.post("/logout")
    assert not opens_jobs(client)
    # The cookies copied before signing out open nothing, together or one at a time.
    for names in (("session", "remember_token"), ("session",), ("remember_token",)):
        replay = with_cookies(app, {n: copied[n] for n in names})
        response = replay.get("/jobs/mine")
        assert response.status_code == 302 and "/login" in response.headers["Location"], names


def test_signing_out_ends_the_users_sessions_on_other_devices(app):
    phone, computer = signed_in_client(app), signed_in_client(app, remember=False)
    other = signed_in_client(app, "tech2")
    computer.post("/logout")
    assert not opens_jobs(phone)
    assert opens_jobs(other)  # someone else's sessions go on
    again = signed_in_client(app)
    assert opens_jobs(again)


def test_the_remember_token_changes_with_each_new_sign_in_after_a_sign_out(app):
    first = signed_in_client(app).get_cookie("remember_token").value
    client = with_cookies(app, {"remember_token": first})
    client.post("/logout")
    assert signed_in_client(app).get_cookie("remember_token").value != first


def test_a_cookie_naming_the_bare_user_id_opens_nothing(app):
    # A cookie in the old form (before the session version) or made up is refused.
    from webapp.auth import load_user

    with app.test_request_context():
        tech = connect_row(app, "tech")
        assert load_user(str(tech["id"])) is None
        assert load_user(f"{tech['id']}:x") is None
        assert load_user(f"{tech['id']}:{tech['session_version']}").id == tech["id"]


def connect_row(app, username):
    from webapp.db import connect

    db = connect(app.config["DATABASE"])
    try:
        return next(db.query("SELECT * FROM users WHERE username = ?", [username]))
    finally:
        db.close()


def test_keep_me_signed_in_is_ticked_by_default_and_can_be_unticked(app, client):
    page = Page(client.get("/login").get_data(as_text=True))
    [box] = page.find("data-remember")
    assert box["type"] == "checkbox" and "checked" in box
    days = app.config["REMEMBER_COOKIE_DURATION"].days
    assert f"{days} 天" in page.text("data-form", "login")
    unticked = client.post("/login", data={"username": "desk", "password": "demo1234"})
    assert unticked.status_code == 302 and client.get_cookie("remember_token") is None
    ticked = app.test_client()
    ticked.post("/login", data={"username": "desk", "password": "demo1234", "remember": "1"})
    lasts = ticked.get_cookie("remember_token").expires - datetime.now(UTC)
    assert abs(lasts - app.config["REMEMBER_COOKIE_DURATION"]) < timedelta(minutes=1)


def test_an_unticked_box_stays_unticked_after_a_wrong_password(client):
    response = client.post("/login", data={"username": "desk", "password": "nope"})
    [box] = Page(response.get_data(as_text=True)).find("data-remember")
    assert "checked" not in box


# --- Throttling ---------------------------------------------------------------------------

def attempt(client, username, password="wrong", addr="10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr}).status_code


def test_one_persons_typos_do_not_lock_out_their_office(app, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert attempt(client, "desk") == 401
    assert attempt(client, "desk", "demo1234") == 429
    # Colleagues behind the same address still sign in.
    assert attempt(app.test_client(), "tech", "demo1234") == 302


def test_guessing_one_account_from_many_addresses_is_limited(app, client):
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 7
    for n in range(7):
        assert attempt(client, "desk", addr=f"10.1.0.{n}") == 401
    response = client.post("/login", data={"username": "desk", "password": "demo1234"},
                           environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert response.status_code == 429
    assert "请等 15 分钟" in response.get_data(as_text=True)
    assert attempt(app.test_client(), "tech", "demo1234", addr="10.2.0.1") == 302


def test_one_address_trying_many_usernames_hits_a_larger_ceiling(app, client):
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 6
    for n in range(6):
        assert attempt(client, f"guess{n}") == 401
    assert attempt(app.test_client(), "tech", "demo1234") == 429
    assert attempt(app.test_client(), "tech", "demo1234", addr="10.0.0.2") == 302


@pytest.mark.parametrize("username", ["nobody", "disabled"])
def test_an_unknown_or_disabled_account_costs_one_password_check_too(
        app, client, monkeypatch, username):
    from webapp import auth
    from webapp.db import connect

    db = connect(app.config["DATABASE"])
    db.execute("UPDATE users SET username = 'disabled', active = 0 WHERE username = 'tech2'")
    db.close()
    checked = []
    real = auth.check_password_hash

    def check(pwhash, password):
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", check)
    assert attempt(client, username, "demo1234") == 401
    if username == "disabled":
        assert checked == [connect_row(app, "disabled")["password_hash"]]
    else:
        # A dummy hashed like a real password: werkzeug's method and cost.
        assert len(checked) == 1
        assert checked[0].split("$")[0] == auth.hash_password("x").split("$")[0]


def test_the_signed_in_user_and_their_estates_come_from_one_query(app):
    with app.app_context():
        db = get_db()
        user_id = db.execute("SELECT id FROM users WHERE username = 'desk'").fetchone()[0]
        row, estate_ids = people.user_with_estates(db, user_id)
        assert row == people.get_user(db, user_id)
        assert estate_ids == people.estate_ids(db, user_id)
        # Several estates come back ascending, whatever order they were granted in.
        other = db.execute("INSERT INTO estates (code, name) VALUES ('ZZ', 'B')").lastrowid
        db.execute("DELETE FROM user_estates WHERE user_id = ?", [user_id])
        for estate in (other, *estate_ids):
            db.execute("INSERT INTO user_estates (user_id, estate_id) VALUES (?, ?)",
                       [user_id, estate])
        assert people.user_with_estates(db, user_id)[1] == sorted([other, *estate_ids])
        db.execute("DELETE FROM user_estates WHERE user_id = ?", [user_id])
        assert people.user_with_estates(db, user_id)[1] == []
        assert people.user_with_estates(db, 10**9) is None
