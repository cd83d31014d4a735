"""The reports' pages: managers only, the page and the PDF showing the same numbers and
hash, the analysis form (htmx), issuing confirmed, the worker's hourly drafts."""

from __future__ import annotations

import io
import shutil
import subprocess
import uuid
from datetime import timedelta

import pytest
from pypdf import PdfReader
from werkzeug.security import generate_password_hash

from webapp import worker
from webapp.auth import utcnow
from webapp.db import connect
from webapp.demo import DEMO_PASSWORD
from webapp.domain import figures, notifications, periods, reports, settings

from .pages import Page
from .test_reports import REPORT_DAY

PERIOD = "2026-11"  # the demo's jobs are in November 2026


def op() -> str:
    return str(uuid.uuid4())


def with_db(app, fn):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    try:
        return fn(db)
    finally:
        db.close()


def draft(client, kind: str = "month", period: str = PERIOD) -> int:
    response = client.post("/reports", data={"op_id": op(), "kind": kind, "period": period})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def write(client, report_id: int, analysis="报修量平稳，水电类居多。",
          measures="加强二次供水巡检。", op_id: str = "", **headers):
    return client.post(f"/reports/{report_id}/text", headers=headers,
                       data={"op_id": op_id or op(), "analysis": analysis,
                             "measures": measures})


def pdf_text(data: bytes) -> str:
    """The PDF's text as pdftotext reads it (poppler), else as pypdf does."""
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data,
                              capture_output=True, check=True).stdout.decode("utf-8")
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def closed_share(monkeypatch):
    """A percentage figure and a breakdown beside the registered ones: the report shows
    whatever is registered."""
    def fn(db, sc):
        start, end = sc.bounds()
        base = (f"SELECT id FROM jobs WHERE estate_id IN ({sc.marks}) AND received_at >= ?"
                " AND received_at < ?")
        params = (*sc.estate_ids, start, end)
        return figures.rate(figures.Records("jobs", base + " AND status = 'closed'", params),
                            figures.Records("jobs", base, params), db)

    def by_source(db, sc):
        return [figures.Row(source, (figures.count(figures.Records(
            "jobs", "SELECT id FROM jobs WHERE estate_id = ? AND source = ?",
            (sc.estate_ids[0], source)), db),)) for source in ("phone", "walk_in")]

    monkeypatch.setitem(figures.FIGURES, "test_closed", figures.Figure(
        "test_closed", "Jobs closed", "repairs", "percent", fn, "target_pass_pct"))
    monkeypatch.setitem(figures.TABLES, "test_by_source", figures.Table(
        "test_by_source", "Test jobs by source", "repairs", ("Jobs",), by_source))


@pytest.mark.parametrize("role", ["tech", "desk", "supervisor", "callback", "admin"])
def test_only_managers_open_reports(app, client, auth, role):
    auth.login("manager")
    report_id = draft(client)
    auth.logout()
    auth.login(role)
    assert client.get("/reports").status_code == 403
    assert client.get(f"/reports/{report_id}").status_code == 403
    assert client.get(f"/reports/{report_id}/report.pdf").status_code == 403
    assert write(client, report_id).status_code == 403
    assert client.post(f"/reports/{report_id}/issue", data={"confirm": "1"}).status_code == 403
    page = Page(client.get("/jobs" if role != "tech" else "/jobs/mine").get_data(as_text=True))
    assert not page.find("data-nav", "reports")


def test_the_pdf_holds_the_numbers_and_hash_of_the_page(app, client, auth, closed_share):
    auth.login("manager")
    assert Page(client.get("/reports").get_data(as_text=True)).find("data-nav", "reports")
    report_id = draft(client)
    assert write(client, report_id).status_code == 303
    issued = client.post(f"/reports/{report_id}/issue", data={"op_id": op(), "confirm": "1"})
    assert issued.status_code == 303
    page = Page(client.get(f"/reports/{report_id}").get_data(as_text=True))
    sha = page.text("data-page-hash")
    assert len(sha) == 64 and page.text("data-report-hash") == sha and page.find("data-verified")
    shown = {d["data-figure"]: page.text("data-figure", d["data-figure"])
             for d in page.find("data-figure")}
    assert {"jobs_reported", "test_closed"} <= set(shown)

    # The numbers are the database's.
    def count(db):
        return db.execute("SELECT count(*), sum(status = 'closed') FROM jobs WHERE estate_id ="
                          " (SELECT min(id) FROM estates) AND received_at >= '2026-10-31T16:00:00'"
                          " AND received_at < '2026-11-30T16:00:00'").fetchone()
    jobs, closed = with_db(app, count)
    assert page.find("data-figure", "jobs_reported")[0]["data-value"] == f"{float(jobs)}"
    share = f"{100 * closed / jobs:.1f}%"
    assert share in shown["test_closed"] and "≥ 98.0%" in shown["test_closed"]

    response = client.get(f"/reports/{report_id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert sha in text.replace("\n", "")
    assert "报修单数" in text and share in text and "加强二次供水巡检" in text
    # Every number the page shows of a figure (value, previous, change, target, the
    # fraction) is printed.
    flat = " ".join(text.split())
    cells = [" ".join(page.texts[i].split()) for i, d in enumerate(page.data) if "data-cell" in d]
    assert len(cells) >= 9
    # Spaces aside: a narrow column's "0 / 0" is extracted as "0/0".
    for shown_cell in cells:
        assert shown_cell.replace(" ", "") in flat.replace(" ", ""), shown_cell
    assert page.find("data-table", "test_by_source") and "Test jobs by source" in text
    # The same PDF every time: the stored document, not recomputed.
    assert client.get(f"/reports/{report_id}/report.pdf").data[:4] == b"%PDF"
    rows = Page(client.get("/reports").get_data(as_text=True))
    assert rows.text("data-row-hash") == sha


def test_issuing_asks_to_confirm(app, client, auth):
    auth.login("manager")
    report_id = draft(client)
    write(client, report_id)
    response = client.post(f"/reports/{report_id}/issue", data={"op_id": op()})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert "确认" in page.errors["confirm"]
    assert with_db(app, lambda db: reports.get(db, report_id)["status"]) == "draft"


def test_a_month_not_ended_warns_and_asks_to_confirm_issuing_early(app, client, auth):
    auth.login("manager")
    this_month = periods.month(periods.local_today(utcnow()))  # it has not ended
    report_id = draft(client, period=this_month.key)
    write(client, report_id)
    page = Page(client.get(f"/reports/{report_id}").get_data(as_text=True))
    last_day = (this_month.end - timedelta(days=1)).isoformat()
    assert page.find("data-not-ended", last_day) and last_day in page.text("data-not-ended")
    response = client.post(f"/reports/{report_id}/issue", data={"op_id": op(), "confirm": "1"})
    assert response.status_code == 422
    refused = Page(response.get_data(as_text=True))
    assert "结束" in refused.errors["early"]  # in Chinese: the period has not ended
    assert with_db(app, lambda db: reports.get(db, report_id)["status"]) == "draft"
    # Ticked, but the confirmation forgotten: the early box stays ticked.
    response = client.post(f"/reports/{report_id}/issue", data={"op_id": op(), "early": "1"})
    assert response.status_code == 422
    assert Page(response.get_data(as_text=True)).find("data-early")[0].get("checked") == ""
    issued = client.post(f"/reports/{report_id}/issue",
                         data={"op_id": op(), "confirm": "1", "early": "1"})
    assert issued.status_code == 303
    assert with_db(app, lambda db: reports.get(db, report_id)["status"]) == "issued"
    # An ended month (the demo's November) shows no warning.
    november = draft(client)
    assert not Page(client.get(f"/reports/{november}").get_data(as_text=True)).find(
        "data-not-ended")


def test_issuing_without_the_analysis_is_refused_in_words(app, client, auth):
    auth.login("manager")
    report_id = draft(client)
    response = client.post(f"/reports/{report_id}/issue", data={"op_id": op(), "confirm": "1"})
    assert response.status_code == 409
    page = Page(response.get_data(as_text=True))
    assert "分析" in page.errors["report"]
    # The refusal is stored under that op_id: the analysis form sends a new one.
    assert page.forms["report.text"]["op_id"] == page.forms["report.issue"]["op_id"] == ""
    assert write(client, report_id).status_code == 303
    issued = client.post(f"/reports/{report_id}/issue", data={"op_id": op(), "confirm": "1"})
    assert issued.status_code == 303


def test_the_analysis_saves_in_place_and_keeps_what_was_typed(app, client, auth):
    auth.login("manager")
    report_id = draft(client)
    version = with_db(app, lambda db: reports.get(db, report_id)["row_version"])
    response = write(client, report_id, **{"HX-Request": "true"})
    assert response.status_code == 200
    part = Page(response.get_data(as_text=True))
    assert not part.has_html and part.find("data-saved")
    assert part.forms["report.issue"]["base_version"] == str(version + 1)
    assert part.textareas["measures"] == "加强二次供水巡检。"
    # Saved: both forms start anew (the saved command's op_id is not the next one's).
    assert part.forms["report.text"]["op_id"] == part.forms["report.issue"]["op_id"] == ""
    long, sent = "很长" * 2600, op()
    response = write(client, report_id, analysis=long, op_id=sent, **{"HX-Request": "true"})
    assert response.status_code == 422
    part = Page(response.get_data(as_text=True))
    assert part.textareas["analysis"] == long and "5000" in part.errors["analysis"]
    # Nothing stored: the corrected resend keeps its op_id; the other form does not.
    assert part.forms["report.text"]["op_id"] == sent
    assert part.forms["report.issue"]["op_id"] == ""
    assert with_db(app, lambda db: reports.get(db, report_id)["analysis"]) == \
        "报修量平稳，水电类居多。"


def test_a_period_typed_wrong_is_shown_back_with_the_message(app, client, auth):
    auth.login("manager")
    response = client.post("/reports", data={"op_id": op(), "kind": "year", "period": "20x6"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert "2026" in page.errors["period"] and page.forms["report.draft"]


def test_the_yearly_report_page_shows_coverage_and_the_survey_section(app, client, auth):
    auth.login("manager")
    report_id = draft(client, "year", "2026")
    page = Page(client.get(f"/reports/{report_id}").get_data(as_text=True))
    assert page.find("data-part", "routine") and page.find("data-no-survey")
    assert page.find("data-sampler", "service")


def test_the_worker_drafts_on_the_report_day_and_tells_the_manager(app):
    ch = worker.Channels(now=lambda: REPORT_DAY, robots=None)
    app.extensions["channels"] = ch
    worker.worker(app)._reports()
    assert ch.ran == ["reports", "deliver"]

    def told(db):
        return db.execute(
            "SELECT a.target FROM notifications n JOIN announcements a ON a.id ="
            " n.announcement_id JOIN users u ON u.id = n.user_id WHERE u.username = 'manager'"
            " AND a.kind = 'report.drafted'").fetchall()
    targets = with_db(app, told)
    assert len(targets) == 2  # both estates the manager serves
    assert notifications.link(targets[0][0]) == f"/reports/{targets[0][0].split(':')[1]}"


@pytest.mark.parametrize(("typed", "ok"), [("25", True), ("1", True), ("28", True),
                                           ("29", False), ("0", False), ("二十五", False)])
def test_the_report_day_is_a_day_every_month_has(typed, ok):
    form = {s.key: str(s.default) for s in settings.SETTINGS}
    values, errors = settings.validate({**form, "report_day": typed})
    assert ("report_day" not in errors) is ok
    if ok:
        assert values["report_day"] == int(typed)


def test_a_report_of_an_estate_not_served_is_not_found(app, client, auth):
    auth.login("manager")
    report_id = draft(client)  # the manager's first estate: 翠湖花园
    auth.logout()

    def second_estates_manager(db):
        with db.conn:
            uid = db["users"].insert({
                "username": "manager_jx", "display_name": "吴经理", "department": "management",
                "role": "manager", "phone": "13900000000", "active": 1,
                "password_hash": generate_password_hash(DEMO_PASSWORD, "scrypt:1024:8:1")}
            ).last_pk
            db["user_estates"].insert({"user_id": uid, "estate_id": db.execute(
                "SELECT max(id) FROM estates").fetchone()[0]})
    with_db(app, second_estates_manager)
    auth.login("manager_jx")
    assert client.get(f"/reports/{report_id}").status_code == 404
    assert client.get(f"/reports/{report_id}/report.pdf").status_code == 404
    assert client.get("/reports?estate_id=1").status_code == 404
    assert Page(client.get("/reports").get_data(as_text=True)).find("data-no-reports")
