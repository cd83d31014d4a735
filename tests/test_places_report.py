"""The public report from a QR code: a job for the desk once, bad input, the honeypot, the
minimum fill time and the hourly limits."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from .conftest import op
from .pages import Page
from .placeflow import query, report, token


@pytest.fixture(autouse=True)
def quick_forms(app):
    """Tests fill the public form at once (a person takes longer than the minimum)."""
    app.config["PUBLIC_REPORT_MIN_SECONDS"] = 0


# --- The public report --------------------------------------------------------------------

def test_a_report_reaches_the_desk_as_a_qr_job_once(app, client):
    tok, op_id = token(app, "unit", 1), op()
    response = report(client, tok, op_id)
    assert response.status_code == 303
    number = re.search(r"sent=(J[\d-]+)", response.headers["Location"]).group(1)
    assert report(client, tok, op_id).status_code == 303  # a double tap
    jobs = query(app, "SELECT * FROM jobs WHERE source = 'qr' AND description = '楼道灯不亮'")
    assert len(jobs) == 1
    job = jobs[0]
    assert (job["number"], job["unit_id"], job["estate_id"]) == (number, 1, 1)
    assert job["received_by"] is None and job["reporter_name"] == "住户"
    assert job["reporter_phone"] == "13800001111" and job["status"] == "new"
    (cmd,) = query(app, "SELECT user_id, outcome FROM commands WHERE op_id = ?", [op_id])
    assert cmd == {"user_id": None, "outcome": "applied"}
    assert len(query(app, "SELECT * FROM public_reports WHERE job_id = ?", [job["id"]])) == 1
    page = Page(client.get(response.headers["Location"]).get_data(as_text=True))
    assert page.find("data-sent", number)


def test_a_report_with_a_photo_and_a_name(app, client, auth):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buf, "JPEG")
    tok = token(app, "unit", 2)
    response = report(client, tok, name="陈先生", photo=(io.BytesIO(buf.getvalue()), "a.jpg"))
    assert response.status_code == 303
    (job,) = query(app, "SELECT id, reporter_name FROM jobs WHERE unit_id = 2 AND source = 'qr'")
    assert job["reporter_name"] == "陈先生"
    (photo,) = query(app, "SELECT sha256, stage FROM job_photos WHERE job_id = ?", [job["id"]])
    assert photo["stage"] == "intake"
    auth.login("desk")
    with client.get(f"/files/{photo['sha256']}") as served:
        assert served.status_code == 200


def test_a_report_at_equipment_names_it_and_shows_on_its_page(app, client, auth):
    (pump,) = query(app, "SELECT id FROM equipment WHERE name = '1号水泵房水泵'")
    assert report(client, token(app, "equipment", pump["id"]),
                  description="漏水").status_code == 303
    (job,) = query(app, "SELECT * FROM jobs WHERE description = '【1号水泵房水泵】漏水'")
    assert job["unit_id"] is None and job["category"] == "public_facility"
    auth.login("desk")
    page = Page(client.get(f"/places/equipment/{pump['id']}").get_data(as_text=True))
    assert page.find("data-job", str(job["id"]))


def test_bad_input_is_shown_next_to_the_field_and_kept(app, client):
    tok = token(app, "unit", 1)
    response = report(client, tok, description="门锁坏了", phone="abc")
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert "phone" in page.errors and page.textareas["description"] == "门锁坏了"
    assert page.values["phone"] == "abc"
    response = report(client, tok, description="", photo=(io.BytesIO(b"not an image"), "a.jpg"))
    assert response.status_code == 422 and "description" in Page(
        response.get_data(as_text=True)).errors
    assert not query(app, "SELECT id FROM jobs WHERE description = '门锁坏了'")


def test_the_honeypot_and_a_too_quick_form_are_refused(app, client):
    tok = token(app, "unit", 1)
    response = report(client, tok, website="http://spam.example", description="广告")
    assert response.status_code == 400
    app.config["PUBLIC_REPORT_MIN_SECONDS"] = 3
    response = report(client, tok, description="太快了")
    assert response.status_code == 400
    page = Page(response.get_data(as_text=True))
    assert "form" in page.errors and page.textareas["description"] == "太快了"
    response = client.post(f"/q/{tok}", data={"op_id": op(), "started": "forged",
                                             "description": "伪造", "phone": "13800001111"})
    assert response.status_code == 400
    assert not query(app, "SELECT id FROM jobs WHERE description IN ('广告', '太快了', '伪造')")


def test_reports_are_limited_per_address_and_per_code(app, client):
    app.config.update(PUBLIC_REPORTS_PER_ADDR_HOUR=2, PUBLIC_REPORTS_PER_TOKEN_HOUR=3)
    tok = token(app, "unit", 1)
    assert report(client, tok).status_code == 303
    assert report(client, tok).status_code == 303
    response = report(client, tok, description="第三次")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3600"
    page = Page(response.get_data(as_text=True))
    assert page.find("data-rate-limited") and page.find("data-unsent")
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert report(other, tok).status_code == 303  # a third report through this code
    assert report(other, tok).status_code == 429  # the code's limit
    assert report(other, token(app, "unit", 2)).status_code == 303  # another code is fine
    assert len(query(app, "SELECT id FROM jobs WHERE source = 'qr' AND received_by IS NULL "
                          "AND reporter_name = '住户' AND unit_id IN (1, 2)")) == 4


def test_the_limit_page_speaks_the_visitors_language(app, client):
    app.config["PUBLIC_REPORTS_PER_ADDR_HOUR"] = 0
    client.post("/locale", data={"locale": "en"})
    response = report(client, token(app, "unit", 1))
    assert response.status_code == 429 and 'lang="en"' in response.get_data(as_text=True)
