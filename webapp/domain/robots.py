"""企业微信 group robots an administrator sets up per estate or department: their
webhook addresses, a test message, sending failed messages again, and what went wrong
(the sending itself is webapp/wecom.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlite_utils import Database

from sync import Command, Invalid, Rejected, fields

from . import audit, people
from .text import N_

OFFICIAL_HOST = "qyapi.weixin.qq.com"
OFFICIAL_PATH = "/cgi-bin/webhook/send"
MAX_URL = 500
MAX_NAME = 50
CHANNEL = "wecom"
TEST_KIND = "robot.test"


def official(url: str) -> bool:
    """A 企业微信 robot's own webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"""
    parts = urlsplit(url)
    return (parts.scheme == "https" and parts.hostname == OFFICIAL_HOST
            and parts.path == OFFICIAL_PATH and bool(parse_qs(parts.query).get("key")))


def url_problem(url: str, http_hosts: list[str]) -> str | None:
    """Why a webhook address cannot be used (a msgid), or None. Only 企业微信's own robot
    address, or a host the configuration names (WECOM_HTTP_HOSTS: a relay, or a local
    stand-in for tests; http or https): the worker posts to it, and an address of the
    admin's choosing would let it reach the server's own network."""
    if not url:
        return N_("Paste the robot's webhook address.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        host = None
    if len(url) > MAX_URL or not host or any(c.isspace() for c in url):
        return N_("This is not a web address.")
    if host in http_hosts and parts.scheme in ("http", "https"):
        return None
    if official(url):
        return None
    return N_("Paste the robot's own address: https://qyapi.weixin.qq.com/cgi-bin/webhook/"
              "send?key=…")


def _hook(db: Database, cmd: Command, actor: Mapping[str, Any]) -> dict[str, Any]:
    hook_id = fields.target_id(cmd.target, "target", N_("Unknown robot."))
    hook = next(iter(db.query("SELECT * FROM robot_hooks WHERE id = ?", [hook_id])), None)
    if hook is None:
        raise Invalid({"target": N_("Unknown robot.")})
    people.require_estate(db, actor["id"], hook["estate_id"])
    return hook


def save_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Add (`robot:new`) or change a robot (handler for `robot.save`)."""
    actor = people.actor(db, cmd, "estate.settings")
    p = cmd.payload
    hook = None if cmd.target == "robot:new" else _hook(db, cmd, actor)
    errors: dict[str, str] = {}
    if hook is None:
        estate_id = fields.record_id(p.get("estate_id"), "estate_id", N_("Unknown estate."))
        people.require_estate(db, actor["id"], estate_id)
    else:
        estate_id = hook["estate_id"]
    name = fields.text(p.get("name"), MAX_NAME).strip()
    if not name:
        errors["name"] = N_("Name the group the robot posts in.")
    department = str(p.get("department") or "") or None
    if department is not None and department not in people.DEPARTMENTS:
        errors["department"] = N_("Choose a department.")
    url = fields.text(p.get("url"), MAX_URL + 1).strip()
    # The configuration's plain-http hosts, put in by the view: the handler has no
    # Flask, and this command comes only from the admin's form (not the outbox).
    hosts = [str(h) for h in p.get("http_hosts") or []]
    if (wrong := url_problem(url, hosts)) is not None:
        errors["url"] = wrong
    if errors:
        raise Invalid(errors)
    row = {"estate_id": estate_id, "department": department, "name": name, "url": url,
           "active": 1 if p.get("active", True) else 0}
    if hook is None:
        hook_id = db.execute(
            "INSERT INTO robot_hooks (estate_id, department, name, url, active, created_at)"
            " VALUES (?,?,?,?,?,?)", [*row.values(), now.isoformat(timespec="seconds")]
        ).lastrowid
    else:
        hook_id = hook["id"]
        db.execute("UPDATE robot_hooks SET department = ?, name = ?, url = ?, active = ?"
                   " WHERE id = ?", [department, name, url, row["active"], hook_id])
    # The address holds the robot's key: the log says which robot, not the key.
    detail = {**row, "url": urlsplit(url).hostname}
    audit.record(db, cmd, now, "save", "robot", hook_id, detail)
    return {"robot_id": hook_id}


def test_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Queue a test message to the robot (handler for `robot.test`)."""
    actor = people.actor(db, cmd, "estate.settings")
    hook = _hook(db, cmd, actor)
    if not hook["active"]:
        raise Rejected("off", N_("This robot is switched off."))
    at = now.isoformat(timespec="seconds")
    announcement = db.execute(
        "INSERT INTO announcements (estate_id, kind, target, params, op_id, created_at)"
        " VALUES (?,?,?,?,?,?)",
        [hook["estate_id"], TEST_KIND, f"robot:{hook['id']}",
         json.dumps({"by": actor["id"]}), cmd.op_id, at]).lastrowid
    db.execute("INSERT INTO deliveries (announcement_id, channel, address_id, next_at)"
               " VALUES (?,?,?,?)", [announcement, CHANNEL, hook["id"], at])
    audit.record(db, cmd, now, "test", "robot", hook["id"])
    return {"robot_id": hook["id"]}


def retry_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Queue the robot's failed messages again (handler for `robot.retry`)."""
    actor = people.actor(db, cmd, "estate.settings")
    hook = _hook(db, cmd, actor)
    if not hook["active"]:
        raise Rejected("off", N_("This robot is switched off."))
    count = db.execute(
        "UPDATE deliveries SET status = 'queued', attempts = 0, next_at = ?"
        " WHERE channel = ? AND address_id = ? AND status = 'failed'",
        [now.isoformat(timespec="seconds"), CHANNEL, hook["id"]]).rowcount
    audit.record(db, cmd, now, "retry", "robot", hook["id"], {"deliveries": count})
    return {"robot_id": hook["id"], "queued": count}


HANDLERS = {"robot.save": save_command, "robot.test": test_command,
            "robot.retry": retry_command}


def hooks(db: Database, estate_id: int) -> list[dict[str, Any]]:
    """The estate's robots with their queued and failed messages."""
    return list(db.query(
        "SELECT h.*, (SELECT count(*) FROM deliveries d WHERE d.channel = ?"
        "  AND d.address_id = h.id AND d.status = 'queued') AS queued,"
        " (SELECT count(*) FROM deliveries d WHERE d.channel = ?"
        "  AND d.address_id = h.id AND d.status = 'failed') AS failed"
        " FROM robot_hooks h WHERE h.estate_id = ? ORDER BY h.active DESC, h.name, h.id",
        [CHANNEL, CHANNEL, estate_id]))


def get(db: Database, hook_id: int) -> dict[str, Any] | None:
    return next(iter(db.query("SELECT * FROM robot_hooks WHERE id = ?", [hook_id])), None)


def failures(db: Database, estate_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The estate's robot messages that failed or are waiting after an error, newest
    first."""
    return list(db.query(
        "SELECT d.id, d.status, d.attempts, d.next_at, d.error, a.kind, a.target,"
        " a.created_at, h.name AS robot FROM robot_hooks h"
        " JOIN deliveries d ON d.channel = ? AND d.address_id = h.id"
        " AND d.status IN ('failed', 'queued') AND d.error IS NOT NULL"
        " JOIN announcements a ON a.id = d.announcement_id"
        " WHERE h.estate_id = ? ORDER BY d.id DESC LIMIT ?", [CHANNEL, estate_id, limit]))


# What the robot or the network said (as wecom.py records it), for the admin: a msgid
# and its values.
KNOWN_CODES = {
    45009: N_("Too many messages: the robot takes 20 a minute. Sent again later."),
    93000: N_("The webhook address is not valid: was the robot removed from the group?"),
}


def describe(error: str | None) -> tuple[str, dict[str, Any]] | None:
    if not error:
        return None
    kind, _, detail = error.partition(":")
    if kind == "errcode":
        code, _, said = detail.partition(" ")
        if code.lstrip("-").isdigit() and int(code) in KNOWN_CODES:
            return KNOWN_CODES[int(code)], {}
        return N_("WeCom answered error %(code)s: %(said)s"), {"code": code, "said": said}
    if kind == "http":
        return N_("The robot's server answered HTTP %(code)s."), {"code": detail}
    if kind == "timeout":
        return N_("No answer in time."), {}
    if kind == "network":
        return N_("Could not connect: %(said)s"), {"said": detail}
    if kind == "off":
        return N_("The robot was switched off."), {}
    return N_("Unexpected answer: %(said)s"), {"said": error}
