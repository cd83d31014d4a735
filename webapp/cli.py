"""Administration commands for the `flask` CLI: importing units and residents, the
first estate and administrator of a new company, backups and restoring one, removing the
files no record holds, checking the signed records."""

from __future__ import annotations

import sqlite3
import sys
import uuid
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext

import sync

from . import backup
from .auth import utcnow
from .db import get_db, migrate
from .domain import company, files, imports, notification_scan, record_checks, records
from .domain.handlers import HANDLERS
from .domain.text import N_


def say(msgid: str, **variables: Any) -> str:
    """A message in the app's language (Chinese unless configured otherwise): a command
    has no signed-in user whose choice to follow."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return gettext(msgid, **variables)


def _company_db():
    """The configured database, if it holds a company: a command run without the
    service's settings (WUYE_DATABASE) must say so, not create an empty file."""
    path = Path(current_app.config["DATABASE"])
    if not path.is_file() or "users" not in get_db().table_names():
        raise click.ClickException(say(N_(
            "No company in the database %(path)s: load the service's settings (its "
            "WUYE_DATABASE) first, or start a company with flask create-company."),
            path=str(path)))
    return get_db()


def _user(username: str | None) -> dict[str, Any]:
    db = _company_db()
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


@click.command("create-company")
@click.option("--estate-name", help="The first estate's name, e.g. 翠湖花园.")
@click.option("--estate-code", help="Its short code in capitals, e.g. CH.")
@click.option("--address", help="Its address (optional).")
@click.option("--username", help="The first administrator's username.")
@click.option("--display-name", help="The administrator's name as colleagues know it.")
@click.option("--generate-password", is_flag=True,
              help="Make a strong password and print it once, instead of asking for one.")
@with_appcontext
def create_company_command(estate_name: str | None, estate_code: str | None, address: str,
                           username: str | None, display_name: str | None,
                           generate_password: bool) -> None:
    """Start an empty company: its first estate and first administrator."""
    db = get_db()
    migrate(db)
    if not company.is_empty(db):  # before asking anything; the command checks again
        raise click.ClickException(say(N_(
            "This database already has estates or staff: a company is created only once, "
            "on an empty database.")))
    payload = {
        "estate_name": estate_name or click.prompt(say(N_("Estate name"))),
        "estate_code": estate_code or click.prompt(say(N_("Estate code (capitals, e.g. CH)"))),
        "address": address if address is not None else click.prompt(
            say(N_("Estate address (optional)")), default="", show_default=False),
        "username": username or click.prompt(say(N_("Administrator's username"))),
        "display_name": display_name or click.prompt(say(N_("Administrator's name")),
                                                     default=say(N_("Administrator"))),
    }
    payload["password"] = company.generate_password() if generate_password else _password()
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind="company.create", target="company",
                       payload=payload, user_id=None, device_id="cli")
    try:
        outcome = sync.apply(db, cmd, company.HANDLERS, utcnow())
    except sync.Invalid as exc:
        for name, msgid in exc.errors.items():
            click.echo(f"{say(FIELDS.get(name, name))}：{say(msgid)}", err=True)
        raise click.ClickException(say(N_("Nothing was created."))) from None
    if not outcome.ok:
        raise click.ClickException(say(outcome.result.get("message", N_("Refused."))))
    click.echo(say(N_("Created the estate %(estate)s (%(code)s) and its administrator "
                      "%(username)s."), estate=payload["estate_name"].strip(),
                   code=company.estate_code(payload["estate_code"]),
                   username=payload["username"].strip()))
    if generate_password:
        click.echo(say(N_("Password (shown only now; write it down): %(password)s"),
                       password=payload["password"]))


# What create-company's fields are called in its messages (its prompts' words).
FIELDS = {"estate_name": N_("Estate name"), "estate_code": N_("Estate code (capitals, e.g. CH)"),
          "username": N_("Administrator's username"), "display_name": N_("Administrator's name"),
          "password": N_("Password")}


def _password() -> str:
    """Asked twice, hidden; asked again, in the app's language, until both agree."""
    while True:
        first = click.prompt(say(FIELDS["password"]), hide_input=True)
        if click.prompt(say(N_("The same password again")), hide_input=True) == first:
            return first
        click.echo(say(N_("The two passwords differ. Type them again.")), err=True)


def _bar(label: str) -> backup.Progress:
    """A progress bar on the terminal, drawn as a copy's steps report (done, total)."""
    shown = {"done": 0}
    bar = click.progressbar(length=1, label=label, file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.length = max(total, 1)
        bar.update(done - shown["done"])
        shown["done"] = done
        if done >= total:
            bar.render_finish()

    return update


# Why a backup or restore was refused or undone (backup.Refused's reasons).
REFUSED = {
    "no_database": N_("There is no database at %(detail)s, nothing was backed up. Check "
                      "the database setting (WUYE_DATABASE, as the server has it)."),
    "not_app": N_("This is not the app's database, nothing was backed up: %(detail)s. "
                  "Check the database setting (WUYE_DATABASE, as the server has it)."),
    "copy_damaged": N_("The copy failed its integrity check and was not kept; the "
                       "database may be damaged: %(detail)s"),
    "exists": N_("%(detail)s already holds a database. Nothing was changed. To "
                 "replace it, stop the server and add --force."),
    "no_copy": N_("No database copy found in %(detail)s."),
    "damaged": N_("The copy is damaged, nothing was changed: %(detail)s"),
    "in_use": N_("%(detail)s is open in another program (the server is running?). "
                 "Nothing was changed. Stop the server first (systemctl stop wuye)."),
}


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Copy the database (safely, while the server runs) and new photos into DEST."""
    try:
        result = backup.backup(Path(current_app.config["DATABASE"]),
                               Path(current_app.config["FILES_DIR"]), dest, utcnow(),
                               _bar(say(N_("Database"))), _bar(say(N_("Files"))))
    except backup.Refused as exc:
        raise click.ClickException(say(REFUSED[exc.reason], detail=exc.detail)) from None
    except (sqlite3.Error, OSError) as exc:  # e.g. a full disk: the dated folder is gone
        raise click.ClickException(say(N_("The backup failed and nothing of it was kept: "
                                          "%(detail)s"), detail=str(exc))) from None
    click.echo(say(N_("Backed up to %(folder)s: integrity check ok; %(copied)s new files "
                      "copied, %(kept)s already there."), folder=str(result.folder),
                   copied=result.files_copied, kept=result.files_kept))
    # The records key stays out of every backup: with the database it would let anyone
    # re-seal edited records (docs/SECURITY.md).
    click.echo(say(N_("The records key is not in the backup: keep a copy of it (the file "
                      "records_key in the instance folder, or WUYE_RECORDS_KEY) apart from "
                      "the backups. Without it the signed records cannot be verified.")))
    if result.missing:
        raise click.ClickException(say(N_("%(n)s files the database names are missing on "
                                          "the server, e.g. %(sha)s."),
                                       n=len(result.missing), sha=result.missing[0]))


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace the existing database (it is kept beside, renamed).")
@with_appcontext
def restore_command(src: Path, force: bool) -> None:
    """Bring back a backup: SRC is a backup folder (its newest copy) or one dated folder.
    Stop the server first."""
    database = Path(current_app.config["DATABASE"])
    kept = current_app.extensions.pop("db_pool", None)
    if kept is not None:
        kept.close()  # no connection of ours stays open on the file being replaced
    try:
        result = backup.restore(src, database, Path(current_app.config["FILES_DIR"]),
                                utcnow(), force, _bar(say(N_("Database"))),
                                _bar(say(N_("Files"))))
    except backup.Refused as exc:
        raise click.ClickException(say(REFUSED[exc.reason], detail=exc.detail)) from None
    click.echo(say(N_("Restored %(copy)s into %(path)s (integrity check ok); %(n)s files "
                      "copied."), copy=str(result.source), path=str(database),
                   n=result.files_copied))
    if result.replaced is not None:
        click.echo(say(N_("The database that was there is kept as %(old)s."),
                       old=str(result.replaced)))
    # The restored records checked with this server's records key: a key that is not the
    # one they were sealed with shows here, not on the first printed sheet.
    checks = _check_records()
    click.echo(_summary(checks))
    if not all(c.ok for c in checks):
        click.echo(say(N_("Some signed records do not verify: is this server's records key "
                          "the one they were signed with? flask verify-records names them.")),
                   err=True)


def _check_records() -> list[record_checks.Check]:
    return record_checks.verify_all(get_db(), current_app.config["RECORDS_KEY"],
                              Path(current_app.config["FILES_DIR"]))


def _summary(checks: list[record_checks.Check]) -> str:
    return say(N_("Signed records: %(verified)s verified, %(old)s in the old format, "
                  "%(failed)s failed."),
               verified=sum(c.status == "verified" for c in checks),
               old=sum(c.status == "old_format" for c in checks),
               failed=sum(not c.ok for c in checks))


@click.command("verify-records")
@with_appcontext
def verify_records_command() -> None:
    """Check every signed record (job sign-offs, callback records) against the database
    and the stored images as they are now; name what changed. Exits 1 if any fail."""
    _company_db()
    checks = _check_records()
    for c in checks:
        if c.status == "verified":
            continue
        fields = "、".join(say(N_("%(field)s (%(code)s)"), field=say(records.field_label(f)),
                              code=f) for f in c.changed)
        click.echo(say(N_("%(kind)s %(id)s of %(label)s: %(status)s"),
                       kind=say(records.KIND_LABELS[c.kind]), id=c.record_id or "—",
                       label=c.label, status=say(records.STATUS_LABELS[c.status]))
                   + (f" — {fields}" if fields else ""), err=not c.ok)
    click.echo(_summary(checks))
    if not all(c.ok for c in checks):
        sys.exit(1)


@click.command("prune-files")
@with_appcontext
def prune_files_command() -> None:
    """Remove the photos and signatures no record holds, stored over a day ago."""
    removed = files.prune(_company_db(), current_app.config["FILES_DIR"], utcnow())
    click.echo(say(N_("%(n)s files no record holds were removed."), n=removed))


@click.command("notify-scan")
@with_appcontext
def notify_scan_command() -> None:
    """Warn of job deadlines about to pass or passed, callbacks due today or overdue and
    complaints a month unresolved, once each (the worker runs this every minute)."""
    made = notification_scan.scan(_company_db(), utcnow())
    click.echo(say(N_("%(n)s notifications made."), n=made))


def init_app(app: Flask) -> None:
    app.cli.add_command(import_units_command)
    app.cli.add_command(create_company_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(prune_files_command)
    app.cli.add_command(verify_records_command)
    app.cli.add_command(notify_scan_command)
