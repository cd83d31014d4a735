"""htmx on the server, through htmx-flask: `request.htmx` reads the HX-* request headers
and `htmx_flask.make_response(..., trigger=, redirect=)` writes the response's (both
checked against the header names htmx 2 uses: tests/test_htmx.py). One place decides
whether a request wants a fragment."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from htmx_flask import Htmx, request


def init_app(app: Flask) -> None:
    Htmx(app)  # the app's requests carry `request.htmx`


def is_partial() -> bool:
    """A fragment is wanted for htmx requests, but not for boosted navigation, nor when
    htmx restores a page from history (back button, not in its cache): that needs the
    whole page."""
    hx = request.htmx
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(page: str, partial: str, http_status: int = 200, **context: Any) -> tuple[str, int]:
    """Render the page, or only the partial it includes when htmx asks for it."""
    return render_template(partial if is_partial() else page, **context), http_status
