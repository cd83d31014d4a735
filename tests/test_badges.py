"""The deadline badge: its words in the user's language and the UTC time it counts to."""

from datetime import datetime, timedelta

from webapp.badges import due_badge
from webapp.domain.deadlines import Deadline

from .pages import Page

NOW = datetime(2026, 11, 22, 8, 0)


def badge(app, remaining: timedelta) -> dict:
    with app.test_request_context():
        html = due_badge(Deadline("arrive", NOW + remaining, None, NOW))
    page = Page(str(html))
    (span,) = page.find("data-due-at")
    return {"due": span["data-due"], "at": span["data-due-at"], "html": str(html)}


def test_the_badge_says_the_time_left_and_counts_to_a_utc_time(app):
    left = badge(app, timedelta(hours=1, minutes=5))
    assert left["due"] == "ok" and left["at"] == "2026-11-22T09:05:00Z"
    assert "<span data-due-text>剩余1小时05分</span>" in left["html"]
    late = badge(app, -timedelta(days=2, hours=3))
    assert late["due"] == "overdue" and late["at"] == "2026-11-20T05:00:00Z"
    assert "<span data-due-text>已超时2天3小时</span>" in late["html"]


def test_none_is_no_badge(app):
    with app.test_request_context():
        assert str(due_badge(None)) == ""
