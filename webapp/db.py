"""One SQLite handle per request (from a pool), migrations on demand, and the CLI to run them."""

import sqlite3
import threading

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlite_utils import Database

from .domain import records
from .migrations import migrations


def connect(path: str, records_key: str | None = None) -> Database:
    """Open the database with the settings every connection needs; with `records_key`,
    the connection can seal signed records (domain/records.py)."""
    conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
    db = Database(conn, execute_plugins=False)  # no sqlite-utils plugins: per-request cost
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=10000")
    db.execute("PRAGMA synchronous=NORMAL")
    if records_key:
        records.use_key(db, records_key)
    _watch_deliveries(db)
    return db


def _watch_deliveries(db: Database) -> None:
    """Mark the handle when a message is queued on it (`db.deliveries_queued`), whichever
    code wrote it: after the request the worker is asked to send it at once
    (worker.init_app). A temporary trigger: nothing stored, no query when nothing is."""
    db.deliveries_queued = False

    def queued() -> None:
        db.deliveries_queued = True

    db.conn.create_function("wuye_deliveries_queued", 0, queued)
    try:
        db.execute("CREATE TEMP TRIGGER IF NOT EXISTS wuye_deliveries_queued AFTER INSERT"
                   " ON main.deliveries BEGIN SELECT wuye_deliveries_queued(); END")
    except sqlite3.OperationalError:
        pass  # a database not migrated yet: nothing can be queued on it


class Pool:
    """Connections kept open between requests, for one database file.

    Opening a connection, setting its pragmas and closing it cost about as much as
    the whole of a trivial request, and a new connection starts with empty page and
    statement caches. A request takes an idle connection and gives it back clean; at
    most `size` wait idle, any more are closed.
    """

    def __init__(self, path: str, size: int, records_key: str | None = None) -> None:
        self.path, self.size, self.records_key = path, size, records_key
        self._idle: list[Database] = []
        self._lock = threading.Lock()

    def take(self) -> Database:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return connect(self.path, self.records_key)

    def give(self, db: Database, failed: bool = False) -> None:
        # After an error a cursor may still be alive (held by the traceback) and keep
        # an old snapshot open on the connection: close it rather than reuse it.
        if not failed:
            try:
                if db.conn.in_transaction:
                    db.conn.rollback()
            except sqlite3.Error:
                db.close()
                return
            with self._lock:
                if len(self._idle) < self.size:
                    self._idle.append(db)
                    return
        db.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()


def pool(app: Flask) -> Pool:
    found = app.extensions.get("db_pool")
    if found is None or found.path != app.config["DATABASE"]:
        if found is not None:
            found.close()
        found = app.extensions["db_pool"] = Pool(app.config["DATABASE"],
                                                 app.config["DB_POOL_SIZE"],
                                                 app.config.get("RECORDS_KEY"))
    return found


def get_db() -> Database:
    if "db" not in g:
        g.db = pool(current_app).take()
    return g.db


def close_db(e: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        pool(current_app).give(db, failed=e is not None)


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
