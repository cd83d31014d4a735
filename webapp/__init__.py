"""Field-service app for property management: the Flask app factory."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

from . import templating
from .domain import workdays
from .push import PUSH_SERVICES


def _secret_key(instance_path: str, name: str = "secret_key") -> str:
    """Read one of the instance's keys (`secret_key`, `records_key`), creating it on
    first start.

    A key never lives in code, in the repository or in the database; a deployment may
    also set WUYE_SECRET_KEY / WUYE_RECORDS_KEY in the environment, which wins.
    """
    path = Path(instance_path) / name
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
        # What one user may upload in a rolling day (photos and signatures), and how
        # often at most a process removes the files no record holds (domain/files.prune).
        UPLOADS_PER_USER_DAY=300,
        UPLOAD_BYTES_PER_USER_DAY=300 * 1024 * 1024,
        PRUNE_FILES_EVERY_MINUTES=60,
        # Failed sign-ins within the window (auth.throttled): per username from one
        # address, per account from any address, per address for any username.
        LOGIN_MAX_FAILURES=5,
        LOGIN_ACCOUNT_MAX_FAILURES=20,
        LOGIN_ADDRESS_MAX_FAILURES=100,
        LOGIN_WINDOW_MINUTES=15,
        WTF_CSRF_TIME_LIMIT=None,
        # Behind a proxy (webapp/https.py, docs/DEPLOY.md). `make serve` sets PROXY_COUNT
        # to 1 (Caddy) and PUBLIC_URL to the https address phones use.
        PROXY_COUNT=0,
        PUBLIC_URL="",
        # `make serve` only: a domain name for public certificates, or none for the LAN
        # address with Caddy's own CA; ports, Caddy's folder, gunicorn behind it.
        DOMAIN="",
        CADDY_TLS="",  # "public" or "internal"; by default from DOMAIN
        HTTPS_PORT=443,
        HTTP_PORT=80,
        CADDY_DATA=os.path.join(app.instance_path, "caddy"),
        GUNICORN_BIND="127.0.0.1:8000",
        GUNICORN_WORKERS=2,
        GUNICORN_THREADS=4,
        # `make serve` only: where Litestream streams the database (deploy/litestream.yml);
        # none: no replication. docs/DEPLOY.md gives the values for each kind of store.
        REPLICA_URL="",
        REPLICA_ENDPOINT="",
        REPLICA_REGION="",
        REPLICA_FORCE_PATH_STYLE="",
        # 企业微信 robots (wecom.py): hosts a webhook may reach over plain http (a local
        # stand-in); every other webhook address is https.
        WECOM_HTTP_HOSTS=[],
        # flask-compress: brotli, else gzip, for text only (photos and PDFs are
        # compressed already). Static files are streamed by Flask, so they are
        # compressed as streams: brotli, else deflate (the library's advice: not gzip);
        # bodies under 500 bytes gain less than the header costs.
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["br", "deflate"],
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "text/plain",
                            "application/javascript", "application/json",
                            "application/manifest+json", "image/svg+xml"],
        COMPRESS_MIN_SIZE=500,
        COMPRESS_BR_LEVEL=4,
        # The delivery worker's queue (webapp/worker.py) and the installation's Web Push
        # key pair (webapp/push.py, made on first use); PUSH_CONTACT: the VAPID `sub`
        # (mailto: or https:), by default from PUBLIC_URL.
        HUEY_FILE=os.path.join(app.instance_path, "huey.db"),
        VAPID_KEY_FILE=os.path.join(app.instance_path, "vapid_private.pem"),
        PUSH_CONTACT="",
        # Read notifications and finished deliveries are deleted after this many days
        # (the worker's daily prune, domain/notification_prune.py).
        NOTIFY_RETENTION_DAYS=90,
        PUSH_HTTP_ENDPOINTS=False,  # plain-http push services: tests' local ones only
        # The hosts a phone's push subscription may name (push.PUSH_SERVICES and the
        # names under them): the worker POSTs there, so no other host is reachable.
        PUSH_SERVICE_HOSTS=list(PUSH_SERVICES),
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
    if not app.config.get("RECORDS_KEY"):
        # Seals signed records (domain/records.py); separate from the session key, and
        # never in the database or its backups (docs/SECURITY.md).
        app.config["RECORDS_KEY"] = _secret_key(app.instance_path, "records_key")
    os.makedirs(app.config["FILES_DIR"], exist_ok=True)

    from . import (
        assets,
        auth,
        badges,
        cli,
        db,
        demo,
        headers,
        htmx,
        https,
        i18n,
        layout,
        web,
        worker,
    )

    assets.init_compression(app)  # first: its after-request hook must run last
    https.init_app(app)
    headers.init_app(app)
    htmx.init_app(app)
    db.init_app(app)
    worker.init_app(app)  # after db: its teardown needs the request's handle
    demo.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    web.init_app(app)
    layout.init_app(app)
    badges.init_app(app)
    cli.init_app(app)
    assets.init_app(app)
    return app
