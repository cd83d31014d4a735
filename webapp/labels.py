"""QR sheets as PDF: A4 sticker sheets of 3 × 5 labels (70 × 59.4 mm), each with a
place's code and name; and the opinion survey's slips, one per household."""

from __future__ import annotations

import base64
import io
import unicodedata
from dataclasses import dataclass
from typing import Any

import qrcode
from flask import Response, render_template
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathImage

from .https import external_url
from .pdf import render_pdf

MODULE_PX = 4  # pixels a module in the PNG; the sheet prints it 32 mm wide (a code ≥ 30 mm)


@dataclass(frozen=True)
class StickerSheet:
    """The sticker sheet the PDF is laid out for: the grid is the sheet's own, and nothing
    is printed within `margin` of a sticker's edge, so nothing within it of the paper's
    edge either (office printers leave 3 to 5 mm unprinted) and a slightly shifted cut
    still holds the whole code."""

    cols: int
    rows: int
    width_mm: float
    height_mm: float
    margin_mm: float

    @property
    def per_page(self) -> int:
        return self.cols * self.rows


# A4 (210 × 297 mm) holds exactly 3 × 5 stickers of 70 × 59.4 mm, the common sheet.
SHEET = StickerSheet(cols=3, rows=5, width_mm=70, height_mm=59.4, margin_mm=5)
PER_PAGE = SHEET.per_page
NAME_PT, NAME_MIN_PT = 13.0, 6.0
PT_MM = 25.4 / 72


def name_pt(name: str, width_mm: float = SHEET.width_mm - 2 * SHEET.margin_mm) -> float:
    """The name's font size: 13 pt, smaller for a long name so that it fits in two lines
    (three below 8 pt) instead of being cut. A CJK character is a font size wide, a Latin
    letter or digit about half that."""
    ems = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in name) or 1.0
    # 0.9 of each line's width: a line breaks before a character that would not fit.
    for lines in (2, 3):
        size = lines * width_mm * 0.9 / (ems * PT_MM)
        if size >= 8 or lines == 3:
            return round(max(NAME_MIN_PT, min(NAME_PT, size)), 1)
    raise AssertionError("unreachable")


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
        label["name_pt"] = name_pt(label["name"])
    pages = [labels[i:i + PER_PAGE] for i in range(0, len(labels), PER_PAGE)]
    return render_template("places/labels_sheet.html", pages=pages, sheet=SHEET)


def sheet(places: list[dict[str, Any]], filename: str) -> Response:
    """The label sheet as a PDF download."""
    response = Response(render_pdf(sheet_html(places)), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# The survey's slips: A4 cut into 2 × 4 slips of 105 × 74.25 mm along printed dashed lines.
SLIPS = StickerSheet(cols=2, rows=4, width_mm=105, height_mm=74.25, margin_mm=6)


def survey_slips(survey: dict[str, Any], households: list[dict[str, Any]],
                 filename: str) -> Response:
    """One slip per household (its building and number, and the QR code of its personal
    link `url`) as a PDF download; no resident's name: a slip may lie in a letterbox."""
    slips = [{**h, "src": qr_data_uri(h["url"])} for h in households]
    pages = [slips[i:i + SLIPS.per_page] for i in range(0, len(slips), SLIPS.per_page)]
    html = render_template("surveys/slips.html", pages=pages, sheet=SLIPS, survey=survey)
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
