"""One SQLite handle per request, migrations on demand, and the CLI to run them."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlite_utils import Database

from .migrations import migrations


def connect(path: str) -> Database:
    """Open the database with the settings every connection needs."""
    conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
    db = Database(conn, execute_plugins=False)  # no sqlite-utils plugins: per-request cost
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=10000")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def get_db() -> Database:
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(e: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


@contextmanager
def write_tx(db: Database) -> Iterator[Database]:
    """A write transaction that takes the write lock up front.

    A deferred transaction that reads and then writes can fail with
    SQLITE_BUSY under concurrent writers in WAL mode; BEGIN IMMEDIATE waits
    on the busy timeout instead.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.execute("COMMIT")


def migrate(db: Database) -> None:
    migrations.apply(db)


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Apply pending schema migrations."""
    migrate(get_db())
    click.echo("migrated")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.cli.add_command(migrate_command)
