"""Photos taken on the phone: a small JPEG with the camera's EXIF (GPS included) reaches
the server without it, under the hash the outbox named it by."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import ExifTags, Image

from .conftest import Server, login
from .offline import cache_for_offline, expect_pending, garage_id, jpeg, poll, send_feedback, sha


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
    photo = camera_jpeg()
    note = "照片不带位置"
    login(page, "cleaner")
    send_feedback(page, f"area:{garage_id(server)}", note, photo, "IMG_0001.jpg")
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


def test_a_photo_the_server_lost_after_upload_is_sent_again(new_context, server: Server):
    """The phone sent a photo, its batch never arrived, and a day later the server pruned
    the photo no record held: the server answers the item "upload", the phone sends the
    photo again and the item applies, once."""
    note, photo = "照片要重新上传", jpeg((30, 160, 90))
    ctx = new_context()
    page = ctx.new_page()
    login(page, "cleaner")
    cache_for_offline(page)
    ctx.set_offline(True)
    send_feedback(page, f"area:{garage_id(server)}", note, photo)
    expect_pending(page, 1)
    # As if uploaded before the batch was lost and the file pruned since.
    page.evaluate("""() => Outbox.all().then(items => {
        const item = items.find(i => i.kind === "feedback.create");
        item.blobs.forEach(b => { b.uploaded = true; });
        return Outbox.put(item);
    })""")
    ctx.set_offline(False)
    page.goto("/outbox")
    poll(page, "() => Outbox.flush().then(() => Outbox.pendingCount()).then(c => c === 0)",
         timeout=20_000)
    rows = server.query("SELECT p.sha256 FROM feedback_photos p JOIN feedback f"
                        " ON f.id = p.feedback_id WHERE f.note = ?", [note])
    assert len(rows) == 1
    stored = Path(server.files_dir) / rows[0]["sha256"][:2] / rows[0]["sha256"]
    assert sha(stored.read_bytes()) == rows[0]["sha256"]
