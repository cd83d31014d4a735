"""Photos and signatures: files named by their SHA-256, the DB holds the hash.

An upload is accepted only if Pillow decodes it as JPEG, PNG or WebP; its stored type is
Pillow's reading, never the bytes' first few. Who may read or attach a stored file is
decided in access.py.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlite_utils import Database

from .transactions import write_tx

MIME_BY_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# A phone photo is 12 to 50 megapixels; more is a decompression bomb, refused before the
# pixels are decoded (Pillow raises above twice its limit and warns above it).
MAX_PIXELS = 64_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
LONG_SIDE = 1600  # photos from the desk and the public report are scaled down to this
JPEG_QUALITY = 85
KEEP_UNREFERENCED = timedelta(days=1)

# Every column that holds a stored file's hash. tests/test_files.py fails when a table
# holding hashes is missing here.
REFERENCES = (
    ("job_photos", "sha256"),
    ("signatures", "image_sha256"),
    ("complaint_files", "sha256"),
    ("callback_records", "signature_sha256"),
    ("feedback_photos", "sha256"),
    ("inspection_photos", "sha256"),
    ("handovers", "signature_sha256"),
)


@dataclass(frozen=True)
class Quota:
    """How much one user may upload in a day."""

    count: int
    bytes: int


def _open(data: bytes, long_side: int | None = None) -> Image.Image | None:
    """The decoded image if `data` is a whole JPEG, PNG or WebP of sane size, else None.
    With `long_side`, a JPEG may be decoded at a reduced scale no smaller than that."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            # Between the limit and twice it Pillow only warns (a warnings filter is
            # process-wide, not for one request's thread): the size read from the header
            # refuses those too, before any pixel is decoded.
            if (probe.format not in MIME_BY_FORMAT
                    or probe.width * probe.height > Image.MAX_IMAGE_PIXELS):
                return None
            probe.verify()  # checksums and structure, without decoding the pixels
        img = Image.open(io.BytesIO(data))  # verify() leaves the image unusable
        if long_side and max(img.size) > long_side:
            # JPEG's own scaling while decoding (a quarter of the pixels for a 12 MP
            # photo); other formats ignore it.
            scale = long_side / max(img.size)
            img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
        img.load()
        return img
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, OSError, SyntaxError, ValueError,
            EOFError):
        return None


def image_type(data: bytes) -> str | None:
    """The type of an acceptable image (it decodes whole), or None."""
    img = _open(data)
    return MIME_BY_FORMAT[img.format] if img is not None and img.format else None


def reencode(data: bytes) -> bytes | None:
    """A photo as the server keeps it: turned upright, long side at most LONG_SIDE, saved
    again as JPEG with no metadata (EXIF, GPS included); None if it is not an image."""
    img = _open(data, LONG_SIDE)
    if img is None:
        return None
    try:
        img = ImageOps.exif_transpose(img)
        img.thumbnail((LONG_SIDE, LONG_SIDE))
        if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")  # JPEG has no transparency
            flat.paste(rgba, mask=rgba.getchannel("A"))
            img = flat
        elif img.mode != "RGB":
            img = img.convert("RGB")
        out = io.BytesIO()
        img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except (OSError, ValueError):
        return None
    return out.getvalue()


def path_for(files_dir: str, sha256: str) -> Path:
    return Path(files_dir) / sha256[:2] / sha256


def store(db: Database, files_dir: str, data: bytes, mime: str, now: datetime,
          user_id: int | None = None) -> str:
    """Write the file once (atomically) and register it, with who uploaded it; storing it
    again, even at the same moment from another thread, is harmless."""
    sha = hashlib.sha256(data).hexdigest()
    target = path_for(files_dir, sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own for every write: two writers of the same bytes never share one.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{sha[:8]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        at = now.isoformat(timespec="seconds")
        # The write lock while the file appears on disk: a store and a prune of the same
        # hash never interleave.
        with write_tx(db):
            if target.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, target)
            # Stored again: kept a day from now, so prune does not take it from under
            # the record about to hold it; the first uploader stays.
            db.execute("INSERT INTO files (sha256, mime, size, created_at, uploaded_by)"
                       " VALUES (?,?,?,?,?) ON CONFLICT (sha256) DO UPDATE"
                       " SET created_at = max(created_at, excluded.created_at)",
                       [sha, mime, len(data), at, user_id])
            if user_id is not None:
                db.execute("INSERT OR IGNORE INTO file_uploads (sha256, user_id, size, at)"
                           " VALUES (?,?,?,?)", [sha, user_id, len(data), at])
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return sha


def uploaded_by(db: Database, user_id: int, sha256: str) -> bool:
    """Whether this user sent this file (the bytes, whoever sent them first)."""
    return db.execute("SELECT 1 FROM file_uploads WHERE sha256 = ? AND user_id = ?",
                      [sha256, user_id]).fetchone() is not None


def over_quota(db: Database, user_id: int, sha256: str, size: int, now: datetime,
               quota: Quota) -> bool:
    """Whether storing this file would take the user past a day's uploads. A file they
    sent already (a resend) costs nothing."""
    if uploaded_by(db, user_id, sha256):
        return False
    since = (now - timedelta(days=1)).isoformat(timespec="seconds")
    count, total = db.execute(
        "SELECT count(*), coalesce(sum(size), 0) FROM file_uploads"
        " WHERE user_id = ? AND at > ?", [user_id, since]).fetchone()
    return count + 1 > quota.count or total + size > quota.bytes


def missing(db: Database, hashes: list[str]) -> list[str]:
    """The hashes among `hashes` that are not stored yet."""
    missing = []
    for sha in hashes:
        if not db.execute("SELECT 1 FROM files WHERE sha256 = ?", [sha]).fetchone():
            missing.append(sha)
    return missing


def referenced_sql() -> str:
    """A query of every hash some record holds."""
    return " UNION ".join(f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL"
                          for table, col in REFERENCES)


def prune(db: Database, files_dir: str, now: datetime) -> int:
    """Remove the files no record holds that were stored over a day ago; how many."""
    before = (now - KEEP_UNREFERENCED).isoformat(timespec="seconds")
    with write_tx(db):
        gone = [r[0] for r in db.execute(
            f"SELECT sha256 FROM files WHERE created_at < ? AND sha256 NOT IN"
            f" ({referenced_sql()})", [before]).fetchall()]
        for sha in gone:
            db.execute("DELETE FROM file_uploads WHERE sha256 = ?", [sha])
            db.execute("DELETE FROM files WHERE sha256 = ?", [sha])
            # Under the write lock: a store of the same bytes waits, then writes it anew.
            path_for(files_dir, sha).unlink(missing_ok=True)
    return len(gone)
