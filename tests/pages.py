"""Parse pages in tests: form values, error messages, data-* marked elements."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.values: dict[str, str] = {}
        self.textareas: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.data: list[dict[str, str]] = []
        # Input values per form, keyed by the form's data-command.
        self.forms: dict[str, dict[str, str]] = {}
        self._form: str | None = None
        self._in: tuple[str, str] | None = None
        # The text inside each data-* marked element, by its index in self.data.
        self.texts: dict[int, str] = {}
        self._open: list[tuple[str, int]] = []
        self.has_html = "<html" in html
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if any(k.startswith("data-") for k in a):
            self.data.append({"tag": tag, **a})
            if tag not in VOID:
                self._open.append((tag, len(self.data) - 1))
                self.texts[len(self.data) - 1] = ""
        if tag == "form":
            self._form = a.get("data-command", "")
            self.forms.setdefault(self._form, {})
        if tag == "input" and a.get("name") and self._form is not None:
            self.forms[self._form].setdefault(a["name"], a.get("value", ""))
        if tag == "input" and a.get("name") and a.get("type") not in ("radio", "checkbox"):
            self.values.setdefault(a["name"], a.get("value", ""))
        if tag == "input" and a.get("type") == "radio" and "checked" in a:
            self.values[a["name"]] = a.get("value", "")
        if tag == "textarea":
            self._in = ("textarea", a.get("name", ""))
            self.textareas[a.get("name", "")] = ""
        if tag == "p" and "data-error" in a:
            self._in = ("error", a["data-error"])
            self.errors[a["data-error"]] = ""
        if tag == "p" and "data-notice" in a:
            self._in = ("error", "_notice")
            self.errors["_notice"] = ""

    def handle_endtag(self, tag):
        # Close the innermost open element of this tag (and any left unclosed inside it).
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                break
        if tag == "form":
            self._form = None
        if tag in ("textarea", "p"):
            self._in = None

    def handle_data(self, data):
        for _tag, index in self._open:
            self.texts[index] += data
        if self._in and self._in[0] == "textarea":
            self.textareas[self._in[1]] += data
        elif self._in and self._in[0] == "error":
            self.errors[self._in[1]] += data.strip()

    @property
    def notice(self) -> str:
        return self.errors.get("_notice", "")

    def text(self, attr: str, value: str | None = None) -> str:
        """The text of the first element with this data-* attribute, spaces collapsed."""
        for index, d in enumerate(self.data):
            if attr in d and (value is None or d[attr] == value):
                return " ".join(self.texts.get(index, "").split())
        raise KeyError(f"no element with {attr}={value}")

    def find(self, attr: str, value: str | None = None) -> list[dict[str, str]]:
        return [d for d in self.data if attr in d and (value is None or d[attr] == value)]
