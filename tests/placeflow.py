"""Helpers for the places tests: reading the DB, a place's live code, the visible text of a
page, and sending the public report form."""

from __future__ import annotations

from html.parser import HTMLParser

from webapp.db import connect

from .conftest import op
from .pages import Page


def query(app, sql: str, params: list | None = None) -> list[dict]:
    db = connect(app.config["DATABASE"])
    try:
        return list(db.query(sql, params or []))
    finally:
        db.close()


def token(app, place_type: str = "unit", place_id: int = 1) -> str:
    (row,) = query(app, "SELECT token FROM qr_tokens WHERE place_type = ? AND place_id = ? "
                        "AND revoked_at IS NULL", [place_type, place_id])
    return row["token"]


def unit_with_jobs(app) -> int:
    return query(app, "SELECT unit_id FROM jobs WHERE unit_id IS NOT NULL ORDER BY id")[0][
        "unit_id"]


class Text(HTMLParser):
    """The text a person sees (no attributes, scripts or styles)."""

    def __init__(self, html: str):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style", "template")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style", "template")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)

    def __str__(self) -> str:
        return " ".join(" ".join(self.parts).split())


def report(client, tok: str, op_id: str | None = None, **fields):
    page = Page(client.get(f"/q/{tok}").get_data(as_text=True))
    data = {"op_id": op_id or op(), "started": page.values["started"], "website": "",
            "description": "楼道灯不亮", "phone": "13800001111", **fields}
    return client.post(f"/q/{tok}", data=data, content_type="multipart/form-data")
