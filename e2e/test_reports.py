"""A manager's monthly report in the browser, on a phone: drafted, the trend chart shown,
the analysis saved in place, issued after confirming (and confirming again to issue a
month not ended yet), the PDF's text (pdftotext) holding
the page's numbers and hash."""

from __future__ import annotations

import re
import subprocess

from playwright.sync_api import Page, expect

from .conftest import Server, login


def test_the_manager_drafts_writes_issues_and_downloads_the_report(page: Page, server: Server,
                                                                   tmp_path):
    login(page, "manager")
    page.locator("[data-nav=reports], [data-menu-nav=reports]").first.evaluate("a => a.click()")
    expect(page.locator("[data-reports]")).to_be_visible()
    # This month (the form's default): the demo's jobs are recent.
    form = page.locator("[data-form=report-draft-month]")
    month = form.locator("[name=period]").input_value()
    form.locator("[data-action=draft-month]").click()
    expect(page.locator("[data-report-title]")).to_contain_text(month)
    expect(page.locator("[data-draft-note]")).to_be_visible()

    chart = page.locator("[data-chart='repairs-count'] img")
    chart.scroll_into_view_if_needed()
    expect(chart).to_be_visible()
    assert chart.evaluate("img => img.complete && img.naturalWidth") > 0  # drawn, not blocked
    jobs = page.locator("[data-figure=jobs_reported] [data-cell=value]").inner_text()

    # Typed and not saved, then "issue" pressed: the refusal's page fills the text in again.
    text = page.locator("[data-form=report-text]")
    text.locator("[name=analysis]").fill("未保存的分析")
    page.locator("[data-form=report-issue] [data-confirm]").check()
    page.locator("[data-form=report-issue] [data-early]").check()
    page.locator("[data-form=report-issue] [data-action=issue]").click()
    expect(page.locator("[data-form=report-text] [name=analysis]")).to_have_value("未保存的分析")

    # Saved in place (htmx): the page is not reloaded.
    page.evaluate("window.__stayed = true")
    text = page.locator("[data-form=report-text]")
    text.locator("[name=analysis]").fill("本月报修以水电为主，较上月平稳。")
    text.locator("[name=measures]").fill("加强二次供水泵房巡检。")
    text.locator("[data-action=save-text]").click()
    expect(page.locator("[data-analysis-form] [data-saved]")).to_be_visible()
    assert page.evaluate("window.__stayed") is True

    # Issuing asks to confirm first.
    issue = page.locator("[data-form=report-issue]")
    issue.locator("[data-action=issue]").click()
    expect(page.locator("[data-error=confirm]")).to_be_visible()
    # This month has not ended: the page says so, and issuing it early takes a second tick.
    expect(page.locator("[data-not-ended]")).to_be_visible()
    page.locator("[data-form=report-issue] [data-confirm]").check()
    page.locator("[data-form=report-issue] [data-action=issue]").click()
    expect(page.locator("[data-error=early]")).to_be_visible()
    expect(page.locator("[data-form=report-issue] [data-confirm]")).to_be_checked()
    page.locator("[data-form=report-issue] [data-early]").check()
    page.locator("[data-form=report-issue] [data-action=issue]").click()
    expect(page.locator("[data-issued-notice]")).to_be_visible()
    sha = page.locator("[data-page-hash]").inner_text().strip()
    assert len(sha) == 64
    expect(page.locator("[data-report-hash]")).to_have_text(sha)
    expect(page.locator("[data-verified]")).to_be_visible()
    expect(page.locator("[data-analysis]")).to_have_text("本月报修以水电为主，较上月平稳。")

    with page.expect_download() as info:
        page.locator("[data-action=pdf]").click()
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    # -layout keeps a table's row on one line.
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"],
                          capture_output=True, check=True).stdout.decode("utf-8")
    assert sha in text.replace("\n", "").replace(" ", "")
    assert int(jobs) > 0 and re.search(rf"报修单数\s+{jobs}\s", text), jobs
    assert "月度报告" in text and "加强二次供水泵房巡检" in text
