"""Stored files (domain/files.py, access.py): concurrent stores, who sent what, removing
files no record holds, and who may read or attach a stored file."""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import timedelta

import pytest

from sync import Invalid
from webapp.auth import utcnow
from webapp.db import connect, migrate
from webapp.domain import access, files, people, places

from .conftest import NOW
from .fileflow import (
    ORIGIN,
    SHA,
    image,
    store,
)
from .jobflow import job_in, new_job, run, step, uid

# --- Storing ------------------------------------------------------------------------------

def test_two_stores_of_the_same_bytes_at_once_both_succeed_and_leave_one_whole_file(tmp_path):
    path = str(tmp_path / "t.db")
    setup = connect(path)
    migrate(setup)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.close()
    files_dir = tmp_path / "files"
    for round_ in range(10):
        # Big enough that the writes overlap; files.store takes the bytes as given.
        data = bytes([round_]) * 4_000_000
        barrier, results, errors = threading.Barrier(4), [], []

        def write(data=data, barrier=barrier, results=results, errors=errors):
            db = connect(path)
            try:
                barrier.wait()
                results.append(files.store(db, str(files_dir), data, "image/png", NOW))
            except Exception as exc:  # reported below, not lost in the thread
                errors.append(exc)
            finally:
                db.close()

        threads = [threading.Thread(target=write) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        sha = hashlib.sha256(data).hexdigest()
        assert results == [sha] * 4
        assert files.path_for(str(files_dir), sha).read_bytes() == data
    check = connect(path)
    assert check.execute("SELECT count(*) FROM files").fetchone()[0] == 10
    assert [p.name for p in files_dir.rglob("*") if p.is_file() and "tmp" in p.name] == []


def test_a_store_writes_a_temporary_file_of_its_own(tmp_path, db, monkeypatch):
    """Two writers of the same bytes never share a temporary name (the second once found
    the first's renamed away and failed)."""
    names = []
    real = files.os.replace

    def replace(src, dst):
        names.append(str(src))
        real(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    data = image()
    target = files.path_for(str(tmp_path), hashlib.sha256(data).hexdigest())
    files.store(db, str(tmp_path), data, "image/jpeg", NOW)
    target.unlink()  # as if the first were still writing: the second writes too
    files.store(db, str(tmp_path), data, "image/jpeg", NOW)
    assert len(names) == 2 and names[0] != names[1]
    assert target.read_bytes() == data


def test_a_store_records_every_user_who_sent_the_bytes(db, tmp_path):
    data = image()
    sha = store(db, tmp_path, data, "tech")
    store(db, tmp_path, data, "tech2")
    store(db, tmp_path, data, "tech")
    assert db.execute("SELECT uploaded_by FROM files WHERE sha256 = ?", [sha]).fetchone()[0] \
        == uid(db, "tech")
    assert files.uploaded_by(db, uid(db, "tech2"), sha)
    assert not files.uploaded_by(db, uid(db, "guard"), sha)


# --- Removing what no record holds ---------------------------------------------------------

def every_kind_of_record(db, tmp_path) -> dict[str, str]:
    """One record of every kind that holds files, each with its own file; by kind."""
    held: dict[str, str] = {}

    def photo(key: str, username: str, fmt="JPEG") -> str:
        held[key] = store(db, tmp_path, image(fmt, colour=(len(held) * 20, 40, 90)), username)
        return held[key]

    out = run(db, "desk", "job.create", "job:new", estate_id=1, unit_id=1,
              reporter_name="陈", reporter_phone="13800000000", source="phone",
              category="plumbing", job_class="small", description="漏水",
              photos=[photo("intake", "desk")])
    assert out.status == "applied", out.result
    job = job_in(db, "completed")
    step(db, job, "job.complete", {"work_done": "换阀门", "photos": [photo("done", "tech")]})
    signed = step(db, job, "job.signoff", {"outcome": "signed", "signer_name": "陈",
                                           "signature_image": photo("sign", "tech", "PNG")})
    assert signed.status == "applied", signed.result
    closed = job_in(db, "closed")
    (task,) = db.query("SELECT id FROM callback_tasks WHERE source = 'job' AND source_id = ?",
                       [closed])
    called = run(db, "desk", "callback.record", f"callback:{task['id']}", method="visit",
                 reached="1", ratings={"overall": 5}, signer_name="陈",
                 signature_image=photo("callback", "desk", "PNG"))
    assert called.status == "applied", called.result
    made = run(db, "desk", "complaint.create", "complaint:new", estate_id=1, unit_id=5,
               complainant_name="黄女士", contact="13700000000", channel="phone",
               identity="owner", category="cleaning", level="minor", content="垃圾",
               photos=[photo("complaint", "desk")])
    assert made.status == "applied", made.result
    seen = run(db, "supervisor", "complaint.investigate",
               f"complaint:{made.result['complaint_id']}", note="看过",
               photos=[photo("evidence", "supervisor")])
    assert seen.status == "applied", seen.result
    area = db.execute("SELECT id FROM common_areas WHERE estate_id = 1").fetchone()[0]
    fb = run(db, "cleaner", "feedback.create", "feedback:new", place=f"area:{area}",
             category="litter", note="垃圾", photos=[photo("feedback", "cleaner")])
    assert fb.status == "applied", fb.result
    place = places.get_place(db, "area", 2)
    from webapp.domain import inspections

    template = inspections.template_for(db, place)
    items = inspections.items(db, template["id"])
    results = {str(i["id"]): {"result": "pass", "photos": []} for i in items}
    results[str(items[0]["id"])]["photos"] = [photo("inspection", "supervisor")]
    visit = run(db, "supervisor", "inspection.record", "area:2",
                template_id=str(template["id"]), items=[str(i["id"]) for i in items],
                results=results, visited_at="")
    assert visit.status == "applied", visit.result
    token = places.live_tokens(db, {("unit", 1): ""})[("unit", 1)]
    public = run(db, "desk", "public.report", "place:unit:1", token=token,
                 description="楼道灯不亮", phone="13800001111", name="", remote_addr="1.2.3.4",
                 stamp=uuid.uuid4().hex, stamp_issued=NOW.isoformat(),
                 photos=[photo("public", "desk")])
    assert public.status == "applied", public.result
    return held


def hashes_in_records(db) -> set[str]:
    """Every stored file's hash found anywhere in the database but the files' own tables
    and the command log (what was sent, not a record anyone reads)."""
    stored = {r[0] for r in db.execute("SELECT sha256 FROM files")}
    found: set[str] = set()
    for table in db.table_names():
        if table in ("files", "file_uploads", "commands") or table.startswith("job_search"):
            continue
        for row in db.execute(f"SELECT * FROM [{table}]"):
            for value in row:
                if isinstance(value, str):
                    found |= set(SHA.findall(value)) & stored
    return found


def test_prune_removes_only_files_no_record_holds_after_a_day(db, tmp_path):
    held = every_kind_of_record(db, tmp_path)
    in_records = hashes_in_records(db)
    assert set(held.values()) <= in_records  # every kind of record was built with its file
    orphan = store(db, tmp_path, image(colour="orange"), "tech")
    young = store(db, tmp_path, image(colour="purple"), "tech", now=NOW + timedelta(days=1))
    later = NOW + timedelta(days=1, hours=1)
    assert files.prune(db, str(tmp_path), later) == 1
    left = {r[0] for r in db.execute("SELECT sha256 FROM files")}
    assert in_records <= left and young in left and orphan not in left
    assert not files.path_for(str(tmp_path), orphan).exists()
    for sha in in_records:
        assert files.path_for(str(tmp_path), sha).exists()
    assert not files.uploaded_by(db, uid(db, "tech"), orphan)


def test_prune_runs_from_the_cli(app, runner):
    db = connect(app.config["DATABASE"])
    orphan = files.store(db, app.config["FILES_DIR"], image(), "image/jpeg",
                         utcnow() - timedelta(days=2))
    result = runner.invoke(args=["prune-files"])
    assert result.exit_code == 0 and "1" in result.output
    assert files.missing(db, [orphan]) == [orphan]


def test_uploads_prune_at_most_hourly(app, client, auth):
    db = connect(app.config["DATABASE"])
    old = utcnow() - timedelta(days=2)
    first = files.store(db, app.config["FILES_DIR"], image(colour="red"), "image/jpeg", old)
    auth.login("tech")
    photo = image(colour="blue")
    client.put(f"/sync/files/{hashlib.sha256(photo).hexdigest()}", data=photo, headers=ORIGIN)
    assert files.missing(db, [first]) == [first]  # the upload pruned
    second = files.store(db, app.config["FILES_DIR"], image(colour="gray"), "image/jpeg", old)
    photo = image(colour="pink")
    client.put(f"/sync/files/{hashlib.sha256(photo).hexdigest()}", data=photo, headers=ORIGIN)
    assert files.missing(db, [second]) == []  # not again within the hour


# --- Who may read a file, and attach one ----------------------------------------------------

def reader(db, username):
    user = people.get_user(db, uid(db, username))
    return user, people.estate_ids(db, user["id"])


def readable(db, username, sha) -> bool:
    user, estates = reader(db, username)
    return access.readable_file(db, user, estates, sha) is not None


def test_a_file_is_read_only_through_a_record_the_user_may_read(db, tmp_path):
    held = every_kind_of_record(db, tmp_path)
    assert readable(db, "desk", held["complaint"]) and readable(db, "desk", held["intake"])
    # Complaint evidence is not for field roles, even in their estate.
    for field in ("tech", "guard", "cleaner"):
        assert not readable(db, field, held["complaint"])
        assert not readable(db, field, held["evidence"])
    # A job's photos: its technician, not a colleague of another department.
    assert readable(db, "tech", held["done"]) and not readable(db, "cleaner", held["done"])
    # Feedback: the sender and the desk, not another sender.
    assert readable(db, "cleaner", held["feedback"]) and readable(db, "desk", held["feedback"])
    assert not readable(db, "guard", held["feedback"])
    # Another estate never.
    for sha in held.values():
        assert not readable(db, "desk2", sha) and not readable(db, "tech3", sha)


def test_attaching_a_known_hash_needs_having_sent_it_or_reading_a_record_with_it(db, tmp_path):
    held = every_kind_of_record(db, tmp_path)
    garage = db.execute("SELECT id FROM common_areas WHERE estate_id = 2").fetchone()[0]
    # 锦绣家园's technician cannot hang 翠湖花园's photo on his own feedback to read it.
    with pytest.raises(Invalid) as refused:
        run(db, "tech3", "feedback.create", "feedback:new", place=f"area:{garage}",
            category="other", note="", photos=[held["done"]])
    assert "photos" in refused.value.errors
    user, estates = reader(db, "tech3")
    assert access.readable_file(db, user, estates, held["done"]) is None
    # The desk reads the job holding it, so may put it on a complaint.
    ok = run(db, "desk", "complaint.create", "complaint:new", estate_id=1, unit_id=5,
             complainant_name="黄女士", contact="13700000000", channel="phone",
             identity="owner", category="cleaning", level="minor", content="同上",
             photos=[held["done"]])
    assert ok.status == "applied"
    # A guard may not put the complaint's evidence on a new job's completion.
    job = new_job(db)
    step(db, job, "job.dispatch", {"to": f"user:{uid(db, 'tech2')}"})
    step(db, job, "job.accept", username="tech2")
    step(db, job, "job.arrive", username="tech2")
    with pytest.raises(Invalid):
        step(db, job, "job.complete", {"work_done": "x", "photos": [held["evidence"]]},
             username="tech2")


def test_a_batch_item_with_someone_elses_hash_needs_the_file_itself(app, client, auth):
    """Knowing a hash is not enough: the item is answered "upload" (send the file) until
    this user has sent the bytes, whether the server lacks the file (pruned) or holds it
    from someone else; then the same item applies. Nothing says the file is stored."""
    db = connect(app.config["DATABASE"])
    data = image(colour="red")
    theirs = files.store(db, app.config["FILES_DIR"], data, "image/jpeg", utcnow(),
                         uid(db, "tech"))
    auth.login("tech3")
    garage = db.execute("SELECT id FROM common_areas WHERE estate_id = 2").fetchone()[0]
    item = {"op_id": str(uuid.uuid4()), "kind": "feedback.create", "target": "feedback:new",
            "queued": True, "device_time": utcnow().isoformat() + "Z",
            "fields": {"place": f"area:{garage}", "category": "other", "note": "",
                       "photos": [theirs]}}
    body = {"device_id": "p", "sent_at": utcnow().isoformat() + "Z", "commands": [item]}
    (result,) = client.post("/sync/batch", json=body, headers=ORIGIN).json["results"]
    assert (result["status"], result["files"]) == ("upload", [theirs])
    missing = hashlib.sha256(image(colour="blue")).hexdigest()
    item2 = {**item, "op_id": str(uuid.uuid4()),
             "fields": {**item["fields"], "photos": [missing]}}
    (result,) = client.post("/sync/batch", json={**body, "commands": [item2]},
                            headers=ORIGIN).json["results"]
    assert (result["status"], result["files"]) == ("upload", [missing])
    assert client.put(f"/sync/files/{theirs}", data=data, headers={
        **ORIGIN, "Content-Type": "image/jpeg"}).status_code in (200, 201)
    (result,) = client.post("/sync/batch", json=body, headers=ORIGIN).json["results"]
    assert result["status"] == "applied"


def test_sync_files_answers_only_about_the_users_own_or_readable_files(app, client, auth):
    db = connect(app.config["DATABASE"])
    theirs = files.store(db, app.config["FILES_DIR"], image(colour="red"), "image/jpeg",
                         utcnow(), uid(db, "tech"))
    auth.login("tech3")
    assert client.get(f"/sync/files/{theirs}", headers=ORIGIN).status_code == 404
    assert client.head(f"/sync/files/{theirs}", headers=ORIGIN).status_code == 404
    auth.logout()
    auth.login("tech")
    assert client.head(f"/sync/files/{theirs}", headers=ORIGIN).status_code == 200
