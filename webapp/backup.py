"""Backups while the server runs, and bringing one back. No Flask: `flask backup` and
`flask restore` (cli.py) call these.

A backup folder holds one shared `files/` (photos and signatures, named by SHA-256 and
never changed, so a file already there is never copied again) and one dated folder
per database copy:

    DEST/files/ab/abcdef...
    DEST/20261207T020000Z/wuye.db
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

DB_NAME = "wuye.db"
FILES = "files"
STAMP = "%Y%m%dT%H%M%SZ"
# Pages copied per step of the backup API (4 MiB at SQLite's 4 KiB pages): between
# steps the progress is shown, and writers are never held up for long.
STEP_PAGES = 1024

# (done, total) after each step: pages for the database, files for the files.
Progress = Callable[[int, int], None]
# Tables every database of this app has (the first migration's): a file without them
# is another database, e.g. a path set wrong, and is not backed up as if it were ours.
APP_TABLES = ("commands", "files")


class Refused(Exception):
    """A backup or restore that did not start or was undone, with nothing kept.
    `reason`: 'no_database' or 'not_app' (backup's source); 'exists' (a database is
    there and `force` was not given), 'no_copy', 'damaged' (restore's source) or
    'in_use' (the server has the database open); 'copy_damaged' (a fresh copy failed
    its check)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass
class BackupResult:
    folder: Path
    pages: int
    files_copied: int
    files_kept: int
    missing: list[str] = field(default_factory=list)  # referenced, but not on the server


@dataclass
class RestoreResult:
    source: Path
    files_copied: int
    replaced: Path | None  # where the database that was there before was moved


def read_only(path: Path) -> sqlite3.Connection:
    """Open a database that must already exist, never creating or writing it. The
    path is percent-encoded: a '?' or '#' in it would otherwise end the file name."""
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True,
                           isolation_level=None, timeout=30)


def integrity(path: Path) -> str:
    """SQLite's own check of every page and index: 'ok', or what is wrong."""
    conn = read_only(path)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:  # not a database at all
        return str(exc)
    finally:
        conn.close()
    return "\n".join(str(r[0]) for r in rows)


def copy_database(source: Path, target: Path, progress: Progress | None = None,
                  pages: int | None = None) -> int:
    """Copy a live database with the online backup API into `target` (which must not
    exist); returns the page count. The copy is written beside the target and renamed
    into place only once it passed `PRAGMA integrity_check`."""
    tmp = target.with_name(target.name + ".part")
    tmp.unlink(missing_ok=True)
    src = read_only(source)
    dst = sqlite3.connect(tmp)
    try:
        # One read transaction over all steps: in WAL mode the copy is of this one
        # snapshot, and other connections' commits between steps do not restart it.
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        total = 0

        def step(_status: int, remaining: int, count: int) -> None:
            nonlocal total
            total = count
            if progress is not None:
                progress(count - remaining, count)

        src.backup(dst, pages=pages or STEP_PAGES, progress=step)
        src.execute("COMMIT")
        # The copy is a plain file: no WAL beside it to lose when it is moved.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    problem = integrity(tmp)
    if problem != "ok":
        tmp.unlink()
        raise Refused("copy_damaged", problem)
    os.replace(tmp, target)
    return total


def _stored_files(files_dir: Path) -> Iterator[Path]:
    # Finished files only: a write in progress is a `.tmp` beside its final name.
    for path in sorted(files_dir.glob("??/*")):
        if path.is_file() and "." not in path.name:
            yield path


def copy_files(source: Path, target: Path, progress: Progress | None = None) -> tuple[int, int]:
    """Copy the files not yet in `target`; returns (copied, already there)."""
    todo = list(_stored_files(source)) if source.is_dir() else []
    copied = kept = 0
    for n, path in enumerate(todo, start=1):
        dest = target / path.parent.name / path.name
        if dest.exists():
            kept += 1
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            part = dest.with_name(dest.name + ".part")
            shutil.copyfile(path, part)
            os.replace(part, dest)
            copied += 1
        if progress is not None:
            progress(n, len(todo))
    return copied, kept


def referenced_files(db_path: Path) -> list[str]:
    conn = read_only(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT sha256 FROM files ORDER BY sha256")]
    finally:
        conn.close()


def backup(database: Path, files_dir: Path, dest: Path, now: datetime,
           db_progress: Progress | None = None,
           files_progress: Progress | None = None) -> BackupResult:
    """Copy the database into a new dated folder of `dest`, then the new files.

    The database first: a file is on disk before the row naming it commits, so every
    file the copy names is there when the files are copied after it. A source that is
    missing or not this app's database is refused before anything is made; on any
    failure the dated folder is removed, so it never stands as the newest copy.
    """
    check_source(database)
    dest.mkdir(parents=True, exist_ok=True)
    folder = dest / now.strftime(STAMP)
    n = 0
    while True:  # two backups in one second each get a folder
        try:
            folder.mkdir()
            break
        except FileExistsError:
            n += 1
            folder = dest / f"{now.strftime(STAMP)}-{n}"
    try:
        pages = copy_database(database, folder / DB_NAME, db_progress)
        copied, kept = copy_files(files_dir, dest / FILES, files_progress)
        missing = [sha for sha in referenced_files(folder / DB_NAME)
                   if not (dest / FILES / sha[:2] / sha).exists()]
    except BaseException:
        # Files already copied into the shared folder stay: each is whole and named
        # by its content, so the next run need not copy it again.
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return BackupResult(folder, pages, copied, kept, missing)


def check_source(database: Path) -> None:
    """Refuse a database that is not there, or is not this app's."""
    if not database.is_file():
        raise Refused("no_database", str(database))
    try:
        conn = read_only(database)
        try:
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # not a database at all
        raise Refused("not_app", f"{database}: {exc}") from None
    if lacking := [t for t in APP_TABLES if t not in tables]:
        raise Refused("not_app", f"{database}: no table {', '.join(lacking)}")


def find_copy(source: Path) -> Path:
    """The database copy named by `source`: a dated folder, a copy's file, or a backup
    folder (its newest dated folder)."""
    if source.is_file():
        return source
    if (source / DB_NAME).is_file():
        return source / DB_NAME
    dated = sorted(p for p in source.glob("*/" + DB_NAME) if p.parent.name[:1].isdigit())
    if not dated:
        raise Refused("no_copy", str(source))
    return dated[-1]


def restore(source: Path, database: Path, files_dir: Path, now: datetime, force: bool = False,
            progress: Progress | None = None,
            files_progress: Progress | None = None) -> RestoreResult:
    """Bring a backup back: the database (checked first) and the files it needs.

    An existing database is not overwritten unless `force`, nor while another
    connection (the server) has it open; then it is moved aside under a name of its
    own (with its WAL, whose pages belong to it and must never meet the restored
    file) and its new name is returned.
    """
    copy = find_copy(source)
    problem = integrity(copy)
    if problem != "ok":
        raise Refused("damaged", f"{copy}: {problem}")
    if database.exists() and not force:
        raise Refused("exists", str(database))
    if database.exists():
        release(database, probe=True)  # refused before the copy's time is spent
    database.parent.mkdir(parents=True, exist_ok=True)
    staged = database.with_name(database.name + ".restoring")
    staged.unlink(missing_ok=True)
    copy_database(copy, staged, progress)
    conn = sqlite3.connect(staged)
    try:
        conn.execute("PRAGMA journal_mode=WAL")  # as the migrations left the live one
    finally:
        conn.close()
    replaced = None
    if database.exists():
        try:
            release(database)  # again: the server may have been started meanwhile
        except Refused:
            staged.unlink()
            raise
        replaced = _aside(database, now)
    os.replace(staged, database)
    copied, _kept = copy_files(copy.parent.parent / FILES, files_dir, files_progress)
    return RestoreResult(copy, copied, replaced)


# A database's companions: they belong to that one file and move with it.
COMPANIONS = ("", "-wal", "-shm", "-journal")


def release(database: Path, probe: bool = False) -> None:
    """Refuse if another connection has the database open; else leave it one file
    (or, to `probe`, as it was).

    Leaving WAL mode needs every other connection closed: each connection that has
    read a WAL database keeps a shared lock on it until it is closed, so with no
    waiting (timeout 0) SQLite answers SQLITE_BUSY while the server runs. When it
    succeeds, the WAL is checkpointed into the file and removed.
    """
    try:
        conn = sqlite3.connect(database, isolation_level=None, timeout=0)
        try:
            was = conn.execute("PRAGMA journal_mode").fetchone()[0]
            conn.execute("PRAGMA journal_mode=DELETE").fetchone()
            if probe and was == "wal":  # the WAL mode is set once, by a migration
                conn.execute("PRAGMA journal_mode=WAL").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise Refused("in_use", str(database)) from None
        raise
    except sqlite3.DatabaseError:
        pass  # not a database: nobody serves from it, it is only moved aside


def _aside(database: Path, now: datetime) -> Path:
    """Move the database and its companions to a name none of them has yet (two
    restores in one second each keep theirs, as two backups each get a folder)."""
    base = f"{database.name}.replaced-{now.strftime(STAMP)}"
    replaced, n = database.with_name(base), 0
    while any(Path(str(replaced) + s).exists() for s in COMPANIONS):
        n += 1
        replaced = database.with_name(f"{base}-{n}")
    for suffix in COMPANIONS:
        old = Path(str(database) + suffix)
        if old.exists():
            os.replace(old, Path(str(replaced) + suffix))
    return replaced
