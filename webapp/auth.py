"""Sign-in: flask-login sessions, scrypt hashes, throttled failures, per-user language."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlite_utils import Database
from werkzeug.security import check_password_hash

from .db import get_db
from .domain import people, users
from .i18n import LOCALES

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


class User(UserMixin):
    """The signed-in staff member, loaded once per request."""

    def __init__(self, row: dict[str, Any], estate_ids: list[int]):
        self.row = row
        self.id = row["id"]
        self.role = row["role"]
        self.department = row["department"]
        self.locale = row["locale"]
        self.display_name = row["display_name"]
        self.session_version = row["session_version"]
        self.estate_ids = estate_ids

    def get_id(self) -> str:
        # flask-login's alternative token: what the session and the remember cookie hold.
        # With the version in it, raising users.session_version makes every cookie
        # issued before stop matching (users.end_sessions).
        return f"{self.id}:{self.session_version}"

    def can(self, capability: str) -> bool:
        return people.can(self.row, capability)

    @property
    def is_field(self) -> bool:
        return self.role in people.FIELD_ROLES


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The user a session or remember cookie names, if it was issued under their
    current session version; cookies from before the version field (a bare id) fail."""
    user_id, _, version = token.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    found = people.user_with_estates(get_db(), int(user_id))
    if found is None:
        return None
    row, estate_ids = found
    if not row["active"] or row["session_version"] != int(version):
        return None
    return User(row, estate_ids)


def user_for(db: Database, row: dict[str, Any]) -> User:
    return User(row, people.estate_ids(db, row["id"]))


hash_password = users.hash_password  # the demo's and the dummy hash: made like real ones


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@functools.cache
def _dummy_hash() -> str:
    """A hash to check an unknown username's password against, made like real ones, so
    that a wrong username takes as long as a wrong password and does not give itself
    away by answering faster."""
    return hash_password(secrets.token_urlsafe(16))


def note_failure(username: str, addr: str) -> None:
    """A wrong password, at sign-in or when changing one's own: both count to the limits."""
    get_db().execute("INSERT INTO login_failures (username, remote_addr, at) VALUES (?,?,?)",
                     [username, addr, utcnow().isoformat()])


def throttled_message() -> str:
    return _("Too many failed attempts. Wait %(minutes)d minutes and try again.",
             minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def throttled(username: str, addr: str) -> bool:
    """Too many recent failures: for this username from this address (someone's typos
    lock only them out, not the office behind the same address), for this account from
    any address (guessing spread over many addresses), or from this address for any
    username (a larger ceiling)."""
    config = current_app.config
    since = (utcnow() - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])).isoformat()
    db = get_db()

    def failures(where: str, params: list[str]) -> int:
        return db.execute(f"SELECT count(*) FROM login_failures WHERE {where} AND at > ?",
                          [*params, since]).fetchone()[0]

    return (
        failures("username = ? AND remote_addr = ?", [username, addr])
        >= config["LOGIN_MAX_FAILURES"]
        or failures("username = ?", [username]) >= config["LOGIN_ACCOUNT_MAX_FAILURES"]
        or failures("remote_addr = ?", [addr]) >= config["LOGIN_ADDRESS_MAX_FAILURES"]
    )


def safe_next(target: str | None) -> str | None:
    """Follow only a local path, never another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def sign_in_again() -> None:
    """After a change that ended all of the current user's sessions (their password),
    keep this device signed in under the new version, remembered if it was."""
    db = get_db()
    row = people.get_user(db, current_user.id)
    if row is None or not row["active"]:
        logout_user()
        return
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    login_user(user_for(db, row), remember=remembered in request.cookies)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password."""
    error, status = None, 200
    username = request.form.get("username", "").strip()
    # Ticked unless unticked: a phone restarted in the field must not lose its session
    # (its outbox waits for one to send); a shared computer's user unticks it.
    remember = request.method == "GET" or request.form.get("remember") == "1"
    if request.method == "POST":
        addr = request.remote_addr or ""
        if throttled(username, addr):
            error, status = throttled_message(), 429
        else:
            db = get_db()
            row = next(iter(db.query("SELECT * FROM users WHERE username = ?", [username])), None)
            # Always one hash check, also for an unknown or disabled account.
            matches = check_password_hash(row["password_hash"] if row else _dummy_hash(),
                                          request.form.get("password", ""))
            if row and row["active"] and matches:
                session.clear()
                login_user(user_for(db, row), remember=remember)
                return redirect(safe_next(request.args.get("next")) or url_for("home"))
            note_failure(username, addr)
            error, status = _("Wrong username or password."), 401
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]  # seconds from WUYE_*
    days = (duration if isinstance(duration, timedelta) else timedelta(seconds=duration)).days
    return render_template("auth/login.html", error=error, username=username,
                           remember=remember, remember_days=days), status


@bp.post("/logout")
def logout():
    """Sign out, here and on every other device: a copied cookie opens nothing after."""
    if current_user.is_authenticated:
        users.end_sessions(get_db(), current_user.id, utcnow())
    logout_user()
    return redirect(url_for("auth.login"))


@bp.post("/locale")
def set_locale():
    """Switch the interface language for this user (or this browser when signed out)."""
    locale = request.form.get("locale")
    if locale not in LOCALES:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        get_db().execute("UPDATE users SET locale = ? WHERE id = ?", [locale, current_user.id])
    return redirect(safe_next(request.form.get("next")) or url_for("home"))


def require(capability: str | None = None) -> Callable:
    """Sign-in (and optionally a capability) for a view; 403 when the role may not."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if capability and not current_user.can(capability):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def init_app(app: Flask) -> None:
    _dummy_hash()  # made at start, so the first unknown username is not slower either
    login_manager.init_app(app)
    # Templates read the user dozens of times a page (the header, the actions that fit).
    # flask-login hands them its proxy, which finds the user again on every read; this
    # processor, run after flask-login's, hands them the user itself.
    app.context_processor(lambda: {"current_user": current_user._get_current_object()})
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.register_blueprint(bp)
