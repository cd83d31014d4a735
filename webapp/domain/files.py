"""Photos and signatures: files named by their SHA-256, the DB holds the hash."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

IMAGE_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG", "image/webp": b"RIFF"}


def sniff(data: bytes) -> str | None:
    """The image type by its magic bytes, or None: we never trust the upload's label."""
    for mime, magic in IMAGE_TYPES.items():
        if data.startswith(magic):
            return mime
    return None


def path_for(files_dir: str, sha256: str) -> Path:
    return Path(files_dir) / sha256[:2] / sha256


def store(db: Database, files_dir: str, data: bytes, mime: str, now: datetime) -> str:
    """Write the file once (atomically) and register it; storing it again is harmless."""
    sha = hashlib.sha256(data).hexdigest()
    target = path_for(files_dir, sha)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    db.execute(
        "INSERT OR IGNORE INTO files (sha256, mime, size, created_at) VALUES (?,?,?,?)",
        [sha, mime, len(data), now.isoformat(timespec="seconds")],
    )
    return sha


def missing(db: Database, hashes: list[str]) -> list[str]:
    """The hashes among `hashes` that are not stored yet."""
    missing = []
    for sha in hashes:
        if not db.execute("SELECT 1 FROM files WHERE sha256 = ?", [sha]).fetchone():
            missing.append(sha)
    return missing
