"""The survey's commands: a manager saves (while a draft), opens and closes it; a
household answers through its personal link (no user); a callback clerk records a
household's answer by phone or at the door (queued in the phone's outbox like a
callback record). Whichever way, one answer per household (domain/surveys.py).

An activity's feedback survey (kind `activity`) goes through the same commands, under
`activity.manage` rather than the annual survey's capabilities: a participant answers
through the shared link (one answer per browser, within the activity's feedback window),
and a clerk records a paper form."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, acted_time, fields

from . import activities, audit, people, surveys
from .place_commands import address_key
from .settings import estate_settings
from .text import N_

WINDOW = timedelta(hours=1)
ANSWERED = N_("This household has answered the survey already. Thank you.")
ANSWERED_HERE = N_("You have answered from this phone already. Thank you.")


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


# Who may save, open and close a survey, and record an answer, by the survey's kind.
MANAGE = {"annual": "survey.manage", "activity": "activity.manage"}
RECORD = {"annual": "survey.record", "activity": "activity.manage"}


def _manager(db: Database, cmd: Command, kind: str = "annual") -> dict[str, Any]:
    return people.actor(db, cmd, MANAGE[kind])


def insert_questions(db: Database, survey_id: int, qs: list[dict[str, Any]]) -> None:
    """A survey's questions, in order (a draft's are replaced as a whole)."""
    for position, q in enumerate(qs, start=1):
        db.execute("INSERT INTO survey_questions (survey_id, position, kind, text, options)"
                   " VALUES (?,?,?,?,?)", [survey_id, position, q["kind"], q["text"],
                                           json.dumps(q["options"], ensure_ascii=False)])


def _survey(db: Database, cmd: Command, user: dict[str, Any] | None) -> dict[str, Any]:
    """The command's survey; an estate the user does not serve is refused."""
    try:
        survey = surveys.get(db, fields.target_id(cmd.target))
    except Invalid:
        survey = None
    if survey is None:
        raise Invalid({"target": N_("Unknown survey.")})
    if user is not None:
        people.require_estate(db, user["id"], survey["estate_id"])
    return survey


def save(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `survey.save` (target `survey:new` or `survey:<id>`): title,
    introduction, year and the ordered questions; editable only while a draft. An
    activity's survey keeps its activity's title and year (activity.save sets them)."""
    new = cmd.target == "survey:new"
    found = None if new else _survey(db, cmd, None)
    kind = found["kind"] if found else "annual"
    user = _manager(db, cmd, kind)
    p = cmd.payload
    errors: dict[str, str] = {}
    intro = fields.text(p.get("intro"), surveys.INTRO_LIMIT).strip()
    if kind == "activity":
        assert found is not None
        title, year = found["title"], found["year"]
    else:
        title = fields.text(p.get("title"), surveys.TITLE_LIMIT).strip()
        if not title:
            errors["title"] = N_("Give the survey a title.")
        try:
            year = fields.integer(p.get("year"), "year", 2000, 2100,
                                  N_("Enter a year such as 2026."))
        except Invalid as exc:
            errors.update(exc.errors)
            year = 0
    qs, q_errors = surveys.parse_questions(p.get("questions"))
    errors.update(q_errors)
    if new:
        try:
            estate_id = int(str(p.get("estate_id") or "0"))
        except ValueError:
            estate_id = 0
        if not people.serves(db, user["id"], estate_id):
            errors["estate_id"] = N_("Choose one of your estates.")
    if errors:
        raise Invalid(errors)
    if new:
        survey_id = db.execute(
            "INSERT INTO surveys (estate_id, year, title, intro, created_by, created_at)"
            " VALUES (?,?,?,?,?,?)", [estate_id, year, title, intro, user["id"], iso(now)]
        ).lastrowid
    else:
        survey = _survey(db, cmd, user)
        if survey["status"] != "draft":
            raise Rejected("not_draft", N_("An opened survey can no longer be changed."))
        if cmd.base_version is not None and cmd.base_version != survey["version"]:
            raise Rejected("conflict", N_("Someone else changed this survey meanwhile. "
                                          "Check it and save again."))
        survey_id = survey["id"]
        db.execute("UPDATE surveys SET year = ?, title = ?, intro = ?, version = version + 1"
                   " WHERE id = ?", [year, title, intro, survey_id])
        # No answers exist while a draft: the questions are replaced as a whole.
        db.execute("DELETE FROM survey_questions WHERE survey_id = ?", [survey_id])
    insert_questions(db, survey_id, qs)
    audit.record(db, cmd, now, "create" if new else "edit", "survey", survey_id,
                 {"title": title, "year": year, "questions": len(qs)})
    return {"survey_id": survey_id}


def status(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `survey.status` (`to`: open or closed). Opening gives every unit of
    the estate its personal link, noting whether it has a resident on record (an
    activity's survey has its shared link already); a closed survey takes no more
    answers."""
    survey = _survey(db, cmd, None)
    user = _manager(db, cmd, survey["kind"])
    _survey(db, cmd, user)
    to = cmd.payload.get("to")
    if to == "open" and survey["status"] == "draft":
        if not db.execute("SELECT 1 FROM survey_questions WHERE survey_id = ?",
                          [survey["id"]]).fetchone():
            raise Rejected("no_questions", N_("Add at least one question first."))
        # Every unit gets a link (its slip); one with no resident on record is not a
        # household the response rate counts (surveys.COUNTED).
        units = [] if survey["kind"] == "activity" else db.execute(
            "SELECT u.id, u.building_id, EXISTS (SELECT 1 FROM residents r"
            " WHERE r.unit_id = u.id) FROM units u WHERE u.estate_id = ?",
            [survey["estate_id"]]).fetchall()
        for unit_id, building_id, occupied in units:
            db.execute("INSERT INTO survey_links (survey_id, unit_id, building_id, token,"
                       " occupied) VALUES (?,?,?,?,?)",
                       [survey["id"], unit_id, building_id, surveys.new_token(), occupied])
        db.execute("UPDATE surveys SET status = 'open', opened_at = ?, version = version + 1"
                   " WHERE id = ?", [iso(now), survey["id"]])
    elif to == "closed" and survey["status"] == "open":
        db.execute("UPDATE surveys SET status = 'closed', closed_at = ?, version = version + 1"
                   " WHERE id = ?", [iso(now), survey["id"]])
    elif to in ("open", "closed"):
        raise Rejected("illegal_transition", N_("The survey is not in a state for that."))
    else:
        raise Invalid({"to": N_("Unknown action.")})
    audit.record(db, cmd, now, to, "survey", survey["id"], {})
    return {"survey_id": survey["id"], "status": to}


def _store(db: Database, cmd: Command, survey: dict[str, Any], unit_id: int | None,
           method: str, user_id: int | None, addr: str | None, at: datetime,
           browser: str | None = None, taken_while_open: bool = False) -> dict[str, Any]:
    """One answer (a household's, or through a shared link a browser's, or a paper form's):
    the rules every way shares. `taken_while_open`: a clerk's answer that waited in the
    phone's outbox, given before the survey closed."""
    if survey["status"] == "draft":
        raise Rejected("not_open", N_("This survey has not started yet."))
    if survey["status"] == "closed" and not taken_while_open:
        raise Rejected("closed", N_("This survey has closed. Thank you for your interest."))
    if unit_id is not None and surveys.response(db, survey["id"], unit_id) is not None:
        raise Rejected("answered", ANSWERED)
    answers, errors = surveys.parse_answers(surveys.questions(db, survey["id"]),
                                            cmd.payload.get("answers"))
    if errors:
        raise Invalid(errors)
    response_id = db.execute(
        "INSERT INTO survey_responses (survey_id, unit_id, browser, method, user_id,"
        " remote_addr, at, op_id) VALUES (?,?,?,?,?,?,?,?)",
        [survey["id"], unit_id, browser, method, user_id, addr, iso(at), cmd.op_id]
    ).lastrowid
    for qid, a in answers.items():
        db.execute("INSERT INTO survey_answers (response_id, question_id, rating, choice, text)"
                   " VALUES (?,?,?,?,?)",
                   [response_id, qid, a.get("rating"), a.get("choice"), a.get("text")])
    return {"survey_id": survey["id"], "unit_id": unit_id, "response_id": response_id}


def _limited(db: Database, survey: dict[str, Any], addr: str, now: datetime) -> bool:
    """The public pages' per-address hourly limit on answers through links: a household
    link's, or an activity's shared link's (one venue's network answers for everyone)."""
    key = ("activity_answers_per_address_hour" if survey["kind"] == "activity"
           else "survey_answers_per_address_hour")
    limit = estate_settings(db, survey["estate_id"])[key]
    # Counted per survey: the limit is the survey's estate's, and an address's answers to
    # another survey (a family with a flat in each estate) say nothing of this one.
    return db.execute("SELECT count(*) FROM survey_responses WHERE remote_addr = ? AND at > ?"
                      " AND survey_id = ?", [addr, iso(now - WINDOW), survey["id"]]
                      ).fetchone()[0] >= limit


LIMITED = N_("Too many answers from here in the last hour. Please try again later.")


def answer(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `survey.answer` (target `survey:<id>`, no user): a household through its
    personal link (`token`), or a participant through an activity's shared link (`token`
    and `browser`), within the survey's per-address hourly limit."""
    survey = _survey(db, cmd, None)
    token = surveys.read_token(str(cmd.payload.get("token") or ""))
    addr = address_key(str(cmd.payload.get("remote_addr") or "")[:64])
    if survey["kind"] == "activity":
        return _answer_shared(db, cmd, survey, token, addr, now)
    found = surveys.link(db, token) if token else None
    if found is None or found["survey_id"] != survey["id"]:
        raise Rejected("unknown_link", N_("This link does not belong to this survey."))
    if survey["status"] == "open" and _limited(db, survey, addr, now) \
            and surveys.response(db, survey["id"], found["unit_id"]) is None:
        raise Rejected("limited", LIMITED)
    result = _store(db, cmd, survey, found["unit_id"], "link", None, addr, now)
    audit.record(db, cmd, now, "answer", "survey", survey["id"],
                 {"unit_id": found["unit_id"], "method": "link"})
    return result


def _answer_shared(db: Database, cmd: Command, survey: dict[str, Any], token: str | None,
                   addr: str, now: datetime) -> dict[str, Any]:
    """One answer per browser (its cookie token, `browser`) through the activity's shared
    link, from the activity's day through its feedback days."""
    if not token or token != survey["token"]:
        raise Rejected("unknown_link", N_("This link does not belong to this survey."))
    browser = surveys.read_token(str(cmd.payload.get("browser") or ""))
    if browser is None:
        raise Invalid({"browser": N_("Your browser did not keep this page's cookie. "
                                     "Allow cookies for this site and send again.")})
    if surveys.browser_response(db, survey["id"], browser) is not None:
        raise Rejected("answered", ANSWERED_HERE)
    if survey["status"] == "open":
        activity = activities.get(db, survey["activity_id"])
        assert activity is not None
        state = activities.feedback_state(datetime.fromisoformat(activity["starts_at"]),
                                          activities.feedback_days(db, survey["estate_id"]),
                                          now)
        if state == "before":
            raise Rejected("not_open", N_("Feedback opens on the day of the activity."))
        if state == "after":
            raise Rejected("closed", N_("Feedback on this activity has closed. "
                                        "Thank you for your interest."))
        if _limited(db, survey, addr, now):
            raise Rejected("limited", LIMITED)
    result = _store(db, cmd, survey, None, "shared", None, addr, now, browser)
    audit.record(db, cmd, now, "answer", "survey", survey["id"], {"method": "shared"})
    return result


def record(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `survey.record` (target `survey:<id>`): a clerk records a household's
    answer told by phone or at the door (`unit_id`, `method`, `answers`), or an activity's
    paper form (`method` paper, no household)."""
    survey = _survey(db, cmd, None)
    user = people.actor(db, cmd, RECORD[survey["kind"]])
    _survey(db, cmd, user)
    p = cmd.payload
    method = p.get("method")
    unit_id: int | None = None
    if survey["kind"] == "annual":
        try:
            unit_id = fields.target_id(f"unit:{p.get('unit_id') or ''}")
        except Invalid:
            unit_id = 0
        if not unit_id or surveys.household(db, survey["id"], unit_id) is None:
            raise Invalid({"unit": N_("This household is not in the survey.")})
    if method not in surveys.RECORD_METHODS[survey["kind"]]:
        raise Invalid({"method": N_("Choose how the answer was given.")})
    at = acted_time(cmd, now)
    # What the household said at the door while the survey was open is a fact, as a
    # callback record is: the outbox bringing it after the close does not lose it. (A
    # resend of the same op_id never reaches here: sync.apply answers it as before.)
    taken_while_open = cmd.replayed and survey["closed_at"] is not None \
        and iso(at) < survey["closed_at"]
    result = _store(db, cmd, survey, unit_id, str(method), user["id"], None, at,
                    taken_while_open=taken_while_open)
    audit.record(db, cmd, now, "record", "survey", survey["id"],
                 {"unit_id": unit_id, "method": method})
    return result


HANDLERS: dict[str, Handler] = {"survey.save": save, "survey.status": status,
                                "survey.answer": answer, "survey.record": record}
