"""Staff accounts, managed by an administrator for the estates they serve."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from sync import Invalid
from sync.fields import maybe_id

from .. import commands
from ..auth import require, sign_in_again
from ..db import get_db
from ..domain import estates, people, users

bp = Blueprint("users", __name__, url_prefix="/admin/users")
FIELDS = ("username", "display_name", "department", "role", "phone", "password")


@bp.get("")
@require("user.manage")
def index():
    """Staff of the administrator's estates."""
    return render_template("users/list.html",
                           rows=users.list_users(get_db(), current_user.estate_ids))


def _form(user: dict[str, Any] | None, values: dict, errors: dict, status: int = 200):
    return render_template("users/form.html", user=user, values=values, errors=errors,
                           estates=estates.list_estates(get_db(), current_user.estate_ids)), status


@bp.route("/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/<int:user_id>", methods=["GET", "POST"])
@require("user.manage")
def edit(user_id: int | None):
    """Create or edit one staff account."""
    db = get_db()
    user = None
    if user_id is not None:
        user = people.get_user(db, user_id)
        if user is None or not set(people.estate_ids(db, user_id)) & set(current_user.estate_ids):
            abort(404)
    if request.method == "GET":
        values = dict(user or {"department": "maintenance", "role": "technician", "active": 1})
        values["password"] = ""
        values["estate_ids"] = people.estate_ids(db, user_id) if user_id else []
        return _form(user, values, {})
    values: dict[str, Any] = {k: request.form.get(k, "") for k in FIELDS}
    values["active"] = request.form.get("active") == "1"
    chosen = (maybe_id(e) for e in request.form.getlist("estate_ids"))
    values["estate_ids"] = [e for e in chosen if e is not None]
    try:
        commands.run("user.save", f"user:{user_id or 'new'}", values)
    except Invalid as exc:
        values["password"] = ""  # never echo a password back into the page
        return _form(user, values, exc.errors, 422)
    if user_id == current_user.id:
        sign_in_again()  # a new password of their own ended their sessions, this one too
    return redirect(url_for("users.index"), 303)
