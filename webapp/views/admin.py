"""Administration: estates, their settings, importing units and residents, and
connecting phones to the app over HTTPS."""

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
from flask_login import current_user

from sync import Invalid, fields

from .. import commands, https
from ..auth import require, utcnow
from ..db import get_db
from ..domain import estates, imports, settings, workdays
from ..domain.jobs import N_
from ..labels import qr_svg_data_uri

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
        ca = {"url": url, "qr": qr_svg_data_uri(url), "fingerprint": https.fingerprint(pem)}
    return render_template("admin/connect.html", address=address,
                           address_qr=qr_svg_data_uri(address), ca=ca)


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
