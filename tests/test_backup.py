"""`flask backup` while commands are written, and `flask restore`."""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

import sync
from webapp import backup, create_app
from webapp.db import connect, pool
from webapp.domain import files
from webapp.domain.handlers import HANDLERS

from .conftest import NOW


@dataclass
class Writer:
    """A thread that creates jobs, each with a new photo, through sync.apply, as the
    server's requests do, and keeps the acknowledged ones in order."""

    database: str
    files_dir: str
    acked: list[tuple[str, int, str]] = field(default_factory=list)  # op_id, job id, photo
    stop: threading.Event = field(default_factory=threading.Event)
    wrote: threading.Condition = field(default_factory=threading.Condition)
    error: BaseException | None = None

    def run(self) -> None:
        db = connect(self.database)
        try:
            desk = db.execute("SELECT id FROM users WHERE username = 'desk'").fetchone()[0]
            unit = db.execute("SELECT id FROM units WHERE estate_id = 1 LIMIT 1").fetchone()[0]
            n = 0
            while not self.stop.is_set():
                n += 1
                now = NOW + timedelta(seconds=n)
                sha = files.store(db, self.files_dir, b"\x89PNG backup %d" % n, "image/png", now,
                                  desk)
                cmd = sync.Command(
                    op_id=str(uuid.uuid4()), kind="job.create", target="job:new",
                    payload={"estate_id": 1, "unit_id": unit, "reporter_name": "王",
                             "reporter_phone": "13800000000", "source": "phone",
                             "category": "plumbing", "job_class": "small",
                             "description": f"backup write {n}", "photos": [sha]},
                    user_id=desk, device_id="test")
                outcome = sync.apply(db, cmd, HANDLERS, now)
                assert outcome.status == "applied", outcome.result
                with self.wrote:
                    self.acked.append((cmd.op_id, outcome.result["job_id"], sha))
                    self.wrote.notify_all()
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
            with self.wrote:
                self.wrote.notify_all()
        finally:
            db.close()

    def wait_for(self, count: int) -> None:
        with self.wrote:
            assert self.wrote.wait_for(lambda: len(self.acked) >= count or self.error,
                                       timeout=30)
        assert self.error is None, self.error


@pytest.fixture
def writer(app):
    w = Writer(app.config["DATABASE"], app.config["FILES_DIR"])
    thread = threading.Thread(target=w.run)
    thread.start()
    w.wait_for(3)
    yield w
    w.stop.set()
    thread.join(timeout=30)
    assert w.error is None, w.error


def check_copy(path: Path, files_dir: Path, acked: list[tuple[str, int, str]],
               acked_before: int) -> int:
    """Every job the copy's command log says was made is there, whole, with its photo on
    disk; the writer's commands in it are exactly its first k acknowledged ones. Returns k."""
    assert backup.integrity(path) == "ok"
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO job_search(job_search) VALUES ('integrity-check')")
        ops = [r["op_id"] for r in conn.execute(
            "SELECT op_id FROM commands WHERE device_id = 'test' ORDER BY rowid")]
        for op_id, job_id, sha in acked[:len(ops)]:
            job = conn.execute("SELECT * FROM jobs WHERE id = ?", [job_id]).fetchone()
            assert job is not None and job["description"].startswith("backup write")
            photo = conn.execute("SELECT sha256 FROM job_photos WHERE job_id = ?",
                                 [job_id]).fetchone()
            assert photo["sha256"] == sha
            assert conn.execute("SELECT 1 FROM audit_log WHERE op_id = ?", [op_id]).fetchone()
            assert (files_dir / sha[:2] / sha).is_file()
        latest = [r[0] for r in conn.execute(
            "SELECT id FROM jobs WHERE description LIKE 'backup write%' ORDER BY id")]
    finally:
        conn.close()
    assert ops == [a[0] for a in acked[:len(ops)]]  # a snapshot: a prefix, in order
    assert latest == [a[1] for a in acked[:len(ops)]]  # no job without its command
    assert len(ops) >= acked_before  # nothing acknowledged before the copy began is lost
    return len(ops)


def test_backup_between_steps_of_writes_is_one_snapshot(app, writer, tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "STEP_PAGES", 4)  # many steps, with writes between them
    steps: list[int] = []

    def between_steps(done: int, total: int) -> None:
        steps.append(done)
        if len(steps) <= 5:
            writer.wait_for(len(writer.acked) + 1)  # a commit lands between two steps

    before = len(writer.acked)
    result = backup.backup(Path(app.config["DATABASE"]), Path(app.config["FILES_DIR"]),
                           tmp_path / "bk", NOW, db_progress=between_steps)
    after = len(writer.acked)
    # Never restarted: a commit by another connection between steps would make SQLite
    # start the copy again, unless the copy reads one snapshot throughout.
    assert len(steps) > 5 and all(a < b for a, b in zip(steps, steps[1:], strict=False))
    assert after > before + 5
    k = check_copy(result.folder / backup.DB_NAME, tmp_path / "bk" / "files",
                   list(writer.acked), before)
    assert k < after  # the commits made during the copy are not in it
    assert result.missing == []


def test_backup_and_restore_by_cli_while_writing(app, writer, tmp_path):
    dest = tmp_path / "bk"
    runner = app.test_cli_runner()
    before = len(writer.acked)
    first = runner.invoke(args=["backup", str(dest)])
    assert first.exit_code == 0, first.output
    writer.wait_for(len(writer.acked) + 3)
    second = runner.invoke(args=["backup", str(dest)])
    assert second.exit_code == 0, second.output
    writer.stop.set()
    dated = sorted(p for p in dest.iterdir() if p.name != "files")
    assert len(dated) == 2 and (dest / "files").is_dir()  # one shared files folder

    restored = create_app({"TESTING": True, "SECRET_KEY": "test",
                           "DATABASE": str(tmp_path / "restored" / "wuye.db"),
                           "FILES_DIR": str(tmp_path / "restored" / "files")})
    try:
        done = restored.test_cli_runner().invoke(args=["restore", str(dest)])
        assert done.exit_code == 0, done.output
    finally:
        pool(restored).close()
    new_db = Path(restored.config["DATABASE"])
    k = check_copy(new_db, Path(restored.config["FILES_DIR"]), list(writer.acked), before)
    assert k > before
    with sqlite3.connect(new_db) as conn:  # the newest copy, in the WAL mode it had
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0


def test_second_backup_copies_only_new_files(app, tmp_path):
    dest, files_dir = tmp_path / "bk", Path(app.config["FILES_DIR"])
    db = connect(app.config["DATABASE"])
    try:
        files.store(db, str(files_dir), b"\x89PNG one", "image/png", NOW)
        first = backup.backup(Path(app.config["DATABASE"]), files_dir, dest, NOW)
        files.store(db, str(files_dir), b"\x89PNG two", "image/png", NOW)
        second = backup.backup(Path(app.config["DATABASE"]), files_dir, dest,
                               NOW + timedelta(hours=1))
    finally:
        db.close()
    assert (first.files_copied, first.files_kept) == (1, 0)
    assert (second.files_copied, second.files_kept) == (1, 1)
    assert first.folder != second.folder


def test_restore_refuses_an_existing_database_without_force(app, runner, tmp_path):
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    database = Path(app.config["DATABASE"])
    db = connect(str(database))
    try:
        db.execute("UPDATE users SET display_name = '改过' WHERE username = 'desk'")
        db.conn.commit()
    finally:
        db.close()
    pool(app).close()
    before = database.read_bytes()
    refused = runner.invoke(args=["restore", str(tmp_path / "bk")])
    assert refused.exit_code != 0
    assert "--force" in refused.output
    assert database.read_bytes() == before

    forced = runner.invoke(args=["restore", "--force", str(tmp_path / "bk")])
    assert forced.exit_code == 0, forced.output
    kept = list(database.parent.glob(database.name + ".replaced-*"))
    assert len(kept) == 1 and str(kept[0]) in forced.output  # says what it replaced
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT display_name FROM users WHERE username = 'desk'"
                            ).fetchone()[0] != "改过"
    with sqlite3.connect(kept[0]) as conn:
        assert conn.execute("SELECT display_name FROM users WHERE username = 'desk'"
                            ).fetchone()[0] == "改过"


def test_restore_refuses_a_damaged_copy(app, runner, tmp_path):
    folder = tmp_path / "bk" / "20261110T090000Z"
    folder.mkdir(parents=True)
    (folder / backup.DB_NAME).write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    target = create_app({"TESTING": True, "SECRET_KEY": "test",
                         "DATABASE": str(tmp_path / "new.db"),
                         "FILES_DIR": str(tmp_path / "files")})
    result = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "bk")])
    assert result.exit_code != 0
    assert not (tmp_path / "new.db").exists()


def dated(dest: Path) -> list[Path]:
    return sorted(p for p in dest.iterdir() if p.name != backup.FILES) if dest.exists() else []


def other_app(tmp_path, database: Path):
    return create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(database),
                       "FILES_DIR": str(tmp_path / "files")})


def test_backup_of_a_missing_database_creates_nothing(tmp_path):
    missing = tmp_path / "instance" / "wuye.db"  # e.g. the cron job without the env file
    result = other_app(tmp_path, missing).test_cli_runner().invoke(
        args=["backup", str(tmp_path / "bk")])
    assert result.exit_code != 0
    assert f"{missing} 处没有数据库" in result.output and "Traceback" not in result.output
    assert not missing.exists()  # not made by opening it
    assert dated(tmp_path / "bk") == []


@pytest.mark.parametrize("content", [b"", b"not a database at all"])
def test_backup_of_a_file_that_is_not_the_apps_database_is_refused(tmp_path, content):
    other = tmp_path / "other.db"
    other.write_bytes(content)
    result = other_app(tmp_path, other).test_cli_runner().invoke(
        args=["backup", str(tmp_path / "bk")])
    assert result.exit_code != 0
    assert "不是本应用的数据库" in result.output and "Traceback" not in result.output
    assert other.read_bytes() == content
    assert dated(tmp_path / "bk") == []


def test_backup_of_another_sqlite_database_is_refused(tmp_path):
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE commands (x)")  # one of the app's tables, not both
    result = other_app(tmp_path, other).test_cli_runner().invoke(
        args=["backup", str(tmp_path / "bk")])
    assert result.exit_code != 0 and "files" in result.output
    assert dated(tmp_path / "bk") == []


def test_a_copy_failing_its_check_is_explained_and_leaves_no_folder(app, runner, tmp_path,
                                                                    monkeypatch):
    dest = tmp_path / "bk"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    good = dated(dest)
    monkeypatch.setattr(backup, "integrity", lambda path: "Page 5: never used")
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "副本未通过完整性检查" in result.output and "Page 5: never used" in result.output
    assert dated(dest) == good  # the good copy is still the newest
    assert backup.find_copy(dest) == good[0] / backup.DB_NAME


def test_a_database_error_during_backup_is_explained_and_leaves_no_folder(app, runner, tmp_path,
                                                                          monkeypatch):
    def fails(path):
        raise sqlite3.OperationalError("no such table: files")

    monkeypatch.setattr(backup, "referenced_files", fails)
    result = runner.invoke(args=["backup", str(tmp_path / "bk")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "备份失败" in result.output and "no such table: files" in result.output
    assert dated(tmp_path / "bk") == []


@pytest.mark.parametrize("name", ["x?y.db", "a#b.db"])
def test_the_check_reads_the_file_named_even_with_uri_characters(tmp_path, name):
    damaged = tmp_path / name
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    assert backup.integrity(damaged) != "ok"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no cut-off name made
    good = tmp_path / "c#d?e" / "中文.db"
    good.parent.mkdir()
    with closing(sqlite3.connect(good)) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert backup.integrity(good) == "ok"


def wal_database(app) -> Path:
    """The test database in WAL mode, as the migrations leave the server's."""
    database = Path(app.config["DATABASE"])
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    return database


def mark(database: Path, name: str) -> None:
    db = connect(str(database))
    try:
        db.execute("UPDATE users SET display_name = ? WHERE username = 'desk'", [name])
        db.conn.commit()
    finally:
        db.close()


def marked(database: Path) -> str:
    conn = backup.read_only(database)
    try:
        return conn.execute("SELECT display_name FROM users WHERE username = 'desk'"
                            ).fetchone()[0]
    finally:
        conn.close()


def test_restore_refuses_while_the_server_holds_the_database(app, runner, tmp_path):
    database = wal_database(app)
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    server = connect(str(database))  # as an idle pooled connection after a request
    try:
        server.execute("SELECT count(*) FROM users").fetchone()
        refused = runner.invoke(args=["restore", "--force", str(tmp_path / "bk")])
        assert refused.exit_code != 0 and "Traceback" not in refused.output
        assert "请先停止服务" in refused.output
        assert sorted(p.name for p in database.parent.glob(database.name + "*")) == [
            database.name, database.name + "-shm", database.name + "-wal"]
        assert server.execute("SELECT count(*) FROM users").fetchone()[0] > 0  # still works
        mark(database, "服务中")
    finally:
        server.close()
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    done = runner.invoke(args=["restore", "--force", str(tmp_path / "bk")])
    assert done.exit_code == 0, done.output
    assert marked(database) != "服务中"


def test_a_restore_that_fails_leaves_the_database_in_wal_mode(app, tmp_path, monkeypatch):
    database = wal_database(app)
    backup.backup(database, Path(app.config["FILES_DIR"]), tmp_path / "bk", NOW)

    def fails(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(backup, "copy_database", fails)
    with pytest.raises(OSError):
        backup.restore(tmp_path / "bk", database, Path(app.config["FILES_DIR"]), NOW,
                       force=True)
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_restores_in_one_second_keep_both_databases(app, tmp_path):
    database, files_dir = wal_database(app), Path(app.config["FILES_DIR"])
    backup.backup(database, files_dir, tmp_path / "bk", NOW)
    mark(database, "第一")
    first = backup.restore(tmp_path / "bk", database, files_dir, NOW, force=True)
    mark(database, "第二")
    # A leftover WAL under the next free name must not become another file's WAL.
    stray = Path(f"{first.replaced}-1-wal")
    stray.write_bytes(b"not this database's WAL")
    second = backup.restore(tmp_path / "bk", database, files_dir, NOW, force=True)
    assert first.replaced != second.replaced
    assert Path(f"{second.replaced}-wal") != stray
    assert stray.read_bytes() == b"not this database's WAL"
    assert [marked(first.replaced), marked(second.replaced)] == ["第一", "第二"]
    assert backup.integrity(first.replaced) == backup.integrity(second.replaced) == "ok"
    assert marked(database) not in ("第一", "第二")


def test_the_nightly_backup_loads_the_services_environment():
    # Without it the job backs up another database (the default instance/wuye.db).
    deploy = (Path(__file__).parent.parent / "docs" / "DEPLOY.md").read_text()
    env_file = re.search(r"^EnvironmentFile=(\S+)$", deploy, re.M).group(1)
    nightly = [line for line in deploy.splitlines()
               if re.match(r"^[\d*]+ [\d*]+ .*flask --app webapp backup ", line)]
    assert nightly, "no cron line for the backup"
    for line in nightly:
        loads = line.index(f"set -a; . {env_file}; set +a;")
        assert loads < line.index("flask --app webapp backup")
