"""The Jinja environment's shortcuts print what Jinja itself would."""

from jinja2 import DictLoader
from markupsafe import Markup

from .pages import Page

PAGE = """{% macro cell(v) %}<i>{{ v }}</i>{% endmacro %}{% set block %}{{ text }}{% endset -%}
<p data-plain>{{ text }}</p><p data-markup>{{ safe }}</p><p data-number>{{ number }}</p>
<p data-macro>{{ cell(text) }}</p><p data-block>{{ block }}</p>
<p data-cond>{{ 'yes' if flag }}</p><p data-row>{{ row.number }}|{{ row.missing }}</p>
<p data-method>{{ row.keys()|list|length }}</p><p data-word>{{ _('Sign out') }}</p>
<p data-word-var>{{ _('%(m)s min', m=5) }}</p>"""


def render(app, client, locale: str) -> dict[str, str]:
    app.jinja_env.loader = DictLoader({"t.html": PAGE})
    client.post("/locale", data={"locale": locale})
    with app.test_request_context(headers={"Cookie": _cookie(client)}):
        from flask import render_template

        html = render_template("t.html", text="<b>&'\"", safe=Markup("<em>ok</em>"), number=42,
                               flag=False, row={"number": "J1", "keys": "shadow"})
    page = Page(html)
    return {k.removeprefix("data-"): page.texts[i] for i, d in enumerate(page.data)
            for k in d if k.startswith("data-")} | {"html": html}


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    return f"session={cookie.value}" if cookie else ""


def test_values_are_escaped_once_and_safe_text_is_not(app, client):
    out = render(app, client, "zh_CN")
    assert "<p data-plain>&lt;b&gt;&amp;&#39;&#34;</p>" in out["html"]
    assert "<p data-markup><em>ok</em></p>" in out["html"]
    assert out["number"] == "42"
    # A macro's result and a captured block are safe as a whole, not escaped again.
    assert "<p data-macro><i>&lt;b&gt;&amp;&#39;&#34;</i></p>" in out["html"]
    assert "<p data-block>&lt;b&gt;&amp;&#39;&#34;</p>" in out["html"]


def test_shortcuts_resolve_as_jinja_does(app, client):
    out = render(app, client, "zh_CN")
    assert out["cond"] == ""
    assert out["row"] == "J1|"  # a row's key; a missing one prints nothing
    assert out["method"] == "2"  # dict's own attribute wins over a key of that name


def test_fixed_words_are_translated_per_language(app, client):
    assert render(app, client, "zh_CN")["word"] == "退出"
    assert render(app, client, "en")["word"] == "Sign out"
    assert render(app, client, "zh_CN")["word"] == "退出"
    assert render(app, client, "en")["word-var"] == "5 min"


TREE = {
    "base.html": "<head>{% block head %}<t>{{ title }}</t>{% endblock %}</head>"
                 "<body>{% block body %}{% endblock %}</body>",
    # `{{ 'x' }}<i>` folds into one piece when compiled.
    "row.html": "<li>{{ r.n }} · {{ r.s }}{% if r.f %} !{{ r.f }}{% endif %}{{ '·' }}<i></li>",
    "page.html": """{% extends "base.html" %}{% from "m.html" import tag %}
{% block body %}<ul>{% for r in rows %}{% include "row.html" %}{% endfor %}</ul>
{% set note %}<em>{{ title }}</em>{% endset %}{{ note }} {{ tag(title) }}
{% filter upper %}{{ title }} x {{ rows|length }}{% endfilter %}
{% call tag('c') %}{{ title }}!{% endcall %}{% endblock %}""",
    "m.html": "{% macro tag(v) %}<b>{{ v }}{{ caller() if caller }}</b>{% endmacro %}",
}


def test_runs_of_output_are_yielded_together_and_print_as_jinja_does(app):
    from jinja2 import Environment

    values = {"title": "<T&>", "rows": [{"n": i, "s": f"<{i}>", "f": i % 2} for i in range(4)]}
    stock = Environment(loader=DictLoader(TREE), autoescape=True)
    ours = app.jinja_env.overlay(loader=DictLoader(TREE), cache_size=0)
    expected = stock.get_template("page.html").render(values)
    with app.test_request_context():
        template = ours.get_template("page.html")
        assert template.render(values) == expected
        chunks = list(template.generate(values))
    assert "".join(chunks) == expected
    # Jinja's own yields each piece; here a run of text and values between two tags
    # ({% if %}, {% for %}, ...) is one: about half as many on this page.
    assert len(chunks) < 0.6 * len(list(stock.get_template("page.html").generate(values)))


FIELDS = ("{% for r in rows %}[{{ r.n }}|{{ r.missing }}|{{ r.items is defined }}|{{ r.real }}"
          "|{{ r.n.real if r.n is number }}]{% endfor %}{{ one.n }}{{ one.keys }}")


def test_fields_read_in_place_print_what_jinja_s_getattr_gives(app):
    from jinja2 import Environment

    class Obj:
        n, real = "attr", "obj"

    values = {"rows": [{"n": 1}, {"n": "<b>"}, {"items": "key"}, {}, Obj(), 3, None],
              "one": {"n": "x", "keys": "shadowed"}}
    stock = Environment(autoescape=True).from_string(FIELDS)
    ours = app.jinja_env.overlay(cache_size=0).from_string(FIELDS)
    assert ours.render(values) == stock.render(values)
    code = app.jinja_env.compile(FIELDS, raw=True)
    assert "['n'] if type(" in code  # read in place
    assert "escape_str(_printed) if type(_printed :=" in code  # a str escaped in place
