"""Photos taken on the phone: a small JPEG with the camera's EXIF (GPS included) reaches
the server without it, under the hash the outbox named it by."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import ExifTags, Image

from .conftest import Server, login
from .offline import expect_pending, sha


def camera_jpeg() -> bytes:
    """A small photo as a phone's camera saves it: EXIF with the place it was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.5)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_photos_exif_and_gps_stay_on_the_phone(page, server: Server):
    (garage,) = server.query(
        "SELECT id FROM common_areas WHERE estate_id = 1 AND name = '地下车库'")
    photo = camera_jpeg()
    note = "照片不带位置"
    login(page, "cleaner")
    page.goto("/feedback/new")
    form = page.locator("[data-form=feedback]")
    form.locator(f"[data-place='area:{garage['id']}']").check()
    form.locator("[data-category=litter]").check()
    form.locator("[data-photos-input]").set_input_files(
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo})
    form.locator("[name=note]").fill(note)
    page.locator("[data-action=send-feedback]").click()
    # Saved in the outbox first, then sent: wait for the server to have it.
    for _ in range(100):
        if server.query("SELECT id FROM feedback WHERE note = ?", [note]):
            break
        page.wait_for_timeout(150)
    expect_pending(page, 0)
    (row,) = server.query("SELECT p.sha256 FROM feedback_photos p JOIN feedback f"
                          " ON f.id = p.feedback_id WHERE f.note = ?", [note])
    assert row["sha256"] != sha(photo)  # drawn again on the phone
    stored = Path(server.files_dir) / row["sha256"][:2] / row["sha256"]
    assert sha(stored.read_bytes()) == row["sha256"]
    with Image.open(stored) as kept:
        assert kept.size == (64, 48) and not kept.getexif()
