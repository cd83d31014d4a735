"""The inputs that used to answer 500, each answered in the user's language instead, and a
batch that answers per item: a bad item is invalid and the items after it are applied."""

import json

import pytest

from .pages import Page
from .test_jobs_pages import create, post, user_id
from .test_sync_api import ORIGIN, batch, db_of, item, job_in

HUGE = 10**30


def statuses(app, job):
    db = db_of(app)
    try:
        return db.execute("SELECT status FROM jobs WHERE id = ?", [job]).fetchone()[0]
    finally:
        db.close()


def test_pause_with_year_one_is_a_message_with_what_was_typed_kept(app, client, auth):
    auth.login("desk")
    job_id = create(client)
    post(client, f"/jobs/{job_id}/dispatch", to=f"user:{user_id(app, 'tech')}")
    auth.logout()
    auth.login("tech")
    post(client, f"/jobs/{job_id}/accept")
    response = post(client, f"/jobs/{job_id}/pause", reason="住户出差",
                    agreed_at="0001-01-01T00:00")
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["agreed_at"] == "请输入与客户新约定的时间。"
    assert page.forms["job.pause"]["reason"] == "住户出差"
    assert statuses(app, job_id) == "accepted"


@pytest.mark.parametrize("url", [f"/jobs/{2**63}", f"/jobs/{HUGE}", "/jobs/" + "9" * 5000,
                                 f"/units/{2**64}", f"/jobs/{HUGE}/accept"])
def test_ids_beyond_64_bits_in_a_url_are_not_found(client, auth, url):
    auth.login("admin")
    response = client.post(url) if url.endswith("accept") else client.get(url)
    assert response.status_code == 404


def test_an_id_beyond_64_bits_in_a_query_is_ignored(client, auth):
    auth.login("desk")
    assert client.get(f"/jobs/new?place_type=unit&place_id={HUGE}").status_code == 200
    assert client.get(f"/jobs?before={HUGE}").status_code == 200


def test_a_huge_base_version_is_invalid_for_that_item_and_the_next_applies(app, client, auth):
    first, second = job_in(app, "assigned"), job_in(app, "assigned")
    auth.login("tech")
    bad = item("job.accept", f"job:{first}", base_version=HUGE)
    good = item("job.accept", f"job:{second}", base_version=1)
    response = batch(client, bad, good)
    assert response.status_code == 200
    results = response.json["results"]
    assert results[0]["status"] == "invalid"
    assert results[0]["message"] == "表单无法读取。请刷新页面后重新提交。"
    assert results[1]["status"] == "applied"
    assert (statuses(app, first), statuses(app, second)) == ("assigned", "accepted")


def test_a_huge_base_version_in_a_form_is_a_message(app, client, auth):
    job = job_in(app, "assigned")
    auth.login("tech")
    response = post(client, f"/jobs/{job}/accept", base_version=str(HUGE))
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.text("data-error-page") == "表单无法读取。请刷新页面后重新提交。 返回首页"
    assert statuses(app, job) == "assigned"


@pytest.mark.parametrize("device_time", [12345, True, ["2026"], {"a": 1}, "0001-01-01T00:00",
                                         "9999-12-31T23:59:59Z"])
def test_a_device_time_that_is_not_a_time_is_ignored(app, client, auth, device_time):
    job = job_in(app, "accepted")
    auth.login("tech")
    (result,) = batch(client, item("job.arrive", f"job:{job}",
                                   device_time=device_time)).json["results"]
    assert result["status"] == "applied"
    assert statuses(app, job) == "arrived"


def test_lone_surrogates_are_dropped_before_anything_is_stored(app, client, auth):
    job = job_in(app, "arrived")
    auth.login("tech")
    body = json.dumps({"device_id": "phone-\ud800", "commands": [item(
        "job.complete", f"job:{job}", {"work_done": "换了\udc00灯泡", "materials": "\ud83d"})]})
    response = client.post("/sync/batch", data=body, headers={
        **ORIGIN, "Content-Type": "application/json"})
    assert response.json["results"][0]["status"] == "applied"
    db = db_of(app)
    try:
        assert db.execute("SELECT work_done FROM jobs WHERE id = ?", [job]).fetchone()[0] \
            == "换了灯泡"
        logged = db.execute("SELECT payload FROM commands WHERE kind = 'job.complete' "
                            "ORDER BY rowid DESC LIMIT 1").fetchone()[0]
        assert json.loads(logged)["work_done"] == "换了灯泡"
    finally:
        db.close()


def test_deeply_nested_json_is_a_400_with_a_json_error(client, auth):
    auth.login("tech")
    body = '{"commands": [' + "[" * 50_000 + "]" * 50_000 + "]}"
    response = client.post("/sync/batch", data=body, headers={
        **ORIGIN, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"] == "bad_batch"


def test_items_of_the_wrong_shape_are_invalid_alone(app, client, auth):
    job = job_in(app, "assigned")
    auth.login("tech")
    good = item("job.accept", f"job:{job}")
    results = batch(client, "not an item", [1, 2], item(7, "job:1"),
                    item("job.accept", ["job", job]), good).json["results"]
    assert [r["status"] for r in results] == ["invalid"] * 4 + ["applied"]
    assert results[-1]["op_id"] == good["op_id"]


def test_long_texts_are_bounded_in_the_record_and_the_command_log(app, client, auth):
    job = job_in(app, "arrived")
    auth.login("tech")
    long = "修" * 100_000
    (result,) = batch(client, item("job.complete", f"job:{job}",
                                   {"work_done": long, "materials": long})).json["results"]
    assert result["status"] == "applied"
    db = db_of(app)
    try:
        work = db.execute("SELECT work_done FROM jobs WHERE id = ?", [job]).fetchone()[0]
        logged = db.execute("SELECT length(payload) FROM commands WHERE kind = 'job.complete' "
                            "ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    finally:
        db.close()
    assert 0 < len(work) <= 2000
    assert logged < 10_000


def test_a_text_longer_than_any_field_is_a_message_at_its_field(app, client, auth):
    auth.login("desk")
    response = post(client, "/jobs/new", estate_id="1", unit_id="1", reporter_name="陈",
                    reporter_phone="13800000000", source="phone", category="plumbing",
                    job_class="small", description="漏" * 30_000)
    assert response.status_code == 422
    page = Page(response.get_data(as_text=True))
    assert page.errors["description"] == "内容过长，请删减后重新提交。"
    assert page.textareas["description"] == "漏" * 30_000


def test_a_file_longer_than_a_typed_field_is_imported_whole(db):
    """The bound refuses, never cuts: a CSV file past STORED_LIMIT arrives whole."""
    from sync.fields import STORED_LIMIT

    from .test_imports import HEADER, counts, run_import

    rows = "".join(f"CH,9栋,{n},{n // 100},,,\n" for n in range(101, 2101))
    assert len(HEADER + rows) > STORED_LIMIT
    before = counts(db)
    assert run_import(db, HEADER + rows).status == "applied"
    assert counts(db)[1] == before[1] + 2000


@pytest.mark.parametrize(("url", "field"), [("/admin/users/new", "estate_ids"),
                                            ("/routine", "estate_id"),
                                            ("/complaints/new", "unit_id"),
                                            ("/jobs/new", "unit_id")])
def test_a_digit_that_is_not_a_number_in_an_id_field_is_no_id(client, auth, url, field):
    """'²'.isdigit() is true and int('²') fails: ids are read through the kit."""
    auth.login("admin")
    response = post(client, url, **{field: "²", "estate_id": "1"} if field != "estate_id"
                    else {field: "²"})
    assert response.status_code in (200, 303, 422)


@pytest.mark.parametrize("outcome", ["absent", "refused"])
def test_a_signature_hash_sent_with_no_signature_is_not_attached(app, client, auth, outcome):
    """A sign-off without a signature carries no image: a hash sent along (stored or not)
    is neither attached unchecked nor a database error for the whole batch."""
    done, unknown = job_in(app, "completed"), "a" * 64
    auth.login("tech")
    response = batch(client, item("job.signoff", f"job:{done}",
                                  {"outcome": outcome, "reason": "不在家",
                                   "signature_image": unknown}))
    assert response.status_code == 200
    assert response.json["results"][0]["status"] == "applied"
    db = db_of(app)
    try:
        row = db.execute("SELECT image_sha256 FROM signatures WHERE job_id = ?",
                         [done]).fetchone()
    finally:
        db.close()
    assert row == (None,)


def test_a_resend_of_an_applied_item_is_a_duplicate_even_if_its_fields_now_fail(app, client,
                                                                                auth):
    """Exactly once: a command applied before answers as it did, whatever today's checks
    say of its fields (say a rule bounded a text after the phone queued it)."""
    job = job_in(app, "assigned")
    auth.login("tech")
    first = item("job.accept", f"job:{job}", base_version=1)
    assert batch(client, first).json["results"][0]["status"] == "applied"
    again = {**first, "base_version": HUGE, "fields": {"note": "x" * 50_000}}
    [answer] = batch(client, again).json["results"]
    assert (answer["status"], answer["first_status"]) == ("duplicate", "applied")
