"""The marks a job shows on every row of a list: its status and its next deadline.

These are filters (`{{ j.status|status_badge }}`, `{{ j.next_due|due_badge }}`) rather
than Jinja macros because a macro call costs 8–13 µs: on a 50-row board the badges
alone took longer than the query. The markup is small and lives only here.
"""

from __future__ import annotations

from flask import Flask, url_for
from markupsafe import Markup, escape

from .domain.deadlines import Deadline
from .domain.text import N_
from .i18n import _translations, duration, labels
from .layout import once

# f-strings with escape(): Markup.format goes through string.Formatter, ~5 µs a call.


def status_badge(status: str) -> Markup:
    s = escape(status)
    return Markup(f'<span class="badge st-{s}" data-status="{s}">'
                  f'{escape(labels().statuses[status])}</span>')


def due_badge(d: Deadline | None) -> Markup:
    """The deadline's name and the time left, or how long it is overdue.

    `data-due-at` (UTC) lets the page count down by itself (app.js): a list left open,
    or a page kept on the phone and opened with no signal, would otherwise show the
    time left as it was when the server rendered it.
    """
    if d is None:
        return Markup("")
    t = _translations().ugettext
    name = escape(labels().due[d.name])
    at = d.due.strftime("%Y-%m-%dT%H:%M:%SZ")
    if d.breached:
        text = escape(t(N_("Overdue %(t)s")) % {"t": duration(d.remaining)})
        return Markup(f'<span class="due overdue" data-due="overdue" data-due-at="{at}">'
                      f'{name} · <span data-due-text>{text}</span></span>')
    text = escape(t(N_("%(t)s left")) % {"t": duration(d.remaining)})
    return Markup(f'<span class="due" data-due="ok" data-due-at="{at}">{name} · '
                  f'<span data-due-text>{text}</span></span>')


def job_url(job_id: int) -> str:
    """`url_for('jobs.detail', job_id=…)` for a row, without the routing map's cost
    per row: the URL is built once and the id put in its place."""
    return f"{once(('job_url',), _job_url_prefix)}{job_id}"


def _job_url_prefix() -> str:
    sample = url_for("jobs.detail", job_id=0)
    assert sample.endswith("/0"), sample
    return sample[:-1]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(status_badge=status_badge, due_badge=due_badge,
                                 job_url=job_url)
