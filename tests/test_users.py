"""Staff accounts: an administrator creates and edits them for their own estates."""

import uuid

import pytest

from webapp.db import connect
from webapp.domain import users

from .pages import Page

NEW = dict(username="tech9", display_name="钱师傅", department="maintenance",
           role="technician", phone="13900000000", password="copper-lantern-orbit-42", active="1",
           estate_ids="1")


def post(client, url, **data):
    return client.post(url, data={"op_id": str(uuid.uuid4()), **data})


def row(app, username):
    db = connect(app.config["DATABASE"])
    found = next(db.query("SELECT * FROM users WHERE username = ?", [username]), None)
    db.close()
    return found


def test_admin_creates_an_account_that_can_sign_in(app, client, auth):
    auth.login("admin")
    assert post(client, "/admin/users/new", **NEW).status_code == 303
    assert row(app, "tech9")["role"] == "technician"
    auth.logout()
    assert auth.login("tech9", "copper-lantern-orbit-42").headers["Location"] == "/"


def test_bad_input_is_explained_and_kept_but_the_password_is_not_echoed(client, auth):
    auth.login("admin")
    response = post(client, "/admin/users/new", **{**NEW, "username": "A B", "password": "x",
                                                    "estate_ids": ""})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert set(page.errors) == {"username", "password", "estate_ids"}
    assert page.values["username"] == "A B" and page.values["password"] == ""
    assert page.values["display_name"] == "钱师傅"


@pytest.mark.parametrize("weak", ["12345678", "password1", "tech9tech9tech9"])
def test_a_common_password_is_refused_with_the_reason_and_the_rest_kept(app, client, auth, weak):
    auth.login("admin")
    response = post(client, "/admin/users/new", **{**NEW, "password": weak})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert set(page.errors) == {"password"}
    assert page.errors["password"] == "密码太容易被猜中：请用更长的密码，或几个词组合。"
    assert page.values["password"] == ""
    assert {k: page.values[k] for k in ("username", "display_name", "phone")} == {
        "username": "tech9", "display_name": "钱师傅", "phone": "13900000000"}
    assert row(app, "tech9") is None


def test_a_weak_new_password_on_an_edit_is_refused(app, client, auth):
    auth.login("admin")
    tech = row(app, "tech")
    response = post(client, f"/admin/users/{tech['id']}", **{**NEW, "username": "tech",
                    "password": "12345678"})
    assert response.status_code == 422
    assert row(app, "tech")["password_hash"] == tech["password_hash"]


def test_the_persons_name_is_a_hint(app, client, auth):
    auth.login("admin")
    named = {**NEW, "display_name": "qianshifu", "password": "qianshifu2026"}
    assert post(client, "/admin/users/new", **named).status_code == 422
    assert post(client, "/admin/users/new", **{**named, "display_name": "钱师傅"}
                ).status_code == 303


def test_the_password_rule_uses_the_hints():
    assert users.password_problem("cuihuhuayuan", []) is None
    assert users.password_problem("cuihuhuayuan", ["cuihuhuayuan"]) is not None
    assert users.password_problem("short", []) == "At least 8 characters."


def test_duplicate_username_is_refused(client, auth):
    auth.login("admin")
    response = post(client, "/admin/users/new", **{**NEW, "username": "desk"})
    assert Page(response.get_data(as_text=True)).errors["username"] == "此用户名已被使用。"


def test_the_password_never_reaches_the_command_log(app, client, auth):
    auth.login("admin")
    post(client, "/admin/users/new", **NEW)
    db = connect(app.config["DATABASE"])
    payloads = [r[0] for r in db.execute("SELECT payload FROM commands WHERE kind='user.save'")]
    db.close()
    assert payloads and all("copper-lantern-orbit-42" not in p for p in payloads)


def test_editing_keeps_the_password_when_left_empty_and_can_disable(app, client, auth):
    auth.login("admin")
    tech = row(app, "tech")
    before = tech["password_hash"]
    response = post(client, f"/admin/users/{tech['id']}", **{**NEW, "username": "tech",
                    "password": "", "active": "0"})
    assert response.status_code == 303
    after = row(app, "tech")
    assert after["password_hash"] == before and after["active"] == 0
    auth.logout()
    assert auth.login("tech").status_code == 401


def test_admin_cannot_lock_themselves_out(app, client, auth):
    auth.login("admin")
    me = row(app, "admin")
    response = post(client, f"/admin/users/{me['id']}", username="admin",
                    display_name="系统管理员", department="management", role="desk",
                    active="1", estate_ids="1")
    assert response.status_code == 422
    assert row(app, "admin")["role"] == "admin"


def test_a_staff_phone_is_checked_and_kept_as_digits(app, client, auth):
    # Staff phones end up on jobs (a cleaner's feedback) and on callbacks: one rule.
    auth.login("admin")
    bad = post(client, "/admin/users/new", **{**NEW, "phone": "123"})
    page = Page(bad.get_data(as_text=True))
    assert bad.status_code == 422 and page.values["phone"] == "123"
    assert page.errors["phone"] == "号码太短：手机号码为 11 位，固定电话为区号加 7 或 8 位号码。"
    assert post(client, "/admin/users/new", **{**NEW, "phone": "139 0000-0000"}).status_code == 303
    assert row(app, "tech9")["phone"] == "13900000000"


def tech_signed_in(app):
    phone = app.test_client()
    assert phone.post("/login", data={"username": "tech", "password": "demo1234",
                                      "remember": "1"}).status_code == 302
    return phone


EDIT = {**NEW, "username": "tech", "display_name": "张师傅", "password": "", "phone": ""}


@pytest.mark.parametrize("change", [
    {"role": "cleaner"},
    {"department": "cleaning"},
    {"active": "0"},
    {"password": "copper-lantern-orbit-42"},
    {"estate_ids": ["1", "2"]},
])
def test_a_change_of_access_or_password_ends_the_persons_sessions(app, client, auth, change):
    phone = tech_signed_in(app)
    auth.login("admin")
    tech = row(app, "tech")
    response = post(client, f"/admin/users/{tech['id']}", **{**EDIT, **change})
    assert response.status_code == 303
    answer = phone.get("/jobs/mine")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert client.get("/admin/users").status_code == 200  # the administrator's go on
    assert last_save(app)["sessions_ended"] is True


def test_a_change_of_name_or_phone_keeps_the_persons_sessions(app, client, auth):
    phone = tech_signed_in(app)
    auth.login("admin")
    tech = row(app, "tech")
    response = post(client, f"/admin/users/{tech['id']}",
                    **{**EDIT, "display_name": "张师傅二", "phone": "13900000001"})
    assert response.status_code == 303
    assert phone.get("/jobs/mine").status_code == 200
    assert last_save(app)["sessions_ended"] is False


def last_save(app):
    import json

    db = connect(app.config["DATABASE"])
    detail = db.execute("SELECT detail FROM audit_log WHERE entity = 'user' AND action = 'save'"
                        " ORDER BY id DESC LIMIT 1").fetchone()[0]
    db.close()
    return json.loads(detail)


def test_an_administrator_setting_their_own_password_stays_signed_in_here(app, client, auth):
    other = app.test_client()
    other.post("/login", data={"username": "admin", "password": "demo1234"})
    auth.login("admin")
    me = row(app, "admin")
    response = post(client, f"/admin/users/{me['id']}", username="admin",
                    display_name="系统管理员", department="management", role="admin",
                    active="1", estate_ids=["1", "2"], password="copper-lantern-orbit-42")
    assert response.status_code == 303
    assert client.get("/admin/users").status_code == 200
    assert other.get("/admin/users").status_code == 302
