"""Translation layer: Chinese first, English per user; times shown in the estate's zone."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, session
from flask_babel import Babel, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from sync import Invalid, fields

from .domain.text import N_
from .domain.workdays import LOCAL

LOCALES = {"zh_CN": "中文", "en": "English"}
# Babel reads "zh_CN" as zh_Hans_CN, which gettext would not find; the Chinese
# catalog therefore lives under translations/zh.
CATALOGS = {"zh_CN": "zh", "en": "en"}


def select_locale() -> str:
    chosen = session.get("locale")
    if current_user and current_user.is_authenticated:
        chosen = current_user.locale
    return CATALOGS.get(chosen or "", current_app.config["BABEL_DEFAULT_LOCALE"])


def local_time(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Render a stored UTC time in the estates' zone (the one the rules count days in)."""
    if not value:
        return ""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return dt.replace(tzinfo=UTC).astimezone(LOCAL).strftime(fmt)


def to_utc(local: str) -> datetime | None:
    """Parse a `datetime-local` input in the estates' zone to naive UTC."""
    try:  # out of the kit's years too (year 1 cannot move to UTC)
        dt = fields.moment(local, "time")
    except Invalid:
        return None
    return dt.replace(tzinfo=LOCAL).astimezone(UTC).replace(tzinfo=None)


def duration(delta: timedelta) -> str:
    """'2 h 05 min' style, with a sign handled by the caller."""
    return labels().duration(delta)


MINUTE = timedelta(minutes=1)

# Vocabularies (key -> English msgid) that list pages show on every row.
VOCABULARIES: dict[str, dict[str, str]] = {}


class Labels:
    """The vocabularies in one language (`labels().statuses[key]`) and the words of a
    time left. Catalogs do not change while the process runs, so each language's is
    translated once per process, not on every request or row."""

    def __init__(self, translations: Any) -> None:
        t = translations.ugettext
        for name, vocabulary in VOCABULARIES.items():
            setattr(self, name, {k: t(v) for k, v in vocabulary.items()})
        self._days = t(N_("%(d)s d %(h)s h"))
        self._hours = t(N_("%(h)s h %(m)s min"))
        self._minutes = t(N_("%(m)s min"))
        # A list prints a time left on every row, and the same few thousand minute
        # counts come back all day: each one's words are made once.
        self.minutes_text = functools.lru_cache(maxsize=4096)(self._minutes_text)

    def duration(self, delta: timedelta) -> str:
        return self.minutes_text(abs(delta) // MINUTE)  # whole minutes, no float

    def _minutes_text(self, minutes: int) -> str:
        days, rem = divmod(minutes, 1440)
        hours, mins = divmod(rem, 60)
        if days:
            return self._days % {"d": days, "h": hours}
        if hours:
            return self._hours % {"h": hours, "m": f"{mins:02d}"}
        return self._minutes % {"m": mins}


def locale_name() -> str:
    """The request's language as its catalog's name ('zh', 'en'), looked up once per
    request: flask-babel's get_locale() walks the app and request contexts on every
    call, and a page asks for the language a dozen times (templates, the header's
    cached parts, badges)."""
    found = g.get("_locale_name")
    if found is None:
        found = g._locale_name = str(get_locale())
    return found


def labels() -> Labels:
    """The request's language's Labels."""
    found = g.get("_labels")
    if found is None:
        locale = locale_name()
        per_locale = current_app.extensions.setdefault("labels", {})
        found = per_locale.get(locale)
        if found is None:
            found = per_locale[locale] = Labels(_translations())
        g._labels = found
    return found


def _translations():
    """flask-babel's catalog, looked up once per request (pages call gettext hundreds of
    times; its own lookup walks the app and request context on every call)."""
    t = g.get("_translations")
    if t is None:
        t = g._translations = get_translations()
    return t


@pass_context
def _gettext(__context: Context, __string: str, **variables: Any) -> str:
    rv = _translations().ugettext(__string)
    if __context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables  # always a format string, as Jinja's new style has it


LABEL_COLON = N_("%(label)s: ")


def colon(label: str) -> Markup:
    """A label and the language's colon: 到场：, "On site: " (zh-CN takes the full-width
    colon with no space after it)."""
    return Markup(escape(_translations().ugettext(LABEL_COLON))) % {"label": label}


IN_BRACKETS = N_(" (%(text)s)")


def paren(text: str) -> Markup:
    """A remark in the language's brackets after what it qualifies: 张女士（业主）,
    "Ms Zhang (owner)"."""
    return Markup(escape(_translations().ugettext(IN_BRACKETS))) % {"text": text}


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
    )
    # The same as Jinja's new-style gettext, called directly: its own goes through two
    # more context calls per string, and a page translates dozens of strings.
    app.jinja_env.globals.update(gettext=_gettext, _=_gettext)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["duration"] = duration
    app.jinja_env.filters["colon"] = colon
    app.jinja_env.filters["paren"] = paren
    app.jinja_env.globals["locale_name"] = locale_name
    # The zone pages' scripts write times in, as local_time() does (queued.js).
    app.jinja_env.globals["time_zone"] = LOCAL.key
    app.jinja_env.globals["labels"] = labels
