"""Uploads (domain/files.py, uploads.py, views/files.py, /sync/files): what is accepted and
how it is kept, who may read or attach a stored file, the day's quota, concurrent stores
and removing files no record holds."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import uuid
from datetime import timedelta

import pytest
from PIL import ExifTags, Image

from sync import Invalid
from webapp.auth import utcnow
from webapp.db import connect, migrate
from webapp.domain import access, files, people, places

from .conftest import NOW
from .jobflow import job_in, new_job, run, step, uid
from .pages import Page

ORIGIN = {"Origin": "http://localhost"}
SHA = re.compile(r"[0-9a-f]{64}")


def image(fmt: str = "JPEG", size=(24, 16), colour="green", mode="RGB", **save) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, colour).save(buf, fmt, **save)
    return buf.getvalue()


def camera_photo() -> bytes:
    """A landscape 3000×2000 JPEG a phone holds sideways (Orientation 6), with GPS."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Phone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.5)
    img = Image.new("RGB", (3000, 2000), "white")
    img.paste((200, 0, 0), (0, 0, 300, 2000))  # a red stripe on the left edge
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)
HTML_AS_JPEG = b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>"


def store(db, tmp_path, data: bytes, username: str | None, now=NOW) -> str:
    mime = files.image_type(data) or "image/jpeg"
    return files.store(db, str(tmp_path), data, mime, now,
                       uid(db, username) if username else None)


# --- What is accepted ---------------------------------------------------------------------

@pytest.mark.parametrize(("data", "mime"), [
    (image("JPEG"), "image/jpeg"),
    (image("PNG"), "image/png"),
    (image("WEBP"), "image/webp"),
    (WAV, None),  # RIFF, as a WebP starts
    (HTML_AS_JPEG, None),  # JPEG's first bytes, then a page
    (image("JPEG")[:-40], None),  # cut short
    (image("GIF"), None),  # an image, not one we take
    (b"\x89PNG\r\n\x1a\n" + b"x" * 50, None),
    (b"", None),
])
def test_an_upload_is_an_image_only_if_it_decodes_and_its_type_is_pillows(data, mime):
    assert files.image_type(data) == mime
    assert (files.reencode(data) is None) is (mime is None)


def test_a_decompression_bomb_is_refused_not_decoded(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert files.image_type(image("PNG", size=(30, 30))) == "image/png"  # 900 pixels
    assert files.image_type(image("PNG", size=(40, 40))) is None  # over: Pillow warns
    assert files.image_type(image("PNG", size=(100, 100))) is None  # over twice: it raises
    assert files.reencode(image("PNG", size=(100, 100))) is None


def test_a_photo_kept_by_the_server_is_upright_smaller_and_without_exif_or_gps():
    original = camera_photo()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the fixture carries GPS
    kept = files.reencode(original)
    assert kept is not None
    with Image.open(io.BytesIO(kept)) as after:
        assert after.format == "JPEG"
        assert after.size == (1067, 1600)  # turned upright, long side 1600
        assert not after.getexif() and "exif" not in after.info
        # The stripe on the left of the sensor is at the top once turned.
        assert after.getpixel((533, 20))[0] > 150 and after.getpixel((533, 1580))[1] > 150
    assert files.reencode(kept) == files.reencode(kept)  # the same bytes each time


def test_a_transparent_png_is_kept_on_white():
    kept = files.reencode(image("PNG", mode="RGBA", colour=(0, 0, 0, 0)))
    assert kept is not None
    with Image.open(io.BytesIO(kept)) as after:
        assert after.mode == "RGB" and after.getpixel((0, 0)) == (255, 255, 255)


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


def test_a_day_of_uploads_is_bounded_by_count_and_bytes(db, tmp_path):
    tech, quota = uid(db, "tech"), files.Quota(count=2, bytes=10_000)
    first, second = image(colour="red"), image(colour="blue")
    assert not files.over_quota(db, tech, "new", 100, NOW, quota)
    assert files.over_quota(db, tech, "new", 10_001, NOW, quota)  # too many bytes at once
    store(db, tmp_path, first, "tech")
    store(db, tmp_path, second, "tech")
    assert files.over_quota(db, tech, "new", 100, NOW, quota)  # a third file today
    assert not files.over_quota(db, tech, hashlib.sha256(first).hexdigest(), len(first), NOW,
                                quota)  # sending one again costs nothing
    assert not files.over_quota(db, uid(db, "tech2"), "new", 100, NOW, quota)
    assert not files.over_quota(db, tech, "new", 100, NOW + timedelta(days=1, seconds=1), quota)


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


def test_sync_put_refuses_what_does_not_decode_and_keeps_the_phones_bytes(app, client, auth):
    auth.login("tech")
    for bad in (WAV, HTML_AS_JPEG):
        response = client.put(f"/sync/files/{hashlib.sha256(bad).hexdigest()}", data=bad,
                              headers={**ORIGIN, "Accept-Language": "zh-CN"})
        assert response.status_code == 415 and response.json["error"] == "not_an_image"
    photo = image("WEBP")
    sha = hashlib.sha256(photo).hexdigest()
    assert client.put(f"/sync/files/{sha}", data=photo, headers=ORIGIN).status_code == 201
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT mime FROM files WHERE sha256 = ?", [sha]).fetchone()[0] \
        == "image/webp"
    # Not re-encoded: the outbox names it by this hash.
    assert files.path_for(app.config["FILES_DIR"], sha).read_bytes() == photo


def test_over_the_days_quota_an_upload_is_refused_with_a_message(app, client, auth):
    app.config["UPLOADS_PER_USER_DAY"] = 1
    auth.login("cleaner")
    first, second = image(colour="red"), image(colour="blue")
    assert client.put(f"/sync/files/{hashlib.sha256(first).hexdigest()}", data=first,
                      headers=ORIGIN).status_code == 201
    over = client.put(f"/sync/files/{hashlib.sha256(second).hexdigest()}", data=second,
                      headers=ORIGIN)
    assert over.status_code == 429 and over.json["error"] == "over_quota"
    assert "今天" in over.json["message"]
    page = client.post("/feedback/new", data={
        "op_id": str(uuid.uuid4()), "place": "area:1", "category": "pests", "note": "老鼠洞",
        "photos": (io.BytesIO(second), "p.jpg")}, content_type="multipart/form-data")
    assert page.status_code == 422
    assert "今天" in Page(page.get_data(as_text=True)).text("data-error", "photos")


# --- Forms and serving --------------------------------------------------------------------

def test_a_desk_form_with_a_bad_file_keeps_what_was_typed_and_says_why(client, auth):
    auth.login("cleaner")
    response = client.post("/feedback/new", data={
        "op_id": str(uuid.uuid4()), "place": "area:1", "category": "pests",
        "note": "发现老鼠洞", "photos": (io.BytesIO(HTML_AS_JPEG), "p.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.textareas["note"].strip() == "发现老鼠洞"
    assert page.text("data-error", "photos") == "只能上传照片（JPEG、PNG 或 WebP）。"


def test_a_desk_photo_is_kept_re_encoded_and_served_safely(app, client, auth):
    auth.login("desk")
    response = client.post("/complaints/new", data={
        "op_id": str(uuid.uuid4()), "estate_id": "1", "unit_id": "5", "unit_query": "",
        "complainant_name": "黄女士", "contact": "13700000000", "channel": "phone",
        "identity": "owner", "category": "cleaning", "level": "minor", "content": "垃圾",
        "photos": (io.BytesIO(camera_photo()), "IMG_1.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    db = connect(app.config["DATABASE"])
    (sha, mime) = db.execute("SELECT f.sha256, f.mime FROM complaint_files c JOIN files f"
                             " ON f.sha256 = c.sha256").fetchone()
    assert mime == "image/jpeg"
    with Image.open(files.path_for(app.config["FILES_DIR"], sha)) as kept:
        assert max(kept.size) == 1600 and not kept.getexif()
    with client.get(f"/files/{sha}") as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.headers["Content-Disposition"].startswith("inline;")
        assert "filename=" in served.headers["Content-Disposition"]
    auth.logout()
    auth.login("tech")  # same estate, a field role: no complaints
    assert client.get(f"/files/{sha}").status_code == 404


def test_a_file_stored_before_decoding_is_a_download_not_a_page(app, client, auth):
    db = connect(app.config["DATABASE"])
    sha = hashlib.sha256(WAV).hexdigest()
    path = files.path_for(app.config["FILES_DIR"], sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(WAV)
    db.execute("INSERT INTO files (sha256, mime, size, created_at) VALUES (?, 'audio/wav', ?,"
               " ?)", [sha, len(WAV), NOW.isoformat()])
    job = new_job(db)
    db.execute("INSERT INTO job_photos (job_id, sha256, stage, op_id) VALUES (?,?, 'intake',"
               " 'x')", [job, sha])
    auth.login("desk")
    with client.get(f"/files/{sha}") as served:
        assert served.status_code == 200
        assert served.mimetype == "application/octet-stream"
        assert served.headers["Content-Disposition"].startswith("attachment;")
        assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_the_public_reports_photo_is_re_encoded(app, client):
    from .placeflow import report, token

    tok = token(app, "unit", 1)
    app.config["PUBLIC_REPORT_MIN_SECONDS"] = 0
    response = report(client, tok, photo=(io.BytesIO(camera_photo()), "p.jpg"))
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    db = connect(app.config["DATABASE"])
    (sha,) = db.execute("SELECT sha256 FROM job_photos ORDER BY id DESC LIMIT 1").fetchone()
    with Image.open(files.path_for(app.config["FILES_DIR"], sha)) as kept:
        assert kept.size == (1067, 1600) and not kept.getexif()
    assert db.execute("SELECT uploaded_by FROM files WHERE sha256 = ?", [sha]).fetchone()[0] \
        is None

