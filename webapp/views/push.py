"""Web Push subscriptions of the signed-in user's phones (the button: account page)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from .. import push
from ..auth import require, utcnow
from ..db import get_db

bp = Blueprint("push", __name__, url_prefix="/notifications/push")


@bp.app_template_global("push_public_key")
def public_key() -> str:
    """The installation's applicationServerKey (its key pair is made on first use)."""
    return push.application_server_key(push.vapid_keys(current_app.config["VAPID_KEY_FILE"]))


@bp.route("", methods=["POST"])
@require()
def subscribe():
    """Keep the phone's PushSubscription (JSON, as the browser gives it) for this user."""
    try:
        sub = push.parse_subscription(request.get_json(silent=True),
                                      current_app.config["PUSH_HTTP_ENDPOINTS"],
                                      current_app.config["PUSH_SERVICE_HOSTS"])
    except push.BadSubscription as exc:
        return jsonify(error=str(exc)), 422
    sub_id = push.subscribe(get_db(), current_user.id, sub,
                            request.headers.get("User-Agent", ""), utcnow())
    return jsonify(id=sub_id), 201


@bp.route("/unsubscribe", methods=["POST"])
@require()
def unsubscribe():
    """Stop sending to this phone; the browser drops its subscription itself."""
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or len(endpoint) > 1000:
        return jsonify(error="endpoint"), 422
    push.unsubscribe(get_db(), current_user.id, endpoint, utcnow())
    return "", 204
