"""Every route × every role: staff reach only their work and their estates' records."""

import hashlib
import uuid

import pytest

from webapp.domain.people import ROLES

from .jobflow import uid

USER_OF_ROLE = {"desk": "desk", "technician": "tech", "guard": "guard", "cleaner": "cleaner",
                "callback": "callback", "supervisor": "supervisor", "manager": "manager",
                "admin": "admin"}
OFFICE = {"desk", "callback", "supervisor", "manager", "admin"}
FIELD = {"technician", "guard", "cleaner"}
ALL = OFFICE | FIELD


def ids(app):
    """A job of the technician 王师傅 and one of another estate, from the demo data."""
    from webapp.db import connect

    db = connect(app.config["DATABASE"])
    tech = uid(db, "tech")
    mine = db.execute("SELECT id FROM jobs WHERE assignee_id = ? AND status = 'arrived'",
                      [tech]).fetchone()[0]
    done = db.execute("SELECT id FROM jobs WHERE assignee_id = ? AND status = 'completed'",
                      [uid(db, "guard")]).fetchone()[0]
    complaint = db.execute("SELECT id FROM complaints ORDER BY id LIMIT 1").fetchone()[0]
    task = db.execute("SELECT id FROM callback_tasks ORDER BY id LIMIT 1").fetchone()[0]
    feedback = db.execute("SELECT id FROM feedback WHERE estate_id = 1 LIMIT 1").fetchone()[0]
    db.close()
    return {"job": mine, "done": done, "complaint": complaint, "task": task,
            "feedback": feedback}


# endpoint -> (url template, roles that may open it). Other roles get 403 or 404.
GET_MATRIX = {
    "home": ("/", ALL),
    "jobs.board": ("/jobs", OFFICE),
    "jobs.mine": ("/jobs/mine", FIELD),
    "jobs.new": ("/jobs/new", {"desk", "manager", "admin"}),
    "jobs.detail": ("/jobs/{job}", OFFICE | {"technician"}),
    "jobs.sign": ("/jobs/{done}/sign", {"guard"}),
    "jobs.sheet": ("/jobs/{job}/sheet.pdf", OFFICE | {"technician"}),
    "jobs.edit": ("/jobs/{job}/edit", {"desk", "manager", "admin"}),
    "units.search": ("/units/search?estate_id=1&unit_query=101",
                     {"desk", "callback", "manager", "admin"}),
    "units.detail": ("/units/1", ALL),
    "admin.index": ("/admin", {"manager", "admin"}),
    "admin.estate_settings": ("/admin/estates/1/settings", {"manager", "admin"}),
    "admin.import_units": ("/admin/import", {"admin"}),
    "admin.calendar": ("/admin/estates/1/calendar", {"manager", "admin"}),
    "admin.connect": ("/admin/connect", {"admin"}),
    "admin.robots_list": ("/admin/estates/1/robots", {"manager", "admin"}),
    "admin.robot": ("/admin/estates/1/robots/new", {"manager", "admin"}),
    "users.index": ("/admin/users", {"admin"}),
    "users.edit": ("/admin/users/new", {"admin"}),
    "account.password": ("/account/password", ALL),
    "notifications.index": ("/notifications", ALL),
    "notifications.prefs": ("/notifications/prefs", ALL),
    "routine.index": ("/routine?estate_id=1", OFFICE),
    "complaints.index": ("/complaints", OFFICE),
    "complaints.new": ("/complaints/new", {"desk", "callback", "manager", "admin"}),
    "complaints.detail": ("/complaints/{complaint}", OFFICE),
    "complaints.sheet": ("/complaints/{complaint}/sheet.pdf", OFFICE),
    "callbacks.today": ("/callbacks", OFFICE),
    "callbacks.task": ("/callbacks/{task}", OFFICE),
    "callbacks.record_pdf": ("/callbacks/{task}/record.pdf", OFFICE),
    # Moved to the figures: redirects for those who may see them.
    "callbacks.stats": ("/callbacks/stats", {"manager", "admin", "desk", "callback"}),
    "callbacks.stats_csv": ("/callbacks/stats.csv", {"manager", "admin", "desk", "callback"}),
    "figures.home": ("/figures", {"manager", "admin"}),
    "figures.area": ("/figures/repairs", {"manager", "admin"}),
    "figures.records": ("/figures/records?figure=jobs_reported", {"manager", "admin"}),
    "figures.area_export": ("/figures/repairs/figures.csv", {"manager", "admin"}),
    "figures.table_export": ("/figures/tables/hot_buildings.xlsx", {"manager", "admin"}),
    "places.detail": ("/places/unit/1", ALL),
    "places.labels": ("/places/labels", {"manager", "admin"}),
    "places.labels_pdf": ("/places/labels.pdf?place=unit:1", {"manager", "admin"}),
    "places.scan": ("/scan", {"supervisor", "manager", "admin"} | FIELD),
    "feedback.new": ("/feedback/new", {"cleaner", "guard", "technician", "supervisor"}),
    "feedback.mine": ("/feedback/mine", {"cleaner", "guard", "technician", "supervisor"}),
    "feedback.index": ("/feedback", {"desk", "manager", "admin"}),
    "feedback.detail": ("/feedback/{feedback}", {"desk", "manager", "admin"}),
    # The live lists' versions: as the lists they belong to.
    "live.bell": ("/live/bell", ALL),
    "live.mine": ("/live/mine", FIELD),
    "live.board": ("/live/board", OFFICE),
    "live.callbacks_today": ("/live/callbacks", OFFICE),
    "live.feedback_queue": ("/live/feedback", {"desk", "manager", "admin"}),
    # The demo's first inspection (翠湖花园's car park) and first checklist.
    "inspections.index": ("/inspections", {"supervisor", "manager", "admin"}),
    "inspections.visit": ("/inspections/visit?place_type=area&place_id=1",
                          {"supervisor", "manager", "admin"}),
    "inspections.detail": ("/inspections/1", OFFICE),
    "inspections.summary": ("/inspections/summary", {"manager", "admin", "supervisor"}),
    "inspections.summary_csv": ("/inspections/summary.csv", {"manager", "admin",
                                                             "supervisor"}),
    "inspections.templates": ("/inspections/templates", {"admin"}),
    "inspections.edit_template": ("/inspections/templates/1", {"admin"}),
    "surveys.index": ("/surveys", {"callback", "manager", "admin"}),
    # Managers only; a report of an estate not served is a 404 (test_reports_pages).
    "reports.index": ("/reports", {"manager"}),
    "notices.index": ("/notices", {"desk", "manager", "admin"}),
    "notices.new": ("/notices/new", {"desk", "manager", "admin"}),
    "committee.index": ("/committee", {"desk", "manager", "admin"}),
    "committee.new": ("/committee/contact", {"desk", "manager", "admin"}),
    "activities.index": ("/activities", {"desk", "manager", "admin"}),
    "activities.new": ("/activities/new", {"desk", "manager", "admin"}),
    # Shift handovers: those on duty at a post record; supervisors and managers read all.
    "handovers.index": ("/handovers", {"desk", "guard", "technician", "supervisor",
                                       "manager", "admin"}),
    "handovers.new": ("/handovers/new", {"desk", "guard", "technician", "supervisor"}),
    "handovers.checklist": ("/handovers/checklist", {"manager", "admin"}),
}
# Routes that need no sign-in, or are covered below by their own tests.
EXEMPT = {"static", "page_script", "healthz", "auth.login", "auth.logout", "auth.set_locale",
          "jobs.act",
          "files.show",
          "complaints.act", "callbacks.record", "units.flags",  # posts: tested per area
          "feedback.act", "feedback.photo",  # test_feedback
          "inspections.add_place", "inspections.make_job", "inspections.add_template",
          "inspections.save_template",  # test_inspections_pages
          "sync.service_worker", "sync.offline", "sync.outbox",  # shells, no personal data
          "sync.manifest", "sync.file_status", "sync.file_upload", "sync.batch",  # test_sync_api
          "places.qr", "places.report", "places.reissue",  # public or posts: test_places
          "install.manifest",  # public: the login page links it (test_install)
          "tracking.find", "tracking.page", "tracking.rate",  # public: test_tracking
          "admin.root_certificate",  # 404 without Caddy's CA: test_connect
          "push.subscribe", "push.unsubscribe",  # posts, any signed-in user: test_push
          "admin.robot_action",  # posts: test_wecom
          "notifications.open_one", "notifications.read_all",  # posts: test_notifications
          # A survey's pages (the demo has none), its posts, the public page:
          # test_surveys_pages
          "surveys.detail", "surveys.find", "surveys.household", "surveys.slips",
          "surveys.create", "surveys.save", "surveys.status", "surveys.public",
          # a report's page, PDF and posts need a report: test_reports_pages
          "reports.show", "reports.pdf", "reports.text", "reports.issue", "reports.correct",
          # a posted notice's pages, print and public page: test_notices
          "notices.detail", "notices.act", "notices.sheet", "notices.public",
          # a submission's or meeting's page needs one: test_committee
          "committee.record",
          # an activity's pages, QR code, paper form and posts need one:
          # test_activities_pages
          "activities.detail", "activities.save", "activities.participants",
          "activities.questions", "activities.feedback", "activities.qr", "activities.paper",
          # a handover's page, acknowledgement and PDF need a handover: test_handovers
          "handovers.detail", "handovers.acknowledge", "handovers.sheet"}


def test_every_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = endpoints - set(GET_MATRIX) - EXEMPT
    assert not missing, f"add these routes to the permission matrix: {sorted(missing)}"


@pytest.mark.parametrize("endpoint", sorted(GET_MATRIX))
@pytest.mark.parametrize("role", sorted(ROLES))
def test_route_by_role(app, client, auth, endpoint, role):
    url, allowed = GET_MATRIX[endpoint]
    url = url.format(**ids(app))
    auth.login(USER_OF_ROLE[role])
    response = client.get(url)
    if role in allowed:
        assert response.status_code in (200, 302), (url, role, response.status_code)
        if response.status_code == 302:
            assert "/login" not in response.headers["Location"]
    else:
        assert response.status_code in (403, 404), (url, role, response.status_code)


@pytest.mark.parametrize("endpoint", sorted(GET_MATRIX))
def test_signed_out_is_sent_to_sign_in(app, client, endpoint):
    url = GET_MATRIX[endpoint][0].format(**ids(app))
    response = client.get(url)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_other_estates_records_do_not_exist_for_you(app, client, auth):
    auth.login("desk2")  # serves 锦绣家园 only
    job = ids(app)["job"]
    assert client.get(f"/jobs/{job}").status_code == 404
    assert client.get(f"/jobs/{job}/sheet.pdf").status_code == 404
    assert client.get("/units/1").status_code == 404
    rows = client.get("/jobs?status=all").get_data(as_text=True)
    assert "翠湖花园" not in rows
    response = client.get("/units/search?estate_id=1&unit_query=1")
    assert "data-unit-pick" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_posting_a_step_needs_the_right_role(app, client, auth, role):
    """Cancelling is for the desk side; field roles and callback staff are refused."""
    job = ids(app)["job"]
    auth.login(USER_OF_ROLE[role])
    response = client.post(f"/jobs/{job}/cancel",
                           data={"op_id": str(uuid.uuid4()), "reason": "测试"})
    if role in {"desk", "manager", "admin"}:
        assert response.status_code == 303
    else:
        assert response.status_code in (403, 404)


def test_files_are_served_only_within_your_estates(app, client, auth):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    auth.login("desk")
    response = client.post("/jobs/new", data={
        "op_id": str(uuid.uuid4()), "estate_id": "1", "unit_id": "1", "reporter_name": "陈",
        "reporter_phone": "13800000000", "source": "phone", "category": "plumbing",
        "job_class": "small", "description": "漏水",
        "photos": (io.BytesIO(buf.getvalue()), "a.jpg")}, content_type="multipart/form-data")
    assert response.status_code == 303
    from webapp.domain import files

    sha = hashlib.sha256(files.reencode(buf.getvalue()) or b"").hexdigest()  # as kept
    with client.get(f"/files/{sha}") as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
    auth.logout()
    auth.login("desk2")
    assert client.get(f"/files/{sha}").status_code == 404
    auth.logout()
    assert client.get(f"/files/{sha}").status_code == 302
