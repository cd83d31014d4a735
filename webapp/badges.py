"""The marks a job shows on every row of a list: its status and its next deadline.

These are filters (`{{ j.status|status_badge }}`, `{{ j.next_due|due_badge }}`) rather
than Jinja macros because a macro call costs 8–13 µs: on a 50-row board the badges
alone took longer than the query. What they print depends only on the language and
where the app is mounted, apart from a deadline's time: that is built once per process
(`Kit`), and a page's templates get it in their context (`_badges`), so a row pays for
neither a translation nor a lookup of the request.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask, has_request_context, url_for
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from .domain.deadlines import Deadline
from .domain.text import N_
from .i18n import MINUTE, _translations, labels, locale_name
from .layout import once
from .templating import escape_text

# f-strings with escape(): Markup.format goes through string.Formatter, ~5 µs a call.


class Kit:
    """The fixed parts of the badges and job links in one language."""

    def __init__(self) -> None:
        t, words = _translations().ugettext, labels()
        self.words = words
        self.statuses = {
            k: Markup(f'<span class="badge st-{escape(k)}" data-status="{escape(k)}">'
                      f'{escape(label)}</span>')
            for k, label in words.statuses.items()}
        self.due_names = {k: escape(label) for k, label in words.due.items()}
        # What a board row prints besides its own values (board_rows.py).
        self.categories = {k: escape_text(v) for k, v in words.categories.items()}
        self.classes = {k: escape_text(v) for k, v in words.classes.items()}
        self.needs_review = (' <span class="badge flag" data-flagged>'
                             f'{escape_text(t(N_("Needs review")))}</span>')
        self.overdue, self.left = t(N_("Overdue %(t)s")), t(N_("%(t)s left"))
        # A deadline badge around its time and text, per (deadline, overdue): two
        # concatenations a row instead of an f-string with lookups.
        self.due_parts = {
            (key, breached): (
                '<span class="due overdue" data-due="overdue" data-due-at="' if breached
                else '<span class="due" data-due="ok" data-due-at="',
                f'Z">{name} · <span data-due-text>')
            for key, name in self.due_names.items() for breached in (True, False)}
        # Its text per (overdue, whole minutes): the same counts come back all day.
        self.due_text = functools.lru_cache(maxsize=4096)(self._due_text)
        sample = url_for("jobs.detail", job_id=0)
        assert sample.endswith("/0"), sample
        self.job_url = sample[:-1]
        # A job's step and sign-off pages are its page's address and a word.
        for step in (url_for("jobs.act", job_id=0, action="accept"),
                     url_for("jobs.sign", job_id=0)):
            assert step.rsplit("/", 1)[0] == sample, step

    def _due_text(self, breached: bool, minutes: int) -> str:
        left = self.words.minutes_text(minutes)
        return escape_text((self.overdue if breached else self.left) % {"t": left})


def kit() -> Kit:
    return once(("badges", locale_name()), Kit)


def _kit(context: Context) -> Kit:
    # The render's variables (`parent`) hold it: a dict read, three times a row.
    found = context.parent.get("_badges")
    return found if found is not None else kit()


def status_badge(status: str, k: Kit | None = None) -> Markup:
    return (k or kit()).statuses[status]


def due_badge(d: Deadline | None, k: Kit | None = None) -> Markup:
    """The deadline's name and the time left, or how long it is overdue.

    `data-due-at` (UTC) lets the page count down by itself (countdown.js): a list left open,
    or a page kept on the phone and opened with no signal, would otherwise show the
    time left as it was when the server rendered it.
    """
    if d is None:
        return Markup("")
    k = k or kit()
    breached = d.breached
    head, middle = k.due_parts[d.name, breached]
    text = k.due_text(breached, abs(d.remaining) // MINUTE)
    # Naive UTC, as every stored time; isoformat() is the quickest way to print it, and
    # its first 19 characters are strftime('%Y-%m-%dT%H:%M:%S').
    return Markup(head + d.due.isoformat()[:19] + middle + text + "</span></span>")


def job_url(job_id: int, step: str | None = None, k: Kit | None = None) -> str:
    """`url_for('jobs.detail', job_id=…)` for a row, without the routing map's cost
    per row: the URL is built once and the id put in its place. With a step, the
    address of `jobs.act` (`accept`, ...) or of `jobs.sign` (`sign`)."""
    url = f"{(k or kit()).job_url}{job_id}"
    return f"{url}/{step}" if step else url


# The filters take the Kit from the page's context.
FILTERS = {
    "status_badge": pass_context(lambda c, status: status_badge(status, _kit(c))),
    "due_badge": pass_context(lambda c, d: due_badge(d, _kit(c))),
    "job_url": pass_context(lambda c, job_id, step=None: job_url(job_id, step, _kit(c))),
}


def _context() -> dict[str, Any]:
    return {"_badges": kit()} if has_request_context() else {}


def init_app(app: Flask) -> None:
    from .board_rows import board_rows, mine_rows

    app.jinja_env.filters.update(FILTERS, board_rows=board_rows, mine_rows=mine_rows)
    app.context_processor(_context)
