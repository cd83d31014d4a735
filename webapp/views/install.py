"""Installing the app on a phone: the web app manifest and its icons.

iOS keeps a site's storage (the outbox, the kept pages) and allows Web Push only for an
app added to the home screen, so field workers are asked to add it (static/install.js,
templates/install/). The icons are PNGs in static/icons/, drawn by deploy/icons.py from
the sizes declared here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, url_for
from flask_babel import gettext as _

from ..i18n import locale_name

bp = Blueprint("install", __name__)

# The header's colour (app.css .top) and the page's background: the phone's status bar
# and the splash screen match the app.
THEME_COLOR = "#1d3557"
BACKGROUND_COLOR = "#f3f5f8"
# (file under static/, size in px, purpose). Maskable icons keep the mark inside the
# centre circle of 80 % of the size (the safe zone a launcher's mask never cuts).
ICONS: tuple[tuple[str, int, str], ...] = (
    ("icons/icon-192.png", 192, "any"),
    ("icons/icon-512.png", 512, "any"),
    ("icons/maskable-192.png", 192, "maskable"),
    ("icons/maskable-512.png", 512, "maskable"),
)
APPLE_TOUCH_ICON = ("icons/apple-touch-icon.png", 180)  # iOS rounds the corners itself
FAVICON = ("icons/favicon-32.png", 32)
ICON_FILES = (*(name for name, _size, _purpose in ICONS), APPLE_TOUCH_ICON[0], FAVICON[0])
MANIFEST_URL = "/manifest.webmanifest"


def manifest_data() -> dict[str, Any]:
    """The manifest in the user's language (the page links it with credentials)."""
    home = url_for("home")  # sends each role to its own list (web.home)
    name = _("Property service")
    return {
        "id": home,
        "name": name,
        "short_name": name,
        "description": _("Repairs, complaints, callbacks and inspections for property staff, "
                         "on the phone, with or without signal."),
        "lang": "en" if locale_name() == "en" else "zh-CN",
        "dir": "ltr",
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [{"src": url_for("static", filename=file), "sizes": f"{size}x{size}",
                   "type": "image/png", "purpose": purpose} for file, size, purpose in ICONS],
    }


@bp.get(MANIFEST_URL)
def manifest() -> Response:
    response = current_app.json.response(manifest_data())
    response.mimetype = "application/manifest+json"
    # Fetched again when online: a new language or release shows at the next start.
    response.headers["Cache-Control"] = "no-cache"
    return response
