"""htmx on the server (webapp/htmx.py, htmx-flask): which requests get a fragment, and
the header names read and written are those the vendored htmx 2 sends and reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from htmx_flask import make_response, request

from webapp.htmx import is_partial

VENDOR = Path(__file__).resolve().parent.parent / "webapp" / "static" / "vendor"
HTMX = next(VENDOR.glob("htmx-2.*.min.js")).read_text()
# Every header name htmx 2 sets on a request or reads from a response, as HTTP compares
# them (xhr.getResponseHeader ignores case).
HTMX_HEADERS = {h.lower() for h in re.findall(r'"(HX-[A-Za-z-]+)"', HTMX)}


@pytest.mark.parametrize(("headers", "partial"), [
    ({}, False),
    ({"HX-Request": "true"}, True),
    ({"HX-Request": "true", "HX-Boosted": "true"}, False),
    ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
    # htmx 2 sends HX-Request on a history restore only with historyRestoreAsHxRequest.
    ({"HX-History-Restore-Request": "true"}, False),
    ({"HX-Request": "false"}, False),
])
def test_a_fragment_only_for_htmx_requests_not_boosted_nor_restoring_history(
        app, headers, partial):
    with app.test_request_context("/jobs", headers=headers):
        assert is_partial() is partial


def test_the_request_headers_read_are_those_htmx_2_sends(app):
    sent = {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": "http://x/jobs",
            "HX-History-Restore-Request": "true", "HX-Prompt": "是", "HX-Target": "rows",
            "HX-Trigger": "more", "HX-Trigger-Name": "q"}
    assert {h.lower() for h in sent} <= HTMX_HEADERS
    with app.test_request_context("/jobs", headers=sent):
        hx = request.htmx
        assert hx and hx.boosted and hx.history_restore_request
        assert (hx.current_url, hx.prompt, hx.target, hx.trigger, hx.trigger_name) == (
            "http://x/jobs", "是", "rows", "more", "q")


def test_the_response_headers_written_are_those_htmx_2_reads(app):
    with app.test_request_context("/jobs"):
        response = make_response(
            "", 204, location="/jobs/1", push_url="/jobs?status=new", redirect="/jobs/1",
            refresh=True, replace_url="/jobs", reswap="outerHTML", retarget="#rows",
            trigger={"jobs-changed": 1}, trigger_after_settle="settled",
            trigger_after_swap="swapped")
    written = {name.lower() for name, _ in response.headers if name.lower().startswith("hx-")}
    assert len(written) == 10
    assert written <= HTMX_HEADERS, written - HTMX_HEADERS
    assert response.headers["HX-Trigger"] == '{"jobs-changed": 1}'
    assert response.headers["HX-Redirect"] == "/jobs/1"
