"""Complaint pages: intake with errors kept, the handling steps, the sheet."""

import io
import uuid

from pypdf import PdfReader

from webapp.db import connect

from .pages import Page

INTAKE = dict(estate_id="1", unit_id="3", unit_label="1栋-103", complainant_name="黄女士",
              contact="13700000000", identity="owner", channel="phone", category="cleaning",
              level="minor", content="楼道垃圾三天没人收")


def post(client, url, **data):
    return client.post(url, data={"op_id": str(uuid.uuid4()), **data})


def test_intake_errors_are_shown_and_input_kept(client, auth):
    auth.login("desk")
    response = post(client, "/complaints/new", **{**INTAKE, "contact": "", "category": ""})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["contact"] == "请输入联系电话或地址。"
    assert page.errors["category"] == "请选择投诉类别。"
    assert page.values["complainant_name"] == "黄女士"
    assert page.textareas["content"] == "楼道垃圾三天没人收"


def test_desk_handles_a_complaint_through_dispatch_result_and_follow_up(app, client, auth):
    auth.login("desk")
    created = post(client, "/complaints/new", **INTAKE)
    assert created.status_code == 303
    url = created.headers["Location"]
    cid = int(url.rsplit("/", 1)[1])
    steps = [("verify", {"verification": "电话核实属实"}),
             ("route", {"path": "ordinary", "reason": "保洁责任", "to": "dept:cleaning"}),
             ("investigate", {"note": "保洁员请假"}),
             ("answer", {"outcome": "已清理", "solution": "当日清运", "prevention": "增加替班"}),
             ("follow_up", {"satisfied": "1", "note": "住户满意"})]
    for action, data in steps:
        response = post(client, f"{url}/{action}", **data)
        assert response.status_code == 303, (action, response.get_data(as_text=True)[:300])
    page = Page(client.get(url).get_data(as_text=True))
    assert page.find("data-status", "closed")
    # Sent to 保洁绿化部: its linked job, and how far it got.
    assert page.find("data-linked-job", "pooled")
    job_number = connect(app.config["DATABASE"]).execute(
        "SELECT j.number FROM jobs j JOIN complaints c ON c.job_id = j.id WHERE c.id = ?",
        [cid]).fetchone()[0]
    assert page.text("data-linked-job").startswith(f"关联工单：{job_number}")
    assert "在部门派单池" in page.text("data-linked-job")
    # Every step, from the recording on, the ones with nothing typed too.
    assert [d["data-event"] for d in page.find("data-event")] == [
        "create", "verify", "route", "investigate", "answer", "follow_up"]
    assert "→ 保洁绿化部" in page.text("data-event", "route")
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT count(*) FROM callback_tasks WHERE source='complaint' AND "
                      "source_id = ?", [cid]).fetchone()[0] == 1
    listed = Page(client.get("/complaints?status=closed").get_data(as_text=True))
    number = db.execute("SELECT number FROM complaints WHERE id = ?", [cid]).fetchone()[0]
    assert listed.find("data-complaint", number)
    pdf = client.get(f"{url}/sheet.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "客户信息单" in text and "黄女士" in text and "轻微" in text.replace(" ", "")
    # The follow-up reached her: it is the callback, in the tracking row and the result.
    lines = [line.replace(" ", "") for line in text.splitlines()]
    assert any("回访·投诉跟进·满意·住户满意" in line for line in lines)
    assert any(line.startswith("处理结果") and line.endswith("回访：满意") for line in lines)


def test_a_step_out_of_order_says_why(client, auth):
    auth.login("desk")
    url = post(client, "/complaints/new", **INTAKE).headers["Location"]
    response = post(client, f"{url}/follow_up", satisfied="1")
    assert response.status_code == 409
    assert Page(response.get_data(as_text=True)).notice == "投诉当前状态不允许此操作。"


def test_other_estates_complaints_do_not_exist_for_you(client, auth):
    auth.login("desk")
    url = post(client, "/complaints/new", **INTAKE).headers["Location"]
    auth.logout()
    auth.login("desk2")
    assert client.get(url).status_code == 404


def test_complaint_evidence_photos_are_served_within_the_estate(client, auth):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (10, 10), "green").save(buf, "JPEG")
    auth.login("desk")
    response = client.post("/complaints/new", data={
        **INTAKE, "op_id": str(uuid.uuid4()), "photos": (io.BytesIO(buf.getvalue()), "e.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    import hashlib

    from webapp.domain import files

    sha = hashlib.sha256(files.reencode(buf.getvalue()) or b"").hexdigest()
    with client.get(f"/files/{sha}") as served:
        assert served.status_code == 200
    auth.logout()
    auth.login("desk2")
    assert client.get(f"/files/{sha}").status_code == 404


def test_complaint_categories_are_not_named_as_departments(app):
    # In Chinese a complaint is about 治安 or 环境卫生, not about 安保部 or 保洁绿化部.
    from webapp.domain import complaints, people

    with app.test_request_context():
        from webapp.i18n import _translations

        t = _translations().ugettext
        departments = {t(label) for label in people.DEPARTMENTS.values()}
        categories = {t(label) for label in complaints.CATEGORIES.values()}
    assert not departments & categories
