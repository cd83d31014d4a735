"""Field-service app for property management: the Flask app factory."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

from . import templating
from .domain import workdays


def _secret_key(instance_path: str) -> str:
    """Read the instance's secret key, creating one on first start.

    The key never lives in code or in the repository; a deployment may also set
    WUYE_SECRET_KEY in the environment, which wins.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: defaults, then instance/config.py, then WUYE_* environment."""
    app = Flask(__name__, instance_relative_config=True)
    app.jinja_environment = templating.Environment  # before anything builds app.jinja_env
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        DATABASE=os.path.join(app.instance_path, "wuye.db"),
        FILES_DIR=os.path.join(app.instance_path, "files"),
        DB_POOL_SIZE=8,  # idle database connections kept per process (db.Pool)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(days=14),
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE=workdays.LOCAL.key,
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        LOGIN_MAX_FAILURES=5,
        LOGIN_WINDOW_MINUTES=15,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("WUYE")
    else:
        app.config.from_mapping(test_config)
    if app.config["BABEL_DEFAULT_TIMEZONE"] != workdays.LOCAL.key:
        # Times shown and dates the rules count (numbers, working days, months) must agree.
        raise RuntimeError(
            f"BABEL_DEFAULT_TIMEZONE is {app.config['BABEL_DEFAULT_TIMEZONE']!r}, but the"
            f" estates' rules count days in {workdays.LOCAL.key} (webapp/domain/workdays.py)")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
    os.makedirs(app.config["FILES_DIR"], exist_ok=True)

    from . import auth, badges, cli, db, demo, i18n, layout, web

    db.init_app(app)
    demo.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    web.init_app(app)
    layout.init_app(app)
    badges.init_app(app)
    cli.init_app(app)
    return app
