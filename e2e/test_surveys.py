"""The opinion survey in the browser: a resident opens their household's personal link
(no sign-in), answers, sees the thanks; the manager's results page shows the answer."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Server, login


def test_a_resident_answers_through_the_link_and_the_manager_sees_it(page: Page,
                                                                      server: Server):
    made = server.command("manager", "survey.save", "survey:new", estate_id="2", year="2026",
                          title="2026年度业主意见调查", intro="请花两分钟填写。", questions=[
                              {"kind": "rating", "text": "您对物业服务总体满意吗？"},
                              {"kind": "choice", "text": "最希望改进哪方面？",
                               "options": "保洁\n安保\n绿化"},
                              {"kind": "text", "text": "其他意见或建议"}])
    sid = made["survey_id"]
    server.command("manager", "survey.status", f"survey:{sid}", to="open")
    (home,) = server.query(
        "SELECT l.token, l.unit_id, u.number FROM survey_links l JOIN units u"
        " ON u.id = l.unit_id WHERE l.survey_id = ? ORDER BY u.id LIMIT 1", [sid])
    private = [v for r in server.query("SELECT name, phone FROM residents WHERE unit_id = ?",
                                       [home["unit_id"]]) for v in r.values()]

    page.set_viewport_size({"width": 360, "height": 740})  # the narrowest phone we serve
    page.goto(f"/q/s/{home['token']}")
    card = page.locator("[data-survey-public]")
    expect(card.locator("[data-home]")).to_contain_text(f"1栋 {home['number']}")
    expect(page.locator("[data-logout]")).to_have_count(0)
    html = page.content()
    for value in private:
        assert value not in html, value
    # Fits a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    form = page.locator("[data-form=survey]")
    questions = form.locator("[data-question]")
    expect(questions).to_have_count(3)
    questions.nth(0).get_by_label("满意", exact=True).check()
    questions.nth(1).get_by_label("绿化").check()
    questions.nth(2).locator("textarea").fill("希望夜间多巡逻")
    form.locator("[data-submit]").click()
    expect(page.locator("[data-thanks]")).to_be_visible()
    expect(page.locator("[data-form=survey]")).to_have_count(0)
    rows = server.query("SELECT method FROM survey_responses WHERE survey_id = ?", [sid])
    assert rows == [{"method": "link"}]

    login(page, "manager")
    page.goto(f"/surveys/{sid}")
    results = page.locator("[data-results]")
    expect(results.locator("[data-answered]")).to_have_attribute("data-answered", "1")
    rating = page.locator("[data-question-result][data-kind=rating]")
    expect(rating.locator("[data-score='4'] [data-count]")).to_have_text("1")
    expect(page.locator("[data-texts]")).to_contain_text("希望夜间多巡逻")
