"""Notifications: what the app tells people, and how each message went out."""

from sqlite_utils import Database

from . import migrations


@migrations(name="0015_notifications")
def notifications(db: Database) -> None:
    # One row per event worth telling (a job dispatched, a deadline near, a step refused),
    # written in the same transaction as the command or scan that causes it. `dedupe`
    # makes a scan's warning once only. Texts are rendered when shown or sent, in the
    # reader's language, from `kind` and `params`.
    # Each person told has a row in `notifications` (the bell, the page, read and opened);
    # each channel a message goes out on has a row in `deliveries`: a phone's push
    # subscription for one person's notification, or a group robot's webhook for the
    # announcement itself (a department's robot hears a pooled job once, not once per
    # member). The worker sends what is queued and due (`next_at`: quiet hours, back-off).
    db.executescript(
        """
        CREATE TABLE announcements (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER REFERENCES estates(id),
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            urgent INTEGER NOT NULL DEFAULT 0,
            department TEXT,
            op_id TEXT,
            dedupe TEXT UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            announcement_id INTEGER NOT NULL REFERENCES announcements(id),
            user_id INTEGER NOT NULL REFERENCES users(id),
            personal INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            read_at TEXT,
            opened_at TEXT,
            UNIQUE (announcement_id, user_id)
        );
        CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;
        CREATE INDEX notifications_user ON notifications(user_id, id);
        CREATE TABLE push_subscriptions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            endpoint TEXT NOT NULL UNIQUE,
            p256dh TEXT NOT NULL,
            auth TEXT NOT NULL,
            user_agent TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            last_ok_at TEXT,
            gone_at TEXT
        );
        CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);
        CREATE TABLE robot_hooks (
            id INTEGER PRIMARY KEY,
            estate_id INTEGER NOT NULL REFERENCES estates(id),
            department TEXT,
            name TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            last_ok_at TEXT,
            last_error TEXT,
            last_error_at TEXT
        );
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            announcement_id INTEGER NOT NULL REFERENCES announcements(id),
            notification_id INTEGER REFERENCES notifications(id),
            channel TEXT NOT NULL,
            address_id INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at TEXT NOT NULL,
            sent_at TEXT,
            error TEXT,
            UNIQUE (announcement_id, notification_id, channel, address_id)
        );
        CREATE INDEX deliveries_due ON deliveries(next_at) WHERE status = 'queued';
        CREATE INDEX deliveries_notification ON deliveries(notification_id);
        CREATE TABLE notify_prefs (
            user_id INTEGER PRIMARY KEY REFERENCES users(id),
            muted TEXT NOT NULL DEFAULT '[]',
            quiet_from TEXT,
            quiet_until TEXT
        );
        """
    )


@migrations(name="0016_wecom_merged")
def wecom_merged(db: Database) -> None:
    # A robot takes 20 messages a minute; several queued deliveries may go out as one
    # merged message. `merged_into` names the delivery whose message carried this one, so
    # the minute's count is of messages, not deliveries; the index counts a robot's minute
    # and lists its failures.
    db.executescript(
        """
        ALTER TABLE deliveries ADD COLUMN merged_into INTEGER REFERENCES deliveries(id);
        CREATE INDEX deliveries_address ON deliveries(channel, address_id, status, sent_at);
        """
    )


# Open jobs by when their clocks started (received, or restarted by an agreed time or a
# reopen), with every column the deadline scan reads: the scan asks a range of this
# index per estate and class and never reads the table (domain/notifications.scan).
OPEN_JOBS = "('new', 'pooled', 'assigned', 'accepted', 'arrived', 'paused')"
CLOCK_START = "max(received_at, coalesce(agreed_at, ''), coalesce(reopened_at, ''))"


@migrations(name="0016_notify_scan_indexes")
def notify_scan_indexes(db: Database) -> None:
    db.executescript(
        f"""
        CREATE INDEX jobs_open_clock ON jobs(estate_id, job_class, {CLOCK_START},
            status, assignee_id, received_at, agreed_at, reopened_at, arrived_at,
            dispatched_at, completed_at) WHERE status IN {OPEN_JOBS};
        CREATE INDEX complaints_unresolved ON complaints(estate_id, received_at)
            WHERE status IN ('new', 'verified', 'escalated', 'dispatched', 'answered')
            AND level != 'major';
        CREATE INDEX announcements_target ON announcements(target, kind);
        """
    )
