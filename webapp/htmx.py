"""htmx helpers: one place decides whether a request wants a fragment."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request


def is_partial() -> bool:
    """A fragment is wanted for htmx requests, but not for boosted navigation, nor when
    htmx restores a page from history (back button, not in its cache): that needs the
    whole page."""
    h = request.headers
    return (h.get("HX-Request") == "true" and not h.get("HX-Boosted")
            and not h.get("HX-History-Restore-Request"))


def render(page: str, partial: str, http_status: int = 200, **context: Any) -> tuple[str, int]:
    """Render the page, or only the partial it includes when htmx asks for it."""
    return render_template(partial if is_partial() else page, **context), http_status


def client_redirect(url: str) -> Response:
    response = Response(status=204)
    response.headers["HX-Redirect"] = url
    return response
