"""Notifications: who is told what (one table of rules), recorded in the command's own
transaction, and the periodic scan for deadlines and due callbacks.

An event is an announcement; each person told has a notification (the bell and the page);
each channel a message goes out on has a delivery (a phone's push subscription, an
estate's group robot), which a worker outside the request sends (schema: migration 0015).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from sqlite_utils import Database

from sync import Command, Invalid, Rejected, fields

from . import people
from .callbacks import POOL_ROLES
from .deadlines import job_deadlines
from .jobs import CLASSES, iso
from .settings import estate_settings
from .text import N_
from .transactions import write_tx
from .workdays import LOCAL, local_date

# Who hears an event: the people the event names (`users`, told personally; they cannot
# mute it), and the rule's groups: "desk" the estate's service desk, "department" the
# estate's staff of the event's department, "managers" its managers, "pool" the members
# of a callback pool.


@dataclass(frozen=True)
class Rule:
    label: str  # what the preferences page calls the kind
    title: str  # msgids, formatted with the announcement's params
    body: str
    groups: tuple[str, ...] = ()
    urgent: bool = False  # goes through quiet hours
    robot: bool = True  # a group robot of the estate hears it too
    # Group members are told only if their role may open the record (people.CAPABILITIES).
    capability: str | None = None


RULES: dict[str, Rule] = {
    "job.dispatched": Rule(N_("A job dispatched to me"), N_("New job %(number)s"),
                           N_("%(place)s: %(text)s")),
    "job.reassigned": Rule(N_("A job reassigned to me"), N_("Job %(number)s is now yours"),
                           N_("%(place)s: %(text)s")),
    "job.edited": Rule(N_("A job of mine corrected by the desk"),
                       N_("Job %(number)s was corrected"), N_("%(place)s: %(text)s"),
                       robot=False),
    "job.pooled": Rule(N_("A job in my department's pool"),
                       N_("Job %(number)s in your department's pool"),
                       N_("%(place)s: %(text)s"), groups=("department",)),
    "job.emergency": Rule(N_("An emergency reported"), N_("Emergency %(number)s"),
                          N_("%(place)s: %(text)s"), groups=("desk", "department"),
                          urgent=True, capability="job.view_all"),
    "job.notify_passed": Rule(N_("A report not dispatched in time"),
                              N_("Job %(number)s: not dispatched yet (due %(due)s)"),
                              N_("%(place)s: %(text)s"), groups=("desk",)),
    "job.arrive_soon": Rule(N_("On-site deadline about to pass"),
                            N_("Job %(number)s: on site by %(due)s"),
                            N_("%(place)s: %(text)s"), groups=("desk",)),
    "job.arrive_passed": Rule(N_("On-site deadline passed"),
                              N_("Job %(number)s: on-site deadline passed (%(due)s)"),
                              N_("%(place)s: %(text)s"), groups=("desk",)),
    "job.complete_soon": Rule(N_("Completion deadline about to pass"),
                              N_("Job %(number)s: done by %(due)s"),
                              N_("%(place)s: %(text)s"), groups=("desk",)),
    "job.complete_passed": Rule(N_("Completion deadline passed"),
                                N_("Job %(number)s: completion deadline passed (%(due)s)"),
                                N_("%(place)s: %(text)s"), groups=("desk",)),
    "job.public_report": Rule(N_("A resident's report from a QR code"),
                              N_("Report %(number)s from a QR code"),
                              N_("%(place)s: %(text)s"), groups=("desk",)),
    "complaint.major": Rule(N_("A complaint turned major"),
                            N_("Complaint %(number)s is major"), N_("%(text)s"),
                            groups=("managers",), capability="complaint.view"),
    "complaint.dispatched": Rule(N_("A complaint dispatched to my department"),
                                 N_("Complaint %(number)s to handle"), N_("%(text)s"),
                                 groups=("department",), capability="complaint.view"),
    "callback.due_today": Rule(N_("Callbacks due today"),
                               N_("%(count)s callbacks due today"), N_("By %(due)s"),
                               groups=("pool",), capability="callback.work"),
    "callback.overdue": Rule(N_("Callbacks overdue"), N_("%(count)s callbacks overdue"),
                             N_("They were due at %(due)s"), groups=("pool",),
                             capability="callback.work"),
    "routine.published": Rule(N_("A routine callback plan published"),
                              N_("Routine callbacks for %(month)s"),
                              N_("%(count)s households to call"), groups=("pool",),
                              capability="callback.work"),
    "step.refused": Rule(N_("A step of mine refused"),
                         N_("Job %(number)s: %(step)s not accepted"), N_("%(reason)s"),
                         robot=False),
}
# What a user may mute: kinds that reach someone through a group, never a personal one.
MUTABLE = tuple(k for k, r in RULES.items() if r.groups)

# A deadline passed longer ago than this is not news when the scan first sees it (the
# worker was stopped): the board shows it; a message now would only be noise.
SCAN_CATCH_UP = timedelta(hours=2)
OPEN_JOBS = ("new", "pooled", "assigned", "accepted", "arrived", "paused")
CLOCK_START = "max(received_at, coalesce(agreed_at, ''), coalesce(reopened_at, ''))"
STEPS = {  # the refused step, as the worker's message names it
    "job.claim": N_("take the job"), "job.accept": N_("accept"),
    "job.decline": N_("decline"), "job.arrive": N_("arrive on site"),
    "job.pause": N_("pause"), "job.complete": N_("complete"),
    "job.signoff": N_("sign-off"),
}
REASONS = {  # Rejected codes, as the worker's message says them
    "taken": N_("Someone else already took this job."),
    "cancelled": N_("The job was cancelled."),
    "not_assignee": N_("The job is assigned to someone else."),
    "illegal_transition": N_("This step does not fit the job's current state."),
    "forbidden": N_("Your role may not do this."),
}


def _members(db: Database, estate_id: int, group: str, department: str | None,
             pool: str | None, capability: str | None) -> list[int]:
    """The active users of the estate in one of a rule's groups (whose role has the
    capability, when one is named)."""
    sql = ("SELECT u.id FROM users u JOIN user_estates ue ON ue.user_id = u.id "
           "WHERE ue.estate_id = ? AND u.active = 1 AND ")
    if capability is not None:
        roles = sorted(people.CAPABILITIES[capability])
        sql += "u.role IN (" + ", ".join(f"'{r}'" for r in roles) + ") AND "
    if group == "desk":
        return [r[0] for r in db.execute(sql + "u.role = 'desk'", [estate_id])]
    if group == "managers":
        return [r[0] for r in db.execute(sql + "u.role = 'manager'", [estate_id])]
    if group == "department" and department:
        return [r[0] for r in db.execute(sql + "u.department = ?", [estate_id, department])]
    if group == "pool" and pool:
        if pool in POOL_ROLES:
            return [r[0] for r in db.execute(sql + "u.role = ?", [estate_id, POOL_ROLES[pool]])]
        return [r[0] for r in db.execute(sql + "u.department = ?", [estate_id, pool])]
    return []


def prefs(db: Database, user_id: int) -> dict[str, Any]:
    row = db.execute("SELECT muted, quiet_from, quiet_until FROM notify_prefs WHERE user_id = ?",
                     [user_id]).fetchone()
    if row is None:
        return {"muted": [], "quiet_from": None, "quiet_until": None}
    return {"muted": json.loads(row[0]), "quiet_from": row[1], "quiet_until": row[2]}


def quiet_until(pref: Mapping[str, Any], now: datetime) -> datetime | None:
    """When the user's quiet hours end, if `now` falls in them (naive UTC); else None.
    Hours are local and may run over midnight (22:00 to 07:00)."""
    start, end = pref.get("quiet_from"), pref.get("quiet_until")
    if not start or not end or start == end:
        return None
    local = now.replace(tzinfo=UTC).astimezone(LOCAL)
    t0, t1 = time.fromisoformat(start), time.fromisoformat(end)
    at = local.time()
    inside = (t0 <= at < t1) if t0 < t1 else (at >= t0 or at < t1)
    if not inside:
        return None
    day = local.date() if at < t1 else local.date() + timedelta(days=1)
    ends = datetime.combine(day, t1, LOCAL)
    return ends.astimezone(UTC).replace(tzinfo=None)


def announce(db: Database, kind: str, *, target: str, estate_id: int,
             params: Mapping[str, Any], now: datetime, op_id: str | None = None,
             dedupe: str | None = None, department: str | None = None,
             users: Iterable[int | None] = (), actor: int | None = None,
             pool: str | None = None, urgent: bool = False) -> int | None:
    """Record an event and who is told of it, with the deliveries to queue, in the caller's
    transaction. `users` are told personally; the rule's groups too, unless they muted the
    kind. The actor is never told of their own step. None when `dedupe` was seen. Urgent
    (the rule's, or `urgent` for this event: an emergency job) goes through quiet hours."""
    rule = RULES[kind]
    urgent = urgent or rule.urgent
    if dedupe is not None and db.execute(
            "SELECT 1 FROM announcements WHERE dedupe = ?", [dedupe]).fetchone():
        return None
    at = iso(now)
    aid = db.execute(
        "INSERT INTO announcements (estate_id, kind, target, params, urgent, department,"
        " op_id, dedupe, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        [estate_id, kind, target, json.dumps(dict(params), ensure_ascii=False),
         int(urgent), department, op_id, dedupe, at]).lastrowid
    told: dict[int, bool] = {}
    for uid in users:  # named by the event: told personally, whatever they muted
        if uid is not None:
            told[uid] = True
    for group in rule.groups:
        for uid in _members(db, estate_id, group, department, pool, rule.capability):
            told.setdefault(uid, False)
    told.pop(actor, None)  # type: ignore[arg-type]
    for uid, personal in told.items():
        pref = prefs(db, uid)
        if not personal and kind in pref["muted"]:
            continue
        nid = db.execute(
            "INSERT INTO notifications (announcement_id, user_id, personal, created_at)"
            " VALUES (?,?,?,?)", [aid, uid, int(personal), at]).lastrowid
        later = None if urgent else quiet_until(pref, now)
        db.execute(
            "INSERT INTO deliveries (announcement_id, notification_id, channel, address_id,"
            " next_at) SELECT ?, ?, 'push', id, ? FROM push_subscriptions"
            " WHERE user_id = ? AND gone_at IS NULL", [aid, nid, iso(later or now), uid])
    if rule.robot:
        db.execute(
            "INSERT INTO deliveries (announcement_id, channel, address_id, next_at)"
            " SELECT ?, 'wecom', id, ? FROM robot_hooks WHERE estate_id = ? AND active = 1"
            " AND (department IS NULL OR department = ?)", [aid, at, estate_id, department])
    return aid


# --- What a message says ----------------------------------------------------------------

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
CATALOGS = {"zh_CN": "zh", "zh": "zh", "en": "en"}


@functools.lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The catalog of a language, as flask-babel loads it, for text made outside a request
    (the worker's messages); Chinese when the language is unknown."""
    return Translations.load(str(TRANSLATIONS), [CATALOGS.get(locale, "zh")])


def render(kind: str, params: Mapping[str, Any], locale: str) -> tuple[str, str]:
    """(title, body) of an announcement, short, in the language."""
    t = translations(locale).ugettext
    rule = RULES[kind]
    values = {k: (t(v) if k in ("step", "reason") else v) for k, v in params.items()}
    try:
        return t(rule.title) % values, t(rule.body) % values
    except (KeyError, TypeError, ValueError):  # params from an older version of a rule
        return t(rule.label), ""


LINKS = {"job": "/jobs/{}", "complaint": "/complaints/{}", "callback": "/callbacks/{}"}


# Kinds that open somewhere else than their record: a refused step's job may no longer be
# the worker's to open (reassigned); the outbox shows what was refused, why, and what of
# it the server kept.
OPENS = {"step.refused": "/outbox"}


def link(target: str, kind: str = "") -> str:
    """The path of the record a target names (`job:42` → /jobs/42)."""
    if kind in OPENS:
        return OPENS[kind]
    kind, _, rid = target.partition(":")
    if kind in LINKS and rid.isdigit():
        return LINKS[kind].format(rid)
    return {"callbacks": "/callbacks", "routine": "/routine"}.get(kind, "/notifications")


def message(db: Database, announcement: Mapping[str, Any], locale: str) -> dict[str, str]:
    """What a push or a robot says of an announcement: title, body and the record's URL
    path (the sender makes it absolute)."""
    params = announcement["params"]
    if isinstance(params, str):
        params = json.loads(params)
    title, body = render(announcement["kind"], params, locale)
    return {"title": title, "body": body,
            "url": link(announcement["target"], announcement["kind"])}


def _local(at: datetime) -> str:
    return at.replace(tzinfo=UTC).astimezone(LOCAL).strftime("%m-%d %H:%M")


def job_params(db: Database, job_id: int) -> dict[str, Any]:
    """What a job's messages say: its number, place and the start of its description."""
    row = db.execute(
        "SELECT j.number, j.description, e.name, b.name, u.number FROM jobs j"
        " JOIN estates e ON e.id = j.estate_id LEFT JOIN units u ON u.id = j.unit_id"
        " LEFT JOIN buildings b ON b.id = u.building_id WHERE j.id = ?", [job_id]).fetchone()
    number, text, estate, building, unit = row
    place = estate + (f" {building}-{unit}" if unit else "")
    return {"number": number, "place": place, "text": text[:60]}


# --- Events from commands ---------------------------------------------------------------


def job_created(db: Database, cmd: Command, job_id: int, now: datetime) -> None:
    """An emergency tells the desk and the department; a QR report tells the desk."""
    estate_id, department, job_class = db.execute(
        "SELECT estate_id, department, job_class FROM jobs WHERE id = ?", [job_id]).fetchone()
    kind = ("job.emergency" if job_class == "emergency"
            else "job.public_report" if cmd.kind == "public.report" else None)
    if kind:
        announce(db, kind, target=f"job:{job_id}", estate_id=estate_id,
                 params=job_params(db, job_id), now=now, op_id=cmd.op_id,
                 department=department, actor=cmd.user_id)


def job_dispatched(db: Database, cmd: Command, job_id: int, now: datetime) -> None:
    """To the person it now belongs to, or to its department's pool."""
    estate_id, department, assignee, status, job_class = db.execute(
        "SELECT estate_id, department, assignee_id, status, job_class FROM jobs WHERE id = ?",
        [job_id]).fetchone()
    if status == "pooled":
        kind, users = "job.pooled", []
    else:
        kind = "job.reassigned" if cmd.kind == "job.reassign" else "job.dispatched"
        users = [assignee]
    announce(db, kind, target=f"job:{job_id}", estate_id=estate_id,
             params=job_params(db, job_id), now=now, op_id=cmd.op_id, department=department,
             users=users, actor=cmd.user_id, urgent=job_class == "emergency")


def job_edited(db: Database, cmd: Command, job: Mapping[str, Any], now: datetime) -> None:
    """The desk corrected a job (job.edit): the person on it is told; a pooled job that
    moved to another department's pool is news to that department; a job made an
    emergency is announced as one."""
    department, assignee, status, job_class = db.execute(
        "SELECT department, assignee_id, status, job_class FROM jobs WHERE id = ?",
        [job["id"]]).fetchone()
    if job_class == "emergency" and job["job_class"] != "emergency":
        # Found to be an emergency (a QR report arrives as a small repair): told as one.
        announce(db, "job.emergency", target=f"job:{job['id']}", estate_id=job["estate_id"],
                 params=job_params(db, job["id"]), now=now, op_id=cmd.op_id,
                 department=department, actor=cmd.user_id)
    if assignee is not None:
        announce(db, "job.edited", target=f"job:{job['id']}", estate_id=job["estate_id"],
                 params=job_params(db, job["id"]), now=now, op_id=cmd.op_id,
                 department=department, users=[assignee], actor=cmd.user_id)
    elif status == "pooled" and department != job["department"]:
        announce(db, "job.pooled", target=f"job:{job['id']}", estate_id=job["estate_id"],
                 params=job_params(db, job["id"]), now=now, op_id=cmd.op_id,
                 department=department, actor=cmd.user_id)


def complaint_params(db: Database, complaint_id: int) -> tuple[int, dict[str, Any]]:
    estate_id, number, content = db.execute(
        "SELECT estate_id, number, content FROM complaints WHERE id = ?",
        [complaint_id]).fetchone()
    return estate_id, {"number": number, "text": content[:60]}


def complaint_major(db: Database, complaint_id: int, now: datetime,
                    cmd: Command | None = None) -> None:
    """Once per complaint, whether it turned major by its level or by the month."""
    estate_id, params = complaint_params(db, complaint_id)
    announce(db, "complaint.major", target=f"complaint:{complaint_id}", estate_id=estate_id,
             params=params, now=now, op_id=cmd.op_id if cmd else None,
             dedupe=f"complaint.major:{complaint_id}",
             actor=cmd.user_id if cmd else None)


def complaint_dispatched(db: Database, cmd: Command, complaint_id: int, now: datetime) -> None:
    estate_id, params = complaint_params(db, complaint_id)
    department, assignee, role = db.execute(
        "SELECT c.department, c.assignee_id, u.role FROM complaints c"
        " LEFT JOIN users u ON u.id = c.assignee_id WHERE c.id = ?",
        [complaint_id]).fetchone()
    # A person who may not open complaints (a technician) hears of the job it became.
    personal = [assignee] if role in people.CAPABILITIES["complaint.view"] else []
    announce(db, "complaint.dispatched", target=f"complaint:{complaint_id}",
             estate_id=estate_id, params=params, now=now, op_id=cmd.op_id,
             department=department, users=personal, actor=cmd.user_id)


def routine_published(db: Database, cmd: Command, plan_id: int, estate_id: int, month: str,
                      now: datetime) -> None:
    """Each sampler's pool hears how many households it calls this month."""
    for pool, count in db.execute(
            "SELECT pool, count(*) FROM callback_tasks WHERE plan_id = ? AND kind = 'routine'"
            " GROUP BY pool ORDER BY pool", [plan_id]).fetchall():
        announce(db, "routine.published", target=f"routine:{plan_id}", estate_id=estate_id,
                 params={"month": month, "count": count}, now=now, op_id=cmd.op_id,
                 pool=pool, department=pool if pool in people.DEPARTMENTS else None,
                 actor=cmd.user_id)


def refused(db: Database, cmd: Command, result: Mapping[str, Any], now: datetime) -> None:
    """A step sent from a phone's outbox and refused on the server: its worker is told why,
    in the transaction that stores the refusal (sync.apply's `on_rejected`)."""
    if not cmd.replayed or cmd.user_id is None or not cmd.kind.startswith("job."):
        return
    job_id = fields.maybe_id(cmd.target.partition(":")[2])
    row = db.execute("SELECT estate_id FROM jobs WHERE id = ?", [job_id]).fetchone() \
        if job_id else None
    if row is None:
        return
    params = job_params(db, job_id)  # type: ignore[arg-type]
    params.update(step=STEPS.get(cmd.kind, cmd.kind),
                  reason=REASONS.get(str(result.get("reason")), str(result.get("message", ""))))
    announce(db, "step.refused", target=f"job:{job_id}", estate_id=row[0], params=params,
             now=now, op_id=cmd.op_id, users=[cmd.user_id])


# --- The periodic scan ------------------------------------------------------------------


JOB_COLUMNS = ("id", "status", "assignee_id", "received_at", "agreed_at", "reopened_at",
               "arrived_at", "dispatched_at", "completed_at")


def scan_query() -> str:
    """Open jobs of an estate and class whose clocks started in a range: a range of the
    partial index jobs_open_clock (migration 0016), which holds every column read."""
    # The statuses as written in the index's WHERE (migration 0016): a partial index is
    # used only when the query's terms imply it, and bound parameters do not.
    statuses = ", ".join(f"'{s}'" for s in OPEN_JOBS)
    # INDEXED BY: without statistics the planner prefers the board's index, which
    # holds closed jobs too and not the columns read.
    return (f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs INDEXED BY jobs_open_clock"
            f" WHERE status IN ({statuses})"
            f" AND estate_id = ? AND job_class = ? AND {CLOCK_START} > ?"
            f" AND {CLOCK_START} <= ?")


def scan_params(estate_id: int, job_class: str, low: datetime, high: datetime) -> list[Any]:
    return [estate_id, job_class, iso(low), iso(high)]


DEADLINE_AT = {"notify": 0, "arrive": 1, "complete": 2}  # in job_deadlines' list


def _job_warnings(db: Database, estate_id: int, settings: Mapping[str, int],
                  now: datetime) -> int:
    lead = timedelta(minutes=settings["deadline_warning_minutes"])
    made = 0
    for job_class in CLASSES:
        # The desk's own deadline (notify the field within minutes of a report) is told
        # once passed: its whole window is shorter than the warning's lead.
        for name in ("notify", "arrive", "complete"):
            at = DEADLINE_AT[name]
            # A throwaway job of this class gives the window: the one deadline function.
            start = datetime(2000, 1, 1)
            window = job_deadlines({"received_at": start, "job_class": job_class},
                                   settings, now)[at].due - start
            # Deadlines due from the catch-up's start to the lead time ahead.
            rows = db.execute(scan_query(), scan_params(
                estate_id, job_class, now - SCAN_CATCH_UP - window, now + lead - window))
            for r in rows.fetchall():
                job = dict(zip(JOB_COLUMNS, r, strict=True))
                job["job_class"] = job_class
                d = job_deadlines(job, settings, now)[at]
                if d.done_at is not None or d.due <= now - SCAN_CATCH_UP:
                    continue
                if name == "notify" and d.due > now:
                    continue
                kind = f"job.{name}_{'passed' if d.due <= now else 'soon'}"
                # The deadline is in the key: a clock restarted (a pause) warns again.
                dedupe = f"{kind}:{job['id']}:{iso(d.due)}"
                if db.execute("SELECT 1 FROM announcements WHERE dedupe = ?",
                              [dedupe]).fetchone():
                    continue
                params = job_params(db, job["id"])
                params["due"] = _local(d.due)
                department = db.execute("SELECT department FROM jobs WHERE id = ?",
                                        [job["id"]]).fetchone()[0]
                announce(db, kind, target=f"job:{job['id']}", estate_id=estate_id,
                         params=params, now=now, dedupe=dedupe, department=department,
                         users=[job["assignee_id"]])
                made += 1
    return made


def _callback_warnings(db: Database, estate_id: int, now: datetime) -> int:
    """Open callbacks due later today, and those just overdue, to their assignee or pool:
    one message per person or pool and due time (a routine plan gives a pool many tasks
    due at once)."""
    today = local_date(now)
    day_end = datetime.combine(today + timedelta(days=1), time(0), LOCAL) \
        .astimezone(UTC).replace(tzinfo=None)
    made = 0
    for kind, low, high in (("callback.overdue", now - SCAN_CATCH_UP, now),
                            ("callback.due_today", now, day_end)):
        groups: dict[tuple[int | None, str | None], list[tuple[int, str]]] = {}
        for tid, due, assignee, pool in db.execute(
                "SELECT id, due_at, assignee_id, pool FROM callback_tasks WHERE estate_id = ?"
                " AND status = 'open' AND due_at > ? AND due_at <= ? ORDER BY due_at, id",
                [estate_id, iso(low), iso(high)]):
            groups.setdefault((assignee, None if assignee else pool), []).append((tid, due))
        for (assignee, pool), tasks in groups.items():
            who = f"user:{assignee}" if assignee else f"pool:{pool}"
            first_due = datetime.fromisoformat(tasks[0][1])
            # Overdue: once per due time; due today: once per day.
            when = tasks[0][1] if kind == "callback.overdue" else today.isoformat()
            target = f"callback:{tasks[0][0]}" if len(tasks) == 1 else "callbacks"
            if announce(db, kind, target=target, estate_id=estate_id,
                        params={"count": len(tasks), "due": _local(first_due)}, now=now,
                        dedupe=f"{kind}:{estate_id}:{who}:{when}",
                        users=[assignee] if assignee else [], pool=pool,
                        department=pool if pool in people.DEPARTMENTS else None):
                made += 1
    return made


def _complaints_turned_major(db: Database, estate_id: int, settings: Mapping[str, int],
                             now: datetime) -> int:
    cutoff = iso(now - timedelta(days=settings["complaint_major_after_days"]))
    made = 0
    for (cid,) in db.execute(
            "SELECT id FROM complaints WHERE status IN"
            " ('new', 'verified', 'escalated', 'dispatched', 'answered') AND level != 'major'"
            " AND estate_id = ? AND received_at <= ?", [estate_id, cutoff]).fetchall():
        if not db.execute("SELECT 1 FROM announcements WHERE dedupe = ?",
                          [f"complaint.major:{cid}"]).fetchone():
            complaint_major(db, cid, now)
            made += 1
    return made


def scan(db: Database, now: datetime) -> int:
    """Deadline warnings (about to pass, passed), callbacks due today and overdue, and
    complaints a month unresolved: each told once. Returns the announcements made."""
    made = 0
    for (estate_id,) in db.execute("SELECT id FROM estates ORDER BY id").fetchall():
        settings = estate_settings(db, estate_id)
        with write_tx(db):  # one short write transaction per estate
            made += _job_warnings(db, estate_id, settings, now)
            made += _callback_warnings(db, estate_id, now)
            made += _complaints_turned_major(db, estate_id, settings, now)
    return made


# --- Reading and preferences ------------------------------------------------------------

UNREAD_CAP = 100  # the bell says 99+ past this; counting further costs and tells nothing


def unread_count(db: Database, user_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM notifications WHERE user_id = ? AND read_at"
        " IS NULL LIMIT ?)", [user_id, UNREAD_CAP]).fetchone()[0]


def page(db: Database, user_id: int, before: int | None, limit: int) -> list[dict[str, Any]]:
    """The user's notifications, newest first, `limit` at a time below id `before`."""
    return list(db.query(
        "SELECT n.id, n.read_at, n.opened_at, n.personal, n.created_at, a.kind, a.target,"
        " a.params, a.urgent FROM notifications n JOIN announcements a"
        " ON a.id = n.announcement_id WHERE n.user_id = ? AND n.id < ?"
        " ORDER BY n.id DESC LIMIT ?", [user_id, before or 2**63 - 1, limit]))


def open_one(db: Database, user_id: int, notification_id: int, now: datetime) -> str | None:
    """Mark one of the user's notifications read and opened; the record's path."""
    row = db.execute(
        "SELECT a.target, a.kind FROM notifications n JOIN announcements a"
        " ON a.id = n.announcement_id WHERE n.id = ? AND n.user_id = ?",
        [notification_id, user_id]).fetchone()
    if row is None:
        return None
    db.execute("UPDATE notifications SET read_at = coalesce(read_at, ?),"
               " opened_at = coalesce(opened_at, ?) WHERE id = ?",
               [iso(now), iso(now), notification_id])
    return link(row[0], row[1])


def unopened(db: Database, user_id: int, target: str) -> list[int]:
    """The user's notifications about a record not opened yet (read by the record's page,
    which marks them when there are any)."""
    return [r[0] for r in db.execute(
        "SELECT n.id FROM announcements a JOIN notifications n ON n.announcement_id = a.id"
        " AND n.user_id = ? WHERE a.target = ? AND n.opened_at IS NULL", [user_id, target])]


def mark_opened(db: Database, ids: list[int], now: datetime) -> None:
    marks = ",".join("?" * len(ids))
    db.execute(f"UPDATE notifications SET read_at = coalesce(read_at, ?), opened_at = ?"
               f" WHERE id IN ({marks})", [iso(now), iso(now), *ids])


def mark_all_read(db: Database, user_id: int, now: datetime) -> int:
    return db.execute("UPDATE notifications SET read_at = ? WHERE user_id = ?"
                      " AND read_at IS NULL", [iso(now), user_id]).rowcount


CHANNELS = {"push": N_("Phone notification"), "wecom": N_("WeCom group")}
DELIVERY_STATUSES = {"queued": N_("waiting to send"), "sent": N_("sent"),
                     "accepted": N_("delivered"), "failed": N_("failed")}


def told(db: Database, job: Mapping[str, Any], notify_due: datetime
         ) -> dict[str, Any] | None:
    """Whether the job reached the field within the notify deadline (`notify_due`:
    deadlines.job_deadlines' "notify", the one rule), measured at the first message that
    told someone it was theirs or their pool's; and, for its assignee now, when they were
    told, when they opened it and how each delivery went."""
    first = db.execute(
        "SELECT min(created_at) FROM announcements WHERE target = ? AND kind IN"
        " ('job.dispatched', 'job.reassigned', 'job.pooled')", [f"job:{job['id']}"]
    ).fetchone()[0]
    if first is None:
        return None
    row = db.execute(
        "SELECT n.id, n.created_at, n.opened_at FROM announcements a JOIN notifications n"
        " ON n.announcement_id = a.id AND n.user_id = ? WHERE a.target = ?"
        " AND a.kind IN ('job.dispatched', 'job.reassigned') ORDER BY n.id DESC LIMIT 1",
        [job.get("assignee_id"), f"job:{job['id']}"]).fetchone()
    deliveries = list(db.query(
        "SELECT channel, status, sent_at, error FROM deliveries WHERE notification_id = ?"
        " ORDER BY id", [row[0]])) if row else []
    return {"at": first, "opened_at": row[2] if row else None, "deliveries": deliveries,
            "met": datetime.fromisoformat(first) <= notify_due}


TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def prefs_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `notify.prefs`: the user's own muted kinds and quiet hours."""
    user = people.get_user(db, cmd.user_id)
    if user is None or not user["active"] or cmd.target != f"user:{cmd.user_id}":
        raise Rejected("forbidden", N_("You may change only your own settings."))
    p = cmd.payload
    muted = p.get("muted") or []
    if not isinstance(muted, list) or any(k not in MUTABLE for k in muted):
        raise Invalid({"muted": N_("Choose among the listed kinds.")})
    start, end = str(p.get("quiet_from") or ""), str(p.get("quiet_until") or "")
    errors = {}
    for key, value in (("quiet_from", start), ("quiet_until", end)):
        if value and not TIME.match(value):
            errors[key] = N_("Enter a time such as 22:00.")
    if bool(start) != bool(end):
        errors["quiet_until" if start else "quiet_from"] = N_(
            "Give both the start and the end of the quiet hours, or neither.")
    if errors:
        raise Invalid(errors)
    db.execute(
        "INSERT INTO notify_prefs (user_id, muted, quiet_from, quiet_until) VALUES (?,?,?,?)"
        " ON CONFLICT (user_id) DO UPDATE SET muted = excluded.muted,"
        " quiet_from = excluded.quiet_from, quiet_until = excluded.quiet_until",
        [cmd.user_id, json.dumps(sorted(set(muted))), start or None, end or None])
    return {"user_id": cmd.user_id}


HANDLERS = {"notify.prefs": prefs_command}
