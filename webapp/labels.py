"""QR sheets as PDF: A4 sticker sheets of 3 × 5 labels (70 × 59.4 mm), each with a
place's code and name; and the opinion survey's slips, one per household."""

from __future__ import annotations

import base64
import io
import os
import unicodedata
from dataclasses import dataclass
from typing import Any

import zxingcpp
from flask import Response, render_template
from PIL import Image

from .https import external_url
from .pdf import render_pdf_parts

MODULE_PX = 4  # pixels a module in a page's PNG (the PDF sheet prints 1 px a module, 32 mm)


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


def qr_image(url: str) -> Image.Image:
    """The URL as a QR code (error correction M, the mask the standard's penalty rules
    pick, a 4-module quiet zone), one pixel per module, 1-bit. zxing-cpp makes it in C++:
    a pure-Python encoder spent 5 ms a code choosing the mask, most of a 1,000-label sheet."""
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    matrix = code.to_image(scale=1, add_quiet_zones=True)
    height, width = matrix.shape
    return Image.frombytes("L", (width, height), bytes(memoryview(matrix))).convert("1")


def qr_png(url: str, module_px: int = MODULE_PX) -> bytes:
    """The code as a PNG, `module_px` pixels a module."""
    img = qr_image(url)
    if module_px != 1:
        img = img.resize((img.width * module_px, img.height * module_px),
                         Image.Resampling.NEAREST)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def qr_data_uri(url: str, module_px: int = MODULE_PX) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url, module_px)).decode("ascii")


def qr_url(token: str) -> str:
    """The plain URL a phone's camera opens, on the configured public address if any."""
    return external_url("places.qr", token=token)


# A sheet this long is laid out in parts on all cores (pdf.render_pdf_parts): below it,
# starting a process costs more than it saves.
PARALLEL_FROM = 300


def paged_html(template: str, items: list[dict[str, Any]], grid: StickerSheet,
               parts: int = 1, **context: Any) -> list[str]:
    """A sheet's HTML, `grid.per_page` items a page, in `parts` documents of whole pages
    in order (pdf.render_pdf_parts lays them out side by side)."""
    pages = [items[i:i + grid.per_page] for i in range(0, len(items), grid.per_page)]
    size = -(-len(pages) // max(1, min(parts, len(pages))))
    return [render_template(template, pages=pages[i:i + size], sheet=grid, **context)
            for i in range(0, len(pages), size)] or [
        render_template(template, pages=[], sheet=grid, **context)]


def _parts(count: int) -> int:
    return (os.cpu_count() or 1) if count >= PARALLEL_FROM else 1


def _download(parts: list[str], filename: str) -> Response:
    response = Response(render_pdf_parts(parts), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def sheet_html(places: list[dict[str, Any]], parts: int = 1) -> list[str]:
    """The label sheet's HTML, in `parts` documents of whole pages, in order."""
    labels = [{**p, "url": qr_url(p["token"])} for p in places]
    for label in labels:
        # One pixel a module, printed without smoothing (image-rendering: pixelated sets
        # the PDF's /Interpolate false): as sharp as a larger image, and the PDF engine
        # re-encodes a sixteenth of the pixels.
        label["src"] = qr_data_uri(label["url"], module_px=1)
        label["name_pt"] = name_pt(label["name"])
    return paged_html("places/labels_sheet.html", labels, SHEET, parts)


def sheet(places: list[dict[str, Any]], filename: str) -> Response:
    """The label sheet as a PDF download."""
    return _download(sheet_html(places, _parts(len(places))), filename)


# The survey's slips: A4 cut into 2 × 4 slips of 105 × 74.25 mm along printed dashed lines.
SLIPS = StickerSheet(cols=2, rows=4, width_mm=105, height_mm=74.25, margin_mm=6)


def survey_slips(survey: dict[str, Any], households: list[dict[str, Any]],
                 filename: str) -> Response:
    """One slip per household (its building and number, and the QR code of its personal
    link `url`) as a PDF download; no resident's name: a slip may lie in a letterbox."""
    slips = [{**h, "src": qr_data_uri(h["url"], module_px=1)} for h in households]
    return _download(paged_html("surveys/slips.html", slips, SLIPS, _parts(len(slips)),
                                survey=survey), filename)
