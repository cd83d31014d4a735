"""Uploads (uploads.py, /sync/files PUT, the desk and public forms): what is accepted, how
a photo is kept (upright, 1600 px, no EXIF), the day's quota, and how files are served."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import timedelta

import pytest
from PIL import ExifTags, Image

from webapp.db import connect
from webapp.domain import files

from .conftest import NOW
from .fileflow import (
    HTML_AS_JPEG,
    ORIGIN,
    WAV,
    camera_photo,
    image,
    store,
)
from .jobflow import new_job, uid
from .pages import Page

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
