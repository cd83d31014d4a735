"""`flask create-company`: the first estate and administrator of an empty database."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database
from werkzeug.security import check_password_hash

import sync
from webapp import create_app
from webapp.db import connect, migrate, pool
from webapp.domain import company, settings, users
from webapp.domain.handlers import HANDLERS

from .conftest import NOW, op

STRONG = "滨江路-lantern-orbit-42"
OPTIONS = ["--estate-name", "翠湖花园", "--estate-code", "ch", "--address", "",
           "--username", "boss", "--display-name", "王总"]


@pytest.fixture
def empty_app(tmp_path):
    """An app on a database file that does not exist yet (the command migrates it)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "DATABASE": str(tmp_path / "new.db"),
                      "FILES_DIR": str(tmp_path / "files")})
    yield app
    pool(app).close()


def rows(app, sql: str) -> list[dict]:
    db = connect(app.config["DATABASE"])
    try:
        return list(db.query(sql))
    finally:
        db.close()


def signs_in(app, username: str, password: str) -> bool:
    response = app.test_client().post("/login", data={"username": username,
                                                      "password": password})
    return response.status_code == 302 and "/login" not in response.headers["Location"]


def test_generated_password_is_printed_once_and_signs_in(empty_app):
    result = empty_app.test_cli_runner().invoke(
        args=["create-company", *OPTIONS, "--generate-password"])
    assert result.exit_code == 0, result.output
    printed = re.findall(r"[A-Za-z0-9_-]{24}", result.output)
    assert len(printed) == 1
    password = printed[0]
    estate = rows(empty_app, "SELECT * FROM estates")
    assert [(e["code"], e["name"]) for e in estate] == [("CH", "翠湖花园")]
    user = rows(empty_app, "SELECT * FROM users")
    assert [(u["username"], u["role"], u["display_name"]) for u in user] == [
        ("boss", "admin", "王总")]
    assert check_password_hash(user[0]["password_hash"], password)
    assert rows(empty_app, "SELECT user_id, estate_id FROM user_estates") == [
        {"user_id": user[0]["id"], "estate_id": estate[0]["id"]}]
    stored = {r["key"]: int(r["value"]) for r in rows(empty_app, "SELECT * FROM estate_settings")}
    assert stored == {s.key: s.default for s in settings.SETTINGS}
    # The password is never written to the command log.
    (logged,) = rows(empty_app, "SELECT payload FROM commands")
    assert password not in logged["payload"]
    assert signs_in(empty_app, "boss", password)
    # Litestream (deploy/litestream.yml) replicates only a database in WAL mode.
    assert rows(empty_app, "PRAGMA journal_mode") == [{"journal_mode": "wal"}]


def test_password_is_asked_twice_hidden(empty_app):
    result = empty_app.test_cli_runner().invoke(
        args=["create-company", *OPTIONS], input=f"{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert STRONG not in result.output  # hidden input is not echoed
    assert signs_in(empty_app, "boss", STRONG)


def test_prompts_for_what_options_do_not_give(empty_app):
    answers = ["锦绣家园", "JX", "锦绣路1号", "admin2", "", STRONG, STRONG]
    result = empty_app.test_cli_runner().invoke(
        args=["create-company"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert [(e["code"], e["address"]) for e in rows(empty_app, "SELECT * FROM estates")] == [
        ("JX", "锦绣路1号")]
    assert signs_in(empty_app, "admin2", STRONG)


def test_two_different_passwords_are_asked_again_in_chinese(empty_app):
    result = empty_app.test_cli_runner().invoke(
        args=["create-company", *OPTIONS], input=f"{STRONG}\nother-{STRONG}\n{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert "两次输入的密码不一致" in result.output and "do not match" not in result.output
    assert signs_in(empty_app, "boss", STRONG)


def test_import_without_a_company_says_which_database_it_read(empty_app, tmp_path):
    csv = tmp_path / "units.csv"
    csv.write_text("estate_code,building,unit,floor,resident_name,resident_phone,is_owner\n")
    result = empty_app.test_cli_runner().invoke(args=["import-units", str(csv)])
    assert result.exit_code == 1
    assert "WUYE_DATABASE" in result.output and "Traceback" not in result.output
    assert not Path(empty_app.config["DATABASE"]).exists()  # no empty file left behind


@pytest.mark.parametrize("weak", ["demo1234", "password", "boss2026", "short"])
def test_weak_password_is_refused_and_nothing_created(empty_app, weak):
    result = empty_app.test_cli_runner().invoke(
        args=["create-company", *OPTIONS], input=f"{weak}\n{weak}\n")
    assert result.exit_code != 0
    assert rows(empty_app, "SELECT * FROM users") == []
    assert rows(empty_app, "SELECT * FROM estates") == []


def test_bad_estate_code_is_refused(empty_app):
    args = ["create-company", "--estate-name", "翠湖花园", "--estate-code", "翠湖", "--address", "",
            "--username", "boss", "--display-name", "王总", "--generate-password"]
    result = empty_app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    # The field as its prompt names it, in the app's language; not the payload's key.
    assert "小区代码" in result.output and "estate_code" not in result.output
    assert rows(empty_app, "SELECT * FROM estates") == []


def test_refuses_a_database_with_staff(runner, app):
    before = rows(app, "SELECT count(*) AS n FROM users")
    result = runner.invoke(args=["create-company", *OPTIONS, "--generate-password"])
    assert result.exit_code != 0
    assert rows(app, "SELECT count(*) AS n FROM users") == before
    assert not rows(app, "SELECT * FROM users WHERE username = 'boss'")


@pytest.fixture
def empty_db():
    database = Database(sqlite3.connect(":memory:"))
    migrate(database)
    yield database
    database.close()


def create(db: Database, **changes) -> sync.Outcome:
    payload = {"estate_name": "翠湖花园", "estate_code": "CH", "username": "boss",
               "display_name": "王总", "password": STRONG, **changes}
    cmd = sync.Command(op_id=op(), kind="company.create", target="company", payload=payload,
                       user_id=None, device_id="cli")
    return sync.apply(db, cmd, company.HANDLERS, NOW)


def test_second_company_is_rejected(empty_db):
    assert create(empty_db).status == "applied"
    second = create(empty_db, estate_code="JX", username="other")
    assert second.status == "rejected" and second.result["reason"] == "not_empty"
    assert empty_db["estates"].count == 1 and empty_db["users"].count == 1


def test_audit_records_the_estate_and_the_admin(empty_db):
    result = create(empty_db).result
    logged = {(r["entity"], r["entity_id"]) for r in empty_db.query("SELECT * FROM audit_log")}
    assert logged == {("estate", result["estate_id"]), ("user", result["user_id"])}


def test_the_web_cannot_send_it():
    assert "company.create" not in HANDLERS


def test_the_admins_password_is_checked_by_the_staff_rule_with_their_names_as_hints():
    # The one rule of domain/users.py: the name colleagues know them by is a hint too.
    fields = {"estate_name": "翠湖花园", "estate_code": "CH", "username": "boss",
              "password": "qianshifu2026"}
    assert "password" not in company.validate({**fields, "display_name": "王总"})
    assert company.validate({**fields, "display_name": "qianshifu"})["password"] == (
        users.password_problem("qianshifu2026", ["qianshifu"]))
    assert company.validate({**fields, "estate_name": "qianshifu", "display_name": "王总"}
                            )["password"]
