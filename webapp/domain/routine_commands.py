"""The routine plan's command, `routine.plan` (domain/routine.py makes the plan): who may
make one, for which month, and the seed it records."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Invalid, fields

from . import audit, notifications, people
from .months import local_month, parse_month, shift_month, zone
from .routine import make_plan
from .text import N_

SEED_LIMIT = 2**32

def seed_from(value: Any, op_id: str) -> int:
    """The seed a command asks for; without one, a 32-bit number taken from its op_id."""
    if value is None or value == "":
        return int(hashlib.sha256(op_id.encode()).hexdigest()[:8], 16)
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) \
            or len(text) > 12 or int(text) >= SEED_LIMIT:
        raise ValueError(value)
    return int(text)


def plan_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `routine.plan`: payload {month: 'YYYY-MM', seed?: int, tz?: zone name}.

    The month is this month or the next in the estate's zone. Making a plan that
    exists returns it (created False).
    """
    user = people.actor(db, cmd, "routine.plan")
    kind, _, raw_id = cmd.target.partition(":")
    estate_id = fields.maybe_id(raw_id)
    if kind != "estate" or estate_id is None:
        raise Invalid({"estate_id": N_("Choose one of your estates.")})
    people.require_estate(db, user["id"], estate_id)
    p = cmd.payload
    errors: dict[str, str] = {}
    try:
        tz = zone(p.get("tz"))
    except ValueError:
        errors["tz"] = N_("Unknown time zone.")
        tz = UTC
    month = str(p.get("month") or "")
    this_month = local_month(now, tz)
    try:
        parse_month(month)
        if month not in (this_month, shift_month(this_month, 1)):
            errors["month"] = N_("Plans are made for this month or the next.")
    except ValueError:
        errors["month"] = N_("Choose a month.")
    try:
        seed = seed_from(p.get("seed"), cmd.op_id)
    except ValueError:
        errors["seed"] = N_("Enter a whole number from 0 to 4294967295, or leave it empty.")
    if errors:
        raise Invalid(errors)
    plan, created = make_plan(db, estate_id, month, seed, now, tz, user["id"])
    if created:
        audit.record(db, cmd, now, "plan", "routine_plan", plan.id,
                     {"month": month, "seed": seed, "households": plan.households,
                      "samplers": plan.samplers})
        notifications.routine_published(db, cmd, plan.id, estate_id, month, now)
    return {"plan_id": plan.id, "estate_id": estate_id, "month": plan.month,
            "seed": plan.seed, "created": created}
