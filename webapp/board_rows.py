"""The desk's board rows as HTML: `{{ rows|board_rows }}` in jobs/_row_items.html.

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


def row(j: Mapping[str, Any], k: Kit, description: str) -> str:
    """One row; `description` is the row's description as printed (cut short)."""
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


@pass_context
def board_rows(context: Context, rows: Iterable[Mapping[str, Any]]) -> Markup:
    k, env = _kit(context), context.environment
    return Markup("".join(row(j, k, do_truncate(env, j["description"], 60)) for j in rows))
