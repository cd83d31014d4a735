"""Form fields → command payloads: one function per form, used by the online post and
by the outbox replay, so both send the same command.

Files arrive already stored: `photos` is a list of SHA-256 hashes and
`signature_image` one hash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sync.fields import LONG_FIELDS, TEXT_LIMIT, text

from .domain.handovers import ITEMS_MAX as HANDOVER_ITEMS
from .domain.handovers import TEXT_FIELDS as HANDOVER_TEXT
from .i18n import to_utc

Fields = Mapping[str, Any]
MAX_FILES = 20  # photos on one form


def _s(f: Fields, key: str, default: str = "") -> str:
    """A text field through the kit: bounded, no lone surrogates, `default` when absent or
    not text."""
    value = f.get(key, default)
    return text(value, LONG_FIELDS.get(key, TEXT_LIMIT)) if isinstance(value, str) else default


def _hashes(f: Fields, key: str) -> list[str]:
    """File hashes (64 hex digits each); anything else in the list cannot name a file."""
    value = f.get(key) or []
    return [text(v, 64) for v in value[:MAX_FILES] if isinstance(v, str)] \
        if isinstance(value, list) else []


def job_payload(action: str, f: Fields) -> dict[str, Any]:
    if action in ("dispatch", "reassign"):
        return {"to": _s(f, "to"), "reason": _s(f, "reason")}
    if action in ("decline", "cancel"):
        return {"reason": _s(f, "reason")}
    if action == "resolve":
        return {"note": _s(f, "note")}
    if action == "edit":
        return {"category": _s(f, "category"), "job_class": _s(f, "job_class"),
                "description": _s(f, "description"), "unit_id": _s(f, "unit_id") or None,
                "reason": _s(f, "reason")}
    if action == "reopen":
        return {"reason": _s(f, "reason"), "requested_by": _s(f, "requested_by", "desk")}
    if action == "pause":
        agreed = to_utc(_s(f, "agreed_at"))
        return {"reason": _s(f, "reason"),
                "agreed_at": agreed.isoformat(timespec="seconds") if agreed else ""}
    if action == "complete":
        return {"work_done": _s(f, "work_done"), "materials": _s(f, "materials"),
                "photos": _hashes(f, "photos")}
    if action == "signoff":
        return {"outcome": _s(f, "outcome"), "signer_name": _s(f, "signer_name"),
                "reason": _s(f, "reason"), "strokes": _s(f, "strokes"),
                "signature_image": _s(f, "signature_image"), "ratings": _ratings(f)}
    return {}


def complaint_payload(action: str, f: Fields) -> dict[str, Any]:
    keys = {
        "verify": ("verification",),
        "route": ("path", "reason", "pointed_channel", "to"),
        "investigate": ("note",),
        "answer": ("outcome", "solution", "prevention"),
        "follow_up": ("satisfied", "note"),
        "level": ("level", "reason"),
    }[action]
    payload: dict[str, Any] = {k: _s(f, k) for k in keys}
    if action == "investigate":
        payload["photos"] = _hashes(f, "photos")
    if action == "follow_up":
        payload["ratings"] = _ratings(f)
    return payload


def _ratings(f: Fields) -> dict[str, str]:
    """`rating_<dimension>` fields, as the callback form and the sign-off send them."""
    return {k[len("rating_"):]: _s(f, k) for k in f if k.startswith("rating_") and _s(f, k)}


def callback_payload(f: Fields) -> dict[str, Any]:
    return {
        "method": _s(f, "method"), "reached": _s(f, "reached"), "ratings": _ratings(f),
        "comments": _s(f, "comments"), "signer_name": _s(f, "signer_name"),
        "signature_image": _s(f, "signature_image"), "strokes": _s(f, "strokes"),
        "follow_up": _s(f, "follow_up"),
    }


def feedback_payload(f: Fields) -> dict[str, Any]:
    return {"place": _s(f, "place"), "building_id": _s(f, "building_id"),
            "unit_number": _s(f, "unit_number"), "category": _s(f, "category"),
            "note": _s(f, "note"), "photos": _hashes(f, "photos")}


def inspection_payload(f: Fields) -> dict[str, Any]:
    """The checklist: `items` lists the item ids shown; per item `result_<id>`, `note_<id>`,
    `photos_<id>` and the "make a job" box `job_<id>` (only for a failed item)."""
    ids = [i.strip() for i in _s(f, "items").split(",")
           if i.strip().isascii() and i.strip().isdigit() and len(i.strip()) <= 18][:500]
    results = {}
    for i in ids:
        result = _s(f, f"result_{i}")
        results[i] = {"result": result, "note": _s(f, f"note_{i}"),
                      "photos": _hashes(f, f"photos_{i}"),
                      "job": result == "fail" and _s(f, f"job_{i}") == "1"}
    return {"template_id": _s(f, "template_id"), "visited_at": _s(f, "visited_at"),
            "items": ids, "results": results}


def survey_payload(f: Fields) -> dict[str, Any]:
    """A household's answers as a clerk records them: `answer_<question id>` fields."""
    answers = {k[len("answer_"):]: _s(f, k) for k in f
               if k.startswith("answer_") and k[len("answer_"):].isdigit()}
    return {"unit_id": _s(f, "unit_id"), "method": _s(f, "method"), "answers": answers}


def handover_payload(f: Fields) -> dict[str, Any]:
    """A shift's handover: the estate and post, the typed text, the shared items ticked
    (a box each, `checked_<item key>`)."""
    checked = [k[len("checked_"):] for k in f
               if k.startswith("checked_") and len(k) <= 40 and _s(f, k)]
    return {"estate_id": _s(f, "estate_id"), "post": _s(f, "post"),
            **{k: _s(f, k) for k in HANDOVER_TEXT}, "checked": checked[:HANDOVER_ITEMS]}


def handover_ack_payload(f: Fields) -> dict[str, Any]:
    """The incoming person's signature: its stored hash and its strokes."""
    return {"signature_image": _s(f, "signature_image"), "strokes": _s(f, "strokes")}


def _job(action: str) -> Callable[[Fields], dict[str, Any]]:
    return lambda fields: job_payload(action, fields)


# The commands a phone may queue in its outbox, and how their fields are read.
OUTBOX: dict[str, Callable[[Fields], dict[str, Any]]] = {
    **{f"job.{a}": _job(a)
       for a in ("claim", "accept", "decline", "arrive", "pause", "complete", "signoff")},
    "callback.record": callback_payload,
    "inspection.record": inspection_payload,
    "feedback.create": feedback_payload,
    "survey.record": survey_payload,
    "handover.record": handover_payload,
    "handover.acknowledge": handover_ack_payload,
}
