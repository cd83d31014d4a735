"""Routine callbacks (例行回访): the month's plan per estate, and making it."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from sync import Invalid
from sync.fields import maybe_id

from .. import commands
from ..auth import require, utcnow
from ..db import get_db
from ..domain import estates, months, routine
from ..domain.workdays import LOCAL
from ..htmx import render

bp = Blueprint("routine", __name__, url_prefix="/routine")


def _choice(args: Any) -> tuple[int, str, str]:
    """(estate, month, this month) from the query or form; 404 for an estate not served."""
    this_month = months.local_month(utcnow(), LOCAL)
    raw = str(args.get("estate_id") or "")
    if not current_user.estate_ids:
        abort(404)
    estate_id = maybe_id(raw) or current_user.estate_ids[0]
    if estate_id not in current_user.estate_ids:
        abort(404)
    month = months.month_or_current(str(args.get("month") or ""), utcnow(), LOCAL)
    return estate_id, month, this_month


def _page(estate_id: int, month: str, this_month: str, errors: dict[str, Any],
          status: int = 200, seed: str = ""):
    db = get_db()
    plan = routine.plan_for(db, estate_id, month)
    context: dict[str, Any] = {
        "estates": estates.list_estates(db, current_user.estate_ids),
        "estate_id": estate_id, "month": month, "this_month": this_month,
        "prev_month": months.shift_month(month, -1), "next_month": months.shift_month(month, 1),
        "plan": plan, "errors": errors, "seed": seed, "SAMPLERS": routine.SAMPLERS,
        "can_plan": current_user.can("routine.plan")
        and month in (this_month, months.shift_month(this_month, 1)),
    }
    if plan:
        context["progress"] = routine.progress(db, plan)
        context["buildings"] = routine.by_building(routine.plan_households(db, plan.id))
    elif month >= this_month:
        context["preview"] = routine.preview(db, estate_id, month)
    return render("routine/index.html", "routine/_plan.html", status, **context)


@bp.route("", methods=["GET", "POST"])
@require("routine.view")
def index():
    """The month's routine plan: quotas, progress, households by building; make it."""
    if request.method == "GET":
        return _page(*_choice(request.args), errors={})
    if not current_user.can("routine.plan"):
        abort(403)
    estate_id, month, this_month = _choice(request.form)
    seed = request.form.get("seed", "").strip()
    payload = {"month": request.form.get("month", ""), "tz": LOCAL.key,
               "seed": seed or secrets.randbits(32)}
    try:
        outcome = commands.run("routine.plan", f"estate:{estate_id}", payload)
    except Invalid as exc:
        return _page(estate_id, month, this_month, exc.errors, 422, seed)
    if not outcome.ok:
        if outcome.result.get("reason") == "forbidden":
            abort(403)
        return _page(estate_id, month, this_month,
                     {"plan": outcome.result.get("message", "")}, 409, seed)
    made = "made" if outcome.result.get("created") and outcome.status == "applied" else "existing"
    return redirect(url_for("routine.index", estate_id=estate_id, month=month, done=made), 303)
