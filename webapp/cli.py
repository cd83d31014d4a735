"""Administration commands for the `flask` CLI: importing units and residents."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

import sync

from .auth import utcnow
from .db import get_db
from .domain import imports
from .domain.handlers import HANDLERS


def _user(username: str | None) -> dict[str, Any]:
    db = get_db()
    if username:
        sql, params = "SELECT * FROM users WHERE username = ? AND active = 1", [username]
    else:
        sql, params = "SELECT * FROM users WHERE role = 'admin' AND active = 1 ORDER BY id", []
    user = next(iter(db.query(sql, params)), None)
    if user is None:
        raise click.ClickException(
            f"no active user {username!r}" if username else "no active admin user"
        )
    return user


@click.command("import-units")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", help="Import as this user (default: the first admin).")
@with_appcontext
def import_units_command(file: Path, username: str | None) -> None:
    """Import units and residents from a CSV file: all rows, or none if any is bad."""
    user = _user(username)
    try:
        text = imports.decode(file.read_bytes())
    except imports.Unreadable as exc:
        raise click.ClickException(str(exc)) from None
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind="estate.import", target="estates",
                       payload={"filename": file.name, "text": text}, user_id=user["id"],
                       device_id="cli")
    try:
        outcome = sync.apply(get_db(), cmd, HANDLERS, utcnow())
    except sync.Invalid as exc:
        for error in exc.errors.get("rows") or []:
            click.echo(f"line {error['line']}: {imports.RowError(**error).english()}", err=True)
        raise click.ClickException(str(exc.errors.get("file", ""))) from None
    if not outcome.ok:
        raise click.ClickException(outcome.result.get("message", "refused"))
    r = outcome.result
    click.echo(f"imported {r['rows']} rows: {r['buildings']} buildings, {r['units']} units, "
               f"{r['residents']} residents created")


def init_app(app: Flask) -> None:
    app.cli.add_command(import_units_command)
