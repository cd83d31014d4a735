"""Sign-in, throttling, cookies, CSRF and the language switch."""

import re
import uuid
from html.parser import HTMLParser

import pytest

from webapp import create_app

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
