"""Sign-in: flask-login sessions, scrypt hashes, throttled failures, per-user language."""

from __future__ import annotations

import functools
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
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db
from .domain import people
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
        self.estate_ids = estate_ids

    def can(self, capability: str) -> bool:
        return people.can(self.row, capability)

    @property
    def is_field(self) -> bool:
        return self.role in people.FIELD_ROLES


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    db = get_db()
    row = people.get_user(db, int(user_id))
    if row is None or not row["active"]:
        return None
    return User(row, people.estate_ids(db, row["id"]))


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, werkzeug's default


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _throttled(username: str, addr: str) -> bool:
    since = (utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])).isoformat()
    db = get_db()
    per_user = db.execute(
        "SELECT count(*) FROM login_failures WHERE username = ? AND remote_addr = ? AND at > ?",
        [username, addr, since],
    ).fetchone()[0]
    per_addr = db.execute(
        "SELECT count(*) FROM login_failures WHERE remote_addr = ? AND at > ?", [addr, since]
    ).fetchone()[0]
    limit = current_app.config["LOGIN_MAX_FAILURES"]
    return per_user >= limit or per_addr >= limit * 4


def safe_next(target: str | None) -> str | None:
    """Follow only a local path, never another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password."""
    error, status = None, 200
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        addr = request.remote_addr or ""
        if _throttled(username, addr):
            error, status = _("Too many failed attempts. Wait 15 minutes and try again."), 429
        else:
            db = get_db()
            row = next(iter(db.query("SELECT * FROM users WHERE username = ?", [username])), None)
            if row and row["active"] and check_password_hash(
                row["password_hash"], request.form.get("password", "")
            ):
                session.clear()
                # Remembered: a phone restarted in the field must not lose its session
                # (its outbox waits for one to send).
                login_user(load_user(str(row["id"])), remember=True)
                return redirect(safe_next(request.args.get("next")) or url_for("home"))
            db.execute(
                "INSERT INTO login_failures (username, remote_addr, at) VALUES (?,?,?)",
                [username, addr, utcnow().isoformat()],
            )
            error, status = _("Wrong username or password."), 401
    return render_template("auth/login.html", error=error, username=username), status


@bp.post("/logout")
def logout():
    """Sign out."""
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
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    app.register_blueprint(bp)
