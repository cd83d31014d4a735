"""The Jinja environment: rows read without an exception, fixed words translated once.

Rows reach the templates as plain dicts (sqlite-utils), and `{{ j.number }}` makes
Jinja try the attribute first: `getattr(dict, 'number')` raises AttributeError and
only then is the key read. That exception cost 2-3 µs per field, some 40 µs per row
of a job list: more than the list's query. Here a dict's key is read directly when it
is not one of dict's own attributes, so every lookup resolves to what Jinja's would.

A page says `_('Sign out')` and the like dozens of times (the job page about fifty),
each a call through Jinja's context, the catalog and Markup on every request. The words
only change with the language, so each language gets its own copy of the environment
(`overlay`), whose templates are compiled with such calls (a literal msgid, no
variables) already replaced by their translation: the page holds them as text.

Printing `{{ 'x' if cond }}` costs no Undefined (`_Simpler`), a printed value is
escaped without a Markup around it (`_escape`), a template's globals are a plain
dict (`make_globals`), and a run of printed pieces is yielded as one (`CodeGenerator`).
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from flask import has_request_context
from flask.templating import Environment as FlaskEnvironment
from flask_babel import get_translations
from jinja2 import Template as JinjaTemplate
from jinja2 import nodes
from jinja2.compiler import CodeGenerator as JinjaCodeGenerator
from jinja2.compiler import Frame
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

from .i18n import locale_name

try:  # markupsafe 3's escaping itself, without wrapping the result in Markup
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - another markupsafe: Jinja's escape as it is
    _escape_inner = None

_DICT_ATTRIBUTES = frozenset(dir(dict))
GETTEXT_NAMES = ("_", "gettext")  # as i18n.init_app names them for templates


def escape_text(value: str) -> str:
    """A str escaped for HTML, as a str (no Markup made): for code that builds markup
    from pieces."""
    return _escape_inner(value) if _escape_inner is not None else str(escape(value))


def _escape(value: Any) -> str:
    """What a compiled template calls on each `{{ … }}` it prints when autoescaping.

    Jinja's is markupsafe.escape, which wraps each escaped value in a new Markup (and
    a Markup in another); a job list prints some 400 values. Jinja only joins what it
    prints (into a page, a block or a macro's result, which it marks safe as a whole),
    so the escaped text itself does: the same characters."""
    if type(value) is str:
        return _escape_inner(value)
    if type(value) is Markup:
        return value
    return escape(value)


class Template(JinjaTemplate):
    @classmethod
    def from_code(cls, environment: Any, code: Any, globals: Any, uptodate: Any = None) -> Any:
        """Jinja's from_code, with `_escape` for the compiled code's `escape`."""
        namespace = {"environment": environment, "__file__": code.co_filename}
        exec(code, namespace)
        if _escape_inner is not None:
            namespace["escape"] = _escape
        namespace["escape_str"] = _escape_inner or escape  # see CodeGenerator
        rv = cls._from_namespace(environment, namespace, globals)
        rv._uptodate = uptodate
        return rv


class CodeGenerator(JinjaCodeGenerator):
    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        """Jinja's, but one `yield` per run of text and `{{ … }}` rather than one per
        piece. Outside a macro Jinja yields each piece on its own, and each yield passes
        up through every enclosing block and include (four or five generators on a
        list page). Here a run is yielded joined: the same text."""
        if frame.buffer is not None or frame.require_output_check or len(node.nodes) < 2:
            super().visit_Output(node, frame)
            return
        # Jinja writes a buffered run as `_out.extend((a, b, ...))` (or `.append(a,)` when
        # its pieces fold into one): the same tuple is yielded joined, on the same lines.
        frame.buffer = "_out"
        stream, self.stream = self.stream, StringIO()
        try:
            super().visit_Output(node, frame)
            code = self.stream.getvalue()
        finally:
            frame.buffer, self.stream = None, stream
        body = code.lstrip()
        head = code[:len(code) - len(body)]
        if body.startswith("_out.extend((") and body.endswith("))"):
            body = "yield ''.join((" + body[len("_out.extend(("):]
        elif body.startswith("_out.append(") and body.endswith(")"):
            body = "yield (" + body[len("_out.append("):] + "[0]"  # `(a,)[0]`: the one piece
        else:  # pragma: no cover - another Jinja's output code
            raise RuntimeError(f"unexpected output code: {code[:80]!r}")
        self.stream.write(head + body)

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        """A printed value escaped in place when it is a str (most are): `escape()` is
        called only for the others (Markup, numbers, ...), as Jinja would for all."""
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape or finalize.src:
            super()._output_child_pre(node, frame, finalize)
        else:
            self.write("(escape_str(_printed) if type(_printed := ")

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape or finalize.src:
            super()._output_child_post(node, frame, finalize)
        else:
            self.write(") is str else escape(_printed))")

    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        """`{{ row.number }}` on a name: the dict's key read in place when the value is
        a dict holding it, else `environment.getattr` as Jinja calls it. What
        `Environment.getattr` returns either way, without a call per field (a list
        row reads some twenty)."""
        if (self.environment.is_async or self._new_lines or node.attr in _DICT_ATTRIBUTES
                or not isinstance(node.node, nodes.Name)):
            super().visit_Getattr(node, frame)
            return
        stream, self.stream = self.stream, StringIO()
        try:
            self.visit(node.node, frame)
            name = self.stream.getvalue()
        finally:
            self.stream = stream
        key = repr(node.attr)
        self.write(f"({name}[{key}] if type({name}) is dict and {key} in {name}"
                   f" else environment.getattr({name}, {key}))")


class Environment(FlaskEnvironment):
    locale: str | None = None  # set on a language's copy
    template_class = Template
    code_generator_class = CodeGenerator

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def make_globals(self, d: Any) -> dict[str, Any]:
        """A template's globals as one dict. Jinja's is a ChainMap over the
        environment's, which every render and every macro import copies key by key
        (some 50 µs a page here). The app sets all its globals when it is created,
        before any template loads, as Jinja asks of globals anyway."""
        return {**self.globals, **(d or {})}

    def for_locale(self, locale: str) -> Environment:
        """This environment's copy for one language (made once, shares its globals,
        filters and loader, keeps its own compiled templates)."""
        copies = self.__dict__.setdefault("_copies", {})
        found = copies.get(locale)
        if found is None:
            found = copies[locale] = self.overlay()
            found.locale = locale
            found._copies, found._loaded = {}, {}
        return found

    def _load_template(self, name: str, globals: Any) -> Any:
        if self.locale is None and has_request_context():
            return self.for_locale(locale_name())._load_template(name, globals)
        if self.locale is not None and not globals and not self.auto_reload:
            # A language's templates, compiled once and never reloaded: a dict read, not
            # Jinja's cache key (a weak reference) and locked LRU, for each of the half
            # dozen templates a page extends and includes.
            found = self._loaded.get(name)
            if found is None:
                found = self._loaded[name] = super()._load_template(name, globals)
            return found
        return super()._load_template(name, globals)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        gettext = None
        if self.locale is not None and has_request_context() and locale_name() == self.locale:
            gettext = get_translations().ugettext
        _Simpler(self, gettext).visit(tree)
        return tree



class _Simpler(NodeTransformer):
    """Rewrites a template's tree into one that prints the same for less work.

    - `{{ 'x' if cond }}`: Jinja prints the missing else as an Undefined, made with
      its message on every render (and escaped through an AttributeError); an empty
      string prints the same.
    - With `gettext`: `_('literal')` is replaced by its translation, as the call
      would return it (Markup when autoescaping). Calls with variables or a % in
      the text stay calls (the call always applies %).
    """

    def __init__(self, environment: Environment, gettext: Any = None) -> None:
        self.environment, self.gettext = environment, gettext

    def visit_Output(self, output: nodes.Output) -> nodes.Node:
        output = self.generic_visit(output)
        for child in output.nodes:
            if isinstance(child, nodes.CondExpr) and child.expr2 is None:
                child.expr2 = nodes.Const("", lineno=child.lineno).set_environment(
                    self.environment)
        return output

    def visit_Call(self, call: nodes.Call) -> nodes.Node:
        call = self.generic_visit(call)
        if self.gettext is None or not (
                isinstance(call.node, nodes.Name) and call.node.name in GETTEXT_NAMES
                and len(call.args) == 1 and isinstance(call.args[0], nodes.Const)
                and isinstance(call.args[0].value, str) and not call.kwargs
                and call.dyn_args is None and call.dyn_kwargs is None):
            return call
        text = self.gettext(call.args[0].value)
        if "%" in text or "%" in call.args[0].value:
            return call
        const = nodes.MarkSafeIfAutoescape(nodes.Const(text, lineno=call.lineno),
                                           lineno=call.lineno)
        return const.set_environment(self.environment)
