"""Places and their QR codes: the scanned URL, the public report page, the staff's place
page, label sheets and the in-app scanner."""

from __future__ import annotations

import importlib
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

import sync
from sync import Command, Invalid
from sync.fields import maybe_id

from .. import labels as label_sheets
from .. import uploads
from ..auth import require, utcnow
from ..db import get_db
from ..domain import access, estates, notices, people, place_commands, places, settings, tracking
from ..domain.handlers import HANDLERS
from ..domain.text import N_
from ..domain.transactions import write_tx

bp = Blueprint("places", __name__, cli_group=None)  # `flask issue-qr`

# The public form's stamp; an instance's config may change them. The hourly limits are
# each estate's settings (domain/settings.py).
DEFAULTS = {
    "PUBLIC_REPORT_MIN_SECONDS": 3,  # a person takes longer than this to fill the form
    "PUBLIC_REPORT_MAX_SECONDS": 24 * 3600,  # a form's stamp is good for this long
    "LABELS_MAX": 5000,  # labels in one PDF
}
NUMBER = re.compile(r"^J\d{8}-\d{4,}$")


@bp.record_once
def _defaults(state: Any) -> None:
    for key, value in DEFAULTS.items():
        state.app.config.setdefault(key, value)


def _issue(kind: str, target: str, payload: dict[str, Any], user_id: int | None,
           op_id: str | None = None) -> sync.Outcome:
    cmd = Command(op_id=op_id or str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                  user_id=user_id, device_id=request.form.get("device_id", "")[:64],
                  device_time=sync.parse_device_time(request.form.get("device_time")))
    return sync.apply(get_db(), cmd, HANDLERS, utcnow())


# --- The scanned code and the public page -------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="public-report")


def _stamp(token: str) -> str:
    """The public form's signed stamp: this code, and a nonce that one report uses up."""
    return _serializer().dumps({"t": token, "n": uuid.uuid4().hex})


def _read_stamp(token: str) -> tuple[str, datetime] | str:
    """The posted stamp's (nonce, time issued); or what is wrong with it: "forged" (or for
    another code, or a stamp of the old kind) or "expired"."""
    try:
        value, issued = _serializer().loads(
            request.form.get("started", ""), return_timestamp=True,
            max_age=current_app.config["PUBLIC_REPORT_MAX_SECONDS"])
    except SignatureExpired:
        return "expired"
    except BadData:
        return "forged"
    if not isinstance(value, dict) or value.get("t") != token or not value.get("n"):
        return "forged"
    return str(value["n"]), issued


def _public(token: str, place: dict[str, Any], values: dict[str, str],
            errors: dict[str, str], status: int = 200, started: str | None = None):
    """The public page; `started`: the form's own stamp again, after a mistake in it, so
    the minimum time to fill it in does not start over for the corrected form."""
    sent = request.args.get("sent", "")
    track = tracking.read(request.args.get("track", "")) if sent else None
    return render_template(
        "places/public.html", token=token, view=places.public_view(place), values=values,
        errors=errors, started=started or _stamp(token),
        sent=sent if NUMBER.match(sent) else "", track=track,
        place_notices=notices.for_place(get_db(), place, utcnow()),
        track_shown=tracking.shown(track) if track else "",
    ), status


def _code_page(token_row: dict[str, Any] | None, place: dict[str, Any] | None):
    """An unknown code (404), or one replaced by a new label (410); staff of the estate get
    a link to the place, nobody is sent on to the new code."""
    staff = (place is not None and current_user.is_authenticated
             and place["estate_id"] in current_user.estate_ids)
    status = 410 if token_row else 404
    return render_template("places/code.html", replaced=bool(token_row),
                           place=place if staff else None), status


def _scanned(token: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    db = get_db()
    row = places.resolve(db, token)
    place = places.get_place(db, row["place_type"], row["place_id"]) if row else None
    return (row, place) if place else (None, None)


def _is_staff_of(place: dict[str, Any]) -> bool:
    return (current_user.is_authenticated and current_user.can("place.view")
            and place["estate_id"] in current_user.estate_ids)


@bp.get("/q/<token>")
def qr(token: str):
    """A scanned code: the estate's staff land on the place, anyone else on its public page."""
    row, place = _scanned(token)
    if row is None or place is None or row["revoked_at"]:
        return _code_page(row, place)
    if _is_staff_of(place):
        return redirect(url_for("places.detail", place_type=place["place_type"],
                                place_id=place["id"]))
    return _public(token, place, {}, {})


def _limited(values: dict[str, str], cmd: Command, place: dict[str, Any], token: str,
             limited_by: str):
    """Over an hourly limit: say so kindly, and show what was typed (it was not sent). A
    code's limit reached is a flood: counted for the desk, in a transaction of its own (the
    report's was rolled back)."""
    if limited_by == "code":
        db = get_db()
        with write_tx(db):
            place_commands.note_flood(db, cmd, place, token, utcnow())
    return render_template("places/limited.html", values=values), 429, {"Retry-After": "3600"}


def _photo() -> list[str]:
    """The report's one optional photo, re-encoded (no EXIF or GPS) and stored by hash."""
    upload = request.files.get("photo")
    if not upload or not upload.filename:
        return []
    try:
        return [uploads.keep(upload.read(), reencode=True)]
    except uploads.Refused as exc:
        raise Invalid({"photo": exc.message}) from None


@bp.post("/q/<token>")
def report(token: str):
    """A resident reports a problem at this place: a new job for the desk (source 'qr')."""
    row, place = _scanned(token)
    if row is None or place is None or row["revoked_at"]:
        return _code_page(row, place)
    cfg = current_app.config
    values = {k: request.form.get(k, "")[:2000] for k in ("description", "phone", "name")}
    if request.form.get("website"):  # the honeypot: a field people do not see
        return _public(token, place, values, {"form": N_("The report could not be sent.")}, 400)
    stamp = _read_stamp(token)
    if stamp == "expired":
        return _public(token, place, values, {
            "form": N_("This form was open too long. Check your report and send it again.")},
            400)
    if isinstance(stamp, str) or \
            (utcnow().replace(tzinfo=UTC) - stamp[1]).total_seconds() < \
            cfg["PUBLIC_REPORT_MIN_SECONDS"]:
        return _public(token, place, values, {
            "form": N_("That was very quick. Check your report and send it again.")}, 400,
            started=None if isinstance(stamp, str) else request.form.get("started"))
    nonce, issued = stamp
    op_id = request.form.get("op_id") or str(uuid.uuid4())
    db = get_db()
    used_by = place_commands.stamp_used_by(db, nonce)
    if used_by is not None and used_by != op_id:  # the same op_id: a retry, answered below
        return _public(token, place, values, {"form": place_commands.STAMP_USED}, 400)
    addr = place_commands.address_key((request.remote_addr or "")[:64])
    target = f"place:{place['place_type']}:{place['id']}"
    payload: dict[str, Any] = {
        **values, "token": token, "remote_addr": addr, "stamp": nonce,
        "stamp_issued": issued.astimezone(UTC).replace(tzinfo=None).isoformat(
            timespec="seconds"),
        "stamp_max_seconds": cfg["PUBLIC_REPORT_MAX_SECONDS"],
    }
    refused = Command(op_id=op_id, kind="public.report", target=target, payload={},
                      user_id=None, device_id="")
    try:
        place_commands.check_report(payload)  # before a photo is stored
        limited_by = None if used_by else place_commands.report_limit(
            db, token, addr, settings.estate_settings(db, place["estate_id"]), utcnow())
        if limited_by:
            return _limited(values, refused, place, token, limited_by)
        payload["photos"] = _photo()
        outcome = _issue("public.report", target, payload, None, op_id)
    except Invalid as exc:
        if place_commands.RATE_LIMITED in exc.errors:
            return _limited(values, refused, place, token,
                            exc.errors.get(place_commands.LIMITED_BY, ""))
        return _public(token, place, values, exc.errors, 422,
                       started=request.form.get("started"))
    return redirect(url_for("places.qr", token=token, sent=outcome.result["number"],
                            track=outcome.result.get("track_code") or None), 303)


# --- The staff's place page ---------------------------------------------------------------

def load_place(place_type: str, place_id: int) -> dict[str, Any]:
    """The place if it is in one of the user's estates, else 404."""
    place = places.get_place(get_db(), place_type, place_id)
    if not people.in_estates(place, current_user.estate_ids):
        abort(404)
    return place


def _inspections(place_type: str, place_id: int) -> Any:
    """The inspections area's summary of this place, once it provides
    `webapp.domain.inspections.place_summary`; None until then."""
    name = f"{__package__.rsplit('.', 1)[0]}.domain.inspections"
    try:
        inspections = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None
    summary = getattr(inspections, "place_summary", None)
    return summary(get_db(), place_type, place_id) if summary else None


@bp.get("/places/<place_type>/<int:place_id>")
@require("place.view")
def detail(place_type: str, place_id: int):
    """A place: what is open there, its recent history, and the actions that fit the role."""
    place = load_place(place_type, place_id)
    db = get_db()
    token = places.live_token(db, place_type, place_id)
    qr_src = ""
    if token and current_user.can("place.labels"):
        qr_src = label_sheets.qr_data_uri(label_sheets.qr_url(token))
    residents = (access.unit_residents(db, current_user.row, current_user.estate_ids,
                                       place_id, utcnow())
                 if place_type == "unit" and current_user.can("unit.view") else [])
    return render_template(
        "places/detail.html", place=place, residents=residents, qr_src=qr_src,
        type_label=places.PLACE_TYPES[place_type],
        open_jobs=places.place_jobs(db, place_type, place_id, open_only=True),
        open_complaints=places.place_complaints(db, place_type, place_id, open_only=True),
        callbacks=places.place_callbacks(db, place_type, place_id),
        history=places.history(db, place_type, place_id),
        inspections=_inspections(place_type, place_id),
        place_notices=notices.for_place(db, place, utcnow()),
        reissued=request.args.get("reissued") == "1", errors={},
    )


@bp.post("/places/<place_type>/<int:place_id>/reissue")
@require("place.reissue")
def reissue(place_type: str, place_id: int):
    """Replace the place's code: the printed label stops working, a new one is printed."""
    load_place(place_type, place_id)
    try:
        outcome = _issue("place.reissue", f"place:{place_type}:{place_id}", {},
                         current_user.id, request.form.get("op_id") or None)
    except Invalid:
        abort(404)
    if not outcome.ok:
        abort(403)
    return redirect(url_for("places.detail", place_type=place_type, place_id=place_id,
                            reissued=1), 303)


# --- Label sheets and the scanner ---------------------------------------------------------

@bp.get("/places/labels")
@require("place.labels")
def labels():
    """Label sheets to print: a whole estate or one building at a time."""
    db = get_db()
    rows = [{**e, "buildings": places.buildings(db, e["id"]),
             "others": places.other_places(db, e["id"])}
            for e in estates.list_estates(db, current_user.estate_ids)]
    return render_template("places/labels.html", estates=rows)


def _int_arg(name: str) -> int | None:
    return maybe_id(request.args.get(name, ""))


def _sheet_places() -> tuple[list[dict[str, Any]], str]:
    """The places the request asks labels for, and the file's name; 404 outside your estates."""
    db = get_db()
    refs = request.args.getlist("place")
    if refs:
        rows = []
        for ref in refs:
            parsed = places.parse_ref(ref)
            if parsed is None:
                abort(404)
            place = load_place(*parsed)
            rows.append({**place, "token": places.live_token(db, *parsed)})
        return rows, "qr-labels"
    estate_id, building_id = _int_arg("estate_id"), _int_arg("building_id")
    if estate_id not in current_user.estate_ids:
        abort(404)
    rows = places.estate_places(db, estate_id, building_id)
    return rows, f"qr-labels-{estate_id}" + (f"-{building_id}" if building_id else "")


@bp.get("/places/labels.pdf")
@require("place.labels")
def labels_pdf():
    """A4 sheets of QR labels for an estate, a building or chosen places; codes are issued
    to places that have none yet."""
    rows, filename = _sheet_places()
    if not rows or len(rows) > current_app.config["LABELS_MAX"]:
        abort(404)
    missing = [r for r in rows if not r.get("token")]
    if missing:
        refs = [f"{r['place_type']}:{r['id']}" for r in missing]
        _issue("place.issue", f"estate:{rows[0]['estate_id']}", {"places": refs},
               current_user.id)
        db = get_db()
        for r in missing:
            r["token"] = places.live_token(db, r["place_type"], r["id"])
    return label_sheets.sheet(rows, filename)


@bp.get("/scan")
@require("place.scan")
def scan():
    """Scan a code with the phone's camera (or a photo of it) and open what it points to;
    or, for a label that will not scan, type what is printed on it (`label`)."""
    text = request.args.get("label", "").strip()[:100]
    found = places.find_by_label(get_db(), current_user.estate_ids, text) if text else []
    if len(found) == 1:
        return redirect(url_for("places.detail", place_type=found[0]["place_type"],
                                place_id=found[0]["id"]))
    return render_template("places/scan.html", label=text, found=found)


@bp.cli.command("issue-qr")
@click.option("--estate", "estate_ids", type=int, multiple=True,
              help="Estate id; repeat for several (default: every estate).")
@click.option("--as", "username", help="Issue as this user (default: the first admin).")
def issue_qr_command(estate_ids: tuple[int, ...], username: str | None) -> None:
    """Give every unit, common area and equipment of the estates a QR code (once each)."""
    from ..cli import _user

    db, user = get_db(), _user(username)
    for estate_id in estate_ids or [r["id"] for r in db.query("SELECT id FROM estates")]:
        cmd = Command(op_id=str(uuid.uuid4()), kind="place.issue", target=f"estate:{estate_id}",
                      payload={}, user_id=user["id"], device_id="cli")
        try:
            outcome = sync.apply(db, cmd, HANDLERS, utcnow())
        except Invalid as exc:
            raise click.ClickException(str(exc.errors)) from None
        if not outcome.ok:
            raise click.ClickException(f"estate {estate_id}: {outcome.result.get('message')}")
        click.echo(f"estate {estate_id}: {outcome.result['issued']} codes issued, "
                   f"{outcome.result['places']} places in all")
