"""Units: search for intake, and the unit's page with its residents and jobs."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from .. import commands
from ..auth import require
from ..db import get_db
from ..domain import estates

bp = Blueprint("units", __name__, url_prefix="/units")


@bp.get("/search")
@require("unit.search")
def search():
    """Units matching a room number or a resident's name or phone (htmx fragment)."""
    q = request.args.get("unit_query", "").strip()
    try:
        estate_id = int(request.args.get("estate_id", "0"))
    except ValueError:
        estate_id = 0
    if estate_id not in current_user.estate_ids:
        estate_id = 0
    rows = estates.search_units(get_db(), estate_id, q) if q and estate_id else []
    return render_template("units/_search.html", rows=rows, q=q)


@bp.get("/<int:unit_id>")
@require("unit.view")
def detail(unit_id: int):
    """A unit: who lives there and its jobs."""
    db = get_db()
    unit = estates.get_unit(db, unit_id)
    if unit is None or unit["estate_id"] not in current_user.estate_ids:
        abort(404)
    return render_template("units/detail.html", unit=unit,
                           residents=estates.residents(db, unit_id),
                           jobs=estates.unit_jobs(db, unit_id),
                           flags=estates.unit_flags(db, unit_id),
                           UNIT_FLAGS=estates.UNIT_FLAGS)


@bp.post("/<int:unit_id>/flags")
@require("estate.settings")
def flags(unit_id: int):
    """Mark a household as a key customer (door-to-door routine callbacks)."""
    unit = estates.get_unit(get_db(), unit_id)
    if unit is None or unit["estate_id"] not in current_user.estate_ids:
        abort(404)
    commands.run("unit.flags", f"unit:{unit_id}", {"flags": request.form.getlist("flags")})
    return redirect(url_for("units.detail", unit_id=unit_id), 303)
