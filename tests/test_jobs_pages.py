"""The job pages through the test client: forms, errors in Chinese, what was typed kept."""

import base64
import io
import uuid

import pytest
from PIL import Image

from webapp.db import connect

from .pages import Page


def jpeg(color="red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(buf, "JPEG")
    return buf.getvalue()


def png_data_url() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (60, 20), "white").save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def post(client, url, **data):
    data.setdefault("op_id", str(uuid.uuid4()))
    return client.post(url, data=data, content_type="multipart/form-data")


INTAKE = dict(estate_id="1", unit_id="1", unit_label="1栋-101", reporter_name="陈",
              reporter_phone="13800000000", source="phone", category="plumbing",
              job_class="small", description="厨房水龙头漏水")


def create(client, **over):
    response = post(client, "/jobs/new", **{**INTAKE, **over})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def job_row(app, job_id):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    row = next(db.query("SELECT * FROM jobs WHERE id = ?", [job_id]))
    db.close()
    return row


def user_id(app, username):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    uid = db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]
    db.close()
    return uid


def test_a_mobile_with_a_digit_missing_is_refused_and_kept(client, auth):
    auth.login("desk")
    response = post(client, "/jobs/new", **{**INTAKE, "reporter_phone": "138 0013 800"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["reporter_phone"] == "手机号码为 11 位数字。"
    assert page.values["reporter_phone"] == "138 0013 800"


def test_a_landline_with_its_extension_is_stored_as_a_phone_dials_it(app, client, auth):
    auth.login("desk")
    response = post(client, "/jobs/new", **{**INTAKE, "reporter_phone": "0755-8600 1234 转 12"})
    assert response.status_code == 303
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    stored = db.execute("SELECT reporter_phone FROM jobs ORDER BY id DESC").fetchone()[0]
    db.close()
    assert stored == "075586001234,12"


def test_intake_bad_input_says_why_in_chinese_and_keeps_what_was_typed(client, auth):
    auth.login("desk")
    response = post(client, "/jobs/new", **{**INTAKE, "reporter_phone": "abc",
                                             "category": "", "description": "x"})
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["reporter_phone"] == ("电话号码只能包含数字"
                                             "（可用空格、- 和 +；分机号前写“转”）。")
    assert page.errors["category"] == "请选择类别。"
    assert page.errors["description"] == "请描述问题。"
    assert page.values["reporter_phone"] == "abc"
    assert page.values["reporter_name"] == "陈"
    assert page.values["unit_query"] == "1栋-101" and page.values["unit_id"] == "1"
    assert page.textareas["description"] == "x"
    # The resend of the corrected form reuses the op_id the browser made.
    assert page.values["op_id"]


def test_intake_refuses_a_file_that_is_not_a_photo(client, auth):
    auth.login("desk")
    response = client.post("/jobs/new", data={**INTAKE, "op_id": str(uuid.uuid4()),
                           "photos": (io.BytesIO(b"MZ\x90\x00evil"), "x.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "只能上传照片" in Page(response.get_data(as_text=True)).errors["photos"]


def test_intake_creates_a_job_with_photos(app, client, auth):
    auth.login("desk")
    response = client.post("/jobs/new", data={**INTAKE, "op_id": str(uuid.uuid4()),
                           "photos": [(io.BytesIO(jpeg()), "a.jpg"),
                                      (io.BytesIO(jpeg("blue")), "b.jpg")]},
                           content_type="multipart/form-data")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = Page(client.get(f"/jobs/{job_id}").get_data(as_text=True))
    assert page.find("data-status", "new")
    assert len([d for d in page.data if d["tag"] == "div" and "data-photos" in d]) == 1
    assert job_row(app, job_id)["received_by"] == user_id(app, "desk")


def test_unit_search_finds_by_room_and_resident(client, auth):
    auth.login("desk")
    page = Page(client.get("/units/search?estate_id=1&unit_query=1栋-10").get_data(as_text=True))
    labels = [d["data-label"] for d in page.find("data-unit-pick")]
    assert labels and all(label.startswith("1栋-10") for label in labels)
    assert not page.has_html


def test_board_partial_for_htmx_and_full_page_otherwise(client, auth):
    auth.login("desk")
    partial = client.get("/jobs?status=new", headers={"HX-Request": "true"})
    assert not Page(partial.get_data(as_text=True)).has_html
    boosted = client.get("/jobs?status=new", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert Page(boosted.get_data(as_text=True)).has_html
    statuses = {d["data-status"] for d in Page(partial.get_data(as_text=True)).find("data-status")}
    assert statuses == {"new"}


# Newest first; what is due first (the stored due time, earliest first, then the jobs
# with nothing due, newest first).
BOARD_ORDERS = {"new": "id DESC", "due": "next_due_at IS NULL, next_due_at,"
                " CASE WHEN next_due_at IS NULL THEN -id ELSE id END"}


@pytest.mark.parametrize("order", sorted(BOARD_ORDERS))
def test_board_shows_a_page_at_a_time_and_more_continues_without_gaps(app, client, auth,
                                                                      order):
    auth.login("desk")
    for _ in range(20):
        create(client)
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    expected = [r["number"] for r in db.query(
        "SELECT number FROM jobs WHERE estate_id IN (SELECT estate_id FROM user_estates"
        " WHERE user_id = (SELECT id FROM users WHERE username = 'desk'))"
        f" ORDER BY {BOARD_ORDERS[order]}")]
    assert len(expected) > 25, "the demo must have more jobs than one page"
    page = Page(client.get(f"/jobs?status=all&order={order}").get_data(as_text=True))
    seen = [d["data-job"] for d in page.find("data-job")]
    assert seen == expected[:25]
    more = page.find("data-more")
    while more:
        url = page.find("data-more-link")[0]["hx-get"]
        page = Page(client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True))
        assert not page.has_html and not page.find("data-list")
        seen += [d["data-job"] for d in page.find("data-job")]
        more = page.find("data-more")
    assert seen == expected
    # Without scripts the same link opens a full page of the older rows.
    older = Page(client.get(url).get_data(as_text=True))
    assert older.has_html and older.find("data-job")[0]["data-job"] == page.find("data-job")[0][
        "data-job"]


def test_board_more_past_the_end_and_odd_cursors(client, auth):
    auth.login("desk")
    # Nothing older: the step adds nothing, not a "no jobs" row under the list.
    past = client.get("/jobs?status=all&before=1", headers={"HX-Request": "true"})
    assert past.status_code == 200
    assert not Page(past.get_data(as_text=True)).find("data-empty")
    # A cursor no job id can have is ignored rather than a server error.
    huge = client.get("/jobs?status=all&before=99999999999999999999")
    assert huge.status_code == 200
    assert Page(huge.get_data(as_text=True)).find("data-job")


def test_history_restore_gets_the_whole_page(client, auth):
    auth.login("desk")
    restore = client.get("/jobs?status=new", headers={
        "HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert Page(restore.get_data(as_text=True)).has_html


def test_new_job_button_only_for_those_who_take_reports(client, auth):
    auth.login("callback")
    assert not Page(client.get("/jobs").get_data(as_text=True)).find("data-action", "new-job")
    auth.logout()
    auth.login("desk")
    assert Page(client.get("/jobs").get_data(as_text=True)).find("data-action", "new-job")


def test_the_whole_path_through_the_pages(app, client, auth):
    auth.login("desk")
    job_id = create(client)
    tech = user_id(app, "tech")
    assert post(client, f"/jobs/{job_id}/dispatch", to=f"user:{tech}").status_code == 303
    auth.logout()
    auth.login("tech")
    mine = Page(client.get("/jobs/mine").get_data(as_text=True))
    number = job_row(app, job_id)["number"]
    assert mine.find("data-job", number)
    for action in ("accept", "arrive"):
        assert post(client, f"/jobs/{job_id}/{action}").status_code == 303
    bad = post(client, f"/jobs/{job_id}/complete", work_done="", materials="阀门")
    assert bad.status_code == 422
    page = Page(bad.get_data(as_text=True))
    assert page.errors["work_done"] == "请填写处理情况。" and page.values["materials"] == "阀门"
    done = client.post(f"/jobs/{job_id}/complete", data={
        "op_id": str(uuid.uuid4()), "work_done": "更换阀门", "materials": "阀门1个",
        "photos": (io.BytesIO(jpeg()), "after.jpg")}, content_type="multipart/form-data")
    assert done.status_code == 303
    assert client.get(f"/jobs/{job_id}/sign").status_code == 200
    missing = post(client, f"/jobs/{job_id}/signoff", outcome="signed", signer_name="陈小明")
    assert missing.status_code == 422
    assert Page(missing.get_data(as_text=True)).errors["signature"] == "请住户在框内签名。"
    signed = post(client, f"/jobs/{job_id}/signoff", outcome="signed", signer_name="陈小明",
                  signature_data=png_data_url(), strokes="[]")
    assert signed.status_code == 303
    row = job_row(app, job_id)
    assert row["status"] == "closed" and row["work_done"] == "更换阀门"
    page = Page(client.get(f"/jobs/{job_id}").get_data(as_text=True))
    assert page.find("data-signature", "signed")
    events = [d["data-event"] for d in page.find("data-event")]
    assert events == ["create", "dispatch", "accept", "arrive", "complete", "signoff"]
    assert "→ 王师傅" in page.text("data-event", "dispatch")  # whom it went to


def test_double_submit_of_the_same_form_applies_once(app, client, auth):
    auth.login("desk")
    job_id = create(client)
    tech = user_id(app, "tech")
    post(client, f"/jobs/{job_id}/dispatch", to=f"user:{tech}")
    auth.logout()
    auth.login("tech")
    op = str(uuid.uuid4())
    first = post(client, f"/jobs/{job_id}/accept", op_id=op)
    second = post(client, f"/jobs/{job_id}/accept", op_id=op)
    assert first.status_code == second.status_code == 303
    page = Page(client.get(f"/jobs/{job_id}").get_data(as_text=True))
    assert [d["data-event"] for d in page.find("data-event")].count("accept") == 1


def test_a_step_that_no_longer_fits_says_why(app, client, auth):
    auth.login("desk")
    job_id = create(client)
    post(client, f"/jobs/{job_id}/dispatch", to=f"user:{user_id(app, 'tech')}")
    post(client, f"/jobs/{job_id}/cancel", reason="住户撤销")
    auth.logout()
    auth.login("tech")
    response = post(client, f"/jobs/{job_id}/accept")
    assert response.status_code in (404, 409)


def test_pause_with_a_past_time_is_refused_with_the_reason_kept(app, client, auth):
    auth.login("desk")
    job_id = create(client)
    post(client, f"/jobs/{job_id}/dispatch", to=f"user:{user_id(app, 'tech')}")
    auth.logout()
    auth.login("tech")
    post(client, f"/jobs/{job_id}/accept")
    response = post(client, f"/jobs/{job_id}/pause", reason="住户出差",
                    agreed_at="2020-01-01T10:00")
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["agreed_at"] == "约定时间必须晚于现在。"
    assert page.forms["job.pause"]["reason"] == "住户出差"


def test_unknown_action_is_404(client, auth):
    auth.login("desk")
    assert post(client, "/jobs/1/explode").status_code == 404


def test_estate_settings_validate_and_save(app, client, auth):
    from webapp.domain.settings import SETTINGS

    defaults = {s.key: str(s.default) for s in SETTINGS}
    auth.login("manager")
    bad = post(client, "/admin/estates/1/settings",
               **{**defaults, "notify_minutes": "abc", "callback_policy": "7"})
    assert bad.status_code == 422
    page = Page(bad.get_data(as_text=True))
    assert page.values["notify_minutes"] == "abc"
    assert page.errors["notify_minutes"] == "请输入1到10000之间的整数。"
    assert "callback_policy" in page.errors
    ok = post(client, "/admin/estates/1/settings",
              **{**defaults, "arrive_ordinary_minutes": "45", "callback_policy": "1"})
    assert ok.status_code == 303
    page = Page(client.get("/admin/estates/1/settings").get_data(as_text=True))
    assert page.values["arrive_ordinary_minutes"] == "45"


def test_desk_reviews_what_came_in_and_resolves_the_flag(app, client, auth):
    from tests.jobflow import job_in, step

    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = job_in(db, "arrived")
    step(db, job_id, "job.cancel")
    step(db, job_id, "job.complete", {"work_done": "其实已经修好", "photos": []})
    db.close()
    auth.login("desk")
    flagged = Page(client.get("/jobs?status=flagged").get_data(as_text=True))
    assert flagged.find("data-job", job_row(app, job_id)["number"])
    page = Page(client.get(f"/jobs/{job_id}").get_data(as_text=True))
    assert page.find("data-refused", "job.complete")
    assert "其实已经修好" in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert post(client, f"/jobs/{job_id}/resolve", note="").status_code == 422
    assert post(client, f"/jobs/{job_id}/resolve", note="已电话确认").status_code == 303
    assert job_row(app, job_id)["flagged"] == 0
    events = [d["data-event"] for d in Page(client.get(f"/jobs/{job_id}").get_data(
        as_text=True)).find("data-event")]
    assert events[-1] == "resolve"


def test_a_form_sent_before_the_script_ran_still_counts(app, client, auth):
    """No op_id (the page's script had not run yet): the step is applied, not lost."""
    auth.login("desk")
    job_id = create(client)
    response = client.post(f"/jobs/{job_id}/dispatch", data={"to": f"user:{user_id(app, 'tech')}"})
    assert response.status_code == 303
    assert job_row(app, job_id)["status"] == "assigned"


def test_my_jobs_says_how_many_pool_jobs_it_leaves_out(app, client, auth, monkeypatch):
    from tests.jobflow import job_in
    from webapp.domain import jobs

    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    for _ in range(3):
        job_in(db, "pooled")
    total = db.execute("SELECT count(*) FROM jobs WHERE status = 'pooled' AND estate_id = 1"
                       " AND department = 'maintenance'").fetchone()[0]
    db.close()
    auth.login("tech")
    assert not Page(client.get("/jobs/mine").get_data(as_text=True)).find("data-pool-hidden")
    monkeypatch.setattr(jobs, "POOL_SHOWN", 2)
    page = Page(client.get("/jobs/mine").get_data(as_text=True))
    assert page.find("data-pool-hidden") == [
        {"tag": "li", "class": "muted pad", "data-pool-hidden": str(total - 2)}]
    assert len([d for d in page.find("data-status", "pooled") if d["tag"] == "span"]) == 2


def test_a_typed_unit_counts_when_the_list_was_not_tapped(app, client, auth):
    auth.login("desk")
    # One unit named: taken, as if picked.
    job_id = create(client, unit_id="", unit_label="", unit_query="1-101")
    assert job_row(app, job_id)["unit_id"] == 1
    # None, or several: not dropped in silence; the box keeps what was typed.
    for typed in ("9-999", "101"):
        refused = post(client, "/jobs/new", **{**INTAKE, "unit_id": "", "unit_label": "",
                                               "unit_query": typed})
        page = Page(refused.get_data(as_text=True))
        assert refused.status_code == 422 and page.errors["unit_id"], typed
        assert page.values["unit_query"] == typed and page.textareas["description"]
    # Nothing typed: a report without a unit (a common area), as before.
    bare = create(client, unit_id="", unit_label="", unit_query="")
    assert job_row(app, bare)["unit_id"] is None


def test_a_typed_unit_counts_on_a_complaint_too(app, client, auth):
    auth.login("desk")
    from tests.test_complaints_pages import INTAKE as COMPLAINT

    made = post(client, "/complaints/new", **{**COMPLAINT, "unit_id": "", "unit_label": "",
                                              "unit_query": "1栋101"})
    assert made.status_code == 303
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    cid = int(made.headers["Location"].rsplit("/", 1)[1])
    assert db.execute("SELECT unit_id FROM complaints WHERE id = ?", [cid]).fetchone()[0] == 1
    db.close()
