"""Places and their QR codes: tokens, revocation, the scanned URL for staff and for anyone,
the place page and the scanner kept for offline use."""

from __future__ import annotations

import base64
import re
import sqlite3
from urllib.parse import urlsplit

import pytest

from webapp.db import connect
from webapp.domain import places

from .conftest import NOW, op
from .jobflow import run
from .pages import Page
from .placeflow import Text, query, token, unit_with_jobs


@pytest.fixture(autouse=True)
def quick_forms(app):
    """Tests fill the public form at once (a person takes longer than the minimum)."""
    app.config["PUBLIC_REPORT_MIN_SECONDS"] = 0


# --- Tokens -------------------------------------------------------------------------------

def test_tokens_are_128_bit_url_safe_unique_and_not_sequential(db):
    issued = [r["token"] for r in db.query("SELECT token FROM qr_tokens ORDER BY rowid")]
    fresh = [places.new_token() for _ in range(2000)]
    tokens = issued + fresh
    assert len(issued) > 300  # the demo issued a code to every place
    assert len(set(tokens)) == len(tokens)
    raw = []
    for t in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", t), t
        raw.append(base64.urlsafe_b64decode(t + "=="))
        assert len(raw[-1]) * 8 >= 128
    # Neighbours (issued one after the other) share no prefix beyond chance, and differ
    # in about half their bits.
    for a, b in zip(tokens, tokens[1:], strict=False):
        assert len(next((a[:i] for i in range(len(a)) if a[i] != b[i]), a)) <= 4, (a, b)
    distances = [bin(int.from_bytes(x, "big") ^ int.from_bytes(y, "big")).count("1")
                 for x, y in zip(raw, raw[1:], strict=False)]
    assert 60 < sum(distances) / len(distances) < 68
    # Every bit position is set in about half the tokens: no fixed or counting part.
    for bit in range(128):
        ones = sum(int.from_bytes(r, "big") >> bit & 1 for r in raw) / len(raw)
        assert 0.42 < ones < 0.58, (bit, ones)


def test_tokens_are_not_derived_from_the_place(db):
    """The same place gets a different token each time: nothing about it decides the token."""
    seen = {places.reissue(db, "unit", 7, NOW) for _ in range(50)}
    assert len(seen) == 50
    (live,) = [r["token"] for r in db.query(
        "SELECT token FROM qr_tokens WHERE place_type = 'unit' AND place_id = 7 "
        "AND revoked_at IS NULL")]
    assert live in seen


def test_a_place_has_one_live_token(db):
    first = places.current_token(db, "unit", 3, NOW)
    assert places.current_token(db, "unit", 3, NOW) == first
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO qr_tokens (token, place_type, place_id, created_at) "
                   "VALUES ('x' || hex(randomblob(16)), 'unit', 3, '2026-11-10')")


def test_codes_are_issued_to_new_places_once_and_only_by_label_roles(db):
    db.execute("INSERT INTO equipment (estate_id, name, kind) VALUES (1, '2号水泵', 'plant_room')")
    assert run(db, "desk", "place.issue", "estate:1").status == "rejected"
    out = run(db, "manager", "place.issue", "estate:1")
    assert out.status == "applied" and out.result["issued"] == 1
    assert run(db, "manager", "place.issue", "estate:1").result["issued"] == 0
    assert run(db, "desk2", "place.issue", "estate:1").status == "rejected"


def test_issue_qr_cli(app, runner):
    db = connect(app.config["DATABASE"])
    db.execute("INSERT INTO equipment (estate_id, name, kind) VALUES (2, '消防泵', 'fire')")
    db.close()
    result = runner.invoke(args=["issue-qr", "--estate", "2"])
    assert result.exit_code == 0, result.output
    assert "estate 2: 1 codes issued" in result.output


# --- Revocation ---------------------------------------------------------------------------

def test_a_replaced_code_says_so_and_the_new_one_works(app, client, auth):
    old = token(app, "unit", 1)
    auth.login("manager")
    assert client.post("/places/unit/1/reissue", data={"op_id": op()}).status_code == 403
    auth.logout()
    auth.login("admin")
    response = client.post("/places/unit/1/reissue", data={"op_id": op()})
    assert response.status_code == 303 and "reissued=1" in response.headers["Location"]
    new = token(app, "unit", 1)
    assert new != old
    assert client.get(f"/q/{new}").headers["Location"].endswith("/places/unit/1")
    staff = Page(client.get(f"/q/{old}").get_data(as_text=True))
    assert staff.find("data-code-status", "replaced") and staff.find("data-place-link")
    auth.logout()
    response = client.get(f"/q/{old}")
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert Page(html).find("data-code-status", "replaced")
    assert not Page(html).find("data-place-link") and new not in html and "/places/" not in html
    assert client.get(f"/q/{new}").status_code == 200
    (row,) = query(app, "SELECT outcome FROM commands WHERE kind = 'place.reissue'")
    assert row["outcome"] == "applied"


def test_unknown_codes_are_not_found(client):
    assert client.get("/q/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert client.get("/q/not-a-token").status_code == 404


# --- The scanned URL ----------------------------------------------------------------------

def test_staff_land_on_the_place_and_other_estates_staff_on_the_public_page(app, client, auth):
    tok = token(app, "unit", 1)
    auth.login("tech")
    response = client.get(f"/q/{tok}")
    assert response.status_code == 302 and response.headers["Location"] == "/places/unit/1"
    assert Page(client.get("/places/unit/1").get_data(as_text=True)).find("data-place-page")
    auth.logout()
    auth.login("desk2")  # 锦绣家园 only
    assert Page(client.get(f"/q/{tok}").get_data(as_text=True)).find("data-public-place")
    assert client.get("/places/unit/1").status_code == 404


def test_the_public_page_shows_no_personal_data(app, client):
    unit_id = unit_with_jobs(app)
    tok = token(app, "unit", unit_id)
    (unit,) = query(app, "SELECT u.number, b.name AS building, e.name AS estate FROM units u "
                         "JOIN buildings b ON b.id = u.building_id "
                         "JOIN estates e ON e.id = u.estate_id WHERE u.id = ?", [unit_id])
    residents = query(app, "SELECT name, phone FROM residents WHERE unit_id = ?", [unit_id])
    jobs = query(app, "SELECT number, reporter_name, reporter_phone, description FROM jobs "
                      "WHERE unit_id = ?", [unit_id])
    assert residents and jobs
    response = client.get(f"/q/{tok}")
    html = response.get_data(as_text=True)
    text = str(Text(html))
    assert response.status_code == 200
    assert unit["estate"] in text and unit["building"] in text
    assert unit["number"] not in text  # the room is not named
    for r in residents:
        assert r["name"] not in html and r["phone"] not in html
    for j in jobs:
        for value in j.values():
            assert value not in html, value
    page = Page(html)
    assert page.find("data-form", "public-report")
    (link,) = page.find("data-staff-sign-in")
    assert link["href"] == f"/login?next=/q/{tok}"


def test_staff_sign_in_from_the_public_page_lands_on_the_place(app, client):
    tok = token(app, "unit", 1)
    link = Page(client.get(f"/q/{tok}").get_data(as_text=True)).find("data-staff-sign-in")[0]
    response = client.post(link["href"], data={"username": "desk", "password": "demo1234"})
    assert response.headers["Location"] == f"/q/{tok}"
    assert client.get(f"/q/{tok}").headers["Location"] == "/places/unit/1"


def test_a_common_area_shows_its_name(app, client):
    (area,) = query(app, "SELECT id FROM common_areas WHERE estate_id = 1 AND name = '地下车库'")
    text = str(Text(client.get(f"/q/{token(app, 'area', area['id'])}").get_data(as_text=True)))
    assert "地下车库" in text and "翠湖花园" in text


# --- The place page -----------------------------------------------------------------------

@pytest.mark.parametrize("username, action, present", [
    ("desk", "new-job", True), ("cleaner", "feedback", True), ("supervisor", "inspect", True),
    ("tech", "new-job", False), ("desk", "inspect", False), ("supervisor", "feedback", False),
])
def test_the_place_page_offers_what_fits_the_role(client, auth, username, action, present):
    auth.login(username)
    page = Page(client.get("/places/unit/1").get_data(as_text=True))
    assert bool(page.find("data-place-action", action)) is present
    assert bool(page.find("data-reissue")) is False


def test_the_place_page_lists_what_is_open_and_the_history(app, client, auth):
    unit_id = unit_with_jobs(app)
    jobs = query(app, "SELECT id, status FROM jobs WHERE unit_id = ?", [unit_id])
    auth.login("desk")
    page = Page(client.get(f"/places/unit/{unit_id}").get_data(as_text=True))
    open_ids = {str(j["id"]) for j in jobs if j["status"] in places.OPEN_JOBS}
    assert {d["data-job"] for d in page.find("data-job")} == open_ids
    assert {d["data-history-job"] for d in page.find("data-history-job")} == {
        str(j["id"]) for j in jobs}
    assert page.find("data-residents")


def test_new_job_from_the_place_page_has_the_unit_filled_in(app, client, auth):
    auth.login("desk")
    page = Page(client.get("/places/unit/5").get_data(as_text=True))
    (link,) = page.find("data-place-action", "new-job")
    form = Page(client.get(link["href"]).get_data(as_text=True))
    assert form.values["unit_id"] == "5" and form.values["unit_label"] == "1栋-201"
    (area,) = query(app, "SELECT id FROM common_areas WHERE name = '地下车库' AND estate_id = 1")
    form = Page(client.get(f"/jobs/new?place_type=area&place_id={area['id']}")
                .get_data(as_text=True))
    assert form.textareas["description"] == "【地下车库】" and form.values["unit_id"] == ""
    auth.logout()
    auth.login("desk2")
    form = Page(client.get("/jobs/new?place_type=unit&place_id=5").get_data(as_text=True))
    assert form.values["unit_id"] == ""  # not their estate: nothing filled in


def test_admins_see_the_code_and_can_replace_it(client, auth):
    auth.login("admin")
    page = Page(client.get("/places/unit/1").get_data(as_text=True))
    assert page.find("data-qr-image") and page.find("data-reissue")
    assert page.find("data-print-label")[0]["href"] == "/places/labels.pdf?place=unit:1"
    assert client.get("/places/nowhere/1").status_code == 404
    assert client.get("/places/unit/999999").status_code == 404


def test_the_scanner_is_kept_for_offline_use(client, auth):
    auth.login("supervisor")
    manifest = client.get("/sync/manifest").get_json()
    assert "/scan" in manifest["pages"]
    assert "/static/vendor/jsqr-1.4.0.min.js" in [urlsplit(a).path for a in manifest["assets"]]
    assert "/static/vendor/jsqr-1.4.0.min.js?v=" in client.get("/sw.js").get_data(as_text=True)
    page = client.get("/scan").get_data(as_text=True)
    assert "vendor/jsqr-1.4.0.min.js" in page and 'data-nav="scan"' in page
    auth.logout()
    auth.login("desk")
    assert "/scan" not in client.get("/sync/manifest").get_json()["pages"]


def test_a_label_that_will_not_scan_is_found_by_what_it_says(app, client, auth):
    auth.login("supervisor")
    db = connect(app.config["DATABASE"])
    unit = db.execute("SELECT u.id FROM units u JOIN buildings b ON b.id = u.building_id "
                      "WHERE b.name = '1栋' AND u.number = '101' AND u.estate_id = 1"
                      ).fetchone()[0]
    db.close()
    one = client.get("/scan?label=１-101")  # as a Chinese keyboard may type it
    assert one.status_code == 302 and one.headers["Location"].endswith(f"/places/unit/{unit}")
    garage = client.get("/scan?label=地下车库")
    assert garage.status_code == 302 and "/places/area/" in garage.headers["Location"]
    # Part of a name several places share: the list to choose from.
    several = Page(client.get("/scan?label=车库").get_data(as_text=True)).find("data-place")
    assert {d["data-place"].split(":")[0] for d in several} == {"area", "equipment"}
    missing = Page(client.get("/scan?label=99-9999").get_data(as_text=True))
    assert missing.errors["label"] and missing.values["label"] == "99-9999"
    assert not missing.find("data-found")
