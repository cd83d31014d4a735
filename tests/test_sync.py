"""The command path: every command applied twice has the effect of once."""

import threading
import uuid

import pytest

import sync
from webapp.db import connect
from webapp.domain.handlers import HANDLERS
from webapp.domain.jobs import TRANSITIONS

from .conftest import NOW
from .jobflow import job_in, run, step, uid

TABLES = ("jobs", "job_notes", "job_photos", "signatures", "audit_log", "commands")


def snapshot(db):
    return {t: list(db.query(f"SELECT * FROM {t} ORDER BY rowid")) for t in TABLES}


@pytest.mark.parametrize("kind, from_status",
                         [(k, sorted(froms)[0]) for k, froms in TRANSITIONS.items()])
def test_every_job_command_is_idempotent(db, kind, from_status):
    job_id = job_in(db, from_status)
    op_id = str(uuid.uuid4())
    first = step(db, job_id, kind, op_id=op_id)
    assert first.status == "applied", first.result
    before = snapshot(db)
    again = step(db, job_id, kind, op_id=op_id)
    assert again.status == "duplicate" and again.first_status == "applied"
    assert again.result == first.result
    assert snapshot(db) == before


def test_create_is_idempotent(db):
    op_id = str(uuid.uuid4())
    payload = dict(estate_id=1, unit_id=1, reporter_name="陈", reporter_phone="13800000000",
                   source="phone", category="plumbing", job_class="small", description="漏水")
    first = run(db, "desk", "job.create", "job:new", op_id=op_id, **payload)
    count = db["jobs"].count
    again = run(db, "desk", "job.create", "job:new", op_id=op_id, **payload)
    assert again.result["job_id"] == first.result["job_id"]
    assert db["jobs"].count == count


def test_a_rejection_is_remembered_too(db):
    job_id = job_in(db, "cancelled")
    op_id = str(uuid.uuid4())
    first = step(db, job_id, "job.accept", op_id=op_id)
    again = step(db, job_id, "job.accept", op_id=op_id)
    assert first.status == "rejected"
    assert again.status == "duplicate" and again.first_status == "rejected"
    assert not again.ok


def test_invalid_input_does_not_use_up_the_op_id(db):
    job_id = job_in(db, "assigned")
    op_id = str(uuid.uuid4())
    with pytest.raises(sync.Invalid):
        step(db, job_id, "job.decline", {"reason": ""}, op_id=op_id)
    assert step(db, job_id, "job.decline", {"reason": "太远"}, op_id=op_id).status == "applied"


def test_an_op_id_cannot_be_reused_by_someone_else(db):
    job_id = job_in(db, "assigned")
    op_id = str(uuid.uuid4())
    step(db, job_id, "job.accept", op_id=op_id)
    out = run(db, "desk", "job.cancel", f"job:{job_id}", op_id=op_id, reason="x")
    assert out.status == "rejected" and out.result["reason"] == "op_id_reused"


def test_malformed_op_id_and_unknown_kind_are_invalid(db):
    with pytest.raises(sync.Invalid):
        run(db, "desk", "job.cancel", "job:1", op_id="x", reason="x")
    with pytest.raises(sync.Invalid):
        run(db, "desk", "job.fly", "job:1")


def test_device_time_and_receive_time_are_both_stored(db):
    job_id = job_in(db, "assigned")
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind="job.accept", target=f"job:{job_id}",
                       payload={}, user_id=uid(db, "tech"), device_id="phone-1",
                       device_time=sync.parse_device_time("2026-11-10T08:58:00.000Z"),
                       base_version=3)
    sync.apply(db, cmd, HANDLERS, NOW)
    row = next(db.query("SELECT * FROM commands WHERE op_id = ?", [cmd.op_id]))
    assert row["device_time"] == "2026-11-10T08:58:00"
    assert row["received_at"] == NOW.isoformat()
    assert row["base_version"] == 3 and row["device_id"] == "phone-1"


def test_concurrent_double_submit_applies_once(app):
    """Two server workers receive the same command at once (a double tap)."""
    path = app.config["DATABASE"]
    setup = connect(path)
    job_id = job_in(setup, "assigned")
    op_id, results = str(uuid.uuid4()), []

    def worker():
        db = connect(path)
        results.append(step(db, job_id, "job.accept", op_id=op_id))
        db.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == ["applied", "duplicate", "duplicate",
                                                 "duplicate"]
    accepts = setup.execute("SELECT count(*) FROM audit_log WHERE entity_id = ? AND "
                            "action = 'accept'", [job_id]).fetchone()[0]
    assert accepts == 1
    setup.close()


def test_a_batch_applied_together_keeps_each_command_whole_and_once(db):
    """One transaction for a phone's batch: an invalid command in it stores nothing and
    the others go on; a refused one is kept as refused; each is applied exactly once."""
    accepted, cancelled, other = job_in(db, "assigned"), job_in(db, "cancelled"), \
        job_in(db, "assigned")
    ops = [str(uuid.uuid4()) for _ in range(3)]
    before = db["commands"].count
    with sync.together(db):
        assert db.conn.in_transaction
        assert step(db, accepted, "job.accept", op_id=ops[0]).status == "applied"
        with pytest.raises(sync.Invalid):
            run(db, "tech", "job.complete", f"job:{other}", op_id=str(uuid.uuid4()),
                work_done="")
        assert step(db, cancelled, "job.accept", op_id=ops[1]).status == "rejected"
        assert step(db, other, "job.accept", op_id=ops[2]).status == "applied"
        assert step(db, other, "job.accept", op_id=ops[2]).status == "duplicate"
    assert not db.conn.in_transaction
    assert db["commands"].count == before + 3
    assert [db["jobs"].get(j)["status"] for j in (accepted, cancelled, other)] == [
        "accepted", "cancelled", "accepted"]


def test_a_batch_stopped_by_an_error_keeps_what_was_applied_before_it(db):
    """An error (a bug, not a refusal) in the third command: the two before it are kept,
    the failing one leaves nothing, and the batch sent again applies the rest once."""
    jobs = [job_in(db, "assigned") for _ in range(4)]
    ops = [str(uuid.uuid4()) for _ in jobs]

    def broken(db_, cmd, now):
        db_.execute("UPDATE jobs SET description = 'half done' WHERE id = ?", [jobs[2]])
        raise RuntimeError("a bug in a handler")

    handlers = {**HANDLERS, "job.accept": broken}
    with pytest.raises(RuntimeError), sync.together(db):
        for n, (job_id, op_id) in enumerate(zip(jobs, ops, strict=True)):
            cmd = sync.Command(op_id=op_id, kind="job.accept", target=f"job:{job_id}",
                               user_id=uid(db, "tech"), payload={})
            sync.apply(db, cmd, handlers if n == 2 else HANDLERS, NOW)
    assert not db.conn.in_transaction
    assert [db["jobs"].get(j)["status"] for j in jobs] == ["accepted"] * 2 + ["assigned"] * 2
    assert db["jobs"].get(jobs[2])["description"] != "half done"
    with sync.together(db):
        outcomes = [step(db, j, "job.accept", op_id=o).status for j, o in zip(jobs, ops,
                                                                            strict=True)]
    assert outcomes == ["duplicate", "duplicate", "applied", "applied"]
    assert [db["jobs"].get(j)["status"] for j in jobs] == ["accepted"] * 4
