"""Every user-facing string has its Chinese translation (fails when a new string is not)."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s", text))


def forms(value: str | tuple) -> tuple[str, ...]:
    """A message's forms: one, or singular and plurals (ngettext)."""
    return (value,) if isinstance(value, str) else tuple(value)


ROOT = Path(__file__).resolve().parent.parent


def source_msgids() -> set[str]:
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_is_translated_to_chinese():
    with open(ROOT / "webapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    translated = {forms(m.id)[0] for m in catalog
                  if m.id and all(forms(m.string)) and "fuzzy" not in m.flags}
    missing = sorted(source_msgids() - translated)
    assert not missing, f"translate these in zh_CN (make messages): {missing}"


def test_placeholders_survive_translation():
    with open(ROOT / "webapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    for m in catalog:
        if m.id and m.string:
            wanted = set().union(*map(placeholders, forms(m.id)))
            for text in forms(m.string):
                assert placeholders(text) == wanted, m.id


# A half-width comma, colon, semicolon, bracket or mark beside a Chinese character:
# zh-CN text takes the full-width forms (，：；（）！？).
HALF_WIDTH_BESIDE_HAN = re.compile(
    r"[\u4e00-\u9fff][,:;()!?]|[,:;()!?][\u4e00-\u9fff]|[\u4e00-\u9fff]\.(?:\s|$)")


def test_chinese_uses_full_width_punctuation():
    with open(ROOT / "webapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    wrong = [text for m in catalog if m.id for text in forms(m.string)
             if HALF_WIDTH_BESIDE_HAN.search(re.sub(r"%\(\w+\)s", "", text))]
    assert not wrong, f"use full-width punctuation in these: {wrong}"


def test_every_string_formats_as_templates_format_it():
    """Jinja's _() formats every string with its variables, even none: a lone "%" (a
    "90 %" in a label) raises there, so "%" stands only in a placeholder or as "%%"."""
    with open(ROOT / "webapp/translations/zh/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    for m in catalog:
        if not m.id:
            continue
        for text in [*forms(m.id), *forms(m.string)]:
            assert "%" not in re.sub(r"%\(\w+\)[sd]|%%", "", text or ""), m.id
