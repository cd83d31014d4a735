"""Property: any interleaving of duplicated, reordered and conflicting commands never
loses a fact and never applies one twice."""

import sqlite3
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

import sync
from webapp.domain import records
from webapp.domain.handlers import HANDLERS
from webapp.domain.jobs import STATUSES

from .conftest import NOW, RECORDS_KEY, copy_db
from .jobflow import job_in, uid

WORKERS = ("tech", "tech2")


def fresh(template_db) -> Database:
    conn = sqlite3.connect(":memory:")
    copy_db(template_db, conn)
    db = Database(conn)
    db.execute("PRAGMA foreign_keys=ON")
    records.use_key(db, RECORDS_KEY)
    return db


def pool_of_commands(db):
    """Commands two technicians and the desk might send about two jobs."""
    assigned = job_in(db, "assigned")  # to tech
    pooled = job_in(db, "pooled")
    cmds = []
    for job in (assigned, pooled):
        target = f"job:{job}"
        for who in WORKERS:
            def add(kind, who=who, target=target, **payload):
                cmds.append(sync.Command(op_id=str(uuid.uuid4()), kind=kind, target=target,
                                         payload=payload, user_id=uid(db, who),
                                         device_id=who, replayed=True))
            add("job.claim")
            add("job.accept")
            add("job.arrive")
            add("job.pause", reason=f"改约-{who}-{job}",
                agreed_at=(NOW + timedelta(days=1)).isoformat())
            add("job.complete", work_done=f"完工-{who}-{job}", photos=[])
            add("job.signoff", outcome="absent", reason=f"不在家-{who}-{job}")
        for kind, payload in (("job.cancel", {"reason": f"取消-{job}"}),
                              ("job.reassign", {"to": f"user:{uid(db, 'tech2')}"})):
            cmds.append(sync.Command(op_id=str(uuid.uuid4()), kind=kind, target=target,
                                     payload=payload, user_id=uid(db, "desk"), device_id="desk"))
    return cmds


FACT_FIELDS = ("work_done", "reason")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.lists(st.integers(min_value=0, max_value=27), min_size=1, max_size=40),
       minutes=st.lists(st.integers(min_value=0, max_value=600), min_size=40, max_size=40))
def test_any_interleaving_keeps_every_fact_once(template_db, order, minutes):
    db = fresh(template_db)
    pool = pool_of_commands(db)
    first: dict[str, sync.Outcome] = {}
    for n, index in enumerate(order):
        cmd = pool[index % len(pool)]
        now = NOW + timedelta(minutes=minutes[n])
        outcome = sync.apply(db, cmd, HANDLERS, now)
        if cmd.op_id in first:
            # Applied twice = the first result again, nothing more.
            assert outcome.status == "duplicate"
            assert outcome.result == first[cmd.op_id].result
        else:
            assert outcome.status in ("applied", "rejected")
            first[cmd.op_id] = outcome

    # Never applied twice: one stored command, and each record it changed changed once.
    counts = db.execute(
        "SELECT count(*) FROM audit_log WHERE action != 'flag' "
        "GROUP BY op_id, entity, entity_id, action").fetchall()
    assert all(n == 1 for (n,) in counts)
    assert db.execute("SELECT count(*) FROM commands").fetchone()[0] >= len(first)

    # Never lost: every fact a worker sent is stored once, applied or refused.
    notes = [r[0] for r in db.execute("SELECT text FROM job_notes")]
    for op_id in first:
        cmd = next(c for c in pool if c.op_id == op_id)
        for field in FACT_FIELDS:
            text = cmd.payload.get(field)
            if text and cmd.kind in ("job.complete", "job.pause"):
                assert notes.count(text) == 1, (cmd.kind, text)
        if cmd.kind == "job.signoff":
            stored = db.execute("SELECT count(*) FROM signatures WHERE op_id = ?",
                                [op_id]).fetchone()[0]
            assert stored == 1

    # A refused command that carried facts left the job flagged for the desk.
    for op_id, outcome in first.items():
        cmd = next(c for c in pool if c.op_id == op_id)
        if outcome.status == "rejected" and outcome.result.get("kept"):
            job_id = int(cmd.target.split(":")[1])
            reviewed = db.execute("SELECT flagged FROM jobs WHERE id = ?", [job_id]).fetchone()
            assert reviewed[0] == 1

    for status, in db.execute("SELECT status FROM jobs"):
        assert status in STATUSES
    closed_without_signoff = db.execute(
        "SELECT count(*) FROM jobs j WHERE status = 'closed' AND NOT EXISTS "
        "(SELECT 1 FROM signatures s WHERE s.job_id = j.id)").fetchone()[0]
    assert closed_without_signoff == 0
    db.close()
