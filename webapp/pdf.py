"""PDF records: the customer information sheet (客户信息单, form COP7.4-1)."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Response, current_app, render_template
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from .auth import utcnow
from .db import get_db
from .domain import callbacks, files, record_checks


def _data_uri(sha256: str | None) -> str:
    """A stored image inlined as a data URI ('' if it is not in the file store)."""
    if not sha256:
        return ""
    path = files.path_for(current_app.config["FILES_DIR"], sha256)
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    mime = files.image_type(data)
    if mime is None:
        return ""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def render_pdf(html: str) -> bytes:
    """HTML to PDF; only data: URIs may be loaded, so nothing is fetched over the network."""
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def render_pdf_parts(parts: list[str]) -> bytes:
    """Several HTML documents as one PDF, the pages in order. WeasyPrint lays out on one
    core; a long document (a thousand labels) split in parts is laid out on all of
    them: this process renders the first part while processes of their own
    (`python -m webapp.pdf`, each from a fresh interpreter, so nothing of a threaded
    server is inherited) render the rest, then pypdf joins the pages."""
    # One long document at a time per server process is laid out on other cores: two
    # label sheets asked for at once must not start a WeasyPrint process per core each
    # (memory); the second is laid out here, in one piece.
    if len(parts) == 1:
        return render_pdf(parts[0])
    if not _SPREAD.acquire(blocking=False):
        return _joined([render_pdf(html) for html in parts])
    try:
        return _spread(parts)
    finally:
        _SPREAD.release()


_SPREAD = threading.Lock()


def _spread(parts: list[str]) -> bytes:
    def elsewhere(html: str) -> bytes:
        done = subprocess.run([sys.executable, "-m", "webapp.pdf"], input=html.encode(),
                              capture_output=True, check=True, timeout=300)
        return done.stdout

    with ThreadPoolExecutor(len(parts) - 1) as pool:
        rest = pool.map(elsewhere, parts[1:])
        return _joined([render_pdf(parts[0]), *rest])


def _joined(pdfs: list[bytes]) -> bytes:
    writer = PdfWriter()
    for data in pdfs:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _download(html: str, number: str) -> Response:
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def callback_sheet(context: dict[str, Any]) -> Response:
    """The callback record as a PDF, with each visit's signature and record hash."""
    db, key = get_db(), current_app.config["RECORDS_KEY"]
    for r in context["records"]:
        r["signature_src"] = _data_uri(r.get("signature_sha256"))
        # Only records with a hash of their own; an on-site signature's rests on the job's.
        r["check"] = record_checks.check_callback(db, key, r, Path(current_app.config["FILES_DIR"])
                                            ) if r.get("record_hash") else None
    html = render_template("callbacks/sheet.html", **context, printed_at=utcnow())
    return _download(html, f"callback-{context['task']['id']}")


def complaint_sheet(context: dict[str, Any]) -> Response:
    """The complaint's customer information sheet as a PDF download."""
    html = render_template("complaints/sheet.html", **context, printed_at=utcnow(),
                           callbacks=callbacks.source_records(get_db(), "complaint",
                                                              context["c"]["id"]))
    return _download(html, context["c"]["number"])


def job_sheet(context: dict[str, Any]) -> Response:
    """The job's customer information sheet as a PDF download."""
    sig = context.get("signature")
    html = render_template(
        "jobs/sheet.html",
        **context,
        complaint_level=None,
        callbacks=callbacks.source_records(get_db(), "job", context["job"]["id"]),
        # A handwritten signature is usually the resident's name: shown only to those
        # who see the name (domain/access.py).
        signature_src=_data_uri(sig["image_sha256"]) if sig and context["contact"].full else "",
        printed_at=utcnow(),
    )
    return _download(html, context["job"]["number"])


if __name__ == "__main__":  # one part of a long document (render_pdf_parts)
    sys.stdout.buffer.write(render_pdf(sys.stdin.buffer.read().decode()))


def handover_sheet(handover: dict[str, Any]) -> Response:
    """A shift handover as a PDF download, with the incoming person's signature."""
    html = render_template("handovers/sheet.html", h=handover, printed_at=utcnow(),
                           signature_src=_data_uri(handover.get("signature_sha256")))
    return _download(html, f"handover-{handover['id']}")
