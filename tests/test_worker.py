"""The delivery worker: its tasks run in huey's immediate mode with injected channels;
the web enqueues `deliver` after a request that queued a message, and only then."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

import pytest

from webapp import create_app, push, worker
from webapp.db import connect, get_db
from webapp.domain.transactions import write_tx

from .conftest import NOW
from .test_push import Answer, PushService, browser_keys
from .test_wecom import robot_server  # noqa: F401  (a fixture: a local webhook)


def insert_delivery(db, username="tech", at=NOW) -> int:
    user = db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]
    sub = push.subscribe(db, user, {"endpoint": f"https://push.example.com/{os.urandom(4).hex()}",
                                    **browser_keys()}, "", at)
    with write_tx(db):
        a = db["announcements"].insert({"kind": "job.dispatched", "target": "job:7",
                                        "params": json.dumps({"number": "W-7"}),
                                        "created_at": at.isoformat()}).last_pk
        n = db["notifications"].insert({"announcement_id": a, "user_id": user,
                                        "created_at": at.isoformat()}).last_pk
        return db["deliveries"].insert({"announcement_id": a, "notification_id": n,
                                        "channel": "push", "address_id": sub,
                                        "next_at": at.isoformat()}).last_pk


def status(app, delivery):
    db = connect(app.config["DATABASE"])
    try:
        return db.execute("SELECT status, error FROM deliveries WHERE id = ?",
                          [delivery]).fetchone()
    finally:
        db.close()


def message(db, announcement, locale):
    return {"title": "新工单", "body": "", "url": "/jobs/7"}


@pytest.fixture
def channels(app):
    scans = []
    ch = worker.Channels(message=message, scan=lambda db, now: scans.append(now),
                         push_send=PushService(Answer(201)), robots=None, now=lambda: NOW)
    ch.scans = scans
    app.extensions["channels"] = ch
    return ch


@pytest.fixture
def immediate(app, channels):
    w = worker.worker(app)
    w.huey.immediate = True
    return w


def with_db(app, fn):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    try:
        return fn(db)
    finally:
        db.close()


def test_deliver_sends_what_is_due(app, immediate, channels):
    d = with_db(app, insert_delivery)
    immediate.deliver()  # enqueued, and run at once in immediate mode
    assert status(app, d)[0] == "accepted"
    assert channels.ran == ["deliver"]
    [call] = channels.push_send.calls
    assert json.loads(call["data"])["url"] == "/jobs/7"


def test_tick_scans_then_delivers(app, immediate, channels):
    d = with_db(app, insert_delivery)
    immediate.tick()
    assert channels.scans == [NOW]
    assert channels.ran == ["tick", "deliver"]
    assert status(app, d)[0] == "accepted"


def test_a_failing_channel_does_not_stop_the_others(app, immediate, channels):
    def robots(db, now, *, message):
        raise RuntimeError("robot webhook down")

    def scan(db, now):
        raise RuntimeError("scan failed")

    channels.robots, channels.scan = robots, scan
    d = with_db(app, insert_delivery)
    immediate.tick()
    assert channels.ran == ["tick", "deliver"] and status(app, d)[0] == "accepted"


def test_robots_get_the_same_message_function(app, immediate, channels):
    seen = []
    channels.robots = lambda db, now, *, message: seen.append((now, message)) or 3
    assert immediate.deliver.call_local() == {"push": 0, "robot": 3}
    assert seen == [(NOW, message)]


def test_the_periodic_tasks_and_their_times(app):
    huey = worker.worker(app).huey
    names = {t.name for t in huey.read_periodic(datetime(2026, 11, 10, 9, 1))}
    assert names == {"tick"}
    names = {t.name for t in huey.read_periodic(datetime(2026, 11, 10, 9, 10))}
    assert names == {"tick", "sweep"}


def test_the_sweep_expires_what_waited_past_a_messages_life(app, immediate, channels):
    old = with_db(app, lambda db: insert_delivery(db, at=NOW - timedelta(days=2)))
    fresh = with_db(app, lambda db: insert_delivery(db, at=NOW - timedelta(hours=1)))
    assert immediate.sweep.call_local() == 1
    assert status(app, old) == ("failed", "expired")
    assert status(app, fresh) == ("queued", None)


def test_prune_deletes_old_read_notifications_and_finished_deliveries_in_batches(
        app, immediate, channels):
    old, days = NOW - timedelta(days=91), app.config["NOTIFY_RETENTION_DAYS"]
    assert days == 90

    def make(db):
        made = {}
        for name, at, status, read in [
                ("old_read", old, "accepted", True),        # both go
                ("old_unread", old, "accepted", False),     # the delivery goes, kept unread
                ("old_queued", old, "queued", True),        # read: goes with its delivery
                ("recent_read", NOW - timedelta(days=89), "accepted", True)]:  # both stay
            d = insert_delivery(db, at=at)
            n = db.execute("SELECT notification_id FROM deliveries WHERE id = ?",
                           [d]).fetchone()[0]
            with write_tx(db):
                db.execute("UPDATE deliveries SET status = ?, sent_at = ? WHERE id = ?",
                           [status, at.isoformat() if status == "accepted" else None, d])
                db.execute("UPDATE notifications SET read_at = ? WHERE id = ?",
                           [at.isoformat() if read else None, n])
            made[name] = (d, n)
        # Two robot messages merged into one (the second names the first as its carrier).
        with write_tx(db):
            a = db["announcements"].insert({"kind": "job.created", "target": "job:9",
                                            "created_at": old.isoformat()}).last_pk
            carrier = db["deliveries"].insert({
                "announcement_id": a, "channel": "wecom", "address_id": 1,
                "status": "accepted", "next_at": old.isoformat(),
                "sent_at": old.isoformat()}).last_pk
            db["deliveries"].insert({
                "announcement_id": a, "channel": "wecom", "address_id": 2,
                "status": "accepted", "next_at": old.isoformat(),
                "sent_at": old.isoformat(), "merged_into": carrier})
        return made

    made = with_db(app, make)
    before = with_db(app, lambda db: (db["deliveries"].count, db["notifications"].count))

    def kept(db, table, ids):
        marks = ",".join("?" * len(ids))
        return {r[0] for r in db.execute(f"SELECT id FROM {table} WHERE id IN ({marks})",
                                         ids)}

    from webapp.domain import notification_prune

    # Batches of one: each a transaction of its own, all of them run.
    counts = with_db(app, lambda db: notification_prune.prune(db, NOW, days, batch=1,
                                                              notification_days=days))
    assert counts == {"deliveries": 4, "notifications": 2}
    deliveries = with_db(app, lambda db: kept(db, "deliveries", [d for d, _ in made.values()]))
    notes = with_db(app, lambda db: kept(db, "notifications", [n for _, n in made.values()]))
    assert deliveries == {made["recent_read"][0]}
    assert notes == {made["old_unread"][1], made["recent_read"][1]}
    after = with_db(app, lambda db: (db["deliveries"].count, db["notifications"].count))
    assert (before[0] - after[0], before[1] - after[1]) == (5, 2)
    # The worker's task does the same with the configured retention: nothing left to do.
    assert immediate.prune.call_local() == {"deliveries": 0, "notifications": 0}
    assert channels.ran == ["prune"]
    names = {t.name for t in immediate.huey.read_periodic(datetime(2026, 11, 10, 19, 40))}
    assert "prune" in names


# --- the web enqueues ---------------------------------------------------------------------

@pytest.fixture
def routes(app):
    """Stand-ins for views: one writes a delivery, one writes nothing, one fails after."""
    app.add_url_rule("/t/queue", "t_queue", lambda: str(insert_delivery(get_db())))
    app.add_url_rule("/t/read", "t_read",
                     lambda: str(get_db().execute("SELECT count(*) FROM jobs").fetchone()[0]))

    def queue_then_fail():
        db = get_db()
        with write_tx(db):
            insert_delivery(db)
            raise RuntimeError("the handler broke: nothing of it is kept")

    app.add_url_rule("/t/fail", "t_fail", queue_then_fail)
    return app.test_client()


def test_a_request_that_queued_a_message_enqueues_deliver(app, routes):
    assert routes.get("/t/read").status_code == 200
    assert not os.path.exists(app.config["HUEY_FILE"])  # nothing asked of huey yet
    assert routes.get("/t/queue").status_code == 200
    huey = worker.worker(app).huey
    assert [t.name for t in huey.pending()] == ["deliver"]
    assert os.path.exists(app.config["HUEY_FILE"])  # the queue is that file
    routes.get("/t/read")  # the same pooled handle: the mark was cleared
    assert len(huey.pending()) == 1


def test_a_request_that_failed_enqueues_nothing(app, routes):
    with pytest.raises(RuntimeError):
        routes.get("/t/fail")
    assert routes.get("/t/read").get_data(as_text=True)
    assert with_db(app, lambda db: db.execute("SELECT count(*) FROM deliveries").fetchone()[0]) \
        == 0
    assert worker.worker(app).huey.pending() == []


def test_a_queue_that_cannot_be_written_does_not_fail_the_request(tmp_path, app, routes):
    app.config["HUEY_FILE"] = str(tmp_path / "no" / "such" / "dir" / "huey.db")
    assert routes.get("/t/queue").status_code == 200


def test_the_consumer_command_is_there(app):
    result = app.test_cli_runner().invoke(args=["worker", "--help"])
    assert result.exit_code == 0 and "worker" in result.output.lower()


def test_each_app_has_its_own_queue_file(tmp_path, app):
    other = create_app({**app.config, "HUEY_FILE": str(tmp_path / "other.db")})
    assert worker.worker(other).huey is not worker.worker(app).huey
    assert worker.worker(other).huey.storage.filename == str(tmp_path / "other.db")


def test_the_real_robot_channel_runs_in_the_consumer_without_a_request(
        app, robot_server):  # noqa: F811  (the fixture imported above)
    # The consumer's threads have no app context: the robots' default function reads the
    # config (PUBLIC_URL) and must still run there, and a queued test message arrive.
    server = robot_server([NOW])
    app.config.update(WECOM_HTTP_HOSTS=["127.0.0.1"], PUBLIC_URL="https://wuye.example.com")
    app.extensions["channels"] = worker.Channels(message=message, now=lambda: NOW)
    w = worker.worker(app)
    w.huey.immediate = True

    def queue_robot(db):
        hook = db["robot_hooks"].insert({"estate_id": 1, "name": "维修群", "url": server.url,
                                         "created_at": NOW.isoformat()}).last_pk
        a = db["announcements"].insert({"estate_id": 1, "kind": "job.dispatched",
                                        "target": "job:7", "created_at": NOW.isoformat()
                                        }).last_pk
        db["deliveries"].insert({"announcement_id": a, "channel": "wecom",
                                 "address_id": hook, "next_at": NOW.isoformat()})
        db.conn.commit()
    with_db(app, queue_robot)
    w.deliver()
    assert len(server.received) == 1
    assert "https://wuye.example.com/jobs/7" in server.received[0]


def test_read_notifications_outlive_their_deliveries(app):
    """A job's page says whom it told, and a worker told of a job may open it: a read
    notification stays for NOTIFICATION_DAYS after its deliveries have gone."""
    from webapp.domain import notification_prune

    def make(db, age):
        at = NOW - timedelta(days=age)
        d = insert_delivery(db, at=at)
        n = db.execute("SELECT notification_id FROM deliveries WHERE id = ?", [d]).fetchone()[0]
        with write_tx(db):
            db.execute("UPDATE deliveries SET status = 'accepted', sent_at = ? WHERE id = ?",
                       [at.isoformat(), d])
            db.execute("UPDATE notifications SET read_at = ? WHERE id = ?", [at.isoformat(), n])
        return d, n

    n1 = with_db(app, lambda db: make(db, 91))[1]
    n2 = with_db(app, lambda db: make(db, notification_prune.NOTIFICATION_DAYS + 1))[1]
    counts = with_db(app, lambda db: notification_prune.prune(db, NOW))
    assert counts == {"deliveries": 2, "notifications": 1}
    left = with_db(app, lambda db: {r[0] for r in db.execute(
        "SELECT id FROM notifications WHERE id IN (?, ?)", [n1, n2])})
    assert left == {n1}
