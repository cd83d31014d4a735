"""The signed-in user's own account: changing their password."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from sync import Invalid

from .. import commands
from ..auth import require, sign_in_again

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
    sign_in_again()  # the change ended every session, this one too
    return redirect(url_for("account.password", changed=1), 303)
