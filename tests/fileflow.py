"""Images and stored files for the upload and file tests (test_uploads, test_files)."""

from __future__ import annotations

import io
import re

from PIL import ExifTags, Image

from webapp.domain import files

from .conftest import NOW
from .jobflow import uid

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
