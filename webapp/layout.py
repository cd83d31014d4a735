"""What every page shows around its content: the header's links and fixed fragments.

Every page renders these. Checking a dozen capabilities, building a dozen URLs and
translating thirty strings on each request cost more than the rows of a short list,
while the result only changes with the role, the language and where the app is
mounted. So they are built once per such key and kept for the life of the process.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from .domain import people
from .domain.text import N_
from .i18n import _translations, locale_name
from .templating import escape_text

# (data-nav key, endpoint, label, capability). A key is shown once: the first of its
# lines whose capability the role has.
LINKS: list[tuple[str, str, str, str]] = [
    ("figures", "figures.home", N_("Figures"), "figures.view"),
    ("mine", "jobs.mine", N_("My jobs"), "job.field"),
    ("board", "jobs.board", N_("Jobs"), "job.view_all"),
    ("new", "jobs.new", N_("New job"), "job.intake"),
    ("complaints", "complaints.index", N_("Complaints"), "complaint.view"),
    ("feedback-new", "feedback.new", N_("Feedback"), "feedback.send"),
    ("feedback", "feedback.index", N_("Feedback"), "feedback.handle"),
    ("callbacks", "callbacks.today", N_("Callbacks"), "callback.work"),
    ("notices", "notices.index", N_("Notices"), "notice.post"),
    ("committee", "committee.index", N_("Committee"), "committee.record"),
    ("activities", "activities.index", N_("Activities"), "activity.manage"),
    ("handovers", "handovers.index", N_("Handovers"), "handover.view"),
    ("routine", "routine.index", N_("Routine callbacks"), "routine.view"),
    ("surveys", "surveys.index", N_("Surveys"), "survey.record"),
    ("inspections", "inspections.index", N_("Inspections"), "inspection.do"),
    ("scan", "places.scan", N_("Scan"), "place.scan"),
    ("reports", "reports.index", N_("Reports"), "report.manage"),
    ("admin", "admin.index", N_("Admin"), "estate.settings"),
    ("admin", "admin.index", N_("Admin"), "estate.import"),
]


def once(key: tuple, build: Any) -> Any:
    """`build()`, made once per process for this key and where the app is mounted."""
    key = (*key, request.script_root)
    cache = current_app.extensions.setdefault("layout", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def _cached(kind: str, name: str, build: Any) -> Any:
    return once((kind, name, locale_name()), build)


def links_for(role: str) -> list[tuple[str, str, str]]:
    """(key, url, translated label) of the links the role sees, in header order."""

    def build() -> list[tuple[str, str, str]]:
        t = _translations().ugettext
        seen: set[str] = set()
        out = []
        for nav, endpoint, label, capability in LINKS:
            if nav not in seen and role in people.CAPABILITIES[capability]:
                seen.add(nav)
                out.append((nav, url_for(endpoint), t(label)))
        return out

    return _cached("links", role, build)


def nav_shows(key: str) -> bool:
    """Whether the header shows the link `key` to this user (it counts new feedback only
    where the feedback link shows)."""
    if not current_user.is_authenticated:
        return False
    role = current_user.role
    return key in _cached("keys", role, lambda: frozenset(k for k, _, _ in links_for(role)))


def nav_html(path: str, feedback_n: int) -> Markup:
    """The header's links for the signed-in user's role: a row of them, and with many
    areas (the office roles) also a menu that reaches each on a phone with no row to
    scroll sideways; the page's own link marked current, the feedback link with its
    count. Built as text from the role's escaped links (made once per role and
    language): as Jinja loops the header took as long as a list's rows."""
    role = current_user.role

    def build() -> tuple[list[tuple[str, str, str]], str]:
        return ([(escape_text(k), escape_text(u), escape_text(label))
                 for k, u, label in links_for(role)],
                escape_text(_translations().ugettext(N_("Menu"))))

    links, menu = _cached("nav", role, build)
    here = ' aria-current="page"'
    count = (f' <span class="badge flag" data-feedback-new="{feedback_n}">{feedback_n}</span>'
             if feedback_n else "")
    row = "".join(f'<a href="{u}" data-nav="{k}"{here if u == path else ""}>{label}'
                  f'{count if k == "feedback" else ""}</a>\n' for k, u, label in links)
    if len(links) <= MENU_FROM:
        return Markup(f"<nav>{row}</nav>")
    current = "".join(f' · <span data-nav-here>{label}</span>'
                      for _, u, label in links if u == path)
    items = "".join(f'<li><a href="{u}" data-menu-nav="{k}"{here if u == path else ""}>'
                    f"{label}</a></li>" for k, u, label in links)
    badge = f' <span class="badge flag">{feedback_n}</span>' if feedback_n else ""
    return Markup(f'<nav class="many">{row}</nav>\n<details class="menu" data-nav-menu>'
                  f"<summary>{menu}{current}{badge}</summary><ul>{items}</ul></details>")


# What the header links to on every page: no arguments, so they only change with where
# the app is mounted.
HEADER_ENDPOINTS = ("home", "sync.outbox", "auth.set_locale", "auth.logout",
                    "account.password", "notifications.index", "live.bell")


def header_urls() -> dict[str, str]:
    return once(("header_urls",), lambda: {e: url_for(e) for e in HEADER_ENDPOINTS})


def fixed_url(endpoint: str) -> str:
    """`url_for(endpoint)` for an endpoint that takes no arguments: built once per
    process and mount (a page's fixed links; url_for walks the routing map each time)."""
    return once(("url", endpoint), lambda: url_for(endpoint))


def fragment(template: str) -> Markup:
    """A template that depends only on the language (no user, no request data),
    rendered once."""
    return _cached("fragment", template, lambda: Markup(render_template(template)))


# More areas than this, and a phone gets a menu in place of a row of links (base.html):
# a field worker's three or four fit the row; the office's nine do not at 360 px.
MENU_FROM = 4


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(nav_html=nav_html, nav_shows=nav_shows, fragment=fragment,
                                 header_urls=header_urls, fixed_url=fixed_url,
                                 MENU_FROM=MENU_FROM)
