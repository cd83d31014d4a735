"""Security headers on every response (flask-talisman): a Content-Security-Policy with no
inline script or style and no eval, no framing (the sign-off page must never sit inside
another site's frame), nosniff, a Referrer-Policy and a Permissions-Policy that gives the
camera to the app's own pages only (the QR scanner, photos).

Talisman neither redirects to https nor sends HSTS here: Caddy does both (deploy/Caddyfile,
webapp/https.py), and HSTS only with public certificates. Cookie flags stay as
create_app() and https.py set them. Cache-Control stays with webapp/assets.py.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Flask, current_app, request
from flask_talisman import Talisman
from werkzeug.datastructures import Headers

SELF = "'self'"
CSP = {
    "default-src": SELF,
    "script-src": SELF,
    "style-src": SELF,
    # Photo and signature previews are data: and blob: URLs made on the phone.
    "img-src": [SELF, "data:", "blob:"],
    # connect-, worker-, manifest- and font-src fall back to default-src 'self': naming
    # them again would only add bytes to every page.
    "object-src": "'none'",
    "base-uri": SELF,
    "form-action": SELF,
    "frame-ancestors": "'none'",
}
# Camera for the scanner and photo capture on our own pages; everything else off.
PERMISSIONS = {
    "camera": "(self)",
    "microphone": "()",
    "geolocation": "()",
    "payment": "()",
    "usb": "()",
    "serial": "()",
    "midi": "()",
    "magnetometer": "()",
    "gyroscope": "()",
    "accelerometer": "()",
    "display-capture": "()",
    "browsing-topics": "()",
}
REFERRER = "same-origin"


class OncePerView(Talisman):
    """Talisman, with each view's headers worked out once per process by talisman itself.

    With no https redirect, no HSTS and no nonces (as here) its headers depend on the view
    alone, yet it looked the view's options up three times and re-joined its policies on
    every answer (~56 µs). Its hooks now skip that work unless one of those is on.
    """

    def init_app(self, app: Flask, **kwargs: Any) -> None:
        self._by_view: dict[Any, list[tuple[str, str]]] = {}
        super().init_app(app, **kwargs)
        self._per_request = bool(self.force_https or self.session_cookie_secure
                                 or self.strict_transport_security
                                 or self.content_security_policy_nonce_in)

    def __call__(self, **kwargs: Any) -> Any:
        # A view that redirects to https or takes a nonce needs the work on every request.
        if kwargs.get("force_https") or kwargs.get("content_security_policy_nonce_in"):
            self._per_request = True
        return super().__call__(**kwargs)

    def _force_https(self) -> Any:
        return super()._force_https() if self._per_request else None

    def _make_nonce(self) -> None:
        if self._per_request:
            super()._make_nonce()

    def _set_response_headers(self, response: Any) -> Any:
        if self._per_request:
            return super()._set_response_headers(response)
        view = current_app.view_functions.get(request.endpoint)
        found = self._by_view.get(view)
        if found is None:
            # What talisman sets for this view, recorded on an empty set of headers.
            probe = SimpleNamespace(headers=Headers())
            super()._set_response_headers(probe)
            found = self._by_view[view] = list(probe.headers.items())
        headers = response.headers
        for name, value in found:
            headers[name] = value
        return response


def init_app(app: Flask) -> None:
    talisman = OncePerView(
        app,
        force_https=False,
        strict_transport_security=False,
        session_cookie_secure=False,  # set by https.init_app from PUBLIC_URL
        session_cookie_http_only=bool(app.config["SESSION_COOKIE_HTTPONLY"]),
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        frame_options="DENY",
        content_security_policy=CSP,
        permissions_policy=PERMISSIONS,
        referrer_policy=REFERRER,
        x_content_type_options=True,
        x_xss_protection=False,  # obsolete; the CSP replaces it
    )
    # Static files are not documents: nosniff (sent with every answer) is what they need.
    # The document policies would add some 600 bytes to each file of a first load on a
    # phone's data. The service worker's script (/sw.js) is not static: it keeps them.
    static = app.view_functions.get("static")
    if static is not None:
        app.view_functions["static"] = talisman(
            content_security_policy=None, frame_options=None, permissions_policy=None)(static)
