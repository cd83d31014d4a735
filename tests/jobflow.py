"""Helpers to drive a job through the command path in domain tests."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sync
from webapp.domain.handlers import HANDLERS

from .conftest import NOW


def uid(db, username: str) -> int:
    return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]


def run(db, username, kind, target, now=NOW, op_id=None, **payload) -> sync.Outcome:
    cmd = sync.Command(op_id=op_id or str(uuid.uuid4()), kind=kind, target=target,
                       payload=payload, user_id=uid(db, username), device_id="test")
    return sync.apply(db, cmd, HANDLERS, now)


def status(db, job_id: int) -> str:
    return db.execute("SELECT status FROM jobs WHERE id = ?", [job_id]).fetchone()[0]


def new_job(db, job_class="small", category="plumbing") -> int:
    out = run(db, "desk", "job.create", "job:new", estate_id=1, unit_id=1,
              reporter_name="陈", reporter_phone="13800000000", source="phone",
              category=category, job_class=job_class, description="水龙头漏水", photos=[])
    assert out.status == "applied", out.result
    return out.result["job_id"]


# Valid payloads and actors for each step.
STEPS = {
    "job.dispatch": ("desk", lambda db: {"to": f"user:{uid(db, 'tech')}"}),
    "job.reassign": ("desk", lambda db: {"to": f"user:{uid(db, 'tech2')}"}),
    "job.claim": ("tech", lambda db: {}),
    "job.accept": ("tech", lambda db: {}),
    "job.decline": ("tech", lambda db: {"reason": "不是我的片区"}),
    "job.arrive": ("tech", lambda db: {}),
    "job.pause": ("tech", lambda db: {"reason": "住户改天",
                                      "agreed_at": (NOW + timedelta(days=1)).isoformat()}),
    "job.complete": ("tech", lambda db: {"work_done": "换了阀门", "photos": []}),
    "job.signoff": ("tech", lambda db: {"outcome": "absent", "reason": "不在家"}),
    "job.reopen": ("desk", lambda db: {"reason": "还在漏"}),
    "job.cancel": ("desk", lambda db: {"reason": "误报"}),
    "job.edit": ("desk", lambda db: {"category": "plumbing", "job_class": "medium",
                                     "description": "改为中修", "unit_id": 1}),
}

# How to reach each status from a new job.
PATHS = {
    "new": [],
    "pooled": [("job.dispatch", {"to": "pool:maintenance"})],
    "assigned": ["job.dispatch"],
    "accepted": ["job.dispatch", "job.accept"],
    "arrived": ["job.dispatch", "job.accept", "job.arrive"],
    "paused": ["job.dispatch", "job.accept", "job.pause"],
    "completed": ["job.dispatch", "job.accept", "job.arrive", "job.complete"],
    "closed": ["job.dispatch", "job.accept", "job.arrive", "job.complete", "job.signoff"],
    "cancelled": ["job.cancel"],
}


def step(db, job_id, kind, payload=None, username=None, **kw) -> sync.Outcome:
    actor, make = STEPS[kind]
    return run(db, username or actor, kind, f"job:{job_id}",
               **(payload if payload is not None else make(db)), **kw)


def job_in(db, target_status: str, **new_kw) -> int:
    job_id = new_job(db, **new_kw)
    for item in PATHS[target_status]:
        kind, payload = item if isinstance(item, tuple) else (item, None)
        out = step(db, job_id, kind, payload)
        assert out.status == "applied", (kind, out.result)
    assert status(db, job_id) == target_status
    return job_id
