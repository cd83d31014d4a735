"""Signed records (domain/records.py): sealed with the records key, checked against the
rows as they are now; a reopen keeps the visit it ends. In-memory DB, pinned `now`."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from PIL import Image
from sqlite_utils import Database

from webapp import create_app
from webapp.db import connect, pool
from webapp.domain import callbacks, files, jobs, record_checks, records
from webapp.domain.jobs import get_job, signed_record_hash
from webapp.migrations import migrations

from .conftest import NOW, RECORDS_KEY
from .jobflow import job_in, run, step, uid
from .pages import Page


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def files_dir(tmp_path):
    return tmp_path / "files"


def signed_job(db, files_dir, photo: bool = True) -> tuple[int, dict]:
    """A job done with a photo and signed by the resident with a drawn signature."""
    job_id = job_in(db, "arrived")
    photos = [files.store(db, str(files_dir), png("blue"), "image/png", NOW,
                          uid(db, "tech"))] if photo else []
    assert step(db, job_id, "job.complete", {"work_done": "换了阀门", "photos": photos}
                ).status == "applied"
    image = files.store(db, str(files_dir), png("white"), "image/png", NOW, uid(db, "tech"))
    out = step(db, job_id, "job.signoff", {"outcome": "signed", "signer_name": "陈小明",
                                           "signature_image": image, "strokes": "[]"})
    assert out.status == "applied", out.result
    return job_id, signature(db, job_id)


def signature(db, job_id: int) -> dict:
    return next(db.query("SELECT * FROM signatures WHERE job_id = ? ORDER BY id DESC LIMIT 1",
                         [job_id]))


def check(db, sig_id: int, files_dir=None) -> record_checks.Check:
    sig = next(db.query("SELECT * FROM signatures WHERE id = ?", [sig_id]))
    return record_checks.check_signature(db, RECORDS_KEY, sig, files_dir)


def recompute_plain_hash(db, job_id: int, sig_id: int) -> None:
    """What an editor of the database could do before: rewrite the plain hash."""
    job, sig = get_job(db, job_id), signature(db, job_id)
    photos = [r[0] for r in db.execute("SELECT sha256 FROM job_photos WHERE job_id = ?",
                                       [job_id])]
    plain = signed_record_hash(job, photos, sig["signer_name"], sig["signed_at"])
    db.execute("UPDATE signatures SET record_hash = ? WHERE id = ?", [plain, sig_id])


def test_a_signed_job_is_sealed_and_verifies(db, files_dir):
    job_id, sig = signed_job(db, files_dir)
    content = json.loads(sig["snapshot"])
    assert content["job"]["source"] == "phone" and content["job"]["received_by"]
    assert content["signoff"]["image_sha256"] == sig["image_sha256"]
    assert content["visit"]["arrived_at"] and content["visit"]["work_done"] == "换了阀门"
    assert len(content["photos"]) == 1
    assert sig["record_hash"] == "v2:" + records.mac(RECORDS_KEY, sig["snapshot"])
    result = check(db, sig["id"], files_dir)
    assert (result.status, result.changed) == ("verified", [])


# Each field the resident signed for that the old hash left out (or kept), edited in the
# database: the check names it, whatever plain hash is written beside it.
EDITS = [
    ("UPDATE jobs SET source = 'walk_in' WHERE id = :job", "job.source"),
    ("UPDATE jobs SET received_by = NULL WHERE id = :job", "job.received_by"),
    ("UPDATE jobs SET description = '没事' WHERE id = :job", "job.description"),
    ("UPDATE jobs SET work_done = '没修' WHERE id = :job", "visit.work_done"),
    ("UPDATE jobs SET arrived_at = '2026-11-10T08:00:00' WHERE id = :job", "visit.arrived_at"),
    ("UPDATE signatures SET outcome = 'refused' WHERE id = :sig", "signoff.outcome"),
    ("UPDATE signatures SET signer_name = '别人' WHERE id = :sig", "signoff.signer_name"),
    ("UPDATE job_notes SET text = '改过' WHERE job_id = :job", "notes"),
    ("DELETE FROM job_photos WHERE job_id = :job", "photos"),
]


@pytest.mark.parametrize("sql, field", EDITS)
def test_an_edit_with_the_plain_hash_recomputed_is_reported(db, files_dir, sql, field):
    job_id, sig = signed_job(db, files_dir)
    db.execute(sql, {"job": job_id, "sig": sig["id"]})
    result = check(db, sig["id"])
    assert not result.ok and field in result.changed
    recompute_plain_hash(db, job_id, sig["id"])
    result = check(db, sig["id"])
    assert not result.ok and field in result.changed


def test_a_snapshot_rewritten_without_the_key_breaks_the_seal(db, files_dir):
    job_id, sig = signed_job(db, files_dir)
    db.execute("UPDATE jobs SET work_done = '没修' WHERE id = ?", [job_id])
    forged = json.loads(sig["snapshot"])
    forged["visit"]["work_done"] = "没修"
    text = records.canonical(forged)
    for guess in ("v2:" + hashlib.sha256(text.encode()).hexdigest(),
                  "v2:" + records.mac("another key", text)):
        db.execute("UPDATE signatures SET snapshot = ?, record_hash = ? WHERE id = ?",
                   [text, guess, sig["id"]])
        result = check(db, sig["id"])
        assert result.status == "seal_broken" and result.changed == ["seal"]


def test_a_seal_is_worked_out_once_per_stored_record_and_edits_still_show(db, files_dir,
                                                                          monkeypatch):
    """A job page checks its sign-offs on every view: the seal (an HMAC) and the parsed
    snapshot are kept per (key, snapshot, hash), the rows are read every time, and a
    rewritten hash or snapshot is checked afresh."""
    job_id, sig = signed_job(db, files_dir)
    assert check(db, sig["id"]).status == "verified"
    macs = []
    mac = records.mac
    monkeypatch.setattr(records, "mac", lambda key, text: macs.append(text) or mac(key, text))
    assert check(db, sig["id"]).status == "verified"
    assert macs == []
    db.execute("UPDATE jobs SET work_done = '没修' WHERE id = ?", [job_id])
    result = check(db, sig["id"])
    assert result.status == "changed" and "visit.work_done" in result.changed
    db.execute("UPDATE signatures SET record_hash = ? WHERE id = ?",
               ["v2:" + "0" * 64, sig["id"]])
    assert check(db, sig["id"]).status == "seal_broken"
    assert len(macs) == 1


def test_a_swapped_signature_image_is_reported(db, files_dir):
    job_id, sig = signed_job(db, files_dir)
    other = files.store(db, str(files_dir), png("black"), "image/png", NOW, uid(db, "tech"))
    db.execute("UPDATE signatures SET image_sha256 = ? WHERE id = ?", [other, sig["id"]])
    assert "signoff.image_sha256" in check(db, sig["id"], files_dir).changed
    db.execute("UPDATE signatures SET image_sha256 = ? WHERE id = ?",
               [sig["image_sha256"], sig["id"]])
    assert check(db, sig["id"], files_dir).ok
    # The same name, other bytes: the file itself swapped on disk.
    files.path_for(str(files_dir), sig["image_sha256"]).write_bytes(png("black"))
    result = check(db, sig["id"], files_dir)
    assert result.status == "changed" and result.changed == ["signature_image_file"]


def test_a_reopen_keeps_the_first_visit_and_its_signature(db, files_dir):
    job_id, sig = signed_job(db, files_dir)
    first = get_job(db, job_id)
    assert step(db, job_id, "job.reopen").status == "applied"
    assert get_job(db, job_id)["arrived_at"] is None
    assert jobs.latest_signature(db, job_id) is None  # the new visit has none yet
    [visit] = jobs.visits(db, job_id)
    assert visit["visit"] == 1 and visit["signature_id"] == sig["id"]
    assert (visit["arrived_at"], visit["completed_at"], visit["work_done"]) == (
        first["arrived_at"], first["completed_at"], "换了阀门")
    assert visit["signer_name"] == "陈小明" and visit["reopened_at"] == NOW.isoformat()
    assert check(db, sig["id"], files_dir).status == "verified"
    # The second visit: new photo, new work, signed again; both records hold.
    for kind in ("job.accept", "job.arrive"):
        assert step(db, job_id, kind).status == "applied"
    later = files.store(db, str(files_dir), png("red"), "image/png", NOW, uid(db, "tech"))
    assert step(db, job_id, "job.complete", {"work_done": "重新换了", "photos": [later]}
                ).status == "applied"
    assert step(db, job_id, "job.signoff").status == "applied"
    second = signature(db, job_id)
    assert jobs.latest_signature(db, job_id)["id"] == second["id"]
    assert [c.status for c in record_checks.check_job(db, RECORDS_KEY, job_id, files_dir).values()
            ] == ["verified", "verified"]
    assert json.loads(second["snapshot"])["visit"]["number"] == 2
    # The history row is part of what the first signature covers.
    db.execute("UPDATE job_visits SET arrived_at = NULL WHERE job_id = ?", [job_id])
    assert check(db, sig["id"]).changed == ["visit.arrived_at"]


def test_a_callback_record_is_sealed_and_checked(db, files_dir):
    task = next(db.query("SELECT * FROM callback_tasks WHERE source = 'job' AND source_id = ?",
                         [job_in(db, "closed")]))
    image = files.store(db, str(files_dir), png("white"), "image/png", NOW, uid(db, "desk"))
    out = run(db, "desk", "callback.record", f"callback:{task['id']}", method="visit",
              reached="1", ratings={"overall": 5}, signer_name="陈", signature_image=image,
              comments="满意")
    assert out.status == "applied", out.result
    rec = next(db.query("SELECT * FROM callback_records WHERE id = ?",
                        [out.result["record_id"]]))
    assert record_checks.check_callback(db, RECORDS_KEY, rec, files_dir).status == "verified"
    db.execute("UPDATE callback_records SET comments = '不满意' WHERE id = ?", [rec["id"]])
    rec = next(db.query("SELECT * FROM callback_records WHERE id = ?", [rec["id"]]))
    result = record_checks.check_callback(db, RECORDS_KEY, rec, files_dir)
    assert result.status == "changed" and result.changed == ["callback.comments"]
    [found] = [c for c in record_checks.verify_all(db, RECORDS_KEY) if c.kind == "callback"
               and c.record_id == rec["id"]]
    assert not found.ok


def test_a_deleted_record_is_reported_from_the_audit_log(db, files_dir):
    job_id, sig = signed_job(db, files_dir)
    assert record_checks.missing(db) == []
    # The callback the signature counted as points at it: let go first, as a forger would.
    db.execute("UPDATE callback_records SET signature_id = NULL WHERE signature_id = ?",
               [sig["id"]])
    db.execute("DELETE FROM signatures WHERE id = ?", [sig["id"]])
    [gone] = record_checks.missing(db)
    assert (gone.status, gone.label) == ("missing", get_job(db, job_id)["number"])
    assert not gone.ok and gone in record_checks.verify_all(db, RECORDS_KEY)


def test_the_demo_verifies(db):
    checks = record_checks.verify_all(db, RECORDS_KEY)
    assert checks and all(c.status == "verified" for c in checks)
    assert not any(c.ok for c in record_checks.verify_all(db, "another key"))


def legacy_db() -> tuple[Database, int, int]:
    """A database signed before sealing: a job and a callback with plain hashes, then
    migrated to sealed records."""
    db = Database(memory=True)
    db.execute("PRAGMA foreign_keys=ON")
    records.use_key(db, RECORDS_KEY)
    migrations.apply(db, stop_before="0014_signed_records")
    db["estates"].insert({"id": 1, "code": "CH", "name": "翠湖花园"})
    job = {"id": 1, "number": "J1", "estate_id": 1, "unit_id": None, "reporter_name": "陈",
           "reporter_phone": "13800000000", "source": "phone", "category": "plumbing",
           "department": "maintenance", "job_class": "small", "description": "漏水",
           "status": "closed", "received_at": "2026-01-01T00:00:00", "work_done": "修好",
           "arrived_at": "2026-01-01T01:00:00", "completed_at": "2026-01-01T02:00:00",
           "updated_at": "2026-01-01T02:00:00", "rework_count": 0}
    db["jobs"].insert(job)
    db["signatures"].insert({
        "id": 1, "job_id": 1, "signer_name": "", "outcome": "absent", "reason": "不在家",
        "signed_at": "2026-01-01T02:05:00", "op_id": "a",
        "record_hash": signed_record_hash(job, [], "", "2026-01-01T02:05:00")})
    task = {"id": 1, "estate_id": 1, "kind": "information", "source": "job", "source_id": 1,
            "unit_id": None,
            "created_at": "x", "due_at": "x", "latest_at": "x", "status": "done"}
    db["callback_tasks"].insert(task)
    row = {"method": "phone", "reached": 1, "ratings": {"overall": 5}, "comments": "好",
           "signer_name": "", "signature_sha256": None, "at": "2026-01-02T00:00:00",
           "user_id": None}
    db["callback_records"].insert({
        "id": 1, "task_id": 1, **row, "ratings": json.dumps(row["ratings"]), "op_id": "b",
        "record_hash": callbacks.record_hash(task, row)})
    migrations.apply(db)
    return db, 1, 1


def test_records_signed_before_sealing_verify_as_old_format():
    db, sig_id, rec_id = legacy_db()
    assert [(c.kind, c.status) for c in record_checks.verify_all(db, RECORDS_KEY)] == [
        ("job", "old_format"), ("callback", "old_format")]
    db.execute("UPDATE jobs SET work_done = '没修' WHERE id = 1")
    db.execute("UPDATE callback_records SET comments = '差' WHERE id = 1")
    assert [(c.status, c.changed) for c in record_checks.verify_all(db, RECORDS_KEY)] == [
        ("changed", ["record"]), ("changed", ["record"])]


def test_a_plain_hash_after_sealing_began_is_no_old_format():
    """A forger who writes a new row, or moves the cut-off, with the old keyless hash."""
    db, _sig, _rec = legacy_db()
    job = get_job(db, 1)
    db["signatures"].insert({
        "id": 2, "job_id": 1, "signer_name": "", "outcome": "absent", "reason": "不在家",
        "signed_at": "2026-01-03T00:00:00", "op_id": "c",
        "record_hash": signed_record_hash(job, [], "", "2026-01-03T00:00:00")})
    assert [c.status for c in record_checks.verify_all(db, RECORDS_KEY)][:2] == [
        "old_format", "seal_broken"]
    db.execute("UPDATE records_legacy SET last_id = 2 WHERE kind = 'job'")
    assert [c.status for c in record_checks.verify_all(db, RECORDS_KEY)][:2] == [
        "seal_broken", "seal_broken"]


def test_sealing_needs_the_key_on_the_connection(db):
    bare = Database(memory=True)
    with pytest.raises(RuntimeError):
        records.seal(bare, "{}")
    assert records.seal(db, "{}") == "v2:" + records.mac(RECORDS_KEY, "{}")
    assert uid(db, "tech")  # the fixture's connection carries the key


# --- the command and the pages ---------------------------------------------------------


def signed_demo_job(app) -> tuple[int, str]:
    db = connect(app.config["DATABASE"])
    try:
        row = next(db.query("SELECT j.id, j.number FROM jobs j JOIN signatures s"
                            " ON s.job_id = j.id WHERE j.status = 'closed' ORDER BY j.id"))
        return row["id"], row["number"]
    finally:
        db.close()


def edit(app, sql: str, params: list) -> None:
    """Someone with the database file alone (no records key) changes a row."""
    db = connect(app.config["DATABASE"])
    try:
        db.execute(sql, params)
        db.conn.commit()
    finally:
        db.close()


def test_verify_records_passes_on_the_demo_and_names_an_edit(app, runner):
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 0, result.output
    job_id, number = signed_demo_job(app)
    edit(app, "UPDATE jobs SET work_done = '没修' WHERE id = ?", [job_id])
    result = runner.invoke(args=["verify-records"])
    assert result.exit_code == 1
    [line] = [x for x in result.output.splitlines() if number in x]
    assert "visit.work_done" in line
    # In Chinese throughout: the field's name with its code in full-width brackets.
    assert "（visit.work_done）" in line and "job " not in line


def test_the_job_page_says_verified_only_while_the_check_passes(app, client, auth):
    auth.login("desk")
    job_id, _number = signed_demo_job(app)
    page = Page(client.get(f"/jobs/{job_id}").get_data(as_text=True))
    assert [d["data-record-check"] for d in page.data if "data-record-check" in d] == [
        "verified"]
    edit(app, "UPDATE jobs SET source = CASE source WHEN 'phone' THEN 'letter' ELSE 'phone' END"
              " WHERE id = ?", [job_id])
    page = Page(client.get(f"/jobs/{job_id}").get_data(as_text=True))
    assert [d["data-record-check"] for d in page.data if "data-record-check" in d] == [
        "changed"]
    assert [d["data-changed"] for d in page.data if "data-changed" in d] == ["job.source"]


def test_a_restore_under_another_records_key_says_the_records_do_not_verify(
        app, runner, tmp_path):
    backed = runner.invoke(args=["backup", str(tmp_path / "bk")])
    assert backed.exit_code == 0 and "records_key" in backed.output
    for key, fails in ((RECORDS_KEY, False), ("another key", True)):
        target = create_app({"TESTING": True, "SECRET_KEY": "test", "RECORDS_KEY": key,
                             "DATABASE": str(tmp_path / key / "wuye.db"),
                             "FILES_DIR": str(tmp_path / key / "files")})
        try:
            done = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
        finally:
            pool(target).close()
        assert done.exit_code == 0, done.output
        assert ("flask verify-records" in done.output) is fails


def test_blanking_a_callback_records_hash_does_not_take_it_out_of_the_check(db, files_dir):
    task = next(db.query("SELECT * FROM callback_tasks WHERE source = 'job' AND source_id = ?",
                         [job_in(db, "closed")]))
    out = run(db, "desk", "callback.record", f"callback:{task['id']}", method="phone",
              reached="1", ratings={"overall": 5}, comments="满意")
    assert out.status == "applied", out.result
    db.execute("UPDATE callback_records SET comments = '不满意', record_hash = ''"
               " WHERE id = ?", [out.result["record_id"]])
    [found] = [c for c in record_checks.verify_all(db, RECORDS_KEY) if c.kind == "callback"
               and c.record_id == out.result["record_id"]]
    assert not found.ok


def test_a_callback_image_sent_with_no_visit_is_not_attached(db, files_dir):
    task = next(db.query("SELECT * FROM callback_tasks WHERE source = 'job' AND source_id = ?",
                         [job_in(db, "closed")]))
    other = files.store(db, str(files_dir), png("black"), "image/png", NOW, uid(db, "tech"))
    out = run(db, "desk", "callback.record", f"callback:{task['id']}", method="phone",
              reached="0", signature_image=other)
    assert out.status == "applied", out.result
    assert db.execute("SELECT signature_sha256 FROM callback_records WHERE id = ?",
                      [out.result["record_id"]]).fetchone() == (None,)


def test_the_ratings_given_at_sign_off_are_the_callbacks_sealed_and_linked(db, files_dir):
    job_id = job_in(db, "arrived")
    assert step(db, job_id, "job.complete", {"work_done": "换了阀门", "photos": []}
                ).status == "applied"
    image = files.store(db, str(files_dir), png("white"), "image/png", NOW, uid(db, "tech"))
    out = step(db, job_id, "job.signoff", {
        "outcome": "signed", "signer_name": "陈小明", "signature_image": image,
        "strokes": "[]", "ratings": {"overall": "5", "quality": "3"}})
    assert out.status == "applied", out.result
    sig = signature(db, job_id)
    task = next(db.query("SELECT * FROM callback_tasks WHERE source = 'job' AND "
                         "source_id = ?", [job_id]))
    assert task["status"] == "done"
    rec = next(db.query("SELECT * FROM callback_records WHERE task_id = ?", [task["id"]]))
    assert (rec["method"], rec["signer_name"], rec["signature_sha256"], rec["signature_id"]
            ) == ("signature", "陈小明", image, sig["id"])
    # Quality "neutral": not satisfied, and it enters the figures as such.
    assert json.loads(rec["ratings"]) == {"overall": 5, "quality": 3} and rec["satisfied"] == 0
    assert rec["user_id"] == uid(db, "tech")
    assert record_checks.check_callback(db, RECORDS_KEY, rec).status == "verified"
    # Changing a rating afterwards shows.
    db.execute("UPDATE callback_records SET ratings = ? WHERE id = ?",
               ['{"overall": 5, "quality": 5}', rec["id"]])
    rec = next(db.query("SELECT * FROM callback_records WHERE id = ?", [rec["id"]]))
    assert record_checks.check_callback(db, RECORDS_KEY, rec).changed == [
        "callback.ratings.quality"]


def test_a_sign_off_without_a_rating_keeps_its_signature(db, files_dir):
    # Offline the sign-off is checked only once the signal is back: a rating left out
    # must not cost the resident's signature.
    job_id = job_in(db, "arrived")
    step(db, job_id, "job.complete", {"work_done": "换了阀门", "photos": []})
    image = files.store(db, str(files_dir), png("white"), "image/png", NOW, uid(db, "tech"))
    out = step(db, job_id, "job.signoff", {"outcome": "signed", "signer_name": "陈小明",
                                           "signature_image": image})
    assert out.status == "applied" and signature(db, job_id)["image_sha256"] == image
    rec = next(db.query("SELECT r.* FROM callback_records r JOIN callback_tasks t ON "
                        "t.id = r.task_id WHERE t.source = 'job' AND t.source_id = ?",
                        [job_id]))
    assert rec["ratings"] == "{}" and rec["satisfied"] is None
