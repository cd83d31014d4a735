"""The replay endpoints: manifest, files by hash, and the batch with its outcomes."""

import hashlib
import io
import json
import uuid
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from PIL import Image

from webapp.auth import utcnow
from webapp.db import connect

ORIGIN = {"Origin": "http://localhost"}


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20), "blue").save(buf, "JPEG")
    return buf.getvalue()


def db_of(app):
    return connect(app.config["DATABASE"], app.config["RECORDS_KEY"])


def job_in(app, status, username="tech"):
    """A fresh job driven to `status` through the domain (set-up, not under test)."""
    from tests.jobflow import job_in as drive

    db = db_of(app)
    try:
        return drive(db, status)
    finally:
        db.close()


def item(kind, target, fields=None, **over):
    return {"op_id": str(uuid.uuid4()), "kind": kind, "target": target, "fields": fields or {},
            "device_time": utcnow().isoformat() + "Z", "queued": True, **over}


def batch(client, *items, sent_at=None):
    body = {"device_id": "phone-1", "sent_at": sent_at or utcnow().isoformat() + "Z",
            "commands": list(items)}
    return client.post("/sync/batch", json=body, headers=ORIGIN)


def test_signed_out_gets_401_with_the_way_to_sign_in(client):
    response = batch(client, item("job.accept", "job:1"))
    assert response.status_code == 401
    assert response.json["error"] == "signed_out" and "/login" in response.json["login"]


def test_cross_site_requests_are_refused(client, auth):
    auth.login("tech")
    evil = client.post("/sync/batch", json={"commands": []},
                       headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    fetched = client.post("/sync/batch", json={"commands": []},
                          headers={"Sec-Fetch-Site": "cross-site"})
    assert fetched.status_code == 403


def test_manifest_lists_the_workers_open_jobs_and_their_units(app, client, auth):
    arrived = job_in(app, "arrived")
    accepted = job_in(app, "accepted")
    auth.login("tech")
    body = client.get("/sync/manifest", headers=ORIGIN).json
    assert f"/jobs/{arrived}" in body["pages"] and f"/jobs/{arrived}/sign" in body["pages"]
    # Arriving and finishing may happen with no signal: the sign page is kept already.
    assert f"/jobs/{accepted}/sign" in body["pages"]
    assert "/jobs/mine" in body["pages"] and "/units/1" in body["pages"]
    assert "/static/outbox.js" in [urlsplit(a).path for a in body["assets"]] and body["version"]
    auth.logout()
    auth.login("tech3")  # another estate: none of these
    pages = client.get("/sync/manifest", headers=ORIGIN).json["pages"]
    assert f"/jobs/{arrived}" not in pages


def test_files_upload_by_hash_and_resending_is_harmless(app, client, auth):
    auth.login("tech")
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    assert client.get(f"/sync/files/{sha}", headers=ORIGIN).status_code == 404
    first = client.put(f"/sync/files/{sha}", data=data, headers=ORIGIN)
    again = client.put(f"/sync/files/{sha}", data=data, headers=ORIGIN)
    assert (first.status_code, again.status_code) == (201, 200)
    assert client.get(f"/sync/files/{sha}", headers=ORIGIN).status_code == 200
    damaged = client.put(f"/sync/files/{sha}", data=data[:-5], headers=ORIGIN)
    assert damaged.status_code == 400
    text = b"not a photo"
    wrong = client.put(f"/sync/files/{hashlib.sha256(text).hexdigest()}", data=text,
                       headers=ORIGIN)
    assert wrong.status_code == 415


def test_batch_applies_in_order_and_answers_each(app, client, auth):
    job = job_in(app, "assigned")
    auth.login("tech")
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    client.put(f"/sync/files/{sha}", data=data, headers=ORIGIN)
    items = [item("job.accept", f"job:{job}"), item("job.arrive", f"job:{job}"),
             item("job.complete", f"job:{job}", {"work_done": "换阀门", "photos": [sha]})]
    results = batch(client, *items).json["results"]
    assert [r["status"] for r in results] == ["applied"] * 3
    assert results[0]["redirect"] == f"/jobs/{job}"
    again = batch(client, *items).json["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 3
    db = db_of(app)
    assert db.execute("SELECT status FROM jobs WHERE id = ?", [job]).fetchone()[0] == "completed"
    assert db.execute("SELECT count(*) FROM job_photos WHERE job_id = ?", [job]).fetchone()[0] == 1
    replayed = db.execute("SELECT count(*) FROM audit_log WHERE entity_id = ? AND replayed = 1",
                          [job]).fetchone()[0]
    assert replayed == 3


def test_a_refused_completion_keeps_the_facts_and_flags_the_job(app, client, auth):
    job = job_in(app, "arrived")
    db = db_of(app)
    from tests.jobflow import step

    step(db, job, "job.cancel")
    auth.login("tech")
    (result,) = batch(client, item("job.complete", f"job:{job}",
                                   {"work_done": "已经修好了", "photos": []})).json["results"]
    assert result["status"] == "rejected" and result["kept"] is True
    assert result["message"] == "此单已被取消。"
    assert result["current"]["status"] == "cancelled"
    assert db.execute("SELECT flagged FROM jobs WHERE id = ?", [job]).fetchone()[0] == 1
    notes = [r[0] for r in db.execute("SELECT text FROM job_notes WHERE job_id = ?", [job])]
    assert "已经修好了" in notes


def test_bad_input_is_invalid_and_stores_nothing(app, client, auth):
    job = job_in(app, "arrived")
    auth.login("tech")
    bad = item("job.complete", f"job:{job}", {"work_done": ""})
    (result,) = batch(client, bad).json["results"]
    assert result["status"] == "invalid"
    assert result["errors"] == {"work_done": "请填写处理情况。"}
    db = db_of(app)
    assert db.execute("SELECT count(*) FROM commands WHERE op_id = ?",
                      [bad["op_id"]]).fetchone()[0] == 0


def test_another_users_items_are_held(app, client, auth):
    job = job_in(app, "assigned")
    auth.login("tech2")
    tech = db_of(app).execute("SELECT id FROM users WHERE username='tech'").fetchone()[0]
    (result,) = batch(client, item("job.accept", f"job:{job}", user_id=tech)).json["results"]
    assert result["status"] == "held"


def test_unknown_kinds_are_not_replayed(app, client, auth):
    auth.login("tech")
    (result,) = batch(client, item("job.cancel", "job:1", {"reason": "x"})).json["results"]
    assert result["status"] == "invalid"


@pytest.mark.parametrize("skew_minutes", [0, -37, 125])
def test_the_device_clock_is_corrected(app, client, auth, skew_minutes):
    """A phone whose clock is off: the arrival is stored on the server's clock."""
    job = job_in(app, "accepted")
    auth.login("tech")
    real_now = utcnow()
    phone_now = real_now + timedelta(minutes=skew_minutes)
    arrived_on_phone = phone_now - timedelta(minutes=40)  # queued for 40 minutes
    batch(client, item("job.arrive", f"job:{job}",
                       device_time=arrived_on_phone.isoformat() + "Z"),
          sent_at=phone_now.isoformat() + "Z")
    db = db_of(app)
    arrived = datetime.fromisoformat(
        db.execute("SELECT arrived_at FROM jobs WHERE id = ?", [job]).fetchone()[0])
    assert abs((arrived - (real_now - timedelta(minutes=40))).total_seconds()) < 5
    offset = db.execute("SELECT clock_offset_seconds FROM devices WHERE id = 'phone-1'"
                        ).fetchone()[0]
    assert abs(offset + skew_minutes * 60) < 5


def test_service_worker_is_served_from_the_root_with_its_version(client):
    response = client.get("/sw.js")
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.get_data(as_text=True).startswith('const VERSION = "')


def test_the_service_workers_shell_is_every_asset_a_page_loads(client):
    body = client.get("/sw.js").get_data(as_text=True)
    line = next(x for x in body.splitlines() if x.startswith("const SHELL_URLS = "))
    shell = json.loads(line.removeprefix("const SHELL_URLS = ").rstrip(";"))
    loaded: list[str] = []

    class Assets(HTMLParser):
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if (tag == "link" and a.get("rel") == "stylesheet") or (tag == "script" and "src" in a):
                loaded.append(a.get("href") or a["src"])

    Assets().feed(client.get("/outbox").get_data(as_text=True))
    assert loaded and set(loaded) <= set(shell)
    for url in shell:
        with client.get(url) as response:
            assert response.status_code == 200, url


def test_offline_and_outbox_pages_need_no_sign_in(client):
    assert client.get("/offline").status_code == 200
    assert client.get("/outbox").status_code == 200


def test_manifest_keeps_a_callback_clerks_tasks(app, client, auth):
    auth.login("desk")
    pages = client.get("/sync/manifest", headers=ORIGIN).json["pages"]
    db = db_of(app)
    desk = db.execute("SELECT id FROM users WHERE username = 'desk'").fetchone()[0]
    mine = [r[0] for r in db.execute("SELECT id FROM callback_tasks WHERE status = 'open' "
                                     "AND assignee_id = ? AND next_try_at IS NULL", [desk])]
    assert mine and "/callbacks" in pages
    assert all(f"/callbacks/{t}" in pages for t in mine)


def test_a_callback_replays_through_the_batch(app, client, auth):
    auth.login("desk")
    db = db_of(app)
    task = db.execute("SELECT id FROM callback_tasks WHERE status = 'open' AND "
                      "next_try_at IS NULL ORDER BY id").fetchone()[0]
    (result,) = batch(client, item("callback.record", f"callback:{task}", {
        "method": "phone", "reached": "1", "rating_overall": "5"})).json["results"]
    assert result["status"] == "applied"
    assert db.execute("SELECT status FROM callback_tasks WHERE id = ?", [task]).fetchone()[0] \
        == "done"


def test_manifest_maps_codes_to_the_kept_pages_they_open(app, client, auth):
    # With no signal a scanned code's own address cannot be answered: the phone opens
    # the page it keeps for that place instead.
    from webapp.domain import places

    job = job_in(app, "accepted")
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    unit = db.execute("SELECT unit_id FROM jobs WHERE id = ?", [job]).fetchone()[0]
    token = places.live_token(db, "unit", unit)
    db.close()
    auth.login("tech")
    body = client.get("/sync/manifest", headers=ORIGIN).json
    assert body["codes"][f"/q/{token}"] == f"/units/{unit}"
    assert set(body["codes"].values()) <= set(body["pages"])
    # (A supervisor's round places map to their checklists: e2e/test_inspections.py.)


def test_manifest_lists_the_photos_of_the_workers_jobs(app, client, auth):
    auth.login("tech")
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    assert client.put(f"/sync/files/{sha}", data=data, headers=ORIGIN).status_code == 201
    job = job_in(app, "arrived")
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    db.execute("INSERT INTO job_photos (job_id, sha256, stage, op_id) VALUES (?,?,?,?)",
               [job, sha, "intake", "test"])
    db.conn.commit()
    db.close()
    body = client.get("/sync/manifest", headers=ORIGIN).json
    assert body["files"].count(f"/files/{sha}") == 1
    auth.logout()
    auth.login("tech2")  # same estate, department and pool, but not their job
    assert f"/files/{sha}" not in client.get("/sync/manifest", headers=ORIGIN).json["files"]


def test_manifest_carries_the_server_time_for_the_phones_clock(client, auth):
    auth.login("tech")
    before = utcnow().replace(microsecond=0)
    stamp = client.get("/sync/manifest", headers=ORIGIN).json["server_time"]
    assert stamp.endswith("Z")
    assert abs(datetime.fromisoformat(stamp[:-1]) - before) < timedelta(seconds=5)
