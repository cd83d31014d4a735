"""A community activity on phones (Pixel 5): the desk creates one, starts its feedback and
opens its QR code; a participant on another phone opens the shared link, answers, and a
second answer from that phone is not counted; the activity's page shows one response."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import Server, login


def test_the_desk_runs_an_activity_and_a_participant_answers(new_context, server: Server):
    desk_ctx = new_context()
    desk = desk_ctx.new_page()
    login(desk, "desk")
    desk.goto("/activities")
    desk.locator("[data-nav=activity-new]").click()
    form = desk.locator("[data-form=new-activity]")
    form.locator("[name=title]").fill("中秋游园会")
    # An hour ago, local time, as the phone's picker gives it.
    started = desk.evaluate("""() => { const d = new Date(Date.now() - 3600e3);
        d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
        return d.toISOString().slice(0, 16); }""")
    form.locator("[name=starts_at]").fill(started)
    form.locator("[name=place]").fill("中心花园")
    form.locator("[data-submit]").click()
    expect(desk.locator("[data-activity-title]")).to_have_text("中秋游园会")
    expect(desk.locator("[data-feedback]")).to_have_attribute("data-status", "draft")
    desk.locator("[data-open-feedback]").click()
    expect(desk.locator("[data-feedback]")).to_have_attribute("data-status", "open")
    assert desk.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    desk.locator("[data-show-qr]").click()
    expect(desk.locator("[data-qr]")).to_be_visible()
    link = desk.locator("[data-url] a").get_attribute("href")
    assert link and "/q/s/" in link
    activity_url = desk.locator("a:has-text('返回活动')").get_attribute("href")

    phone_ctx = new_context()
    phone = phone_ctx.new_page()
    phone.goto(link)
    card = phone.locator("[data-survey-public]")
    expect(card).to_have_attribute("data-kind", "activity")
    expect(card).to_contain_text("中心花园")
    expect(phone.locator("[data-logout]")).to_have_count(0)
    survey = phone.locator("[data-form=survey]")
    questions = survey.locator("[data-question]")
    expect(questions).to_have_count(3)
    questions.nth(0).get_by_label("非常满意").check()
    questions.nth(1).get_by_label("会", exact=True).check()
    questions.nth(2).locator("textarea").fill("月饼很好吃")
    survey.locator("[data-submit]").click()
    expect(phone.locator("[data-thanks]")).to_be_visible()
    # The same phone opens the link again: thanked, no form.
    phone.goto(link)
    expect(phone.locator("[data-thanks]")).to_be_visible()
    expect(phone.locator("[data-form=survey]")).to_have_count(0)
    phone_ctx.close()

    desk.goto(activity_url)
    results = desk.locator("[data-results]")
    expect(results.locator("[data-answered]")).to_have_attribute("data-answered", "1")
    rating = desk.locator("[data-question-result][data-kind=rating]")
    expect(rating.locator("[data-score='5'] [data-count]")).to_have_text("1")
    expect(desk.locator("[data-texts]")).to_contain_text("月饼很好吃")
    desk_ctx.close()
