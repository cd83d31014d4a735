"""企业微信 group robots: sends the queued `wecom` deliveries that are due, one short
Chinese markdown message with a link each, within the robot's limit of 20 messages a
minute (several queued messages for one robot are merged into one rather than dropped),
retrying with back-off and recording how each went. No Flask: the worker calls
`deliver_due` with the clock, the function that words an announcement, and the public
address links start from."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from sqlite_utils import Database

from . import delivery_queue
from .domain import notifications
from .domain.robots import CHANNEL, TEST_KIND
from .domain.text import N_
from .domain.transactions import write_tx

LIMIT_PER_MINUTE = 20  # the robot's own limit: more gets errcode 45009
WINDOW = timedelta(seconds=60)
MAX_BYTES = 4096  # a markdown message's content, in UTF-8 bytes
RATE_LIMITED = 45009
MAX_ATTEMPTS = 8  # failed sends (not rate limits) before a delivery is marked failed
BACKOFF = timedelta(minutes=1)  # doubled after each failed send, up to MAX_BACKOFF
MAX_BACKOFF = timedelta(hours=1)
# A claimed delivery is not picked up by another run until then: a worker that died
# between claiming and recording leaves it to be sent again, never lost.
LEASE = timedelta(minutes=2)
TIMEOUT = 5.0  # seconds: a robot that does not answer must not hold the worker up
BATCH = 500  # deliveries read per run
LOCALE = "zh"  # the groups read Chinese
ROBOTS_PATH = "/admin/estates/{estate_id}/robots"  # views/admin.robots_list

Message = Callable[[Database, Mapping[str, Any], str], Mapping[str, str]]
Post = Callable[[str, dict[str, Any], float], Mapping[str, Any]]


class SendError(Exception):
    """The robot could not be reached or did not answer as the API does."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # The webhook answers itself; a redirect would re-send the message elsewhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: dict[str, Any], timeout: float) -> Mapping[str, Any]:
    """POST `body` as JSON; the robot's JSON answer. SendError when there is none."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8"})
    try:
        with _opener.open(request, timeout=timeout) as response:
            raw = response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        raise SendError(f"http:{exc.code}") from None
    except TimeoutError:
        raise SendError("timeout") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise SendError("timeout") from None
        raise SendError(f"network:{reason}"[:200]) from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise SendError("answer:not JSON") from None
    if not isinstance(answer, dict):
        raise SendError("answer:not JSON") from None
    return answer


def _t(locale: str, msgid: str, **params: Any) -> str:
    text = notifications.translations(locale).ugettext(msgid)
    return text % params if params else text


def _cut(text: str, size: int) -> str:
    """At most `size` UTF-8 bytes of `text`, whole characters, '…' when cut."""
    data = text.encode("utf-8")
    if len(data) <= size:
        return text
    return data[:max(size - 3, 0)].decode("utf-8", "ignore") + "…"


# What people typed (a resident's report, a job's description) is text in the group: the
# characters the robot's markdown reads as links, headings, quotes, emphasis or <font>
# become their full-width forms, so a report cannot post a link the staff would trust.
_MARKUP = str.maketrans({"[": "［", "]": "］", "<": "＜", ">": "＞", "*": "＊", "`": "｀",
                         "#": "＃", "_": "＿"})


def _plain(text: str) -> str:
    # One line each: a merged message lists one announcement a line.
    return " ".join(str(text or "").split()).translate(_MARKUP)


@dataclass
class Item:
    delivery_id: int
    attempts: int
    title: str
    body: str
    url: str


def single(item: Item, locale: str = LOCALE) -> str:
    """One announcement: its title in bold, the text, the link."""
    label = _t(locale, N_("View details"))
    link = f"[{label}]({item.url})"
    head = f"**{_plain(item.title)}**\n"
    room = MAX_BYTES - len((head + "\n" + link).encode("utf-8"))
    return head + _cut(_plain(item.body), room) + "\n" + link


LINE_BYTES = 400  # one announcement in a merged message


def _line(item: Item) -> str:
    title = _cut(_plain(item.title), 150)
    body = _plain(item.body)
    text = f"[{title}]({item.url})" + (f" {body}" if body else "")
    return "> " + _cut(text, LINE_BYTES)


def merged(items: list[Item], locale: str = LOCALE) -> str:
    head = _t(locale, N_("**%(n)s new notifications**"), n=len(items))
    return head + "\n" + "\n".join(_line(i) for i in items)


def chunks(items: list[Item], locale: str = LOCALE) -> Iterator[list[Item]]:
    """The items as merged messages, in order, each within MAX_BYTES."""
    batch: list[Item] = []
    for item in items:
        if batch and len(merged([*batch, item], locale).encode("utf-8")) > MAX_BYTES:
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch


def body(content: str) -> dict[str, Any]:
    """What the robot's webhook is sent."""
    return {"msgtype": "markdown", "markdown": {"content": content}}


_iso = delivery_queue.iso


def window(db: Database, hook_id: int, now: datetime) -> tuple[int, datetime | None]:
    """Messages sent to the robot in the last minute (a merged message once), and when
    the first of them leaves the minute."""
    count, first = db.execute(
        "SELECT count(*), min(sent_at) FROM deliveries WHERE channel = ? AND address_id = ?"
        " AND status = 'accepted' AND merged_into IS NULL AND sent_at > ?",
        [CHANNEL, hook_id, _iso(now - WINDOW)]).fetchone()
    return count, (datetime.fromisoformat(first) + WINDOW if first else None)


def resting_until(hook: Mapping[str, Any]) -> datetime | None:
    """When a robot that last answered with its rate limit takes messages again: other
    senders may share it, so its minute may be full whatever this app has sent."""
    error, at = hook["last_error"], hook["last_error_at"]
    if not (error and at and error.startswith(f"errcode:{RATE_LIMITED} ")):
        return None
    if hook["last_ok_at"] and hook["last_ok_at"] > at:
        return None
    return datetime.fromisoformat(at) + WINDOW


RETRY = delivery_queue.Retry(BACKOFF, MAX_BACKOFF)


def backoff(attempts: int) -> timedelta:
    return RETRY.after(attempts)


def deliver_due(db: Database, now: datetime, *, message: Message, post: Post = post_json,
                base_url: str, locale: str = LOCALE, timeout: float = TIMEOUT) -> int:
    """Send the queued robot messages due at `now`; the number of deliveries the robots
    accepted."""
    due = _claim(db, now)
    accepted = 0
    for hook_id, rows in due.items():
        accepted += _deliver_hook(db, now, hook_id, rows, message=message, post=post,
                                  base_url=base_url, locale=locale, timeout=timeout)
    return accepted


def _claim(db: Database, now: datetime) -> dict[int, list[dict[str, Any]]]:
    """The due deliveries by robot, leased to this run (delivery_queue.claim; a try is
    counted when it fails, so a rate limit never counts)."""
    by_hook: dict[int, list[dict[str, Any]]] = {}
    for r in delivery_queue.claim(db, CHANNEL, now, lease=LEASE, limit=BATCH):
        by_hook.setdefault(r["address_id"], []).append(r)
    return by_hook


def _content(db: Database, row: Mapping[str, Any], hook: Mapping[str, Any], message: Message,
             base_url: str, locale: str) -> Item:
    announcement = db.execute("SELECT * FROM announcements WHERE id = ?",
                              [row["announcement_id"]])
    keys = [d[0] for d in announcement.description]
    a = dict(zip(keys, announcement.fetchone(), strict=True))
    if a["kind"] == TEST_KIND:
        said = {"title": _t(locale, N_("Test message")),
                "body": _t(locale, N_("The robot %(name)s is connected."),
                           name=hook["name"] or hook["id"]),
                "url": ROBOTS_PATH.format(estate_id=hook["estate_id"])}
    else:
        said = message(db, a, locale)
    return Item(row["id"], row["attempts"], said.get("title", ""), said.get("body", ""),
                urljoin(base_url, said.get("url", "")))


def _deliver_hook(db: Database, now: datetime, hook_id: int, rows: list[dict[str, Any]], *,
                  message: Message, post: Post, base_url: str, locale: str,
                  timeout: float) -> int:
    hook = next(iter(db.query("SELECT * FROM robot_hooks WHERE id = ?", [hook_id])), None)
    if hook is None or not hook["active"]:
        _settle(db, [r["id"] for r in rows], "failed", "off")
        return 0
    sent, free_at = window(db, hook_id, now)
    budget = LIMIT_PER_MINUTE - sent
    if (rested := resting_until(hook)) is not None and rested > now:
        budget, free_at = 0, rested
    items = []
    for r in rows:
        try:
            items.append(_content(db, r, hook, message, base_url, locale))
        except Exception as exc:  # one announcement that cannot be worded must not stop the rest
            _settle(db, [r["id"]], "failed", _cut(f"message:{exc!r}", 200))
    messages = ([[i] for i in items] if len(items) <= budget
                else list(chunks(items, locale)))
    accepted = 0
    for n, group in enumerate(messages):
        if n >= budget:  # the rest wait until the minute has room
            _wait(db, [i for g in messages[n:] for i in g], max(free_at or now, now))
            break
        content = single(group[0], locale) if len(group) == 1 else merged(group, locale)
        try:
            answer = post(hook["url"], body(content), timeout)
            code = answer.get("errcode")
            error = None if code == 0 else _cut(f"errcode:{code} {answer.get('errmsg', '')}",
                                                200)
        except SendError as exc:
            code, error = None, str(exc)
        if error is None:
            _sent(db, group, now, hook_id)
            accepted += len(group)
            free_at = free_at or now + WINDOW
            continue
        rest = [i for g in messages[n + 1:] for i in g]
        if code == RATE_LIMITED:
            # The robot's minute is full (it may have other senders): everything waits
            # a minute, and a rate limit never counts towards failing a message.
            _wait(db, group + rest, now + WINDOW, error)
        else:
            _failed(db, group, now, error)
            # The robot is unreachable or refusing: the others wait as long, untried.
            _wait(db, rest, now + backoff(group[0].attempts + 1))
        _hook_error(db, hook_id, now, error)
        break
    return accepted


def _sent(db: Database, group: list[Item], now: datetime, hook_id: int) -> None:
    first = group[0].delivery_id
    with write_tx(db):
        db.conn.executemany(
            "UPDATE deliveries SET status = 'accepted', sent_at = ?, attempts = attempts + 1,"
            " error = NULL, merged_into = ? WHERE id = ?",
            [(_iso(now), None if i.delivery_id == first else first, i.delivery_id)
             for i in group])
        db.execute("UPDATE robot_hooks SET last_ok_at = ? WHERE id = ?", [_iso(now), hook_id])


def _wait(db: Database, items: list[Item], until: datetime, error: str | None = None) -> None:
    if items:
        delivery_queue.later(db, [i.delivery_id for i in items], until, error)


def _failed(db: Database, group: list[Item], now: datetime, error: str) -> None:
    with write_tx(db):
        for i in group:
            attempts = i.attempts + 1
            gone = attempts >= MAX_ATTEMPTS
            db.execute(
                "UPDATE deliveries SET attempts = ?, error = ?, next_at = ?, status = ?"
                " WHERE id = ?",
                [attempts, error, _iso(now + backoff(attempts)),
                 "failed" if gone else "queued", i.delivery_id])


def _settle(db: Database, ids: list[int], status: str, error: str) -> None:
    with write_tx(db):
        db.conn.executemany("UPDATE deliveries SET status = ?, error = ? WHERE id = ?",
                            [(status, error, i) for i in ids])


def _hook_error(db: Database, hook_id: int, now: datetime, error: str) -> None:
    with write_tx(db):
        db.execute("UPDATE robot_hooks SET last_error = ?, last_error_at = ? WHERE id = ?",
                   [error, _iso(now), hook_id])
