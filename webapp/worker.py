"""The delivery worker: a huey queue kept in a SQLite file of the instance folder.

Messages are written in the command's transaction (deliveries, `queued`); this worker
sends them outside any request, so a slow or failing channel never slows or fails a
command. Tasks:

- `deliver`: the due push deliveries (webapp/push.py) and robot deliveries (wecom.py);
  enqueued by the web process after a request that queued deliveries (`init_app`);
- `tick`, every minute: the deadline scan (notification_scan.scan), then `deliver`, which
  also sends what was waiting for its back-off or the end of someone's quiet hours;
- `sweep`, every ten minutes: push deliveries still queued a message's lifetime after
  they came due (the worker was stopped that long) are recorded as expired;
- `reports`, every hour: the month's report drafted for each estate on its report day
  (domain/reports.schedule; its managers are told), then `deliver`.
- `prune`, daily at 03:40 Beijing time: read notifications and finished deliveries older
  than NOTIFY_RETENTION_DAYS are deleted, in batches (domain/notification_prune.py).

`flask worker` runs huey's consumer for the app (`make run`, deploy/serve.sh, the
browser tests' server). Enqueueing from the web only writes a row to huey's file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from huey import SqliteHuey, crontab
from huey.consumer_options import ConsumerConfig
from pywebpush import webpush
from sqlite_utils import Database

from . import push, wecom
from .auth import utcnow
from .db import connect
from .domain import notification_prune, notification_scan, notifications, reports
from .domain.handlers import HANDLERS
from .domain.transactions import write_tx

log = logging.getLogger(__name__)


def _robots_deliver_due(db: Database, now: datetime, *, message: Callable) -> int:
    # A robot's message links to the record on the address phones use (PUBLIC_URL, set
    # by `make serve`); without one (the demo) the link is the record's path.
    return wecom.deliver_due(db, now, message=message,
                             base_url=str(current_app.config.get("PUBLIC_URL") or ""))


def _report_drafts(db: Database, now: datetime) -> int:
    return reports.schedule(db, now, HANDLERS)


@dataclass
class Channels:
    """What the tasks call; tests put their own in `app.extensions["channels"]`."""

    message: Callable[[Database, dict, str], dict] = notifications.message
    scan: Callable[[Database, datetime], Any] = notification_scan.scan
    push_send: Callable[..., Any] = webpush
    robots: Callable[..., int] | None = _robots_deliver_due
    report_drafts: Callable[[Database, datetime], Any] = _report_drafts
    now: Callable[[], datetime] = utcnow
    ran: list[str] = field(default_factory=list)  # task names, in order (for tests)


class Worker:
    """The app's huey instance and its tasks (one per app: the file is configurable)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        # No results kept: nobody reads them, and each run's would stay in the file.
        self.huey = SqliteHuey("wuye", filename=app.config["HUEY_FILE"], utc=True,
                               results=False)
        huey = self.huey
        self.deliver = huey.task(name="deliver")(self._in_app(self._deliver))
        self.tick = huey.periodic_task(crontab(minute="*"), name="tick")(
            self._in_app(self._tick))
        self.sweep = huey.periodic_task(crontab(minute="*/10"), name="sweep")(
            self._in_app(self._sweep))
        # Hourly: the day's drafts are made in its first hour, or when the worker is back.
        self.reports = huey.periodic_task(crontab(minute="7"), name="reports")(
            self._in_app(self._reports))
        # huey keeps UTC (utc=True): 19:40 UTC is 03:40 in China, the quietest hour.
        self.prune = huey.periodic_task(crontab(minute="40", hour="19"), name="prune")(
            self._in_app(self._prune))

    def _in_app(self, task: Callable[[], Any]) -> Callable[[], Any]:
        """A task runs in the app's context, as a request does: the consumer's threads
        have none, and what the channels read (the config, the catalogs) needs one."""
        def run() -> Any:
            with self.app.app_context():
                return task()
        run.__name__ = task.__name__
        return run

    @property
    def channels(self) -> Channels:
        return self.app.extensions.setdefault("channels", Channels())

    def _db(self) -> Database:
        return connect(self.app.config["DATABASE"], self.app.config.get("RECORDS_KEY"))

    def _deliver(self) -> dict[str, int]:
        """Send what is due on every channel; one channel failing does not stop another."""
        ch = self.channels
        ch.ran.append("deliver")
        db = self._db()
        sent = {"push": 0, "robot": 0}
        try:
            try:
                config = self.app.config
                vapid = push.vapid_keys(config["VAPID_KEY_FILE"])
                sent["push"] = push.deliver_due(
                    db, ch.now(), message=ch.message, vapid=vapid, send=ch.push_send,
                    sub_claim=config["PUSH_CONTACT"] or push.contact(config["PUBLIC_URL"]))
            except Exception:
                log.exception("push deliveries")
            if ch.robots is not None:
                try:
                    sent["robot"] = ch.robots(db, ch.now(), message=ch.message)
                except Exception:
                    log.exception("robot deliveries")
        finally:
            db.close()
        return sent

    def _tick(self) -> None:
        ch = self.channels
        ch.ran.append("tick")
        db = self._db()
        try:
            ch.scan(db, ch.now())
        except Exception:
            log.exception("notification scan")
        finally:
            db.close()
        self.deliver.call_local()

    def _reports(self) -> None:
        ch = self.channels
        ch.ran.append("reports")
        db = self._db()
        try:
            ch.report_drafts(db, ch.now())
        except Exception:
            log.exception("report drafts")
        finally:
            db.close()
        self.deliver.call_local()

    def _sweep(self) -> int:
        ch = self.channels
        ch.ran.append("sweep")
        now = ch.now()
        db = self._db()
        try:
            with write_tx(db):
                cur = db.execute(
                    "UPDATE deliveries SET status = 'failed', error = 'expired' WHERE"
                    " status = 'queued' AND channel = 'push' AND next_at < ?",
                    [(now - timedelta(seconds=push.TTL_SECONDS)).isoformat()])
            return cur.rowcount
        finally:
            db.close()


    def _prune(self) -> dict[str, int]:
        ch = self.channels
        ch.ran.append("prune")
        db = self._db()
        try:
            return notification_prune.prune(db, ch.now(),
                                            int(self.app.config["NOTIFY_RETENTION_DAYS"]))
        finally:
            db.close()


def worker(app: Flask) -> Worker:
    """The app's worker, made on first use (a test's app makes no huey file unasked)."""
    found = app.extensions.get("worker")
    if found is None:
        found = app.extensions["worker"] = Worker(app)
    return found


def _deliver_soon(exc: BaseException | None) -> None:
    """After a request that queued deliveries: have the worker send them now, not at its
    next minute. Failing to enqueue costs only that wait (the minute's tick sends them)."""
    db = g.get("db")
    if db is None or not getattr(db, "deliveries_queued", False):
        return
    db.deliveries_queued = False
    if exc is not None:
        return
    try:
        worker(current_app).deliver()
    except Exception:
        log.exception("enqueue deliver")


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Run the delivery worker (huey's consumer, one thread, periodic tasks on)."""
    # An idle consumer looks for work at most every 2 s (huey's default: 10 s), so an
    # enqueued `deliver` leaves within seconds; each look is one indexed query.
    config = ConsumerConfig(workers=1, worker_type="thread", periodic=True, max_delay=2.0)
    config.validate()
    config.setup_logger(logging.getLogger("huey"))
    w = worker(current_app._get_current_object())
    w.huey.create_consumer(**config.values).run()


def init_app(app: Flask) -> None:
    # Registered after db.init_app: teardowns run in reverse, so g.db is still there.
    app.teardown_appcontext(_deliver_soon)
    app.cli.add_command(worker_command)
