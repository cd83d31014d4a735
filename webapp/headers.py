"""Security headers on every response (flask-talisman): a Content-Security-Policy with no
inline script or style and no eval, no framing (the sign-off page must never sit inside
another site's frame), nosniff, a Referrer-Policy and a Permissions-Policy that gives the
camera to the app's own pages only (the QR scanner, photos).

Talisman neither redirects to https nor sends HSTS here: Caddy does both (deploy/Caddyfile,
webapp/https.py), and HSTS only with public certificates. Cookie flags stay as
create_app() and https.py set them. Cache-Control stays with webapp/assets.py.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman

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


def init_app(app: Flask) -> None:
    talisman = Talisman(
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
