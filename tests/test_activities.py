"""Community activities and their feedback (domain, pinned now): an activity with its
draft survey of the default questions, the shared link's window (the activity's day
through `activity_feedback_days` after it, local days), one answer per browser, the
per-address limit, paper forms, participants entered after, and the annual survey's
rules, lists and figures untouched by an activity's survey."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlite_utils import Database

import sync
from webapp.domain import activities, figures, figures_lists, periods, records, settings, surveys
from webapp.domain.handlers import HANDLERS
from webapp.migrations import migrations

from .conftest import NOW, RECORDS_KEY
from .jobflow import run
from .test_surveys import answer as annual_answer
from .test_surveys import make_survey, token_of

# 2026-11-12 14:00 local (06:00 UTC): two days after the pinned now.
START = datetime(2026, 11, 12, 6, 0)
BROWSER = "b" * 22


def make_activity(db, who="desk", estate_id=1, starts_at=START, open_it=True, **extra):
    out = run(db, who, "activity.save", "activity:new", estate_id=str(estate_id),
              title="重阳节敬老茶话会", starts_at=starts_at.isoformat(), place="会所二楼",
              organiser="客服中心 林客服", description="请带上老人。", **extra)
    assert out.status == "applied", out.result
    found = activities.get(db, out.result["activity_id"])
    if open_it:
        opened = run(db, who, "survey.status", f"survey:{found['survey_id']}", to="open")
        assert opened.status == "applied", opened.result
    return activities.get(db, found["id"])


def feedback(db, act, browser=BROWSER, now=START, addr="203.0.113.9", rating="5",
             token=None):
    qs = surveys.questions(db, act["survey_id"])
    answers = {str(qs[0]["id"]): rating, str(qs[1]["id"]): "0", str(qs[2]["id"]): "很好"}
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind="survey.answer",
                       target=f"survey:{act['survey_id']}",
                       payload={"token": token or act["survey_token"], "browser": browser,
                                "remote_addr": addr, "answers": answers},
                       user_id=None, device_id="")
    return sync.apply(db, cmd, HANDLERS, now)


def count(db, act) -> int:
    return activities.response_count(db, act["survey_id"])


def test_a_new_activity_has_a_draft_survey_of_the_default_questions(db):
    act = make_activity(db, open_it=False)
    survey = surveys.get(db, act["survey_id"])
    assert (survey["kind"], survey["status"], survey["year"]) == ("activity", "draft", 2026)
    assert survey["title"] == "重阳节敬老茶话会" and surveys.read_token(survey["token"])
    assert [q["kind"] for q in surveys.questions(db, survey["id"])] == \
        ["rating", "choice", "text"]
    # The organiser changes the questions while a draft; opening makes no household links.
    edited = run(db, "desk", "survey.save", f"survey:{survey['id']}", intro="谢谢参与",
                 questions=[{"kind": "rating", "text": "活动组织得好吗？"}])
    assert edited.status == "applied", edited.result
    assert [q["text"] for q in surveys.questions(db, survey["id"])] == ["活动组织得好吗？"]
    assert surveys.get(db, survey["id"])["title"] == "重阳节敬老茶话会"
    assert run(db, "desk", "survey.status", f"survey:{survey['id']}", to="open").ok
    assert db.execute("SELECT count(*) FROM survey_links WHERE survey_id = ?",
                      [survey["id"]]).fetchone()[0] == 0


@pytest.mark.parametrize("payload, field", [
    ({"title": "", "starts_at": "2026-11-12T06:00:00"}, "title"),
    ({"title": "茶话会", "starts_at": "下周三"}, "starts_at"),
    ({"title": "茶话会", "starts_at": "2026-11-12T06:00:00", "questions": []}, "questions"),
])
def test_bad_input_is_invalid_with_the_field_named(db, payload, field):
    with pytest.raises(sync.Invalid) as exc:
        run(db, "desk", "activity.save", "activity:new", estate_id="1", **payload)
    assert field in exc.value.errors


def test_other_roles_and_other_estates_are_refused(db):
    assert run(db, "callback", "activity.save", "activity:new", estate_id="1", title="x",
               starts_at=START.isoformat()).result["reason"] == "forbidden"
    with pytest.raises(sync.Invalid) as exc:
        run(db, "desk2", "activity.save", "activity:new", estate_id="1", title="x",
            starts_at=START.isoformat())
    assert "estate_id" in exc.value.errors
    act = make_activity(db)
    assert run(db, "desk2", "survey.status", f"survey:{act['survey_id']}",
               to="closed").result["reason"] == "forbidden"


def test_the_shared_link_takes_answers_from_the_day_through_the_setting(db):
    act = make_activity(db)
    # 2026-11-12 local: the window is the 12th through the 19th (7 days after).
    assert activities.feedback_window(START, 7) == (date(2026, 11, 12), date(2026, 11, 19))
    early = feedback(db, act, now=datetime(2026, 11, 11, 15, 59))  # 23:59 on the 11th
    assert early.result["reason"] == "not_open"
    assert feedback(db, act, now=datetime(2026, 11, 11, 16, 0)).ok  # 00:00 on the 12th
    last = datetime(2026, 11, 19, 15, 59)  # 23:59 local on the 19th
    assert feedback(db, act, browser="c" * 22, now=last).ok
    late = feedback(db, act, browser="d" * 22, now=last + timedelta(minutes=1))
    assert late.result["reason"] == "closed"
    # The estate's setting moves the end.
    settings.save(db, 1, {"activity_feedback_days": 10})
    assert feedback(db, act, browser="d" * 22, now=last + timedelta(minutes=1)).ok
    assert count(db, act) == 3


def test_one_answer_per_browser_and_the_address_limit(db):
    act = make_activity(db)
    assert feedback(db, act).ok
    again = feedback(db, act, rating="1")
    assert again.result["reason"] == "answered"
    assert count(db, act) == 1
    rating = surveys.results(db, surveys.get(db, act["survey_id"]))["questions"][0]
    assert rating["distribution"][5] == 1 and rating["distribution"][1] == 0
    # No cookie token: nothing stored, the browser is asked to keep one.
    with pytest.raises(sync.Invalid) as exc:
        feedback(db, act, browser="")
    assert "browser" in exc.value.errors
    # Another survey's token is not this survey's link.
    other = make_activity(db)
    assert feedback(db, act, browser="e" * 22,
                    token=other["survey_token"]).result["reason"] == "unknown_link"
    # A household link's limit does not hold the shared link back: everyone at the event
    # answers from the venue's network.
    settings.save(db, 1, {"survey_answers_per_address_hour": 1})
    assert feedback(db, act, browser="f" * 21 + "0").ok
    assert feedback(db, act, browser="f" * 21 + "1").ok
    # The shared link's own per-address limit (the setting says how many).
    settings.save(db, 1, {"activity_answers_per_address_hour": 4})
    assert feedback(db, act, browser="f" * 22).ok
    limited = feedback(db, act, browser="g" * 22)
    assert limited.result["reason"] == "limited"
    assert feedback(db, act, browser="g" * 22, addr="198.51.100.7").ok


def test_a_closed_feedback_takes_no_answers(db):
    act = make_activity(db)
    assert run(db, "desk", "survey.status", f"survey:{act['survey_id']}", to="closed").ok
    assert feedback(db, act).result["reason"] == "closed"


def test_a_clerk_records_a_paper_form(db):
    act = make_activity(db)
    qs = surveys.questions(db, act["survey_id"])
    answers = {str(qs[0]["id"]): "4", str(qs[1]["id"]): "2"}
    assert run(db, "desk", "survey.record", f"survey:{act['survey_id']}", method="paper",
               answers=answers).ok
    assert run(db, "desk", "survey.record", f"survey:{act['survey_id']}", method="paper",
               answers=answers).ok  # paper forms are many: no one-answer key
    with pytest.raises(sync.Invalid):
        run(db, "desk", "survey.record", f"survey:{act['survey_id']}", method="phone",
            answers=answers)
    results = surveys.results(db, surveys.get(db, act["survey_id"]))
    assert results["answered"] == 2 and results["methods"] == {"paper": 2}
    assert results["buildings"] == []


def test_participants_are_entered_once_it_has_begun(db):
    act = make_activity(db)
    early = run(db, "desk", "activity.participants", f"activity:{act['id']}",
                participants="40")
    assert early.result["reason"] == "not_started"
    assert run(db, "desk", "activity.participants", f"activity:{act['id']}",
               now=START + timedelta(hours=2), participants="40").ok
    assert activities.get(db, act["id"])["participants"] == 40
    with pytest.raises(sync.Invalid):
        run(db, "desk", "activity.participants", f"activity:{act['id']}",
            now=START + timedelta(hours=2), participants="四十")


def test_editing_keeps_the_survey_named_as_the_activity(db):
    act = make_activity(db)
    out = run(db, "desk", "activity.save", f"activity:{act['id']}", title="重阳节茶话会",
              starts_at="2027-01-05T06:00:00", place="会所", organiser="", description="")
    assert out.ok
    survey = surveys.get(db, act["survey_id"])
    assert (survey["title"], survey["year"]) == ("重阳节茶话会", 2027)


def test_listing_upcoming_past_and_by_title(db):
    soon = make_activity(db)
    past = make_activity(db, starts_at=NOW - timedelta(days=3))
    assert [a["id"] for a in activities.listing(db, [1], "upcoming", NOW)] == [soon["id"]]
    assert [a["id"] for a in activities.listing(db, [1], "past", NOW)] == [past["id"]]
    assert activities.listing(db, [1], "upcoming", NOW, "茶话会")[0]["id"] == soon["id"]
    assert activities.listing(db, [1], "upcoming", NOW, "游泳") == []
    assert activities.listing(db, [2], "upcoming", NOW) == []


def test_the_annual_survey_is_untouched_by_activity_feedback(db):
    """The annual survey keeps its one answer per household, its list and its figures:
    an activity's survey in the same estate and year is in none of them."""
    sid = make_survey(db)
    act = make_activity(db)
    assert feedback(db, act).ok
    assert [s["id"] for s in surveys.list_surveys(db, [1])] == [sid]
    token = token_of(db, sid)
    assert annual_answer(db, sid, token).ok
    assert annual_answer(db, sid, token).result["reason"] == "answered"
    summary = surveys.year_summary(db, [1], 2026, NOW)
    assert [s["id"] for s in summary["surveys"]] == [sid] and summary["answered"] == 1
    sc = figures.scope(db, [1], periods.Period("year", date(2026, 1, 1), date(2027, 1, 1)),
                       NOW)
    rate = figures.evaluate(db, "survey_response_rate", sc).result
    assert rate.numerator == 1
    ratings = figures.TABLES["survey_ratings"].fn(db, sc)
    assert [r.cells[0].value for r in ratings] == [1]  # the annual question only
    # An activity's survey has no personal links: its token is not a household's.
    assert surveys.link(db, act["survey_token"]) is None


def test_activity_satisfaction_counts_the_first_rating_of_the_periods_activities(db):
    held = make_activity(db)
    for browser, rating in (("h" * 22, "5"), ("i" * 22, "4"), ("j" * 22, "2")):
        assert feedback(db, held, browser=browser, rating=rating).ok
    later = make_activity(db, starts_at=datetime(2026, 12, 3, 6, 0))
    assert feedback(db, later, now=datetime(2026, 12, 3, 7, 0)).ok
    sc = figures.scope(db, [1], periods.Period("month", date(2026, 11, 1),
                                               date(2026, 12, 1)), NOW)
    result = figures.evaluate(db, "activity_satisfaction", sc).result
    assert (result.numerator, result.denominator, result.value) == (2, 3, 66.7)
    total, rows = figures_lists.page(db, result.records)
    assert total == 2 and {r["activity_id"] for r in rows} == {held["id"]}
    other = figures.scope(db, [2], sc.period, NOW)
    assert figures.evaluate(db, "activity_satisfaction", other).result.value is None


def test_migration_0038_keeps_the_annual_surveys_answers():
    """The rebuild of survey_responses (unit_id made optional) keeps every answer, its
    response and the one-answer-per-household key, with the foreign keys whole."""
    old = Database(memory=True)
    old.execute("PRAGMA foreign_keys=ON")
    records.use_key(old, RECORDS_KEY)
    migrations.apply(old, stop_before="0040_activities")
    old.executescript("""
        INSERT INTO estates (id, code, name) VALUES (1, 'CH', '翠湖花园');
        INSERT INTO buildings (id, estate_id, name) VALUES (1, 1, '1栋');
        INSERT INTO units (id, estate_id, building_id, number, floor) VALUES (1, 1, 1, '101', 1);
        INSERT INTO surveys (id, estate_id, year, title, status, created_at)
            VALUES (1, 1, 2026, '年度调查', 'open', '2026-11-01T00:00:00');
        INSERT INTO survey_questions (id, survey_id, position, kind, text)
            VALUES (1, 1, 1, 'rating', '满意吗');
        INSERT INTO survey_links (survey_id, unit_id, building_id, token)
            VALUES (1, 1, 1, 'tttttttttttttttttttttt');
        INSERT INTO survey_responses (id, survey_id, unit_id, method, remote_addr, at, op_id)
            VALUES (7, 1, 1, 'link', '203.0.113.5', '2026-11-02T00:00:00', 'x');
        INSERT INTO survey_answers (response_id, question_id, rating) VALUES (7, 1, 4);
    """)
    migrations.apply(old)
    assert old.execute("SELECT id, unit_id, browser, method FROM survey_responses"
                       ).fetchall() == [(7, 1, None, "link")]
    assert old.execute("SELECT response_id, rating FROM survey_answers").fetchall() == \
        [(7, 4)]
    assert old.execute("SELECT kind, activity_id, token FROM surveys").fetchall() == \
        [("annual", None, None)]
    assert old.execute("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(sqlite3.IntegrityError):  # still one answer per household
        old.execute("INSERT INTO survey_responses (survey_id, unit_id, method, at, op_id)"
                    " VALUES (1, 1, 'phone', '2026-11-03T00:00:00', 'y')")
    # survey_answers still points at survey_responses, not at a table the rebuild dropped.
    assert "REFERENCES survey_responses(id)" in old.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'survey_answers'").fetchone()[0]
