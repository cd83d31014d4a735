"""A complaint handled by the desk in the browser, from intake to the satisfied follow-up, its
information callback and the printed customer information sheet."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from .conftest import Server, login


def test_desk_handles_a_complaint_from_intake_to_follow_up(page: Page, server: Server):
    login(page, "desk")
    page.goto("/complaints/new")
    form = page.locator("[data-form=complaint-intake]")
    form.locator("[data-unit-query]").fill("102")
    pick = form.locator("[data-unit-pick]").first
    expect(pick).to_be_visible()
    unit_label = pick.get_attribute("data-label")
    pick.click()
    expect(form.locator("[data-unit-query]")).to_have_value(unit_label)
    expect(form.locator("[data-unit-id]")).not_to_have_value("")
    unit_id = int(form.locator("[data-unit-id]").input_value())
    # The resident on record is offered; the caller today is someone else.
    form.locator("[name=complainant_name]").fill("郑秀英")
    form.locator("[name=contact]").fill("13700137000")
    form.locator("input[name=identity][value=tenant]").check()
    form.locator("input[name=channel][value=walk_in]").check()
    form.locator("[name=category]").select_option("fees")
    form.locator("input[name=level][value=important]").check()
    form.locator("[name=content]").fill("物业费账单重复扣款,要求退还")
    form.locator("[data-submit]").click()

    complaint = page.locator("[data-complaint-page]")
    status = complaint.locator("[data-status]")
    expect(status).to_have_attribute("data-status", "new")
    number = complaint.get_attribute("data-complaint-page")
    assert number and re.fullmatch(r"C\d{8}-\d{4}", number)
    expect(complaint.locator("[data-level]")).to_have_attribute("data-level", "important")
    expect(complaint).to_contain_text("郑秀英")
    expect(complaint).to_contain_text(unit_label)
    (row,) = server.query(
        "SELECT id, unit_id, complainant_name, contact, identity, channel, category, level,"
        " received_by FROM complaints WHERE number = ?",
        [number],
    )
    complaint_id = row.pop("id")
    assert row == {
        "unit_id": unit_id,
        "complainant_name": "郑秀英",
        "contact": "13700137000",
        "identity": "tenant",
        "channel": "walk_in",
        "category": "fees",
        "level": "important",
        "received_by": server.user_id("desk"),
    }
    url = page.url

    # The verification call.
    verify = page.locator("form[data-command='complaint.verify']")
    verify.locator("[name=verification]").fill("电话核实:本月物业费确被扣两次")
    verify.locator("[data-action=verify]").click()
    expect(status).to_have_attribute("data-status", "verified")
    expect(verify).to_have_count(0)

    # An ordinary complaint, dispatched to the service department.
    route = page.locator("form[data-command='complaint.route']")
    route.locator("input[name=path][value=ordinary]").check()
    route.locator("[name=reason]").fill("收费问题,转客服部核查")
    route.locator("[data-route-to]").select_option("dept:service")
    route.locator("[data-action=route]").click()
    expect(status).to_have_attribute("data-status", "dispatched")
    expect(route).to_have_count(0)

    # What the investigation found (a fact: the state stays).
    investigate = page.locator("form[data-command='complaint.investigate']")
    investigate.locator("[name=note]").fill("银行代扣与前台收款重复")
    investigate.locator("[data-action=investigate]").click()
    expect(page.locator("[data-history] [data-event=investigate]")).to_contain_text(
        "银行代扣与前台收款重复"
    )
    expect(status).to_have_attribute("data-status", "dispatched")

    # The result told to the complainant.
    answer = page.locator("form[data-command='complaint.answer']")
    answer.locator("[name=outcome]").fill("多扣的费用已退回")
    answer.locator("[name=solution]").fill("财务退款并致歉")
    answer.locator("[name=prevention]").fill("代扣户不再收现金")
    answer.locator("[data-action=answer]").click()
    expect(status).to_have_attribute("data-status", "answered")
    expect(complaint.locator("[data-result]")).to_contain_text("多扣的费用已退回")

    # The follow-up: satisfied closes it.
    follow = page.locator("form[data-command='complaint.follow_up']")
    follow.locator("input[name=satisfied][value='1']").check()
    follow.locator("[name=note]").fill("住户表示满意")
    follow.locator("[data-action=follow_up]").click()
    expect(status).to_have_attribute("data-status", "closed")
    expect(page.locator("[data-actions] form")).to_have_count(0)
    assert page.url == url
    events = page.locator("[data-history] [data-event]")
    expect(events).to_have_count(6)  # every step, the recording first
    assert events.evaluate_all("els => els.map(e => e.dataset.event)") == [
        "create", "verify", "route", "investigate", "answer", "follow_up"]

    (c,) = server.query(
        "SELECT status, path, department, satisfied, outcome FROM complaints WHERE id = ?",
        [complaint_id],
    )
    assert c == {
        "status": "closed",
        "path": "ordinary",
        "department": "service",
        "satisfied": 1,
        "outcome": "多扣的费用已退回",
    }
    # Telling the result opened the information callback, for the desk that took it; the
    # follow-up reached her, so it is that callback: nobody calls her a second time.
    (task,) = server.query(
        "SELECT id, status, assignee_id, contact_name, contact_phone FROM callback_tasks"
        " WHERE source = 'complaint' AND source_id = ?",
        [complaint_id],
    )
    assert task["status"] == "done" and task["assignee_id"] == server.user_id("desk")
    assert (task["contact_name"], task["contact_phone"]) == ("郑秀英", "13700137000")
    (record,) = server.query("SELECT method, satisfied FROM callback_records WHERE task_id = ?",
                             [task["id"]])
    assert record == {"method": "follow_up", "satisfied": 1}

    # The printed customer information sheet.
    with page.expect_download() as info:
        complaint.locator("[data-action=pdf]").click()
    download = info.value
    assert download.suggested_filename == f"{number}.pdf"
    reader = PdfReader(Path(download.path()))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert "客户信息单" in text
    assert number in text
    assert "郑秀英" in text
    assert "多扣的费用已退回" in text

    # ...and so it is not on the desk's list of calls to make.
    page.goto("/callbacks")
    expect(page.locator("[data-list=callbacks]")).to_be_visible()
    expect(page.locator(f"[data-list=callbacks] [data-task='{task['id']}']")).to_have_count(0)
