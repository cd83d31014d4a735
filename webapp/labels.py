"""QR label sheets as PDF: A4, 3 × 5 labels a page, each with a place's code and name."""

from __future__ import annotations

import base64
import io
from typing import Any

import qrcode
from flask import Response, current_app, has_request_context, render_template, request, url_for
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

from .pdf import render_pdf

PER_PAGE = 15
MODULE_PX = 4  # pixels a module in the PNG; the sheet prints it 40 mm wide (the code ≥ 30 mm)


def qr_png(url: str) -> bytes:
    """The URL as a QR code (error correction M, 4-module quiet zone), a 1-bit PNG."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    img = Image.new("1", (n, n))
    img.putdata([0 if dark else 1 for row in matrix for dark in row])
    img = img.resize((n * MODULE_PX, n * MODULE_PX), Image.Resampling.NEAREST)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def qr_data_uri(url: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url)).decode("ascii")


def qr_url(token: str) -> str:
    """The plain URL a phone's camera opens: https when the site is served so, or when
    PREFERRED_URL_SCHEME says so (behind a proxy that ends TLS the request looks http)."""
    https = current_app.config.get("PREFERRED_URL_SCHEME") == "https" or (
        has_request_context() and request.scheme == "https")
    return url_for("places.qr", token=token, _external=True,
                   _scheme="https" if https else "http")


def sheet_html(places: list[dict[str, Any]]) -> str:
    labels = [{**p, "url": qr_url(p["token"])} for p in places]
    for label in labels:
        label["src"] = qr_data_uri(label["url"])
    pages = [labels[i:i + PER_PAGE] for i in range(0, len(labels), PER_PAGE)]
    return render_template("places/labels_sheet.html", pages=pages)


def sheet(places: list[dict[str, Any]], filename: str) -> Response:
    """The label sheet as a PDF download."""
    response = Response(render_pdf(sheet_html(places)), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
