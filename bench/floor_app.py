"""The stack with nothing of ours in it, to measure what a signed-in page costs at least.

A bare Flask app with the same extensions the product uses (flask-login, flask-wtf's
CSRF, Jinja with autoescape, flask-talisman's security headers as webapp/headers.py sets
them) and no domain code, database schema or translations:

- `/healthz`: `SELECT 1` on a kept SQLite connection, as the product's reference route;
- `/login`: signs the one user in (no password check);
- `/empty`: a signed-in page: a small base template with the CSRF token, no rows;
- `/rows`: the same page with 23 rows of six escaped fields each, from a constant list
  (no query, no deadlines, no badges).

bench.floor serves it with gunicorn and `make run`'s flags. No page of the product can
be cheaper than `/rows` while showing as much, so `/rows` against `/healthz` bounds
the throughput share any list page can reach on this stack.
"""

from __future__ import annotations

import sqlite3
import threading

from flask import Flask, Response, redirect, render_template
from flask_login import LoginManager, UserMixin, login_required, login_user
from flask_wtf.csrf import CSRFProtect
from jinja2 import DictLoader

from webapp import headers

BASE = """<!doctype html>
{% set csrf = csrf_token() %}
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}物业服务{% endblock %}</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body hx-headers='{"X-CSRFToken": "{{ csrf }}"}' data-user-id="{{ current_user.id }}">
<header><a href="/">物业服务</a><span>{{ current_user.name }}</span>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<button>退出</button></form></header>
<main>{% block content %}{% endblock %}</main>
</body></html>
"""

ROWS = """{% extends "base.html" %}
{% block content %}<ul class="list">
{% for j in rows %}
  <li class="row" data-job="{{ j.number }}"><a href="/jobs/{{ j.id }}">
    <strong>{{ j.building }}-{{ j.unit }}</strong> <span class="badge">{{ j.status }}</span>
    <div>{{ j.category }}</div><div class="muted">{{ j.description }}</div></a></li>
{% endfor %}
</ul>{% endblock %}
"""

JOBS = [
    {"id": 9000 + i, "number": f"J20261122{i:04d}", "building": f"{i % 5 + 1}栋",
     "unit": f"{i % 20 + 1}0{i % 4 + 1}", "status": "已接单", "category": "水电维修",
     "description": "卫生间水龙头漏水，需要更换阀芯，住户下午在家"}
    for i in range(23)
]


class User(UserMixin):
    def __init__(self, user_id: str):
        self.id = user_id
        self.name = "张师傅"


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="floor-only-not-a-secret", WTF_CSRF_TIME_LIMIT=None,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    app.jinja_loader = DictLoader({"base.html": BASE, "rows.html": ROWS})
    CSRFProtect(app)
    headers.init_app(app)  # every answer of any app on this stack carries them
    logins = LoginManager(app)
    logins.user_loader(User)
    local = threading.local()

    @app.get("/healthz")
    def healthz() -> tuple[str, int, dict[str, str]]:
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(":memory:")
        local.db.execute("SELECT 1").fetchone()
        return "ok", 200, {"Cache-Control": "no-store"}

    @app.get("/login")
    def login_form() -> str:
        return render_template("base.html")

    @app.post("/login")
    def login() -> Response:
        login_user(User("1"))
        return redirect("/empty")

    @app.get("/empty")
    @login_required
    def empty() -> str:
        return render_template("base.html")

    @app.get("/rows")
    @login_required
    def rows() -> str:
        return render_template("rows.html", rows=JOBS)

    return app
