"""The public report from a QR code: a job for the desk once, bad input, the honeypot, the
minimum fill time and the hourly limits."""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image

from webapp.db import connect
from webapp.demo import DEMO_PASSWORD
from webapp.domain import place_commands, settings

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


def test_a_corrected_form_is_not_too_quick_for_its_own_mistake(app, client):
    # Filled in for long enough, refused for a wrong phone, corrected at once: the fill
    # time counts from when the form first opened, not from the page with the message.
    tok = token(app, "unit", 1)
    page = Page(client.get(f"/q/{tok}").get_data(as_text=True))
    app.config["PUBLIC_REPORT_MIN_SECONDS"] = 1
    time.sleep(1.1)
    wrong = client.post(f"/q/{tok}", data={"op_id": op(), "started": page.values["started"],
                                           "description": "水管漏水", "phone": "1380013800"})
    assert wrong.status_code == 422
    again = Page(wrong.get_data(as_text=True))
    assert again.values["phone"] == "1380013800"
    fixed = client.post(f"/q/{tok}", data={"op_id": op(), "started": again.values["started"],
                                           "description": "水管漏水", "phone": "13800138000"})
    assert fixed.status_code == 303


def limits(app, per_address: int, addresses_per_code: int, estate_id: int = 1) -> None:
    db = connect(app.config["DATABASE"])
    settings.save(db, estate_id, {"public_reports_per_address_hour": per_address,
                                  "public_report_addresses_per_code_hour": addresses_per_code})
    db.conn.commit()
    db.close()


def client_at(app, addr: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def test_reports_are_limited_per_address_and_per_code(app, client):
    limits(app, per_address=2, addresses_per_code=2)
    tok = token(app, "unit", 1)
    assert report(client, tok).status_code == 303
    assert report(client, tok, description="第二次").status_code == 303
    response = report(client, tok, description="第三次")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3600"
    page = Page(response.get_data(as_text=True))
    assert page.find("data-rate-limited") and page.find("data-unsent")
    other = client_at(app, "10.0.0.9")
    assert report(other, tok).status_code == 303  # the code's second address
    assert report(client_at(app, "10.0.0.10"), tok).status_code == 429  # a third address
    # An address already counted: its own limit.
    assert report(other, tok, description="又一件").status_code == 303
    assert report(other, tok, description="再一件").status_code == 429
    assert report(client_at(app, "10.0.0.10"), token(app, "unit", 2)).status_code == 303
    assert len(query(app, "SELECT id FROM jobs WHERE source = 'qr' AND received_by IS NULL "
                          "AND reporter_name = '住户' AND unit_id IN (1, 2)")) == 5


def test_two_addresses_cannot_silence_a_code_for_everyone(app, client):
    """With the estate's default limits, two addresses reporting all they may leave the
    code open to a resident at a third address."""
    tok = token(app, "unit", 1)
    for addr in ("198.51.100.1", "198.51.100.2"):
        sender = client_at(app, addr)
        codes = [report(sender, tok, description=f"第{i}件事").status_code for i in range(6)]
        assert 303 in codes and codes[-1] == 429
    assert report(client_at(app, "203.0.113.50"), tok).status_code == 303
    assert not query(app, "SELECT id FROM public_report_floods")


def test_a_flood_is_told_to_the_desk_once(app, client, auth):
    limits(app, per_address=3, addresses_per_code=2)
    tok = token(app, "unit", 1)
    for n in range(2):
        assert report(client_at(app, f"10.1.0.{n}"), tok).status_code == 303
    for n in range(2, 6):  # further addresses: refused, one flood
        assert report(client_at(app, f"10.1.0.{n}"), tok).status_code == 429
    (flood,) = query(app, "SELECT * FROM public_report_floods")
    assert (flood["place_type"], flood["place_id"], flood["refused"]) == ("unit", 1, 4)
    audit = query(app, "SELECT entity, entity_id FROM audit_log WHERE action = 'qr.flood'")
    assert audit == [{"entity": "unit", "entity_id": 1}]
    auth.login("desk")
    page = Page(client.get("/jobs").get_data(as_text=True))
    (notice,) = page.find("data-report-flood")
    assert notice["data-report-flood"] == "unit:1" and notice["data-flood-active"] == "1"
    assert page.find("data-flood-place")[0]["href"] == "/places/unit/1"
    auth.logout()
    auth.login("desk2")  # the other estate's desk is not told
    assert not Page(client.get("/jobs").get_data(as_text=True)).find("data-report-flood")


def test_a_form_stamp_sends_one_report(app, client):
    tok = token(app, "unit", 1)
    page = Page(client.get(f"/q/{tok}").get_data(as_text=True))
    data = {"started": page.values["started"], "website": "", "description": "楼道灯不亮",
            "phone": "13800001111"}
    first = op()
    assert client.post(f"/q/{tok}", data={**data, "op_id": first}).status_code == 303
    again = client.post(f"/q/{tok}", data={**data, "op_id": first})  # the same report resent
    assert again.status_code == 303
    response = client.post(f"/q/{tok}", data={**data, "op_id": op(), "description": "再来"})
    assert response.status_code == 400
    again_page = Page(response.get_data(as_text=True))
    assert "form" in again_page.errors and again_page.textareas["description"] == "再来"
    assert again_page.values["started"] != data["started"]  # a fresh form to send
    assert len(query(app, "SELECT id FROM jobs WHERE source = 'qr' AND unit_id = 1"
                          " AND description IN ('楼道灯不亮', '再来')")) == 1
    # Nor through the command path: a stamp is used up inside the report's transaction.
    assert query(app, "SELECT op_id FROM public_report_stamps") == [{"op_id": first}]


def test_a_stale_form_stamp_is_refused(app, client, monkeypatch):
    tok = token(app, "unit", 1)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 25 * 3600)
    started = Page(client.get(f"/q/{tok}").get_data(as_text=True)).values["started"]
    monkeypatch.setattr(time, "time", real)
    response = client.post(f"/q/{tok}", data={"op_id": op(), "started": started,
                                             "description": "旧表单", "phone": "13800001111"})
    assert response.status_code == 400
    assert "form" in Page(response.get_data(as_text=True)).errors
    assert not query(app, "SELECT id FROM jobs WHERE description = '旧表单'")


@pytest.mark.parametrize("addr, key", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("not an address", "not an address"),
])
def test_addresses_are_counted_per_ipv6_network(addr, key):
    assert place_commands.address_key(addr) == key


def test_the_limit_page_speaks_the_visitors_language(app, client):
    limits(app, per_address=0, addresses_per_code=10)
    client.post("/locale", data={"locale": "en"})
    response = report(client, token(app, "unit", 1))
    assert response.status_code == 429 and 'lang="en"' in response.get_data(as_text=True)


def test_the_limits_are_the_estates_settings(app, client):
    defaults = {s.key: str(s.default) for s in settings.SETTINGS}
    staff = app.test_client()
    staff.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
    page = Page(staff.get("/admin/estates/1/settings").get_data(as_text=True))
    assert page.values["public_reports_per_address_hour"] == "3"
    assert page.values["public_report_addresses_per_code_hour"] == "10"
    saved = staff.post("/admin/estates/1/settings", data={
        **defaults, "op_id": op(), "public_reports_per_address_hour": "1"})
    assert saved.status_code == 303
    tok = token(app, "unit", 1)
    assert report(client, tok).status_code == 303
    assert report(client, tok).status_code == 429


def test_the_same_report_sent_again_from_a_fresh_form_is_the_first_one(app, client):
    """Back, and the form sent again: the page gave it a fresh stamp, but it is the same
    report from the same address, answered with the first one's number, not a second job."""
    tok = token(app, "unit", 1)
    first = report(client, tok, description="地下室有积水")
    again = report(client, tok, description="地下室有积水")
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert len(query(app, "SELECT id FROM jobs WHERE description = '地下室有积水'")) == 1
    other = report(client_at(app, "10.0.0.77"), tok, description="地下室有积水")
    assert other.headers["Location"] != first.headers["Location"]  # a neighbour's own report
