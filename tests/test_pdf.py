"""The customer information sheet (COP7.4-1): what it prints and who may get it."""

from __future__ import annotations

import base64
import io
import re
import uuid

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from webapp.db import connect


def op() -> str:
    return str(uuid.uuid4())


def signature_png() -> bytes:
    img = Image.new("RGB", (300, 120), "white")
    ImageDraw.Draw(img).line([(10, 100), (80, 20), (150, 90), (290, 15)], fill="black", width=4)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def user_id(app, username: str) -> int:
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    try:
        return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]
    finally:
        db.close()


def record(app, job_id: int) -> dict:
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    try:
        job = next(iter(db.query("SELECT * FROM jobs WHERE id = ?", [job_id])))
        sig = next(iter(db.query("SELECT * FROM signatures WHERE job_id = ?", [job_id])), None)
        return {"job": job, "signature": sig}
    finally:
        db.close()


def act(client, job_id: int, action: str, **data):
    response = client.post(f"/jobs/{job_id}/{action}", data={"op_id": op(), **data})
    assert response.status_code == 303, (action, response.status_code)
    return response


def sheet_text(client, job_id: int) -> str:
    response = client.get(f"/jobs/{job_id}/sheet.pdf")
    assert response.status_code == 200
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)


@pytest.fixture
def signed_job(app, client, auth) -> int:
    """A job taken in by the desk, done by 王师傅 and signed by the resident, all via POSTs."""
    auth.login("desk")
    response = client.post(
        "/jobs/new",
        data={
            "op_id": op(),
            "estate_id": "1",
            "unit_id": "1",
            "reporter_name": "陈",
            "reporter_phone": "13800138000",
            "source": "phone",
            "category": "plumbing",
            "job_class": "small",
            "description": "厨房下水道堵塞",
        },
    )
    assert response.status_code == 303
    job_id = int(re.search(r"/jobs/(\d+)$", response.headers["Location"])[1])
    act(client, job_id, "dispatch", to=f"user:{user_id(app, 'tech')}")
    auth.logout()
    auth.login("tech")
    act(client, job_id, "accept")
    act(client, job_id, "arrive")
    act(client, job_id, "complete", work_done="疏通下水管道", materials="无")
    data_url = "data:image/png;base64," + base64.b64encode(signature_png()).decode()
    act(
        client,
        job_id,
        "signoff",
        outcome="signed",
        signer_name="陈小明",
        signature_data=data_url,
        strokes="[]",
    )
    return job_id


def test_sheet_of_a_signed_job(app, client, auth, signed_job):
    auth.logout()
    auth.login("desk")  # who files it; the technician's copy is masked once it closed
    response = client.get(f"/jobs/{signed_job}/sheet.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    rec = record(app, signed_job)
    number, record_hash = rec["job"]["number"], rec["signature"]["record_hash"]
    assert response.headers["Content-Disposition"] == f'attachment; filename="{number}.pdf"'

    reader = PdfReader(io.BytesIO(response.data))
    text = "".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", "", text)
    assert "COP7.4-1" in flat
    assert number in flat
    assert "陈" in flat and "陈小明" in flat  # the customer and the signer
    assert "疏通下水管道" in flat  # the work done
    assert "翠湖花园1栋-101" in flat  # the address: estate, building and unit
    assert "13800138000" in flat
    assert record_hash in flat
    images = [img for page in reader.pages for img in page.images]
    assert len(images) == 1  # the signature, and nothing else
    assert images[0].image.size[0] > 0


def test_the_technicians_sheet_of_a_closed_job_masks_the_customer(client, signed_job):
    """Signed off, the job is closed: its technician no longer needs the resident's name
    and phone (domain/access.py)."""
    flat = re.sub(r"\s+", "", sheet_text(client, signed_job))
    assert "陈*" in flat and "138****8000" in flat
    assert "13800138000" not in flat and "陈小明" not in flat
    # The handwritten signature is the resident's name too: not drawn on this copy.
    response = client.get(f"/jobs/{signed_job}/sheet.pdf")
    reader = PdfReader(io.BytesIO(response.data))
    assert [img for page in reader.pages for img in page.images] == []
    page = client.get(f"/jobs/{signed_job}").get_data(as_text=True)
    assert "data-signature=\"signed\"" in page
    assert not re.search(r'data-signature="signed">\s*<img', page)


def test_sheet_speaks_the_users_language(client, signed_job):
    """The title is the form's name in Chinese by default, English when the user chose it."""
    assert "客户信息单" in sheet_text(client, signed_job)
    client.post("/locale", data={"locale": "en"})
    text = sheet_text(client, signed_job)
    assert "Customer information sheet" in text
    assert "Verified: the record matches what was signed." in text


def test_a_reopened_sheet_keeps_the_first_visit_and_its_verified_signature(
        app, client, auth, signed_job):
    """Rework starts a new visit: the first one's times, work and signature stay on the
    sheet as history, and that signed record still verifies."""
    auth.logout()
    auth.login("desk")
    client.post("/locale", data={"locale": "en"})
    arrived = record(app, signed_job)["job"]["arrived_at"]
    act(client, signed_job, "reopen", reason="还在漏水", requested_by="resident")
    assert record(app, signed_job)["job"]["arrived_at"] is None  # the new visit's clock
    text = sheet_text(client, signed_job)
    flat = re.sub(r"\s+", "", text)
    assert record(app, signed_job)["signature"]["record_hash"] in flat
    assert "Earliervisits" in flat and "Visit1" in flat
    assert "疏通下水管道" in flat and "陈小明" in flat
    local = client.get(f"/jobs/{signed_job}").get_data(as_text=True)
    assert arrived and "Verified: the record matches what was signed." in text
    assert 'data-visit="1"' in local


def test_sheet_names_what_changed_in_the_database(app, client, auth, signed_job):
    """An edit straight in the database, with the old plain hash recomputed to match, is
    still caught: the sheet warns and names the field, and says "verified" nowhere."""
    from webapp.domain import record_checks
    from webapp.domain.jobs import get_job, signed_record_hash

    db = connect(app.config["DATABASE"])
    db.execute("UPDATE jobs SET work_done = '没修' WHERE id = ?", [signed_job])
    job = get_job(db, signed_job)
    sig = next(db.query("SELECT * FROM signatures WHERE job_id = ?", [signed_job]))
    photos = [r[0] for r in db.execute("SELECT sha256 FROM job_photos WHERE job_id = ?",
                                       [signed_job])]
    forged = signed_record_hash(job, photos, sig["signer_name"], sig["signed_at"])
    db.execute("UPDATE signatures SET record_hash = ? WHERE id = ?", [forged, sig["id"]])
    db.conn.commit()
    db.close()
    auth.logout()
    auth.login("desk")
    client.post("/locale", data={"locale": "en"})
    text = sheet_text(client, signed_job)
    assert "Warning: the record has changed since it was signed." in text
    assert "Work done" in text.split("Warning:")[1]  # named
    assert "Verified" not in text
    # Signed after sealing began, a plain hash is no seal; the snapshot still names the edit.
    check = record_checks.check_job(connect(app.config["DATABASE"]), app.config["RECORDS_KEY"],
                              signed_job)[sig["id"]]
    assert check.status == "seal_broken" and check.changed == ["seal", "visit.work_done"]


def test_sheet_without_signature_says_why(app, client, auth):
    """A demo job closed with the resident absent: no image, the reason instead."""
    auth.login("desk")
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = db.execute(
        "SELECT j.id FROM jobs j JOIN signatures s ON s.job_id = j.id "
        "WHERE s.outcome = 'absent' LIMIT 1"
    ).fetchone()[0]
    db.close()
    response = client.get(f"/jobs/{job_id}/sheet.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    assert "住户不在家" in reader.pages[0].extract_text()
    assert not reader.pages[0].images


def test_the_sheet_uses_the_forms_field_names_each_on_one_line(client, auth, signed_job):
    auth.logout()
    auth.login("desk")
    lines = [line.replace(" ", "") for line in sheet_text(client, signed_job).splitlines()]
    # COP7.4-1's own names; a label wraps only between words, never inside one.
    for label in ("受理时间", "客户姓名", "客户地址", "联系电话", "信息来源", "受理人员",
                  "处理时间", "客户反映情况", "调查情况及处理方案", "跟踪情况", "处理结果"):
        assert any(label in line for line in lines), label


def test_a_sheet_closed_without_a_signature_does_not_say_signed(app, client, auth):
    auth.login("desk")
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = db.execute(
        "SELECT j.id FROM jobs j JOIN signatures s ON s.job_id = j.id "
        "WHERE s.outcome = 'absent' AND j.status = 'closed' LIMIT 1").fetchone()[0]
    db.close()
    lines = [line.replace(" ", "") for line in sheet_text(client, job_id).splitlines()]
    [result] = [line for line in lines if line.startswith("处理结果")]
    assert "未经签认结案·住户不在" in result and "已签认" not in result


def test_sheet_of_another_estate_is_not_found(client, auth, signed_job):
    auth.logout()
    auth.login("desk2")  # serves 锦绣家园 only
    assert client.get(f"/jobs/{signed_job}/sheet.pdf").status_code == 404


def test_sheet_requires_login(client, signed_job):
    client.post("/logout")
    response = client.get(f"/jobs/{signed_job}/sheet.pdf")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
