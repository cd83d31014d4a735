"""The signed-in user's own account: changing their password."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from sync import Invalid

from .. import commands
from ..auth import note_failure, require, sign_in_again, throttled, throttled_message

bp = Blueprint("account", __name__, url_prefix="/account")
FIELDS = ("current_password", "password", "password_again")


@bp.route("/password", methods=["GET", "POST"])
@require()
def password():
    """Change one's own password; every other session of theirs ends."""
    if request.method == "GET":
        return render_template("account/password.html", errors={},
                               changed=request.args.get("changed") == "1")
    # Guessing the current password here (on a phone left signed in) counts to the same
    # limits as guessing at sign-in.
    username, addr = current_user.row["username"], request.remote_addr or ""
    if throttled(username, addr):
        return render_template("account/password.html",
                               errors={"_": throttled_message()}), 429
    values = {k: request.form.get(k, "") for k in FIELDS}
    try:
        outcome = commands.run("account.password", f"user:{current_user.id}", values)
    except Invalid as exc:
        if "current_password" in exc.errors:
            note_failure(username, addr)
        # Nothing typed is echoed back: every field here is a password.
        return render_template("account/password.html", errors=exc.errors), 422
    if not outcome.ok:
        return render_template("account/password.html",
                               errors={"_": outcome.result.get("message", "")}), 409
    sign_in_again()  # the change ended every session, this one too
    return redirect(url_for("account.password", changed=1), 303)
