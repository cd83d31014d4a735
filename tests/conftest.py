"""Fixtures in flaskr's style: a fresh app and database per test, a client, an auth helper."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime

import pytest
from sqlite_utils import Database
from werkzeug.security import generate_password_hash

from webapp import create_app
from webapp.db import connect, migrate, pool
from webapp.demo import DEMO_PASSWORD, load
from webapp.domain import records

# A pinned clock for domain tests: Tuesday 2026-11-10 09:00 UTC.
NOW = datetime(2026, 11, 10, 9, 0, 0)
# The key that seals signed records in tests (domain/records.py).
RECORDS_KEY = "test-records-key"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Migrate and load the demo once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "demo.db"
    db = connect(str(path), RECORDS_KEY)
    migrate(db)
    # Cheaper scrypt parameters than production's: hundreds of sign-ins per run.
    load(db, NOW, password_hash=generate_password_hash(DEMO_PASSWORD, "scrypt:1024:8:1"))
    db.close()
    return path


def copy_db(source, target_conn: sqlite3.Connection) -> None:
    src = sqlite3.connect(str(source))
    src.backup(target_conn)
    src.close()


@pytest.fixture
def app(tmp_path, template_db):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "RECORDS_KEY": RECORDS_KEY,
            "DATABASE": str(tmp_path / "test.db"),
            "FILES_DIR": str(tmp_path / "files"),
            "HUEY_FILE": str(tmp_path / "huey.db"),
            "VAPID_KEY_FILE": str(tmp_path / "vapid_private.pem"),
            # The push service the tests' phones subscribe at (no request reaches it).
            "PUSH_SERVICE_HOSTS": ["push.example.com"],
            "WTF_CSRF_ENABLED": False,
        }
    )
    target = sqlite3.connect(app.config["DATABASE"])
    copy_db(template_db, target)
    target.close()
    yield app
    pool(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str = "desk", password: str = DEMO_PASSWORD,
              remember: bool = True):
        # As the form sends it: "keep me signed in" is ticked unless unticked.
        data = {"username": username, "password": password}
        if remember:
            data["remember"] = "1"
        return self._client.post("/login", data=data)

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def db(template_db):
    """An in-memory database with the schema and the demo data, for domain tests."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    copy_db(template_db, conn)
    database = Database(conn)
    database.execute("PRAGMA foreign_keys=ON")
    records.use_key(database, RECORDS_KEY)
    yield database
    database.close()


def op() -> str:
    return str(uuid.uuid4())
