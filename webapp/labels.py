"""QR label sheets as PDF: A4, 3 × 5 labels a page, each with a place's code and name."""

from __future__ import annotations

import base64
import io
from typing import Any

import qrcode
from flask import Response, render_template
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage

from .https import external_url
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
    """The plain URL a phone's camera opens, on the configured public address if any."""
    return external_url("places.qr", token=token)


def qr_svg_data_uri(url: str) -> str:
    """The URL as a QR code for a page (SVG, sharp at any size), as a data: URI."""
    img = qrcode.make(url, image_factory=SvgPathImage, error_correction=ERROR_CORRECT_M,
                      border=4)
    return "data:image/svg+xml;base64," + base64.b64encode(img.to_string()).decode("ascii")


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
