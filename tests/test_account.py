"""Changing one's own password: the current one required, the one rule for strength,
every other session ended, nothing of it in the command log."""

import uuid

import pytest

import sync
from sync import Command
from webapp.db import connect
from webapp.domain.handlers import HANDLERS

from .conftest import NOW
from .pages import Page

NEW = "copper-lantern-orbit-42"


def change(client, current="demo1234", password=NEW, again=None, op_id=None):
    return client.post("/account/password", data={
        "op_id": op_id or str(uuid.uuid4()), "current_password": current,
        "password": password, "password_again": NEW if again is None else again})


def signed_in(app, username="tech"):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": "demo1234",
                                           "remember": "1"})
    assert response.status_code == 302
    return client


def query(app, sql, params=()):
    db = connect(app.config["DATABASE"])
    try:
        return list(db.query(sql, list(params)))
    finally:
        db.close()


@pytest.mark.parametrize("username", ["tech", "desk", "admin"])
def test_every_signed_in_user_finds_the_page_in_the_header(app, username):
    client = signed_in(app, username)
    page = Page(client.get("/", follow_redirects=True).get_data(as_text=True))
    [link] = page.find("data-account")
    form = Page(client.get(link["href"]).get_data(as_text=True))
    assert {"current_password", "password", "password_again"} <= set(form.values)


def test_the_page_needs_a_sign_in(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_change_signs_in_with_the_new_password_only_and_ends_other_sessions(app):
    phone, computer = signed_in(app), signed_in(app)
    response = change(computer)
    assert response.status_code == 303
    done = computer.get(response.headers["Location"])
    assert "您的密码已更改" in Page(done.get_data(as_text=True)).notice
    # This device stays signed in (remembered as before); the phone signs in again.
    assert computer.get("/jobs/mine").status_code == 200
    assert computer.get_cookie("remember_token") is not None
    assert phone.get("/jobs/mine").status_code == 302
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "tech", "password": "demo1234"}
                      ).status_code == 401
    assert fresh.post("/login", data={"username": "tech", "password": NEW}).status_code == 302


def test_a_wrong_current_password_is_refused(app):
    client = signed_in(app)
    response = change(client, current="wrong-one")
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors == {"current_password": "这不是您当前的密码。"}
    assert client.get("/jobs/mine").status_code == 200
    assert query(app, "SELECT count(*) AS n FROM commands WHERE kind = 'account.password'"
                 ) == [{"n": 0}]


@pytest.mark.parametrize("weak", ["12345678", "password1", "qwertyuiop"])
def test_a_weak_password_is_refused_with_the_reason(app, weak):
    client = signed_in(app)
    response = change(client, password=weak, again=weak)
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert set(page.errors) == {"password"}
    assert page.errors["password"] in ("密码太容易被猜中：请用更长的密码，或几个词组合。",
                                       "至少 8 个字符。")
    # Nothing typed is put back into the page: all three are passwords.
    assert all(page.values[k] == "" for k in ("current_password", "password",
                                              "password_again"))
    assert signed_in(app).get("/jobs/mine").status_code == 200  # the old one still works


def test_the_two_new_passwords_must_match(app):
    response = change(signed_in(app), again=NEW + "x")
    assert response.status_code == 422
    assert set(Page(response.get_data(as_text=True)).errors) == {"password_again"}


def test_in_english_the_reason_is_in_english(app):
    client = signed_in(app)
    client.post("/locale", data={"locale": "en"})
    response = change(client, current="wrong-one")
    assert Page(response.get_data(as_text=True)).errors == {
        "current_password": "This is not your current password."}


def test_the_change_is_audited_and_no_password_reaches_the_command_log(app):
    client = signed_in(app)
    assert change(client).status_code == 303
    [cmd] = query(app, "SELECT payload, outcome, user_id FROM commands"
                       " WHERE kind = 'account.password'")
    assert cmd["outcome"] == "applied"
    assert "demo1234" not in cmd["payload"] and NEW not in cmd["payload"]
    tech = query(app, "SELECT id FROM users WHERE username = 'tech'")[0]["id"]
    audit = query(app, "SELECT user_id, action, entity_id, detail FROM audit_log"
                       " WHERE entity = 'user' AND action = 'password'")
    assert [(a["user_id"], a["entity_id"]) for a in audit] == [(tech, tech)]
    assert NEW not in audit[0]["detail"]


def test_a_resend_of_the_same_change_counts_once(app):
    client = signed_in(app)
    op_id = str(uuid.uuid4())
    assert change(client, op_id=op_id).status_code == 303
    # The same post again (a double tap): the stored result, nothing changed twice.
    assert change(client, op_id=op_id).status_code == 303
    assert query(app, "SELECT count(*) AS n FROM audit_log WHERE action = 'password'"
                 ) == [{"n": 1}]


def test_only_ones_own_password(db):
    tech = db.execute("SELECT id FROM users WHERE username = 'tech'").fetchone()[0]
    desk = db.execute("SELECT id FROM users WHERE username = 'desk'").fetchone()[0]
    cmd = Command(op_id=str(uuid.uuid4()), kind="account.password", target=f"user:{desk}",
                  payload={"current_password": "demo1234", "password": NEW,
                           "password_again": NEW}, user_id=tech)
    outcome = sync.apply(db, cmd, HANDLERS, NOW)
    assert outcome.status == "rejected"
    assert db.execute("SELECT session_version FROM users WHERE id = ?", [desk]).fetchone()[0] == 0


def test_guessing_the_current_password_counts_to_the_sign_in_limits(app):
    """A phone left signed in: guesses at the current password are limited as sign-ins
    are (LOGIN_MAX_FAILURES per user and address), and then even the right one waits."""
    client = signed_in(app)
    limit = app.config["LOGIN_MAX_FAILURES"]
    for n in range(limit):
        assert change(client, current=f"guess-{n}").status_code == 422
    refused = change(client)  # the right current password, too late
    assert refused.status_code == 429
    assert "次数过多" in refused.get_data(as_text=True)
    assert query(app, "SELECT count(*) AS n FROM login_failures WHERE username = 'tech'") == [
        {"n": limit}]
    # The password did not change, and the sign-in page is limited for them too.
    other = app.test_client()
    assert other.post("/login", data={"username": "tech", "password": "demo1234"}
                      ).status_code == 429
