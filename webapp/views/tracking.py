"""A resident's tracking page for a report from a QR code (/t/<code>): no sign-in, no
names or phones; the rating once the work is signed off (domain/tracking.py)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, redirect, render_template, request, url_for

import sync
from sync import Command, Invalid

from ..auth import utcnow
from ..db import get_db
from ..domain import callbacks, tracking
from ..domain.handlers import HANDLERS

bp = Blueprint("tracking", __name__, url_prefix="/t")


@bp.route("", methods=["GET", "POST"])
def find():
    """Type the code read out or written down."""
    typed = request.form.get("code", "")[:40]
    if request.method == "POST":
        code = tracking.read(typed)
        if code and tracking.job(get_db(), code):
            return redirect(url_for("tracking.page", code=code), 303)
        return render_template("tracking/find.html", typed=typed, unknown=True), 404
    return render_template("tracking/find.html", typed="", unknown=False)


def _page(code: str, errors: dict[str, str], status: int = 200, **extra):
    db = get_db()
    row = tracking.job(db, code)
    if row is None:
        abort(404)
    return render_template(
        "tracking/page.html", job=row, code=code, shown=tracking.shown(code),
        steps=tracking.steps(row), rating=tracking.rating(db, row["id"]),
        dims=callbacks.dimensions_for("job"), errors=errors, **extra), status


@bp.get("/<code>")
def page(code: str):
    if tracking.read(code) != code:
        abort(404)
    return _page(code, {}, thanks=request.args.get("rated") == "1")


@bp.post("/<code>/rate")
def rate(code: str):
    if tracking.read(code) != code:
        abort(404)
    ratings = {k[len("rating_"):]: v[:2] for k, v in request.form.items()
               if k.startswith("rating_") and v}
    cmd = Command(op_id=request.form.get("op_id") or str(uuid.uuid4()), kind="public.rate",
                  target=f"track:{code}", payload={"ratings": ratings}, user_id=None,
                  device_id="")
    try:
        outcome = sync.apply(get_db(), cmd, HANDLERS, utcnow())
    except Invalid as exc:
        return _page(code, exc.errors, 422)
    if not outcome.ok:
        return _page(code, {"rating": outcome.result.get("message", "")}, 409)
    return redirect(url_for("tracking.page", code=code, rated=1), 303)
