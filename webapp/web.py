"""Wire the web layer: CSRF, blueprints, the home redirect, error pages, template helpers."""

from __future__ import annotations

import functools

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from sync import Invalid

from . import args, i18n
from .db import get_db
from .domain import (
    access,
    callbacks,
    complaints,
    estates,
    jobs,
    people,
    records,
)

csrf = CSRFProtect()


@functools.lru_cache(maxsize=4096)
def _signed_token(secret_key: str, raw: str) -> str:
    """The signed form of a session's CSRF token: flask-wtf's, made the first time
    (generate_csrf signs the token the request's session holds, which is `raw`)."""
    return generate_csrf()


def csrf_token() -> str:
    """flask-wtf's `csrf_token()` for templates, signed once per session token.

    generate_csrf signs the session's token anew on every request (a key derivation,
    an HMAC, base64: about as much as a row of a list). With no time limit on tokens
    (WTF_CSRF_TIME_LIMIT None) every signature of a session's token stays valid as
    long as the session holds it, so the first one serves. With a limit, or before
    the session has a token, flask-wtf's own call does it all.
    """
    config = current_app.config
    field = config["WTF_CSRF_FIELD_NAME"]
    raw = session.get(field)
    if config["WTF_CSRF_TIME_LIMIT"] is not None or type(raw) is not str:
        return generate_csrf()
    token = g.get(field)
    if token is None:
        secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        token = _signed_token(secret, raw)
        setattr(g, field, token)  # where generate_csrf keeps it for the request
    return token


def home():
    """Send each role to where its work is (domain/access.py decides where)."""
    user = current_user.row if current_user.is_authenticated else None
    return redirect(url_for(access.landing(user)))


def healthz():
    """For load balancers and monitoring: the app answers and its database opens."""
    get_db().execute("SELECT 1")
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


def _error(status: int, message: str):
    return render_template("error.html", status=status, message=message), status


def _method_not_allowed(e: HTTPException):
    """A form's address opened as a page: a form shown again with its errors keeps the
    address it was sent to, and a reload or a reopened tab asks for it. Go to the page
    the form belongs to (the address one level up) when there is one."""
    if request.method == "GET":
        parent = request.path.rstrip("/").rsplit("/", 1)[0] or "/"
        adapter = current_app.create_url_adapter(request)
        try:
            adapter.match(parent, method="GET")
        except RequestRedirect:
            pass  # a page there, at a slightly different address: fine to go to
        except HTTPException:
            parent = None
        if parent:
            return redirect(request.script_root + parent, 303)
    return _error(405, _("This address only takes a sent form. Open the page from the menu."))


def _invalid(e: Invalid):
    """Bad input a view did not show next to its field: the messages on an error page,
    never a server error."""
    messages = " ".join(_(str(m)) for m in e.errors.values() if isinstance(m, str))
    return _error(422, messages or _("The form could not be read. Reload the page and send "
                                     "it again."))


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    # Before any rule is added: rules read their converters when added.
    app.url_map.converters["int"] = args.RecordIdConverter
    # flask-wtf offers csrf_token both as a global and from a context processor; the
    # later processor's wins.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
    from .views import (
        account,
        activities,
        admin,
        committee,
        feedback,
        figures,
        files,
        handovers,
        inspections,
        install,
        live,
        notices,
        notifications,
        places,
        push,
        reports,
        routine,
        surveys,
        sync,
        tracking,
        units,
        users,
    )
    from .views import callbacks as callbacks_views
    from .views import complaints as complaints_views
    from .views import jobs as jobs_views

    for module in (jobs_views, complaints_views, callbacks_views, units, admin, users, files,
                   sync, routine, feedback, places, inspections, install, account, push, live,
                   notifications, tracking, surveys, figures, reports, notices,
                   committee, handovers, activities):
        app.register_blueprint(module.bp)
    csrf.exempt(sync.bp)  # same-origin + session instead; see views/sync.py
    app.add_url_rule("/", "home", home)
    app.add_url_rule("/healthz", "healthz", healthz)

    app.register_error_handler(403, lambda e: _error(403, _("Your role may not open this page.")))
    app.register_error_handler(404, lambda e: _error(404, _("Not found.")))
    app.register_error_handler(405, _method_not_allowed)
    app.register_error_handler(Invalid, _invalid)
    app.register_error_handler(422, lambda e: _error(422, e.description))
    app.register_error_handler(
        413, lambda e: _error(413, _("The upload is too large. Send fewer or smaller photos."))
    )
    app.register_error_handler(
        CSRFError,
        lambda e: _error(400, _("The form expired. Reload the page and send it again.")),
    )

    i18n.VOCABULARIES.update(
        statuses=jobs.STATUSES,
        classes=jobs.CLASSES,
        categories={k: label for k, (label, _dept) in jobs.CATEGORIES.items()},
        due=jobs.DUE_NAMES,
        cb_dimensions=callbacks.DIMENSIONS,
        c_levels=complaints.LEVELS,
        c_categories=complaints.CATEGORIES,
    )
    app.jinja_env.filters["mask_name"] = access.mask_name  # a signer seen without work
    app.jinja_env.filters["record_field"] = records.field_label  # what a check names
    app.jinja_env.filters["address"] = estates.address  # 'estate building-room'
    # Vocabularies as globals, so imported macros see them too.
    app.jinja_env.globals.update(
        {
            "SOURCES": jobs.SOURCES,
            "INTAKE_SOURCES": jobs.INTAKE_SOURCES,
            "CLASSES": jobs.CLASSES,
            "CATEGORIES": jobs.CATEGORIES,
            "STATUSES": jobs.STATUSES,
            "ACTIONS": jobs.ACTIONS,
            "DUE_NAMES": jobs.DUE_NAMES,
            "C_ACTIONS": complaints.ACTIONS,
            "C_CHANNELS": complaints.CHANNELS,
            "C_IDENTITIES": complaints.IDENTITIES,
            "C_LEVELS": complaints.LEVELS,
            "C_LEVEL_HELP": complaints.LEVEL_HELP,
            "C_CATEGORIES": complaints.CATEGORIES,
            "C_PATHS": complaints.PATHS,
            "C_STATUSES": complaints.STATUSES,
            "CB_KINDS": callbacks.KINDS,
            "CB_METHODS": callbacks.METHODS,
            "CB_DIMENSIONS": callbacks.DIMENSIONS,
            "CB_COMPLAINT_DIMS": callbacks.dimensions_for("complaint"),
            "CB_SCALE": callbacks.SCALE,
            "DEPARTMENTS": people.DEPARTMENTS,
            "ROLES": people.ROLES,
            "estates_for_user": lambda: estates.list_estates(get_db(), current_user.estate_ids),
            "PAGE_ASSETS": sync.PAGE_ASSETS,
            "THEME_COLOR": install.THEME_COLOR,
            "FAVICON": install.FAVICON,
            "APPLE_TOUCH_ICON": install.APPLE_TOUCH_ICON,
        }
    )
