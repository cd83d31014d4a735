"""Administration: estates, their settings and 企业微信 robots, importing units and
residents, and connecting phones to the app over HTTPS."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from sync import Invalid, Outcome, fields

from .. import commands, https
from ..auth import require, utcnow
from ..db import get_db
from ..domain import estates, imports, people, robots, settings, workdays
from ..domain.jobs import N_
from ..labels import qr_data_uri

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("")
@require()
def index():
    """The estates this user administers."""
    if not (current_user.can("estate.settings") or current_user.can("estate.import")):
        abort(403)
    return render_template("admin/index.html",
                           estates=estates.list_estates(get_db(), current_user.estate_ids))


@bp.route("/estates/<int:estate_id>/settings", methods=["GET", "POST"])
@require("estate.settings")
def estate_settings(estate_id: int):
    """Edit an estate's deadlines and quotas."""
    if estate_id not in current_user.estate_ids:
        abort(404)
    estate = estates.list_estates(get_db(), [estate_id])[0]

    def page(values: dict, errors: dict, status: int = 200):
        return render_template("admin/settings.html", estate=estate, values=values,
                               errors=errors, SETTINGS=settings.SETTINGS,
                               SECTIONS=settings.SECTIONS), status

    if request.method == "GET":
        return page(settings.estate_settings(get_db(), estate_id), {})
    values = {s.key: request.form.get(s.key, "") for s in settings.SETTINGS}
    try:
        commands.run("estate.settings", f"estate:{estate_id}", values)
    except Invalid as exc:
        return page(values, exc.errors, 422)
    return redirect(url_for("admin.estate_settings", estate_id=estate_id, saved=1), 303)


def read_upload() -> dict[str, str]:
    """The uploaded CSV as a command payload; Invalid when there is none or it is not text."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid({"file": N_("Choose a CSV file to import.")})
    try:
        text = imports.decode(upload.read())
    except imports.Unreadable as exc:
        raise Invalid({"file": str(exc)}) from None
    return {"filename": upload.filename[:200], "text": text}


@bp.route("/import", methods=["GET", "POST"])
@require("estate.import")
def import_units():
    """Import units and residents from a CSV file, all rows or none."""
    if request.method == "GET":
        return render_template("admin/import.html", errors={}, outcome=None)
    try:
        outcome = commands.run("estate.import", "estates", read_upload())
    except Invalid as exc:
        return render_template("admin/import.html", errors=exc.errors, outcome=None), 422
    status = 200 if outcome.ok else 409
    return render_template("admin/import.html", errors={}, outcome=outcome), status


@bp.route("/estates/<int:estate_id>/calendar", methods=["GET", "POST"])
@require("estate.settings")
def calendar(estate_id: int):
    """The estate's holidays and make-up working days (callback deadlines count these)."""
    if estate_id not in current_user.estate_ids:
        abort(404)
    estate = estates.list_estates(get_db(), [estate_id])[0]
    try:  # the kit's years; any other shows this year
        year = fields.integer(request.args.get("year"), "year", fields.FIRST_YEAR,
                              fields.LAST_YEAR)
    except Invalid:
        year = utcnow().year
    values: dict = {}
    errors: dict = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ("day", "kind", "name", "remove")}
        try:
            commands.run("estate.calendar", f"estate:{estate_id}", values)
            return redirect(url_for("admin.calendar", estate_id=estate_id, year=year), 303)
        except Invalid as exc:
            errors = exc.errors
    rows = workdays.entries(get_db(), estate_id, year)
    return render_template("admin/calendar.html", estate=estate, year=year, rows=rows,
                           values=values, errors=errors), 422 if errors else 200


@bp.get("/connect")
@require("user.manage")
def connect():
    """Connect staff phones: the app's address, and with Caddy's own CA its root
    certificate to install first."""
    address = https.external_url("home")
    pem = https.root_cert(current_app.config)
    ca = None
    if pem is not None:
        url = https.ca_url(current_app.config, address)
        ca = {"url": url, "qr": qr_data_uri(url), "fingerprint": https.fingerprint(pem)}
    return render_template("admin/connect.html", address=address,
                           address_qr=qr_data_uri(address), ca=ca)


@bp.get("/connect/ca.crt")
@require("user.manage")
def root_certificate():
    """Caddy's root certificate, for the device showing the connect page (phones get it
    over plain http from Caddy, see deploy/Caddyfile)."""
    pem = https.root_cert(current_app.config)
    if pem is None:
        abort(404)
    return Response(pem, mimetype=https.CA_MIMETYPE, headers={
        "Content-Disposition": 'attachment; filename="wuye-ca.crt"',
        "Cache-Control": "no-cache"})


def _estate(estate_id: int) -> dict:
    if estate_id not in current_user.estate_ids:
        abort(404)
    return estates.list_estates(get_db(), [estate_id])[0]


def _robot(hook_id: int) -> dict:
    hook = robots.get(get_db(), hook_id)
    if not people.in_estates(hook, current_user.estate_ids):
        abort(404)
    return hook


def _robots_page(estate: dict, notice: str = "", status: int = 200):
    db = get_db()
    return render_template("admin/robots.html", estate=estate, notice=notice,
                           hooks=robots.hooks(db, estate["id"]),
                           failures=robots.failures(db, estate["id"]),
                           describe=robots.describe, official=robots.official), status


@bp.get("/estates/<int:estate_id>/robots")
@require("estate.settings")
def robots_list(estate_id: int):
    """The estate's 企业微信 robots, what went wrong with their messages."""
    return _robots_page(_estate(estate_id))


def _robot_form(estate: dict, hook: dict | None, values: dict, errors: dict,
                status: int = 200):
    return render_template("admin/robot.html", estate=estate, hook=hook, values=values,
                           errors=errors, official=robots.official), status


@bp.route("/estates/<int:estate_id>/robots/new", methods=["GET", "POST"],
          defaults={"hook_id": None})
@bp.route("/estates/<int:estate_id>/robots/<int:hook_id>", methods=["GET", "POST"])
@require("estate.settings")
def robot(estate_id: int, hook_id: int | None):
    """Add or change a robot: its group's name, department, webhook, on or off."""
    estate = _estate(estate_id)
    hook = None if hook_id is None else _robot(hook_id)
    if hook is not None and hook["estate_id"] != estate_id:
        abort(404)
    if request.method == "GET":
        return _robot_form(estate, hook, dict(hook or {"active": 1}), {})
    values = {k: request.form.get(k, "") for k in ("name", "department", "url")}
    values["active"] = request.form.get("active", "1") == "1"
    payload = {**values, "estate_id": estate_id,
               "http_hosts": list(current_app.config["WECOM_HTTP_HOSTS"])}
    try:
        outcome = commands.run("robot.save", f"robot:{hook_id or 'new'}", payload)
    except Invalid as exc:
        return _robot_form(estate, hook, values, exc.errors, 422)
    if not outcome.ok:
        abort(409, description=_refusal(outcome))
    return redirect(url_for("admin.robots_list", estate_id=estate_id), 303)


def _refusal(outcome: Outcome) -> str:
    return gettext(outcome.result.get("message", ""))


@bp.post("/robots/<int:hook_id>/<any(test, retry):action>")
@require("estate.settings")
def robot_action(hook_id: int, action: str):
    """Queue a test message to the robot, or its failed messages again."""
    hook = _robot(hook_id)
    estate = _estate(hook["estate_id"])
    try:
        outcome = commands.run(f"robot.{action}", f"robot:{hook_id}", {})
    except Invalid:
        abort(422)
    if not outcome.ok:
        return _robots_page(estate, _refusal(outcome), 409)
    return redirect(url_for("admin.robots_list", estate_id=estate["id"], done=action), 303)
