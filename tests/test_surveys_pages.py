"""The opinion survey's pages: the manager sets it up and opens it, the household's own
page shows no personal data and counts one answer, bad input keeps what was typed with
a Chinese error, a clerk records by phone, the slips PDF, the figures' registry."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from webapp.db import get_db
from webapp.domain import surveys

from .pages import Page


def _new_survey(client, auth, estate_id=1) -> int:
    auth.login("manager")
    form = {"estate_id": str(estate_id), "year": "2026", "title": "年度业主意见调查",
            "intro": "请花两分钟填写。", "q_count": "4",
            "q-0-kind": "rating", "q-0-text": "您对物业服务总体满意吗？", "q-0-position": "1",
            "q-1-kind": "choice", "q-1-text": "最希望改进哪方面？", "q-1-position": "2",
            "q-1-options": "保洁\r\n安保\r\n绿化",
            "q-2-kind": "text", "q-2-text": "其他意见", "q-2-position": "3",
            "q-3-kind": "rating", "q-3-text": "", "q-3-position": "4"}
    response = client.post("/surveys", data=form)
    assert response.status_code == 303, response.data
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _open(client, sid) -> None:
    assert client.post(f"/surveys/{sid}/status", data={"to": "open"}).status_code == 303


def _link(app, sid, number="101") -> dict:
    with app.app_context():
        db = get_db()
        token = db.execute(
            "SELECT l.token FROM survey_links l JOIN units u ON u.id = l.unit_id JOIN buildings b"
            " ON b.id = l.building_id WHERE l.survey_id = ? AND b.name = '1栋' AND u.number = ?",
            [sid, number]).fetchone()[0]
        link = surveys.link(db, token)
        link["residents"] = [tuple(r) for r in db.execute(
            "SELECT name, phone FROM residents WHERE unit_id = ?", [link["unit_id"]])]
        link["qids"] = [q["id"] for q in surveys.questions(db, sid)]
        return link


def _count(app, sid) -> int:
    with app.app_context():
        return get_db().execute("SELECT count(*) FROM survey_responses WHERE survey_id = ?",
                                [sid]).fetchone()[0]


def test_the_manager_sets_up_edits_and_opens_a_survey(client, auth):
    sid = _new_survey(client, auth)
    page = Page(client.get(f"/surveys/{sid}").get_data(as_text=True))
    assert page.values["q-0-text"] == "您对物业服务总体满意吗？"
    assert page.textareas["q-1-options"] == "保洁\n安保\n绿化"
    assert page.find("data-survey-status") and page.find("data-open")
    bad = client.post(f"/surveys/{sid}", data={"year": "明年", "title": "改后的标题",
                                               "q_count": "1", "q-0-kind": "choice",
                                               "q-0-text": "选一个", "q-0-options": "只有一项"})
    assert bad.status_code == 422
    again = Page(bad.get_data(as_text=True))
    assert again.values["title"] == "改后的标题" and again.values["year"] == "明年"
    assert again.values["q-0-text"] == "选一个"
    assert re.search(r"[\u4e00-\u9fff]", again.errors["year"])
    assert re.search(r"[\u4e00-\u9fff]", again.errors["q0"])
    _open(client, sid)
    opened = Page(client.get(f"/surveys/{sid}").get_data(as_text=True))
    assert not opened.find("data-form", "edit-survey") and opened.find("data-slips")
    assert opened.find("data-response-rate")
    listed = Page(client.get("/surveys").get_data(as_text=True))
    assert [d["data-survey"] for d in listed.find("data-survey")] == [str(sid)]


def test_the_household_page_shows_no_personal_data(app, client, auth):
    sid = _new_survey(client, auth)
    _open(client, sid)
    link = _link(app, sid)
    auth.logout()
    response = client.get(f"/q/s/{link['token']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    assert page.text("data-home").endswith("1栋 101")
    (name, phone), = link["residents"]
    assert name not in html and phone not in html
    assert len(page.find("data-question")) == 3
    assert client.get("/q/s/" + "A" * 22).status_code == 404
    assert client.get("/q/s/short").status_code == 404


def test_a_second_answer_does_not_count_twice(app, client, auth):
    sid = _new_survey(client, auth)
    _open(client, sid)
    link = _link(app, sid)
    r, c, t = link["qids"]
    auth.logout()
    url = f"/q/s/{link['token']}"
    first = client.post(url, data={f"answer_{r}": "2", f"answer_{c}": "1",
                                   f"answer_{t}": "楼道灯常坏"})
    assert first.status_code == 303
    thanks = Page(client.get(url).get_data(as_text=True))
    assert thanks.find("data-thanks") and not thanks.find("data-form", "survey")
    second = client.post(url, data={f"answer_{r}": "5", f"answer_{c}": "0"})
    assert second.status_code == 303
    assert Page(client.get(second.headers["Location"]).get_data(as_text=True)).find("data-thanks")
    assert _count(app, sid) == 1
    auth.login("manager")
    results = Page(client.get(f"/surveys/{sid}").get_data(as_text=True))
    assert results.find("data-answered", "1")
    assert results.text("data-texts") == "楼道灯常坏"
    rating = [d for d in results.find("data-score") if d["data-score"] == "2"]
    assert rating


def test_bad_input_keeps_what_was_typed_with_a_chinese_error(app, client, auth):
    sid = _new_survey(client, auth)
    _open(client, sid)
    link = _link(app, sid)
    r, c, t = link["qids"]
    auth.logout()
    response = client.post(f"/q/s/{link['token']}",
                           data={f"answer_{c}": "9", f"answer_{t}": "保安很负责"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.textareas[f"answer_{t}"] == "保安很负责"
    for key in (f"a{r}", f"a{c}"):
        assert re.search(r"[\u4e00-\u9fff]", page.errors[key]), page.errors
    # Each message stands inside its own question's box, which is marked.
    marks = [(d.get("data-question") or d.get("data-error"), "has-error" in d.get("class", ""))
             for d in page.data if "data-question" in d or d.get("data-error", "")[:1] == "a"]
    assert marks == [(str(r), True), (f"a{r}", False), (str(c), True), (f"a{c}", False),
                     (str(t), False)]
    assert _count(app, sid) == 0


def test_a_closed_survey_thanks_nobody_and_counts_nothing(app, client, auth):
    sid = _new_survey(client, auth)
    _open(client, sid)
    link = _link(app, sid)
    assert client.post(f"/surveys/{sid}/status", data={"to": "closed"}).status_code == 303
    auth.logout()
    page = Page(client.get(f"/q/s/{link['token']}").get_data(as_text=True))
    assert page.find("data-closed") and not page.find("data-form", "survey")
    r = link["qids"][0]
    response = client.post(f"/q/s/{link['token']}", data={f"answer_{r}": "5"})
    assert response.status_code == 409 and _count(app, sid) == 0


def test_a_clerk_finds_a_household_and_records_by_phone(app, client, auth):
    sid = _new_survey(client, auth, estate_id=2)
    _open(client, sid)
    auth.logout()
    auth.login("callback")
    found = client.get(f"/surveys/{sid}/find?unit=1-102")
    assert found.status_code == 303
    url = found.headers["Location"]
    form = Page(client.get(url).get_data(as_text=True))
    assert form.find("data-outbox") and form.find("data-command", "survey.record")
    with app.app_context():
        qids = [q["id"] for q in surveys.questions(get_db(), sid)]
    missing = client.post(url, data={"method": "phone", f"answer_{qids[2]}": "希望多些绿化"})
    assert missing.status_code == 422
    assert Page(missing.get_data(as_text=True)).textareas[f"answer_{qids[2]}"] == "希望多些绿化"
    done = client.post(url, data={"method": "visit", f"answer_{qids[0]}": "4",
                                  f"answer_{qids[1]}": "2"})
    assert done.status_code == 303
    assert Page(client.get(url).get_data(as_text=True)).find("data-answered", "visit")
    assert _count(app, sid) == 1
    unknown = client.get(f"/surveys/{sid}/find?unit=9-999")
    assert unknown.status_code == 422
    page = Page(unknown.get_data(as_text=True))
    assert page.values["unit"] == "9-999" and re.search(r"[\u4e00-\u9fff]", page.errors["unit"])
    # A clerk reads and records; only the manager level sets surveys up.
    assert client.post(f"/surveys/{sid}/status", data={"to": "closed"}).status_code == 403


def test_the_slips_pdf_holds_a_slip_per_household(app, client, auth):
    sid = _new_survey(client, auth, estate_id=2)
    _open(client, sid)
    response = client.get(f"/surveys/{sid}/slips.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    with app.app_context():
        units = get_db().execute("SELECT count(*) FROM units WHERE estate_id = 2").fetchone()[0]
    assert len(reader.pages) == -(-units // 8)
    text = "".join(p.extract_text() for p in reader.pages)
    assert "1栋 101" in text and "1栋 102" in text


def test_one_buildings_slips(app, client, auth):
    sid = _new_survey(client, auth, estate_id=1)
    _open(client, sid)
    page = Page(client.get(f"/surveys/{sid}").get_data(as_text=True))
    links = page.find("data-slips-building")
    assert len(links) == 4  # the demo's 翠湖花园 has four buildings
    with app.app_context():
        db = get_db()
        building, per = db.execute(
            "SELECT b.id, count(*) FROM buildings b JOIN units u ON u.building_id = b.id"
            " WHERE b.estate_id = 1 AND b.name = '2栋' GROUP BY b.id").fetchone()
    response = client.get(f"/surveys/{sid}/slips.pdf?building_id={building}")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == -(-per // 8)
    text = "".join(p.extract_text() for p in reader.pages)
    assert "2栋 101" in text and "1栋" not in text
    assert client.get(f"/surveys/{sid}/slips.pdf?building_id=999999").status_code == 404


def test_other_estates_surveys_are_not_found(client, auth):
    sid = _new_survey(client, auth, estate_id=2)
    auth.logout()
    auth.login("desk")  # estate 1 only, and no survey capability
    assert client.get(f"/surveys/{sid}").status_code == 403
    auth.logout()
    auth.login("supervisor")
    assert client.get("/surveys").status_code == 403


@pytest.mark.parametrize("role, manage, record", [
    ("manager", True, True), ("admin", True, True), ("callback", False, True),
    ("desk", False, False), ("supervisor", False, False), ("tech", False, False),
    ("cleaner", False, False)])
def test_a_surveys_pages_by_role(app, client, auth, role, manage, record):
    sid = _new_survey(client, auth, estate_id=1)
    _open(client, sid)
    unit = _link(app, sid)["unit_id"]
    auth.logout()
    auth.login(role)
    reads = [f"/surveys/{sid}", f"/surveys/{sid}/find?unit=1-101",
             f"/surveys/{sid}/units/{unit}"]
    for url in reads:
        assert client.get(url).status_code in ((200, 303) if record else (403,)), url
    assert client.get(f"/surveys/{sid}/slips.pdf").status_code == (200 if manage else 403)
    closing = client.post(f"/surveys/{sid}/status", data={"to": "closed"})
    assert closing.status_code == (303 if manage else 403)


def test_staff_of_other_estates_get_404(app, client, auth):
    sid = _new_survey(client, auth, estate_id=2)
    _open(client, sid)
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM user_estates WHERE user_id = (SELECT id FROM users"
                   " WHERE username = 'callback') AND estate_id = 2")
        db.conn.commit()
    auth.logout()
    auth.login("callback")
    assert client.get(f"/surveys/{sid}").status_code == 404
    assert client.get("/surveys").status_code == 200


def test_a_clerks_answer_replays_from_the_outbox_once(app, client, auth):
    from .test_sync_api import batch, item

    sid = _new_survey(client, auth, estate_id=2)
    _open(client, sid)
    link = _link(app, sid)
    r, c, t = link["qids"]
    auth.logout()
    auth.login("callback")
    fields = {"unit_id": str(link["unit_id"]), "method": "visit", f"answer_{r}": "3",
              f"answer_{c}": "2", f"answer_{t}": "门口记录"}
    queued = item("survey.record", f"survey:{sid}", fields)
    (first,) = batch(client, queued).json["results"]
    assert first["status"] == "applied"
    (again,) = batch(client, queued).json["results"]  # the same op_id sent again
    assert again["status"] == "duplicate"
    other = item("survey.record", f"survey:{sid}", {**fields, "method": "phone"})
    (second,) = batch(client, other).json["results"]  # another clerk, the same household
    assert second["status"] == "rejected"
    assert _count(app, sid) == 1
    with app.app_context():
        row = get_db().execute("SELECT method FROM survey_responses WHERE survey_id = ?",
                               [sid]).fetchone()
    assert row[0] == "visit"


def test_the_results_say_how_many_units_with_no_resident_are_left_out(app, client, auth):
    sid = _new_survey(client, auth)
    with app.app_context():
        db = get_db()
        db.execute("DELETE FROM residents WHERE unit_id IN (SELECT u.id FROM units u JOIN"
                   " buildings b ON b.id = u.building_id WHERE b.estate_id = 1 AND"
                   " b.name = '1栋' AND u.number IN ('101', '102'))")
        db.conn.commit()
        units = db.execute("SELECT count(*) FROM units WHERE estate_id = 1").fetchone()[0]
    _open(client, sid)
    page = Page(client.get(f"/surveys/{sid}").get_data(as_text=True))
    assert page.find("data-unoccupied", "2") and "不计" in page.text("data-unoccupied")
    assert f"{units - 2}" in page.text("data-answered")
