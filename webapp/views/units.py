"""Units: search for intake, and the unit's page with its residents and jobs."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from sync.fields import maybe_id

from .. import commands
from ..auth import require, utcnow
from ..db import get_db
from ..domain import access, estates, people, unit_labels
from ..domain.text import N_

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


def picked(values: dict[str, str], typed: str) -> dict[str, str]:
    """Settle an intake form's unit in `values`: the unit picked from the list, else the
    one unit of the estate the typed label names ('1-101' typed, the list not tapped).
    Returns the form's errors: a typed unit that names none or several is not dropped
    in silence, and what was typed stays in the box."""
    values["unit_query"] = typed.strip()
    if values["unit_id"] or not values["unit_query"]:
        return {}
    estate_id = maybe_id(values["estate_id"]) or 0
    label = unit_labels.parse(values["unit_query"])
    found = (unit_labels.find(get_db(), [estate_id], label)
             if label and estate_id in current_user.estate_ids else [])
    if len(found) == 1:
        values["unit_id"] = str(found[0]["id"])
        values["unit_label"] = f"{found[0]['building_name']}-{found[0]['number']}"
        return {}
    return {"unit_id": N_("Choose the unit from the list, or clear the box for a report "
                          "without a unit.")}


@bp.get("/<int:unit_id>")
@require("unit.view")
def detail(unit_id: int):
    """A unit: who lives there and its jobs."""
    db = get_db()
    unit = estates.get_unit(db, unit_id)
    if not people.in_estates(unit, current_user.estate_ids):
        abort(404)
    return render_template("units/detail.html", unit=unit,
                           residents=access.unit_residents(db, current_user.row,
                                                           current_user.estate_ids, unit_id,
                                                           utcnow()),
                           jobs=estates.unit_jobs(db, unit_id),
                           flags=estates.unit_flags(db, unit_id),
                           UNIT_FLAGS=estates.UNIT_FLAGS)


@bp.post("/<int:unit_id>/flags")
@require("estate.settings")
def flags(unit_id: int):
    """Mark a household as a key customer (door-to-door routine callbacks)."""
    unit = estates.get_unit(get_db(), unit_id)
    if not people.in_estates(unit, current_user.estate_ids):
        abort(404)
    commands.run("unit.flags", f"unit:{unit_id}", {"flags": request.form.getlist("flags")})
    return redirect(url_for("units.detail", unit_id=unit_id), 303)
