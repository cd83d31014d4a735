"""The signed-in user's own account: changing their password."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from sync import Invalid

from .. import commands
from ..auth import require, user_for
from ..db import get_db
from ..domain import people

bp = Blueprint("account", __name__, url_prefix="/account")
FIELDS = ("current_password", "password", "password_again")


@bp.route("/password", methods=["GET", "POST"])
@require()
def password():
    """Change one's own password; every other session of theirs ends."""
    if request.method == "GET":
        return render_template("account/password.html", errors={},
                               changed=request.args.get("changed") == "1")
    values = {k: request.form.get(k, "") for k in FIELDS}
    try:
        outcome = commands.run("account.password", f"user:{current_user.id}", values)
    except Invalid as exc:
        # Nothing typed is echoed back: every field here is a password.
        return render_template("account/password.html", errors=exc.errors), 422
    if not outcome.ok:
        return render_template("account/password.html",
                               errors={"_": outcome.result.get("message", "")}), 409
    # The change ended every session, this one too: sign this device in again under
    # the new version, remembered if it was.
    db = get_db()
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    login_user(user_for(db, people.get_user(db, current_user.id)), remember=remembered)
    return redirect(url_for("account.password", changed=1), 303)
