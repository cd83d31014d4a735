"""Community activities' pages: the desk creates one (bad input kept with a Chinese error),
its feedback starts as the default questions in Chinese, opens, and its shared link
(/q/s/<token>) counts one answer per browser by a cookie; the activity page shows the
answers against those who took part; the list searches by title; a paper form; the QR
page; another estate's activity is a 404."""

from __future__ import annotations

from datetime import datetime, timedelta

from webapp.db import get_db
from webapp.domain import activities, surveys
from webapp.i18n import local_time

from .pages import Page

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _start(hours: float = -1) -> str:
    """A local datetime-local value `hours` from now (the pages use the real clock)."""
    return local_time(datetime.utcnow() + timedelta(hours=hours), LOCAL_INPUT)


def _create(client, auth, title="中秋游园会", hours: float = -1) -> int:
    auth.login("desk")
    response = client.post("/activities/new", data={
        "estate_id": "1", "title": title, "starts_at": _start(hours), "place": "中心花园",
        "organiser": "客服中心", "description": "猜灯谜、做月饼"})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _activity(app, activity_id) -> dict:
    with app.app_context():
        return activities.get(get_db(), activity_id)


def _answers(app, survey_id, rating="5") -> dict[str, str]:
    with app.app_context():
        qs = surveys.questions(get_db(), survey_id)
    return {f"answer_{qs[0]['id']}": rating, f"answer_{qs[1]['id']}": "0",
            f"answer_{qs[2]['id']}": "很开心"}


def test_bad_input_keeps_what_was_typed_with_a_chinese_error(client, auth):
    auth.login("desk")
    response = client.post("/activities/new", data={
        "estate_id": "1", "title": "重阳登高", "starts_at": "下周", "place": "后山"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.values["title"] == "重阳登高" and page.values["place"] == "后山"
    assert page.errors["starts_at"] == "请填写活动开始的日期和时间。"


def test_the_desk_runs_an_activity_and_a_participant_answers_once(app, client, auth):
    activity_id = _create(client, auth)
    page = Page(client.get(f"/activities/{activity_id}").get_data(as_text=True))
    # The default questions, in the reader's language, editable while a draft.
    assert page.values["q-0-text"] == "您对本次活动总体满意吗？"
    assert page.textareas["q-1-options"].split() == ["会", "也许", "不会"]
    assert page.find("data-feedback")[0]["data-status"] == "draft"
    assert client.post(f"/activities/{activity_id}/feedback",
                       data={"to": "open"}).status_code == 303
    act = _activity(app, activity_id)
    page = Page(client.get(f"/activities/{activity_id}").get_data(as_text=True))
    link = page.text("data-shared-link")
    assert link.endswith(f"/q/s/{act['survey_token']}")
    assert page.find("data-window")[0]["data-window"] == "open"
    qr = Page(client.get(f"/activities/{activity_id}/qr").get_data(as_text=True))
    assert qr.find("data-qr")[0]["src"].startswith("data:image/png;base64,")

    participant = app.test_client()
    url = f"/q/s/{act['survey_token']}"
    first = participant.get(url)
    assert first.status_code == 200 and "survey_browser=" in first.headers["Set-Cookie"]
    public = Page(first.get_data(as_text=True))
    assert public.find("data-survey-public")[0]["data-kind"] == "activity"
    assert public.find("data-activity") and not public.find("data-home")
    answers = _answers(app, act["survey_id"])
    assert participant.post(url, data=answers).status_code == 303
    thanks = Page(participant.get(url).get_data(as_text=True))
    assert thanks.find("data-thanks") and not thanks.find("data-form", "survey")
    # The same browser again: nothing changes.
    assert participant.post(url, data=_answers(app, act["survey_id"], "1")).status_code == 303
    # Another phone answers too.
    other = app.test_client()
    other.get(url)
    assert other.post(url, data=answers).status_code == 303

    assert client.post(f"/activities/{activity_id}/participants",
                       data={"participants": "40"}).status_code == 303
    page = Page(client.get(f"/activities/{activity_id}").get_data(as_text=True))
    assert page.find("data-answered")[0]["data-answered"] == "2"
    assert page.find("data-share")[0]["data-share"] == "5.0"
    rating = [d for d in page.find("data-question-result") if d["data-kind"] == "rating"]
    assert len(rating) == 1
    assert page.text("data-methods") == "共享链接 2"


def test_a_browser_without_the_cookie_is_asked_to_keep_it(app, client, auth):
    activity_id = _create(client, auth)
    client.post(f"/activities/{activity_id}/feedback", data={"to": "open"})
    act = _activity(app, activity_id)
    stranger = app.test_client()
    url = f"/q/s/{act['survey_token']}"
    answers = _answers(app, act["survey_id"])
    response = stranger.post(url, data=answers)  # no GET first: no cookie yet
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert "Cookie" in page.errors["browser"]
    assert page.values[f"answer_{next(iter(answers))[len('answer_'):]}"] == "5"
    assert stranger.post(url, data=answers).status_code == 303  # the cookie is set now


def test_a_paper_form_and_the_window_before_the_day(app, client, auth):
    activity_id = _create(client, auth, title="新年联欢会", hours=24 * 40)
    client.post(f"/activities/{activity_id}/feedback", data={"to": "open"})
    act = _activity(app, activity_id)
    public = Page(app.test_client().get(f"/q/s/{act['survey_token']}").get_data(as_text=True))
    assert public.find("data-closed")[0]["data-closed"] == "before"
    response = client.post(f"/activities/{activity_id}/paper",
                           data=_answers(app, act["survey_id"], "3"))
    assert response.status_code == 303
    page = Page(client.get(f"/activities/{activity_id}").get_data(as_text=True))
    assert page.text("data-methods") == "纸质问卷 1"
    # Participants before it has begun: refused with the reason, in Chinese.
    response = client.post(f"/activities/{activity_id}/participants",
                           data={"participants": "30"})
    assert response.status_code == 409
    assert Page(response.get_data(as_text=True)).notice == "活动开始后再填写参加人数。"


def test_the_list_upcoming_past_and_searched(client, auth):
    soon = _create(client, auth, title="亲子手工课", hours=48)
    past = _create(client, auth, title="健康讲座", hours=-48)
    page = Page(client.get("/activities").get_data(as_text=True))
    upcoming = [d["data-activity"] for d in page.find("data-activity")]
    assert upcoming == [str(soon), str(past)]
    found = client.get("/activities?q=讲座", headers={"HX-Request": "true"})
    page = Page(found.get_data(as_text=True))
    assert not page.has_html
    assert [d["data-activity"] for d in page.find("data-activity")] == [str(past)]
    page = Page(client.get("/activities?when=past").get_data(as_text=True))
    assert [d["data-activity-list"] for d in page.find("data-activity-list")] == ["past"]


def test_another_estates_activity_is_not_found(client, auth):
    activity_id = _create(client, auth)
    auth.logout()
    auth.login("desk2")
    assert client.get(f"/activities/{activity_id}").status_code == 404
    assert client.post(f"/activities/{activity_id}/feedback",
                       data={"to": "open"}).status_code == 404
    # The annual survey's pages do not open an activity's survey.
    auth.logout()
    auth.login("manager")
    with client.application.app_context():
        sid = activities.get(get_db(), activity_id)["survey_id"]
    assert client.get(f"/surveys/{sid}").status_code == 404


def test_changing_the_details_keeps_what_was_typed(app, client, auth):
    activity_id = _create(client, auth)
    act = _activity(app, activity_id)
    # Feedback not started yet: the shared link says so.
    public = Page(app.test_client().get(f"/q/s/{act['survey_token']}").get_data(as_text=True))
    assert public.find("data-closed")[0]["data-closed"] == "draft"
    form = {"title": "", "starts_at": _start(), "place": "礼堂",
            "base_version": str(act["version"])}
    response = client.post(f"/activities/{activity_id}", data=form)
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["title"] == "请填写活动标题。"
    assert page.forms["activity.save"]["place"] == "礼堂"
    assert "open" in page.find("data-edit-activity")[0]
    assert client.post(f"/activities/{activity_id}",
                       data={**form, "title": "中秋晚会"}).status_code == 303
    assert _activity(app, activity_id)["title"] == "中秋晚会"
    # The version seen is checked: a second save from the same old page is refused.
    stale = client.post(f"/activities/{activity_id}", data={**form, "title": "旧标题"})
    assert stale.status_code == 409
    assert _activity(app, activity_id)["title"] == "中秋晚会"
