"""Notices to residents: current, upcoming and past by time; which places a notice
concerns; the times and places checked; withdrawn ones gone; the QR pages, the place
page, the list and the A4 print."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

import sync
from sync import Command, Invalid
from webapp.domain import notices, places
from webapp.domain.handlers import HANDLERS

from .conftest import NOW, op
from .pages import Page
from .placeflow import query, token

H = timedelta(hours=1)


def user_id(db, username: str) -> int:
    return db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]


def apply(db, kind: str, target: str, user: str = "desk", now=NOW, **payload):
    cmd = Command(op_id=str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                  user_id=user_id(db, user), device_id="test")
    return sync.apply(db, cmd, HANDLERS, now)


def post(db, start=NOW - H, end=NOW + 5 * H, where=(), user="desk", **extra):
    fields = {"estate_id": 1, "title": "3栋停水通知", "body": "因水管检修，暂停供水。",
              "starts_at": start.isoformat(), "ends_at": end.isoformat(),
              "places": list(where), **extra}
    return apply(db, "notice.post", "estate:1", user, **fields)


def building_ids(db, estate_id: int = 1) -> list[int]:
    return [r[0] for r in db.execute(
        "SELECT id FROM buildings WHERE estate_id = ? ORDER BY id", [estate_id])]


def unit_in(db, building_id: int) -> dict:
    unit = db.execute("SELECT id FROM units WHERE building_id = ? ORDER BY id LIMIT 1",
                      [building_id]).fetchone()[0]
    place = places.get_place(db, "unit", unit)
    assert place is not None
    return place


def equipment(db, estate_id: int = 1) -> list[dict]:
    ids = [r[0] for r in db.execute(
        "SELECT id FROM equipment WHERE estate_id = ? ORDER BY id", [estate_id])]
    return [places.get_place(db, "equipment", i) for i in ids]


def titles(rows) -> list[str]:
    return [r["title"] for r in rows]


# --- Domain ---------------------------------------------------------------------------------

def test_current_upcoming_and_past_by_time(db):
    now_id = post(db, title="现在")
    later_id = post(db, NOW + 2 * H, NOW + 4 * H, title="以后")
    post(db, NOW - H, NOW + H, title="马上结束")
    lists = notices.listing(db, [1], NOW)
    assert titles(lists["current"]) == ["马上结束", "现在"]  # soonest ending first
    assert titles(lists["upcoming"]) == ["以后"]
    assert lists["past"] == []
    # Two hours on: the short one has ended, the later one has begun.
    lists = notices.listing(db, [1], NOW + 2 * H)
    assert titles(lists["current"]) == ["以后", "现在"]
    assert titles(lists["past"]) == ["马上结束"]
    later = notices.get(db, later_id.result["notice_id"])
    assert notices.status(later, NOW) == "upcoming"
    assert notices.status(later, NOW + 2 * H) == "current"  # from is inclusive
    assert notices.status(later, NOW + 4 * H) == "past"  # until is not
    assert now_id.ok and notices.listing(db, [2], NOW)["current"] == []


def test_which_places_a_notice_concerns(db):
    b1, b2 = building_ids(db)[:2]
    lift, other = equipment(db)[:2]
    post(db, title="全小区停电")
    post(db, where=[f"building:{b1}"], title="1栋停水")
    post(db, where=[f"equipment:{lift['id']}"], title="电梯保养")
    in_b1, in_b2 = unit_in(db, b1), unit_in(db, b2)
    assert sorted(titles(notices.for_place(db, in_b1, NOW))) == ["1栋停水", "全小区停电"]
    assert titles(notices.for_place(db, in_b2, NOW)) == ["全小区停电"]
    assert sorted(titles(notices.for_place(db, lift, NOW))) == ["全小区停电", "电梯保养"]
    assert titles(notices.for_place(db, other, NOW)) == ["全小区停电"]
    # The other estate hears of none of them.
    assert notices.for_place(db, unit_in(db, building_ids(db, 2)[0]), NOW) == []
    # The SQL and the rule in Python agree.
    assert notices.applies_to(1, [("building", b1)], in_b1)
    assert not notices.applies_to(1, [("building", b1)], in_b2)
    assert notices.applies_to(1, [], in_b2)
    assert not notices.applies_to(2, [], in_b2)


def test_until_before_from_is_refused_and_nothing_stored(db):
    with pytest.raises(Invalid) as exc:
        post(db, NOW + 3 * H, NOW + H)
    assert exc.value.errors == {"ends_at": "The end must be after the start."}
    with pytest.raises(Invalid) as exc:
        post(db, NOW - 3 * H, NOW - H)
    assert set(exc.value.errors) == {"ends_at"}
    with pytest.raises(Invalid) as exc:
        post(db, title=" ", starts_at="", body="")
    assert set(exc.value.errors) == {"title", "body", "starts_at"}
    assert db.execute("SELECT count(*) FROM notices").fetchone()[0] == 0


def test_places_of_another_estate_are_refused(db):
    with pytest.raises(Invalid) as exc:
        post(db, where=[f"building:{building_ids(db, 2)[0]}"])
    assert set(exc.value.errors) == {"places"}
    # desk2 serves only the second estate.
    with pytest.raises(Invalid) as exc:
        post(db, user="desk2")
    assert set(exc.value.errors) == {"estate_id"}
    assert not post(db, user="tech").ok  # a technician may not post


def test_withdrawn_ones_are_gone_and_can_no_longer_change(db):
    b1 = building_ids(db)[0]
    notice_id = post(db, where=[f"building:{b1}"]).result["notice_id"]
    assert apply(db, "notice.withdraw", f"notice:{notice_id}", now=NOW + H).ok
    assert notices.for_place(db, unit_in(db, b1), NOW + H) == []
    lists = notices.listing(db, [1], NOW + H)
    assert lists["current"] == [] and titles(lists["past"]) == ["3栋停水通知"]
    refused = apply(db, "notice.edit", f"notice:{notice_id}", now=NOW + H, estate_id=1,
                    title="新", body="新", starts_at=NOW.isoformat(),
                    ends_at=(NOW + 9 * H).isoformat())
    assert refused.status == "rejected" and refused.result["reason"] == "illegal_transition"
    actions = [r[0] for r in db.execute(
        "SELECT action FROM audit_log WHERE entity = 'notice' ORDER BY id")]
    assert actions == ["post", "withdraw"]


def test_an_edit_moves_a_notice_to_another_building(db):
    b1, b2 = building_ids(db)[:2]
    notice_id = post(db, where=[f"building:{b1}"]).result["notice_id"]
    done = apply(db, "notice.edit", f"notice:{notice_id}", estate_id=1, title="改到2栋",
                 body="改期", starts_at=(NOW - H).isoformat(),
                 ends_at=(NOW + H).isoformat(), places=[f"building:{b2}"])
    assert done.ok and done.result["version"] == 2
    assert notices.for_place(db, unit_in(db, b1), NOW) == []
    assert titles(notices.for_place(db, unit_in(db, b2), NOW)) == ["改到2栋"]


# --- Pages ----------------------------------------------------------------------------------

def form(b_id: int | None = None, **extra) -> dict:
    data = {"op_id": op(), "estate_id": "1", "title": "1栋电梯保养", "body": "请走楼梯。",
            "starts_at": "2020-01-01T08:00", "ends_at": "2099-01-01T18:00", **extra}
    if b_id:
        data["places"] = [f"building:{b_id}"]
    return data


def units_of_two_buildings(app) -> tuple[int, int, int]:
    b1, b2 = [r["id"] for r in query(app, "SELECT id FROM buildings WHERE estate_id = 1"
                                           " ORDER BY id LIMIT 2")]
    unit_b2 = query(app, "SELECT id FROM units WHERE building_id = ? LIMIT 1", [b2])[0]["id"]
    return b1, query(app, "SELECT id FROM units WHERE building_id = ? LIMIT 1",
                     [b1])[0]["id"], unit_b2


def test_a_building_notice_is_on_its_units_qr_pages_only(app, client, auth):
    b1, unit_a, unit_b = units_of_two_buildings(app)
    auth.login("desk")
    sent = client.post("/notices/new", data=form(b1))
    assert sent.status_code == 303
    auth.logout()
    page_a = Page(client.get(f"/q/{token(app, 'unit', unit_a)}").get_data(as_text=True))
    page_b = Page(client.get(f"/q/{token(app, 'unit', unit_b)}").get_data(as_text=True))
    assert page_a.text("data-notice-title") == "1栋电梯保养"
    assert "请走楼梯。" in page_a.text("data-notice-body")
    assert page_b.find("data-notice-title") == []
    assert page_b.find("data-public-place") and page_b.find("data-place-notices") == []


def test_the_staff_place_page_shows_it(app, client, auth):
    b1, unit_a, unit_b = units_of_two_buildings(app)
    auth.login("desk")
    client.post("/notices/new", data=form(b1))
    page = Page(client.get(f"/places/unit/{unit_a}").get_data(as_text=True))
    assert page.text("data-notice-title") == "1栋电梯保养"
    other = Page(client.get(f"/places/unit/{unit_b}").get_data(as_text=True))
    assert other.find("data-notice-title") == []


def test_a_mistake_keeps_what_was_typed(app, client, auth):
    auth.login("desk")
    sent = client.post("/notices/new", data=form(title="停电", starts_at="2026-12-01T10:00",
                                                 ends_at="2026-12-01T08:00"))
    assert sent.status_code == 422
    page = Page(sent.get_data(as_text=True))
    assert page.errors == {"ends_at": "结束时间须晚于开始时间。"}
    assert page.values["title"] == "停电"
    assert page.values["starts_at"] == "2026-12-01T10:00"
    assert page.values["ends_at"] == "2026-12-01T08:00"
    garbled = client.post("/notices/new", data=form(starts_at="明天"))
    assert garbled.status_code == 422
    assert Page(garbled.get_data(as_text=True)).values["starts_at"] == "明天"
    assert query(app, "SELECT count(*) AS n FROM notices")[0]["n"] == 0


def test_list_edit_withdraw_through_pages(app, client, auth):
    auth.login("desk")
    notice_id = int(re.search(r"/notices/(\d+)$", client.post(
        "/notices/new", data=form()).headers["Location"]).group(1))
    listed = Page(client.get("/notices").get_data(as_text=True))
    assert [d["data-notice-row"] for d in listed.find("data-notice-row")] == [str(notice_id)]
    assert listed.find("data-notices", "current")
    edit = client.post(f"/notices/{notice_id}/edit", data=form(title="改了", base_version="1"))
    assert edit.status_code == 303
    stale = client.post(f"/notices/{notice_id}/edit", data=form(title="旧页", base_version="1"))
    assert stale.status_code == 409
    assert client.post(f"/notices/{notice_id}/withdraw",
                       data={"op_id": op(), "base_version": "2"}).status_code == 303
    page = Page(client.get(f"/notices/{notice_id}").get_data(as_text=True))
    assert page.find("data-notice-state", "withdrawn")
    assert page.text("data-notice-title") == "改了"
    assert page.find("data-form", "notice-edit") == []


def test_other_estates_and_field_roles_get_nothing(app, client, auth):
    auth.login("desk")
    client.post("/notices/new", data=form())
    auth.logout()
    auth.login("desk2")
    assert client.get("/notices/1").status_code == 404
    assert client.get("/notices/1.pdf").status_code == 404
    auth.logout()
    auth.login("tech")
    assert client.get("/notices").status_code == 403


def test_the_print_holds_the_title_and_the_code_opens_the_notice(app, client, auth):
    auth.login("desk")
    client.post("/notices/new", data=form())
    pdf = client.get("/notices/1.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "1栋电梯保养" in text and "翠湖花园" in text
    (row,) = query(app, "SELECT token FROM notices")
    auth.logout()
    public = Page(client.get(f"/n/{row['token']}").get_data(as_text=True))
    assert public.text("data-notice-title") == "1栋电梯保养"
    assert client.get("/n/not-a-notice").status_code == 404


def test_a_withdrawn_notice_leaves_the_qr_page_and_its_own_page_says_so(app, client, auth):
    b1, unit_a, _unit_b = units_of_two_buildings(app)
    auth.login("desk")
    client.post("/notices/new", data=form(b1))
    (row,) = query(app, "SELECT id, token FROM notices")
    client.post(f"/notices/{row['id']}/withdraw", data={"op_id": op()})
    auth.logout()
    qr_page = Page(client.get(f"/q/{token(app, 'unit', unit_a)}").get_data(as_text=True))
    assert qr_page.find("data-public-place") and qr_page.find("data-notice-title") == []
    public = Page(client.get(f"/n/{row['token']}").get_data(as_text=True))
    assert public.find("data-public-notice", "withdrawn")
    assert public.find("data-notice-title") == []


def test_the_place_page_offers_a_notice_for_its_building(app, client, auth):
    b1, unit_a, _unit_b = units_of_two_buildings(app)
    auth.login("desk")
    page = Page(client.get(f"/places/unit/{unit_a}").get_data(as_text=True))
    (link,) = page.find("data-place-action", "notice")
    form_page = Page(client.get(link["href"]).get_data(as_text=True))
    ticked = [d["data-place"] for d in form_page.find("data-place") if "checked" in d]
    assert ticked == [f"building:{b1}"]
    auth.logout()
    auth.login("tech")
    page = Page(client.get(f"/places/unit/{unit_a}").get_data(as_text=True))
    assert page.find("data-place-action", "notice") == []


def test_a_new_notice_starts_now_unless_changed(client, auth):
    auth.login("desk")
    page = Page(client.get("/notices/new").get_data(as_text=True))
    (start,) = [d for d in page.data if d.get("data-field") == "starts_at"]
    shown = datetime.strptime(start["value"], "%Y-%m-%dT%H:%M")
    now_local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs((now_local - shown).total_seconds()) < 120
