"""docs/DOMAIN.md against the code: every estate setting and every capability named, each
settings table's defaults and each capability's roles as the code has them, the modules
and names it cites existing, and no pointer to a rules file outside the repository."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from webapp.domain import handlers, people, settings

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "DOMAIN.md"
CODE = re.compile(r"`([^`]+)`")
NUMBERED = re.compile(r"^(\d+) (.+)$")


def named(text: str) -> set[str]:
    """Everything the page writes as code (`...`)."""
    return set(CODE.findall(text))


def table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of each body row of every table whose first header cell is `header`."""
    rows, inside = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            inside = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == header:
            inside = True
        elif inside and not set(cells[0]) <= {"-", ":"}:
            rows.append(cells)
    return rows


def missing_settings(text: str) -> list[str]:
    words = named(text)
    return [s.key for s in settings.SETTINGS if s.key not in words]


def setting_problems(text: str) -> list[str]:
    """Rows of the settings tables whose key is unknown or whose default is not the code's:
    "5 minutes" (the number and the setting's unit), "1 (yes)" for a choice."""
    problems = []
    for key_cell, default, *_ in table_rows(text, "setting"):
        keys = CODE.findall(key_cell)
        if len(keys) != 1 or keys[0] not in settings.BY_KEY:
            problems.append(f"unknown setting {key_cell}")
            continue
        s = settings.BY_KEY[keys[0]]
        if s.unit == "choice":
            expected = f"{s.default} ({s.choices[s.default].lower()})"
        else:
            expected = f"{s.default} {s.unit}"
        if default != expected:
            problems.append(f"{s.key}: the page says {default!r}, the code {expected!r}")
    return problems


def capability_problems(text: str) -> list[str]:
    """Capabilities not in the table, and rows whose roles are not the code's."""
    problems, seen = [], set()
    for caps_cell, roles_cell, *_ in table_rows(text, "capabilities"):
        roles = set(CODE.findall(roles_cell))
        for cap in CODE.findall(caps_cell):
            seen.add(cap)
            if cap not in people.CAPABILITIES:
                problems.append(f"unknown capability {cap}")
            elif roles != people.CAPABILITIES[cap]:
                problems.append(f"{cap}: the page says {sorted(roles)}, the code "
                                f"{sorted(people.CAPABILITIES[cap])}")
    problems += [f"{cap} not named" for cap in people.CAPABILITIES if cap not in seen]
    return problems


def unknown_references(text: str) -> list[str]:
    """Cited modules (`domain/x.py`) that do not exist, and `module.name` of a domain module
    that has no such name (command kinds and capabilities look alike and are skipped)."""
    problems = []
    for word in named(text):
        if re.fullmatch(r"(webapp/)?domain/\w+\.py", word):
            if not (ROOT / "webapp" / word.removeprefix("webapp/")).exists():
                problems.append(word)
            continue
        found = re.fullmatch(r"([a-z_]+)\.([A-Za-z_]+)", word)
        if (found is None or word in people.CAPABILITIES or word in handlers.HANDLERS
                or not (ROOT / "webapp" / "domain" / f"{found[1]}.py").exists()):
            continue
        module = importlib.import_module(f"webapp.domain.{found[1]}")
        if not hasattr(module, found[2]):
            problems.append(word)
    return problems


# Where a pointer to the rules could be written: the project's own text files.
SEARCHED = ("webapp", "docs", "tests", "e2e", "bench", "sync", "deploy")
SUFFIXES = {".py", ".md", ".html", ".js", ".po", ".txt", ".toml", ".yml", ".cfg", ".sh"}


def stray_pointers(paths: list[Path]) -> list[str]:
    """Places that name the rules file other than as docs/DOMAIN.md (a file beside the
    repository that a clone does not have)."""
    out = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # A plain search first: the pattern would crawl minified scripts' long lines.
            if "DOMAIN.md" not in line:
                continue
            for hit in re.finditer(r"\S{0,200}DOMAIN\.md", line):
                if not hit.group().lstrip("`(\"'[").startswith("docs/DOMAIN.md"):
                    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    out.append(f"{where}:{n}: {hit.group()}")
    return out


def project_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    for top in SEARCHED:
        files += [p for p in (ROOT / top).rglob("*")
                  if p.suffix in SUFFIXES and p.is_file() and "node_modules" not in p.parts]
    # Not this file: it writes wrong pointers on purpose, to show they are found.
    here = Path(__file__).resolve()
    return [p for p in files if p.exists() and p.resolve() != here]


# --- The page as it is ---------------------------------------------------------------------

def test_every_setting_is_named():
    assert missing_settings(DOC.read_text(encoding="utf-8")) == []


def test_settings_tables_give_the_code_defaults():
    text = DOC.read_text(encoding="utf-8")
    assert table_rows(text, "setting"), "the page has no settings table"
    assert setting_problems(text) == []


def test_every_capability_is_named_with_its_roles():
    assert capability_problems(DOC.read_text(encoding="utf-8")) == []


def test_roles_and_departments_are_named():
    words = named(DOC.read_text(encoding="utf-8"))
    assert set(people.ROLES) - words == set()
    assert set(people.DEPARTMENTS) - words == set()


def test_cited_modules_and_names_exist():
    assert unknown_references(DOC.read_text(encoding="utf-8")) == []


def test_the_rules_are_pointed_to_inside_the_repository():
    assert stray_pointers(project_files()) == []


# --- The checks can fail ---------------------------------------------------------------

def test_a_setting_left_out_is_found():
    text = DOC.read_text(encoding="utf-8").replace("`callback_retry_hours`", "the retry")
    assert missing_settings(text) == ["callback_retry_hours"]


def test_a_wrong_default_and_an_unknown_key_are_found():
    text = DOC.read_text(encoding="utf-8")
    text = text.replace("| `notify_minutes` | 5 minutes |", "| `notify_minutes` | 7 minutes |")
    text = text.replace("| `callback_policy` | 0 (whoever received the item) |",
                        "| `callback_policy` | 1 (the callback team) |")
    text += "\n| setting | default | meaning |\n|---|---|---|\n| `notify_hours` | 1 hours | x |\n"
    problems = setting_problems(text)
    assert len(problems) == 3
    assert any(p.startswith("notify_minutes:") for p in problems)
    assert any(p.startswith("callback_policy:") for p in problems)
    assert "unknown setting `notify_hours`" in problems


def test_a_capability_left_out_or_with_other_roles_is_found():
    text = DOC.read_text(encoding="utf-8")
    text = text.replace(" `place.reissue` |", " |").replace(
        "| `job.reopen` | `desk` `callback` `manager` `admin` |",
        "| `job.reopen` | `desk` `manager` `admin` |")
    assert capability_problems(text) == [
        "job.reopen: the page says ['admin', 'desk', 'manager'], the code "
        "['admin', 'callback', 'desk', 'manager']",
        "place.reissue not named"]


def test_a_missing_module_or_name_is_found():
    text = "`domain/nowhere.py` `callbacks.assignment` `callbacks.nobody` `job.reopen`"
    assert sorted(unknown_references(text)) == ["callbacks.nobody", "domain/nowhere.py"]


def test_a_pointer_outside_the_repository_is_found(tmp_path):
    stray = tmp_path / "x.py"
    stray.write_text("# the rules (see ../shared/DOMAIN.md)\nok: docs/DOMAIN.md\n"
                     "also `DOMAIN.md`\n", encoding="utf-8")
    assert [f.split(": ", 1)[1] for f in stray_pointers([stray])] == [
        "../shared/DOMAIN.md", "`DOMAIN.md"]
    assert stray_pointers([ROOT / "docs" / "ARCHITECTURE.md"]) == []
