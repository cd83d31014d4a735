"""The annual opinion survey's rules (domain, pinned now): editable until opened, one
answer per household through the link or a clerk, closed surveys and other surveys'
links refused, the response rate and results by building across two estates that both
have a 1栋, the year's summary."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

import sync
from webapp.domain import figures, periods, surveys
from webapp.domain.handlers import HANDLERS

from .conftest import NOW
from .jobflow import run, uid

QUESTIONS = [
    {"kind": "rating", "text": "您对物业服务总体满意吗？"},
    {"kind": "choice", "text": "您最希望改进哪方面？", "options": "保洁\n安保\n绿化"},
    {"kind": "text", "text": "其他意见或建议"},
]


def make_survey(db, estate_id=1, questions=QUESTIONS, open_it=True, year=2026) -> int:
    out = run(db, "manager", "survey.save", "survey:new", estate_id=str(estate_id),
              year=str(year), title="2026年度业主意见调查", intro="感谢您的支持。",
              questions=questions)
    assert out.status == "applied", out.result
    sid = out.result["survey_id"]
    if open_it:
        opened = run(db, "manager", "survey.status", f"survey:{sid}", to="open")
        assert opened.status == "applied", opened.result
    return sid


def qids(db, sid) -> list[int]:
    return [q["id"] for q in surveys.questions(db, sid)]


def answers(db, sid, rating="5", choice="0", text="") -> dict[str, str]:
    r, c, t = qids(db, sid)
    return {str(r): rating, str(c): choice, str(t): text}


def token_of(db, sid, building="1栋", number="101") -> str:
    return db.execute(
        "SELECT l.token FROM survey_links l JOIN units u ON u.id = l.unit_id JOIN buildings b"
        " ON b.id = l.building_id WHERE l.survey_id = ? AND b.name = ? AND u.number = ?",
        [sid, building, number]).fetchone()[0]


def unit_of(db, token) -> int:
    return surveys.link(db, token)["unit_id"]


def answer(db, sid, token, now=NOW, addr="203.0.113.5", **kw):
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind="survey.answer", target=f"survey:{sid}",
                       payload={"token": token, "remote_addr": addr,
                                "answers": answers(db, sid, **kw)},
                       user_id=None, device_id="")
    return sync.apply(db, cmd, HANDLERS, now)


def record(db, sid, unit_id, who="callback", method="phone", **kw):
    return run(db, who, "survey.record", f"survey:{sid}", unit_id=str(unit_id), method=method,
               answers=answers(db, sid, **kw))


def responses(db, sid) -> int:
    return db.execute("SELECT count(*) FROM survey_responses WHERE survey_id = ?",
                      [sid]).fetchone()[0]


def test_questions_are_kept_in_order_and_editable_only_while_a_draft(db):
    sid = make_survey(db, open_it=False)
    edited = run(db, "manager", "survey.save", f"survey:{sid}", year="2026", title="新标题",
                 questions=[{**QUESTIONS[2], "position": "1"},
                            {**QUESTIONS[0], "position": "2"},
                            {**QUESTIONS[1], "position": "3", "remove": "1"},
                            {"kind": "rating", "text": "", "position": "4"}])
    assert edited.status == "applied"
    assert [(q["kind"], q["position"]) for q in surveys.questions(db, sid)] == \
        [("text", 1), ("rating", 2)]
    assert run(db, "manager", "survey.status", f"survey:{sid}", to="open").status == "applied"
    # Households get a link each when it opens: every unit of estate 1.
    units = db.execute("SELECT count(*) FROM units WHERE estate_id = 1").fetchone()[0]
    links = db.execute("SELECT count(*), count(DISTINCT token) FROM survey_links"
                       " WHERE survey_id = ?", [sid]).fetchone()
    assert links == (units, units)
    late = run(db, "manager", "survey.save", f"survey:{sid}", year="2026", title="再改",
               questions=QUESTIONS)
    assert late.status == "rejected" and late.result["reason"] == "not_draft"
    assert surveys.get(db, sid)["title"] == "新标题"


@pytest.mark.parametrize("payload, field", [
    ({"title": "", "year": "2026", "questions": QUESTIONS}, "title"),
    ({"title": "调查", "year": "26年", "questions": QUESTIONS}, "year"),
    ({"title": "调查", "year": "2026", "questions": [{"kind": "choice", "text": "选哪个",
                                                      "options": "只有一个"}]}, "q0"),
    ({"title": "调查", "year": "2026", "questions": [{"kind": "essay", "text": "问题"}]}, "q0"),
])
def test_a_bad_survey_is_refused_with_the_field(db, payload, field):
    with pytest.raises(sync.Invalid) as exc:
        run(db, "manager", "survey.save", "survey:new", estate_id="1", **payload)
    assert field in exc.value.errors


def test_only_the_manager_level_sets_up_a_survey(db):
    out = run(db, "callback", "survey.save", "survey:new", estate_id="1", year="2026",
              title="调查", questions=QUESTIONS)
    assert out.status == "rejected" and out.result["reason"] == "forbidden"


def test_one_answer_per_household_through_the_link(db):
    sid = make_survey(db)
    token = token_of(db, sid)
    first = answer(db, sid, token, rating="2", text="电梯常坏")
    assert first.status == "applied"
    again = answer(db, sid, token, rating="5")
    assert again.status == "rejected" and again.result["reason"] == "answered"
    assert responses(db, sid) == 1
    got = surveys.results(db, surveys.get(db, sid))
    assert got["questions"][0]["distribution"][2] == 1  # the first answer stands
    assert got["questions"][2]["texts"] == ["电梯常坏"]


def test_one_answer_per_household_link_and_clerk_alike(db):
    sid = make_survey(db)
    token = token_of(db, sid)
    unit = unit_of(db, token)
    assert record(db, sid, unit).status == "applied"
    by_link = answer(db, sid, token)
    assert by_link.status == "rejected" and by_link.result["reason"] == "answered"
    twice = record(db, sid, unit, method="visit")
    assert twice.status == "rejected" and twice.result["reason"] == "answered"
    other = token_of(db, sid, number="102")
    assert answer(db, sid, other).status == "applied"
    clerk_after = record(db, sid, unit_of(db, other))
    assert clerk_after.status == "rejected" and clerk_after.result["reason"] == "answered"
    assert responses(db, sid) == 2
    methods = dict(db.execute("SELECT method, count(*) FROM survey_responses WHERE survey_id = ?"
                              " GROUP BY method", [sid]).fetchall())
    assert methods == {"phone": 1, "link": 1}


def test_a_closed_survey_refuses_answers(db):
    sid = make_survey(db)
    assert run(db, "manager", "survey.status", f"survey:{sid}", to="closed").status == "applied"
    token = token_of(db, sid)
    assert answer(db, sid, token).result["reason"] == "closed"
    assert record(db, sid, unit_of(db, token)).result["reason"] == "closed"
    assert responses(db, sid) == 0


def _queued(db, sid, unit_id, taken, op_id=None):
    """A clerk's answer that waited in the phone's outbox, taken at `taken`."""
    return sync.Command(op_id=op_id or str(uuid.uuid4()), kind="survey.record",
                        target=f"survey:{sid}", payload={
                            "unit_id": str(unit_id), "method": "visit",
                            "answers": answers(db, sid, rating="4")},
                        user_id=uid(db, "callback"), device_id="phone", replayed=True,
                        acted_at=taken)


def test_a_clerks_answer_from_the_outbox_is_idempotent_and_kept_if_taken_while_open(db):
    sid = make_survey(db)  # opened at NOW
    closed_at = NOW + timedelta(hours=1)
    assert run(db, "manager", "survey.status", f"survey:{sid}", now=closed_at,
               to="closed").status == "applied"
    arrives = NOW + timedelta(hours=3)  # the phone found a signal after the close
    unit = unit_of(db, token_of(db, sid))
    at_the_door = _queued(db, sid, unit, NOW + timedelta(minutes=30))
    first = sync.apply(db, at_the_door, HANDLERS, arrives)
    assert first.status == "applied", first.result
    # The same op_id again (no answer reached the phone): the first outcome, nothing more.
    again = sync.apply(db, at_the_door, HANDLERS, arrives + timedelta(minutes=5))
    assert (again.status, again.first_status, again.result) == \
        ("duplicate", "applied", first.result)
    assert responses(db, sid) == 1
    row = db.execute("SELECT method, at FROM survey_responses WHERE survey_id = ?",
                     [sid]).fetchone()
    assert row == ("visit", "2026-11-10T09:30:00")  # when it was taken, not received
    # Taken after the close, or typed online after it: refused.
    other = unit_of(db, token_of(db, sid, number="102"))
    late = sync.apply(db, _queued(db, sid, other, closed_at + timedelta(minutes=1)),
                      HANDLERS, arrives)
    assert late.result["reason"] == "closed"
    assert record(db, sid, other).result["reason"] == "closed"
    assert responses(db, sid) == 1


def test_a_draft_takes_no_answers(db):
    sid = make_survey(db, open_it=False)
    # No links yet: no household is in the survey.
    with pytest.raises(sync.Invalid) as exc:
        run(db, "callback", "survey.record", f"survey:{sid}", unit_id="1", method="phone",
            answers={})
    assert "unit" in exc.value.errors


def test_a_link_of_another_survey_is_refused(db):
    first, second = make_survey(db), make_survey(db, estate_id=2)
    token = token_of(db, second)
    out = answer(db, first, token)
    assert out.status == "rejected" and out.result["reason"] == "unknown_link"
    assert responses(db, first) == responses(db, second) == 0
    assert answer(db, first, "x" * 22).result["reason"] == "unknown_link"


def test_missing_answers_are_refused_and_nothing_is_kept(db):
    sid = make_survey(db)
    with pytest.raises(sync.Invalid) as exc:
        answer(db, sid, token_of(db, sid), rating="", choice="7")
    r, c, _t = qids(db, sid)
    assert set(exc.value.errors) == {f"a{r}", f"a{c}"}
    assert responses(db, sid) == 0


def test_a_clerk_records_only_in_their_estates_and_by_a_known_method(db):
    sid = make_survey(db, estate_id=2)
    unit = unit_of(db, token_of(db, sid))
    with pytest.raises(sync.Invalid) as exc:
        record(db, sid, unit, method="carrier pigeon")
    assert "method" in exc.value.errors
    db.execute("DELETE FROM user_estates WHERE user_id = (SELECT id FROM users"
               " WHERE username = 'callback') AND estate_id = 2")
    assert record(db, sid, unit).result["reason"] == "forbidden"
    assert record(db, sid, unit, who="tech").result["reason"] == "forbidden"


def test_answers_from_one_address_are_limited_per_hour(db):
    db.execute("INSERT OR REPLACE INTO estate_settings VALUES (1,"
               " 'survey_answers_per_address_hour', '2')")
    sid = make_survey(db)
    for number in ("101", "102"):
        assert answer(db, sid, token_of(db, sid, number=number)).status == "applied"
    third = token_of(db, sid, number="103")
    assert answer(db, sid, third).result["reason"] == "limited"
    assert answer(db, sid, third, addr="198.51.100.7").status == "applied"
    later = NOW + timedelta(hours=1, minutes=1)
    assert answer(db, sid, token_of(db, sid, number="104"), now=later).status == "applied"


def test_the_address_limit_is_counted_per_survey(db):
    for estate in (1, 2):
        db.execute("INSERT OR REPLACE INTO estate_settings VALUES (?,"
                   " 'survey_answers_per_address_hour', '2')", [estate])
    first, second = make_survey(db, estate_id=1), make_survey(db, estate_id=2)
    for number in ("101", "102"):
        assert answer(db, first, token_of(db, first, number=number)).status == "applied"
    assert answer(db, first, token_of(db, first, number="103")).result["reason"] == "limited"
    # The same address's answers to the other estate's survey are its own to count.
    for number in ("101", "102"):
        assert answer(db, second, token_of(db, second, number=number)).status == "applied"
    assert answer(db, second, token_of(db, second, number="201")).result["reason"] == \
        "limited"


def test_response_rate_and_buildings_by_id_across_two_estates(db):
    a, b = make_survey(db, estate_id=1), make_survey(db, estate_id=2)
    # Estate 1: two in its 1栋, one in its 2栋; estate 2: one in its own 1栋.
    answer(db, a, token_of(db, a, "1栋", "101"), rating="5")
    record(db, a, unit_of(db, token_of(db, a, "1栋", "102")), rating="3")
    answer(db, a, token_of(db, a, "2栋", "101"), rating="1", choice="2")
    answer(db, b, token_of(db, b, "1栋", "101"), rating="4", choice="1")
    n1 = db.execute("SELECT count(*) FROM units WHERE estate_id = 1").fetchone()[0]
    n2 = db.execute("SELECT count(*) FROM units WHERE estate_id = 2").fetchone()[0]
    one_1 = db.execute("SELECT count(*) FROM units u JOIN buildings b ON b.id = u.building_id"
                       " WHERE b.estate_id = 1 AND b.name = '1栋'").fetchone()[0]

    res = surveys.results(db, surveys.get(db, a))
    assert (res["households"], res["answered"]) == (n1, 3)
    assert res["rate"] == round(100 * 3 / n1, 1)
    rows = {r["building_name"]: r for r in res["buildings"]}
    assert (rows["1栋"]["households"], rows["1栋"]["answered"]) == (one_1, 2)
    assert rows["1栋"]["average"] == 4.0 and rows["2栋"]["answered"] == 1
    rating = res["questions"][0]
    assert rating["distribution"] == {5: 1, 4: 0, 3: 1, 2: 0, 1: 1}
    assert rating["average"] == 3.0 and rating["satisfied_pct"] == 33.3
    assert [o["count"] for o in res["questions"][1]["options"]] == [2, 0, 1]

    sc = figures.scope(db, [1, 2], periods.Period("year", date(2026, 1, 1), date(2027, 1, 1)),
                       NOW)
    ev = figures.evaluate(db, "survey_response_rate", sc)
    assert (ev.result.numerator, ev.result.denominator) == (4, n1 + n2)
    assert ev.previous.value is None  # no survey in 2025
    assert ev.result.records.count(db) == 4
    table = figures.TABLES["survey_by_building"].fn(db, sc)
    labels = [r.label for r in table]
    assert labels.count("翠湖花园 · 1栋") == 1 and labels.count("锦绣家园 · 1栋") == 1
    jx = next(r for r in table if r.label == "锦绣家园 · 1栋")
    assert (jx.cells[0].value, jx.cells[1].value, jx.cells[3].value) == (n2, 1, 4.0)
    ch = next(r for r in table if r.label == "翠湖花园 · 1栋")
    assert ch.cells[1].records.count(db) == 2 and ch.cells[2].denominator == one_1
    ratings = figures.TABLES["survey_ratings"].fn(db, sc)
    assert [r.cells[0].value for r in ratings] == [3, 1]
    assert ratings[0].cells[3].records.count(db) == 1  # very satisfied: one household
    choices = figures.TABLES["survey_choices"].fn(db, sc)
    assert [r.cells[0].value for r in choices] == [2, 0, 1, 0, 1, 0]

    one = figures.scope(db, [2], periods.Period("month", date(2026, 11, 1),
                                                  date(2026, 12, 1)), NOW)
    assert figures.evaluate(db, "survey_response_rate", one).result.value == \
        round(100 / n2, 1)
    assert [r.label for r in figures.TABLES["survey_by_building"].fn(db, one)] == ["1栋"]


def test_units_with_no_resident_are_not_households_unless_they_answer(db):
    def unit(number, building="1栋"):
        return db.execute("SELECT u.id FROM units u JOIN buildings b ON b.id = u.building_id"
                          " WHERE b.estate_id = 1 AND b.name = ? AND u.number = ?",
                          [building, number]).fetchone()[0]

    vacant = [unit("101"), unit("102"), unit("101", "2栋")]
    for unit_id in vacant:  # nobody on record lives there
        db.execute("DELETE FROM residents WHERE unit_id = ?", [unit_id])
    units = db.execute("SELECT count(*) FROM units WHERE estate_id = 1").fetchone()[0]
    sid = make_survey(db)
    # Every unit still has its link (its slip): someone may move in and answer.
    assert db.execute("SELECT count(*) FROM survey_links WHERE survey_id = ?",
                      [sid]).fetchone()[0] == units
    answer(db, sid, token_of(db, sid, "1栋", "103"))
    res = surveys.results(db, surveys.get(db, sid))
    assert (res["households"], res["answered"], res["unoccupied"]) == (units - 3, 1, 3)
    assert res["rate"] == round(100 / (units - 3), 1)
    # A unit with no resident on record that answers all the same is a household.
    answer(db, sid, token_of(db, sid, "1栋", "101"))
    res = surveys.results(db, surveys.get(db, sid))
    assert (res["households"], res["answered"], res["unoccupied"]) == (units - 2, 2, 2)
    one_1 = {r["building_name"]: r for r in res["buildings"]}["1栋"]
    in_1 = db.execute("SELECT count(*) FROM units u JOIN buildings b ON b.id = u.building_id"
                      " WHERE b.estate_id = 1 AND b.name = '1栋'").fetchone()[0]
    assert (one_1["households"], one_1["answered"]) == (in_1 - 1, 2)  # 102 left out
    assert surveys.list_surveys(db, [1])[0]["households"] == units - 2

    sc = figures.scope(db, [1], periods.Period("year", date(2026, 1, 1), date(2027, 1, 1)),
                       NOW)
    ev = figures.evaluate(db, "survey_response_rate", sc)
    assert (ev.result.numerator, ev.result.denominator) == (2, units - 2)
    base = {r[0] for r in db.execute(ev.result.base.sql, ev.result.base.params)}
    assert vacant[1] not in base and vacant[0] in base and len(base) == units - 2
    row = next(r for r in figures.TABLES["survey_by_building"].fn(db, sc) if r.label == "1栋")
    assert (row.cells[0].value, row.cells[2].denominator) == (in_1 - 1, in_1 - 1)
    assert row.cells[0].records.count(db) == in_1 - 1


def test_year_summary_for_the_yearly_report(db):
    a = make_survey(db, estate_id=1)
    make_survey(db, estate_id=2, open_it=False)  # a draft was never sent
    make_survey(db, estate_id=1, year=2025)
    answer(db, a, token_of(db, a), rating="4", text="很好")
    summary = surveys.year_summary(db, [1, 2], 2026, NOW)
    assert [s["id"] for s in summary["surveys"]] == [a]
    assert summary["answered"] == 1 and summary["households"] == summary["surveys"][0][
        "households"]
    assert summary["surveys"][0]["questions"][2]["texts"] == ["很好"]
    assert summary["final"] is False
    run(db, "manager", "survey.status", f"survey:{a}", to="closed")
    assert surveys.year_summary(db, [1, 2], 2026, NOW)["final"] is True
    assert surveys.year_summary(db, [2], 2026, NOW)["surveys"] == []


def test_the_yearly_report_carries_the_surveys_response_rate(db):
    from webapp.domain import periods, reports

    year = periods.parse("2026", NOW)
    assert reports.contents(db, 1, "year", year, NOW)["survey"] is None
    sid = make_survey(db, estate_id=1)
    answer(db, sid, token_of(db, sid))
    summary = surveys.year_summary(db, [1], 2026, NOW)
    survey = reports.contents(db, 1, "year", year, NOW)["survey"]
    assert survey == {"title": summary["surveys"][0]["title"],
                      "households": summary["households"], "responses": 1,
                      "rate": summary["rate"]}
    assert survey["households"] > 1 and survey["rate"] == round(100 / survey["households"], 1)
