"""The job lists' rows as HTML: the desk's board (`{{ rows|board_rows }}` in
jobs/_row_items.html) and a field worker's list (`{{ rows|mine_rows }}` in
jobs/_mine_list.html).

The board prints 25 rows (up to 200 on a live board that "show more" grew). As a Jinja
loop each row was some six pieces handed up through four nested templates, and the
loop's own work was about a fifth of the board's CPU (docs/BENCHMARKS.md): here a row is
one f-string, its fixed parts (labels, badges, the job link) from badges' Kit, made
once per language. The markup is the loop's, unchanged: what the pages and their tests
read (`data-job`, `data-status`, `data-flagged`, `data-due-at`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.filters import do_truncate
from jinja2.runtime import Context
from markupsafe import Markup

from .badges import Kit, _kit, due_badge
from .domain.estates import address
from .templating import escape_text


def _text(value: Any) -> str:
    return escape_text(str(value)) if value is not None else ""


def board_row(j: Mapping[str, Any], k: Kit, description: str) -> str:
    """One row of the board; `description` is the row's description as printed (cut short)."""
    flagged = j["flagged"]
    due = due_badge(j["next_due"], k) if j["next_due"] else ""
    who = (((" · " if due else "") + _text(j["assignee_name"])) if j["assignee_name"]
           else "")
    return (
        f'<li class="row{" flagged" if flagged else ""}" data-job="{_text(j["number"])}">'
        f'<a href="{k.job_url}{j["id"]}"><strong>{_text(j["number"])}</strong> '
        f'{k.statuses[j["status"]]}{k.needs_review if flagged else ""}'
        f'<div>{_text(address(j))} · '
        f'{k.categories[j["category"]]} · {k.classes[j["job_class"]]}</div>'
        f'<div class="muted">{escape_text(description)}</div>'
        f"<div>{due}{who}</div></a></li>"
    )


def mine_row(j: Mapping[str, Any], k: Kit, description: str) -> str:
    """One row of a field worker's list: what is due first, then where, then what."""
    unit = f"-{_text(j['unit_number'])}" if j["unit_number"] else ""
    due = due_badge(j["next_due"], k) if j["next_due"] else ""
    number = _text(j["number"])
    return (
        f'<li class="row" data-job="{number}"><a href="{k.job_url}{j["id"]}">'
        f"<div>{due}</div>"
        f'<strong>{_text(j["building_name"] or "")}{unit}</strong> {k.statuses[j["status"]]}'
        f'<div>{k.classes[j["job_class"]]} · {k.categories[j["category"]]}</div>'
        f'<div class="muted">{number} · {escape_text(description)}</div></a></li>'
    )


def _rows(make: Any) -> Any:
    """A filter printing each row with `make(row, kit, description cut short)`."""

    @pass_context
    def rows_filter(context: Context, rows: Iterable[Mapping[str, Any]]) -> Markup:
        k, env = _kit(context), context.environment
        return Markup("".join(make(j, k, do_truncate(env, j["description"], 60))
                              for j in rows))

    return rows_filter


board_rows, mine_rows = _rows(board_row), _rows(mine_row)
