"""The routine plan's command: once a month, its seed recorded, bad input refused,
only the manager level."""

from __future__ import annotations

import uuid

import pytest

from webapp.domain import routine, routine_commands

from .jobflow import run, uid
from .test_routine import MONTH


def test_the_command_makes_the_plan_once_and_records_the_seed(db):
    first = run(db, "manager", "routine.plan", "estate:1", month=MONTH, seed=99,
                tz="Asia/Shanghai")
    assert first.status == "applied" and first.result["created"]
    again = run(db, "manager", "routine.plan", "estate:1", month=MONTH, seed=5,
                tz="Asia/Shanghai")
    assert again.status == "applied" and not again.result["created"]
    plan = routine.plan_for(db, 1, MONTH)
    assert plan.seed == 99 and plan.id == first.result["plan_id"] == again.result["plan_id"]
    assert plan.created_by == uid(db, "manager")
    audit = db.execute("SELECT count(*) FROM audit_log WHERE entity = 'routine_plan'").fetchone()
    assert audit[0] == 1


def test_a_command_without_a_seed_takes_one_from_its_op_id(db):
    op = str(uuid.uuid4())
    out = run(db, "manager", "routine.plan", "estate:1", op_id=op, month=MONTH)
    assert out.result["seed"] == routine_commands.seed_from(None, op)


@pytest.mark.parametrize("payload, field", [
    ({"month": "2026-13"}, "month"),
    ({"month": "2027-03"}, "month"),  # only this month or the next
    ({"month": MONTH, "seed": "abc"}, "seed"),
    ({"month": MONTH, "seed": 2**32}, "seed"),
    ({"month": MONTH, "tz": "Mars/Olympus"}, "tz"),
])
def test_the_command_refuses_bad_input(db, payload, field):
    import sync

    with pytest.raises(sync.Invalid) as exc:
        run(db, "manager", "routine.plan", "estate:1", **payload)
    assert field in exc.value.errors


def test_only_managers_and_admins_make_plans(db):
    out = run(db, "desk", "routine.plan", "estate:1", month=MONTH)
    assert out.status == "rejected" and out.result["reason"] == "forbidden"
    assert routine.plan_for(db, 1, MONTH) is None
