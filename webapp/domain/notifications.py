"""Notifications: who is told what (one table of rules), recorded in the command's own
transaction, and what a message says. The periodic scan for deadlines and due callbacks
is notification_scan.py; the bell, the page and the preferences notification_reading.py.

An event is an announcement; each person told has a notification (the bell and the page);
each channel a message goes out on has a delivery (a phone's push subscription, an
estate's group robot), which a worker outside the request sends (schema: migration 0015).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from sqlite_utils import Database

from sync import Command, fields

from . import handovers, people
from .callbacks import POOL_ROLES
from .jobs import iso
from .text import N_
from .workdays import LOCAL

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
    # The department's technicians too, though the job is nobody's yet: they may open
    # it read-only (access.READS_JOB) and be ready; the desk still dispatches it.
    "job.emergency": Rule(N_("An emergency reported"), N_("Emergency %(number)s"),
                          N_("%(place)s: %(text)s"), groups=("desk", "department"),
                          urgent=True),
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
    "report.drafted": Rule(N_("A report drafted for my analysis"),
                           N_("Report %(period)s of %(estate)s drafted"),
                           N_("Write the analysis and improvement measures, then issue it"),
                           groups=("managers",), robot=False, capability="report.manage"),
    "committee.due": Rule(N_("Owners' committee work falling due"),
                          N_("Owners' committee: due by %(due)s"), N_("%(item)s: %(name)s"),
                          groups=("desk", "managers"), robot=False,
                          capability="committee.record"),
    # The incoming shift: the estate's people whose own post it is (handovers.on_duty_roles).
    "handover.recorded": Rule(N_("A shift handed over at my post"),
                              N_("%(post)s handed over to you"), N_("%(name)s: %(text)s"),
                              groups=("post",), robot=False, capability="handover.record"),
    # Unacknowledged past the estate's `handover_reminder_hours`: once, to its supervisors.
    "handover.unacknowledged": Rule(N_("A handover not acknowledged in time"),
                                    N_("%(post)s handover not acknowledged"),
                                    N_("Handed over at %(at)s by %(name)s: %(text)s"),
                                    groups=("supervisors",), robot=False),
    "step.refused": Rule(N_("A step of mine refused"),
                         N_("Job %(number)s: %(step)s not accepted"), N_("%(reason)s"),
                         robot=False),
}
# What a user may mute: kinds that reach someone through a group, never a personal one.
MUTABLE = tuple(k for k, r in RULES.items() if r.groups)

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
             pool: str | None, capability: str | None, post: str | None = None) -> list[int]:
    """The active users of the estate in one of a rule's groups (whose role has the
    capability, when one is named). "post": the people whose own post it is;
    "supervisors": the department's supervisors, else (none) the estate's managers."""
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
    if group == "post" and post:
        roles = handovers.on_duty_roles(post)
        return [r[0] for r in db.execute(
            sql + f"u.role IN ({','.join('?' * len(roles))})", [estate_id, *roles])]
    if group == "supervisors":
        found = [r[0] for r in db.execute(sql + "u.role = 'supervisor' AND u.department = ?",
                                          [estate_id, department])]
        return found or _members(db, estate_id, "managers", None, None, capability)
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
             pool: str | None = None, urgent: bool = False,
             post: str | None = None) -> int | None:
    """Record an event and who is told of it, with the deliveries to queue, in the caller's
    transaction. `users` are told personally; the rule's groups too, unless they muted the
    kind (`post`: the handover post a "post" group means). The actor is never told of
    their own step. None when `dedupe` was seen. Urgent
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
        for uid in _members(db, estate_id, group, department, pool, rule.capability, post):
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


TRANSLATED_PARAMS = ("step", "reason", "item", "post")  # params that are msgids


def render(kind: str, params: Mapping[str, Any], locale: str) -> tuple[str, str]:
    """(title, body) of an announcement, short, in the language."""
    t = translations(locale).ugettext
    rule = RULES[kind]
    values = {k: (t(v) if k in TRANSLATED_PARAMS else v) for k, v in params.items()}
    try:
        return t(rule.title) % values, t(rule.body) % values
    except (KeyError, TypeError, ValueError):  # params from an older version of a rule
        return t(rule.label), ""


LINKS = {"job": "/jobs/{}", "complaint": "/complaints/{}", "callback": "/callbacks/{}",
         "report": "/reports/{}", "committee": "/committee?estate={}",
         "handover": "/handovers/{}"}


# Kinds that open somewhere else than their record (none now: a refused step's job opens
# read-only for its worker even once reassigned, with what was refused and why).
OPENS: dict[str, str] = {}


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


def handover_params(handover: Mapping[str, Any]) -> dict[str, Any]:
    """What a handover's messages say: its post (a msgid), who wrote it, when, and the
    start of what happened."""
    return {"post": handovers.POSTS[handover["post"]], "name": handover["recorded_name"],
            "at": _local(datetime.fromisoformat(handover["recorded_at"])),
            "text": handover["happened"][:60]}


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
