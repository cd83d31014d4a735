"""A resident follows a report from a QR code (/t/<code>): how far it got, no names or
phones, and a rating once it is signed off that counts as the callback's."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from webapp.db import connect
from webapp.domain import tracking

from .conftest import op
from .jobflow import step
from .pages import Page
from .placeflow import query, report, token


@pytest.fixture(autouse=True)
def quick_forms(app):
    app.config["PUBLIC_REPORT_MIN_SECONDS"] = 0


def reported(app, client) -> tuple[int, str]:
    response = report(client, token(app, "unit", 1), op())
    assert response.status_code == 303
    code = parse_qs(urlsplit(response.headers["Location"]).query)["track"][0]
    page = Page(client.get(response.headers["Location"]).get_data(as_text=True))
    assert page.text("data-track-code") == tracking.shown(code)
    [link] = page.find("data-track-link")
    assert link["href"] == f"/t/{code}"
    (job,) = query(app, "SELECT id FROM jobs WHERE track_code = ?", [code])
    return job["id"], code


def advance(app, job_id, *kinds):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    for kind in kinds:
        assert step(db, job_id, kind).status == "applied", kind
    db.conn.commit()
    db.close()


def test_the_resident_follows_the_job_without_anyones_name_or_phone(app, client):
    job_id, code = reported(app, client)
    html = client.get(f"/t/{code}").get_data(as_text=True)
    page = Page(html)
    done = {s["data-step"]: s["data-done"] for s in page.find("data-step")}
    assert done == {"received": "1", "dispatched": "0", "accepted": "0", "arrived": "0",
                    "done": "0"}
    advance(app, job_id, "job.dispatch", "job.accept", "job.arrive")
    html = client.get(f"/t/{code}").get_data(as_text=True)
    done = {s["data-step"]: s["data-done"] for s in Page(html).find("data-step")}
    assert done == {"received": "1", "dispatched": "1", "accepted": "1", "arrived": "1",
                    "done": "0"}
    # Nobody's name or phone: not the technician's, not the reporter's.
    for private in ("王师傅", "13800001111", "住户"):
        assert private not in html, private
    assert not Page(html).find("data-form", "rate")  # not signed off yet


def test_a_code_is_found_as_people_type_it_and_an_unknown_one_is_not(app, client):
    _job_id, code = reported(app, client)
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    found = client.post("/t", data={"code": typed})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/t/{code}")
    missing = client.post("/t", data={"code": "ABCD-EFGH"})
    assert missing.status_code == 404 and Page(missing.get_data(as_text=True)).values[
        "code"] == "ABCD-EFGH"
    assert client.get("/t/ABCDEFGH").status_code == 404
    assert client.get("/t/abc").status_code == 404


def test_the_rating_after_the_sign_off_is_the_callbacks_once(app, client):
    job_id, code = reported(app, client)
    early = client.post(f"/t/{code}/rate", data={"rating_overall": "5"})
    assert early.status_code == 409  # not signed off yet
    advance(app, job_id, "job.dispatch", "job.accept", "job.arrive", "job.complete",
            "job.signoff")  # the resident was out: no signature, the task stays open
    page = Page(client.get(f"/t/{code}").get_data(as_text=True))
    assert page.find("data-form", "rate")
    bad = client.post(f"/t/{code}/rate", data={"rating_quality": "4"})
    assert bad.status_code == 422
    assert Page(bad.get_data(as_text=True)).errors["rating_overall"] == "请选择您的满意程度。"
    rated = client.post(f"/t/{code}/rate", data={"rating_overall": "5", "rating_quality": "4"})
    assert rated.status_code == 303
    (task,) = query(app, "SELECT id, status FROM callback_tasks WHERE source = 'job' AND "
                         "source_id = ?", [job_id])
    assert task["status"] == "done"  # the estate counts the resident's word as the callback
    (rec,) = query(app, "SELECT * FROM callback_records WHERE task_id = ?", [task["id"]])
    assert (rec["method"], rec["satisfied"], rec["user_id"]) == ("tracking", 1, None)
    assert json.loads(rec["ratings"]) == {"overall": 5, "quality": 4} and rec["record_hash"]
    again = client.post(f"/t/{code}/rate", data={"rating_overall": "1"})
    assert again.status_code == 409
    page = Page(client.get(f"/t/{code}").get_data(as_text=True))
    assert page.find("data-rated") and not page.find("data-form", "rate")


def test_where_the_signature_is_not_the_callback_the_clerk_still_calls(app, client):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    db.execute("INSERT OR REPLACE INTO estate_settings VALUES (1, "
               "'signature_counts_as_callback', '0')")
    db.conn.commit()
    db.close()
    job_id, code = reported(app, client)
    advance(app, job_id, "job.dispatch", "job.accept", "job.arrive", "job.complete",
            "job.signoff")
    assert client.post(f"/t/{code}/rate", data={"rating_overall": "2"}).status_code == 303
    (task,) = query(app, "SELECT status FROM callback_tasks WHERE source = 'job' AND "
                         "source_id = ?", [job_id])
    assert task["status"] == "open"
