"""Who sees residents' names and phones (domain/access.py), the files a user may read and
where each role lands; then the pages a field worker opens, parsed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

import sync
from webapp.db import connect
from webapp.domain import access, page_versions, people
from webapp.domain.handlers import HANDLERS
from webapp.domain.inspections import local_day

from .conftest import NOW
from .jobflow import job_in, new_job, run, step, uid
from .pages import Page

# The demo's first household (unit 1, 翠湖花园 1栋-101).
RESIDENT, PHONE = "杜英", "13698935572"
MASKED_NAME, MASKED_PHONE = "杜*", "136****5572"


def user(db, username):
    row = people.get_user(db, uid(db, username))
    assert row is not None
    return row, people.estate_ids(db, row["id"])


def full(db, username, unit_id=1, now=NOW):
    row, estates = user(db, username)
    return access.sees_residents(db, row, estates, unit_id, now)


def to_cleaner(db, job_id):
    out = run(db, "desk", "job.dispatch", f"job:{job_id}", to=f"user:{uid(db, 'cleaner')}")
    assert out.status == "applied", out.result


# --- The domain, on an in-memory database with a pinned clock.

@pytest.mark.parametrize(("name", "masked"), [("王小明", "王**"), ("王芳", "王*"), ("陈", "陈*"),
                                              ("", "")])
def test_a_name_keeps_only_its_surname(name, masked):
    assert access.mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [("13812345572", "138****5572"),
                                               ("057188886666", "057*****6666"),
                                               ("88886666", "****6666"),
                                               ("888866661", "*****6661"),
                                               ("0571888866", "******8866"),
                                               ("12345", "***45"), ("", ""),
                                               ("057188886666,12", "057*****6666,12")])
def test_a_phone_keeps_its_prefix_and_last_digits(phone, masked):
    assert access.mask_phone(phone) == masked
    # One star a hidden digit, and never fewer than four hidden (two for a short one).
    assert len(masked) == len(phone)
    assert masked.count("*") >= min(4, max(len(phone) - 2, 0))


@pytest.mark.parametrize("role", ["desk", "callback", "supervisor", "manager", "admin"])
def test_office_roles_see_every_household(db, role):
    username = {"desk": "desk", "callback": "callback", "supervisor": "supervisor",
                "manager": "manager", "admin": "admin"}[role]
    assert full(db, username)


def test_a_field_worker_sees_a_household_only_while_holding_its_job(db):
    assert not full(db, "cleaner") and not full(db, "tech")
    job = new_job(db)  # on unit 1, not dispatched yet
    assert not full(db, "cleaner")
    to_cleaner(db, job)
    assert full(db, "cleaner") and not full(db, "tech")
    assert not full(db, "cleaner", unit_id=2)  # only that unit
    step(db, job, "job.reassign")  # to tech2
    assert not full(db, "cleaner")
    assert full(db, "tech2")


def test_a_closed_job_no_longer_opens_the_household(db):
    job = job_in(db, "completed")  # the technician's, awaiting sign-off: still his work
    assert full(db, "tech")
    step(db, job, "job.signoff")
    assert not full(db, "tech")


def test_the_departments_pool_opens_it_to_those_who_may_take_the_job(db):
    job_in(db, "pooled")  # the maintenance pool, estate 1
    assert full(db, "tech") and full(db, "tech2")
    assert not full(db, "tech3")  # maintenance too, but of 锦绣家园 only
    assert not full(db, "cleaner") and not full(db, "guard")


def test_a_unit_on_todays_round_opens_it_for_that_day_only(db):
    cleaner = uid(db, "cleaner")
    round_id = db["inspection_rounds"].insert(
        {"estate_id": 1, "supervisor_id": cleaner, "day": local_day(NOW),
         "created_at": NOW.isoformat()}).last_pk
    db["round_places"].insert({"round_id": round_id, "place_type": "unit", "place_id": 1,
                               "template_id": 1, "position": 1})
    assert full(db, "cleaner")
    assert not full(db, "cleaner", now=NOW + timedelta(days=1))
    assert not full(db, "cleaner", unit_id=2)


def test_full_units_answers_for_many_units_at_once(db):
    job = new_job(db)
    to_cleaner(db, job)
    row, estates = user(db, "cleaner")
    assert access.full_units(db, row, estates, [1, 2, 3], NOW) == {1}
    desk, desk_estates = user(db, "desk")
    assert access.full_units(db, desk, desk_estates, [1, 2], NOW) == {1, 2}
    assert access.full_units(db, row, estates, [], NOW) == set()


def test_the_reporter_is_shown_to_the_jobs_holder_and_the_office(db):
    job_id = job_in(db, "arrived")
    job = db["jobs"].get(job_id)
    for username, expected in (("tech", True), ("tech2", False), ("desk", True),
                               ("cleaner", False)):
        row, estates = user(db, username)
        shown = access.job_contact(row, estates, job)
        assert shown.full is expected, username
        assert (shown.name, shown.phone) == (("陈", "13800000000") if expected
                                             else ("陈*", "138****0000"))


def test_files_are_read_within_the_estates_that_hold_them(db):
    sha = "ab" * 32
    db.execute("INSERT INTO files (sha256, mime, size, created_at) VALUES (?, 'image/png', 1,"
               " ?)", [sha, NOW.isoformat()])
    admin, _estates = user(db, "admin")
    assert access.readable_file(db, admin, [1, 2], sha) is None  # stored, held by no record
    job = new_job(db)
    db.execute("INSERT INTO job_photos (job_id, sha256, stage, op_id) VALUES (?, ?, 'report',"
               " 'p')", [job, sha])
    assert access.readable_file(db, admin, [1], sha) == "image/png"
    assert access.readable_file(db, admin, [2], sha) is None
    assert access.readable_file(db, admin, [], sha) is None


@pytest.mark.parametrize(("username", "endpoint"), [
    ("tech", "jobs.mine"), ("guard", "jobs.mine"), ("cleaner", "jobs.mine"),
    ("callback", "callbacks.today"), ("desk", "jobs.board"), ("supervisor", "jobs.board"),
    ("manager", "figures.home"), ("admin", "figures.home")])
def test_each_role_lands_where_its_work_is(db, username, endpoint):
    assert access.landing(user(db, username)[0]) == endpoint


def test_nobody_signed_in_lands_on_the_sign_in_page():
    assert access.landing(None) == "auth.login"


def test_a_kept_unit_page_changes_when_the_right_to_see_it_does(db):
    """Reassigned from one technician to another, the job stays 'assigned': the unit's
    list of jobs reads the same, but the first one may no longer see the household."""
    job = job_in(db, "assigned")
    row, estates = user(db, "tech")

    def version():
        return page_versions.unit_pages(
            db, [1], access.full_units(db, row, estates, [1], NOW))[1]

    before = version()
    assert version() == before  # stable while nothing changes
    step(db, job, "job.reassign")
    assert version() != before


# --- The pages, through the test client.

def residents_on(html: str) -> list[dict[str, str]]:
    page = Page(html)
    return [{**d, "text": page.texts.get(i, "")} for i, d in enumerate(page.data)
            if "data-resident" in d]


def cleaners_job_on_unit_1(app) -> int:
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job = new_job(db)
    to_cleaner(db, job)
    db.close()
    return job


@pytest.mark.parametrize("url", ["/units/1", "/places/unit/1"])
def test_a_cleaner_without_work_there_sees_the_household_masked(client, auth, url):
    auth.login("cleaner")
    html = client.get(url).get_data(as_text=True)
    rows = residents_on(html)
    assert rows and all("data-masked" in r for r in rows)
    assert MASKED_NAME in rows[0]["text"] and MASKED_PHONE in rows[0]["text"]
    assert PHONE not in html and RESIDENT not in html
    assert not [a for a in Page(html).data if a.get("href", "").startswith("tel:")]
    assert "tel:" not in html


@pytest.mark.parametrize("url", ["/units/1", "/places/unit/1"])
def test_a_cleaner_with_an_open_job_there_sees_it_in_full(app, client, auth, url):
    cleaners_job_on_unit_1(app)
    auth.login("cleaner")
    html = client.get(url).get_data(as_text=True)
    rows = residents_on(html)
    assert rows and not any("data-masked" in r for r in rows)
    assert RESIDENT in rows[0]["text"] and PHONE in rows[0]["text"]
    assert f'href="tel:{PHONE}"' in html


@pytest.mark.parametrize("url", ["/units/1", "/places/unit/1"])
def test_the_desk_sees_every_household_in_full(client, auth, url):
    auth.login("desk")
    html = client.get(url).get_data(as_text=True)
    rows = residents_on(html)
    assert rows and not any("data-masked" in r for r in rows)
    assert f'href="tel:{PHONE}"' in html


def reporter(html: str) -> dict[str, str]:
    page = Page(html)
    found = [{**d, "text": page.texts.get(i, "")} for i, d in enumerate(page.data)
             if "data-reporter" in d]
    assert len(found) == 1
    return found[0]


def test_the_job_page_masks_the_reporter_once_the_job_is_closed(app, client, auth):
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job = job_in(db, "completed")
    db.close()
    auth.login("tech")
    shown = reporter(client.get(f"/jobs/{job}").get_data(as_text=True))
    assert "data-masked" not in shown and "13800000000" in shown["text"]
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    step(db, job, "job.signoff")
    db.close()
    html = client.get(f"/jobs/{job}").get_data(as_text=True)
    shown = reporter(html)
    assert "data-masked" in shown and "138****0000" in shown["text"]
    assert "13800000000" not in html and "tel:" not in html
    auth.logout()
    auth.login("desk")
    shown = reporter(client.get(f"/jobs/{job}").get_data(as_text=True))
    assert "data-masked" not in shown and "13800000000" in shown["text"]


def test_a_unit_page_kept_on_the_phone_follows_the_rule(app, client, auth):
    """The phone keeps the unit page of the worker's job, in full; reassigned, the job
    and its unit leave the manifest, and the page fetched again is masked."""
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job = job_in(db, "assigned")  # 王师傅's, on unit 1
    db.close()
    auth.login("tech")
    manifest = client.get("/sync/manifest", headers={"Origin": "http://localhost"}).get_json()
    assert "/units/1" in manifest["pages"]
    rows = residents_on(client.get("/units/1").get_data(as_text=True))
    assert rows and not any("data-masked" in r for r in rows)
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    step(db, job, "job.reassign")
    db.close()
    manifest = client.get("/sync/manifest", headers={"Origin": "http://localhost"}).get_json()
    assert "/units/1" not in manifest["pages"]
    rows = residents_on(client.get("/units/1").get_data(as_text=True))
    assert rows and all("data-masked" in r for r in rows)


def test_the_residents_signature_is_read_by_the_technician_only_while_the_job_is_open(db):
    """As the job's contact: once the job is closed, its technician no longer reads the
    resident's signature (the office still does)."""
    sha = "cd" * 32
    db.execute("INSERT INTO files (sha256, mime, size, created_at) VALUES (?, 'image/png', 1,"
               " ?)", [sha, NOW.isoformat()])
    db.execute("INSERT INTO file_uploads (sha256, user_id, size, at) VALUES (?,?,1,?)",
               [sha, uid(db, "tech"), NOW.isoformat()])
    job = job_in(db, "completed")
    assert step(db, job, "job.signoff", {"outcome": "signed", "signer_name": "陈",
                                         "signature_image": sha}).status == "applied"
    tech, tech_estates = user(db, "tech")
    desk, desk_estates = user(db, "desk")
    assert db.execute("SELECT status FROM jobs WHERE id = ?", [job]).fetchone()[0] == "closed"
    assert access.readable_file(db, tech, tech_estates, sha) is None
    assert access.readable_file(db, desk, desk_estates, sha) == "image/png"


def test_whether_a_user_serves_an_estate_is_asked_one_way(db):
    from sync import Rejected

    desk2 = uid(db, "desk2")  # serves 锦绣家园 (2) only
    assert people.serves(db, desk2, 2)
    assert not people.serves(db, desk2, 1) and not people.serves(db, desk2, None)
    people.require_estate(db, desk2, 2)
    with pytest.raises(Rejected) as refused:
        people.require_estate(db, desk2, 1)
    assert refused.value.code == "forbidden"
    assert people.in_estates({"estate_id": 2}, [2])
    assert not people.in_estates({"estate_id": 1}, [2]) and not people.in_estates(None, [1])


@pytest.mark.parametrize("kind, target, payload, refused", [
    ("job.cancel", "job", {"reason": "误报"}, "forbidden"),
    ("estate.settings", "estate:1", {}, "forbidden"),
    ("estate.calendar", "estate:1", {"day": "2026-12-01", "kind": "holiday"}, "forbidden"),
    ("report.draft", "estate:1", {"kind": "month", "period": "2026-11"}, "forbidden"),
    ("notice.post", "notice:new", {"estate_id": 1}, "estate_id"),
    ("handover.checklist", "handover:checklist", {"estate_id": 1, "items": "钥匙"},
     "estate_id"),
    ("committee.member", "committee:new", {"estate_id": 1}, "estate_id"),
])
def test_each_area_refuses_a_record_of_an_estate_the_user_does_not_serve(
        db, kind, target, payload, refused):
    """The administrator here serves 锦绣家园 only; every area asks people.serves."""
    admin = uid(db, "admin")
    db.execute("DELETE FROM user_estates WHERE user_id = ? AND estate_id <> 2", [admin])
    db.execute("INSERT OR IGNORE INTO user_estates VALUES (?, 2)", [admin])
    if target == "job":
        target = f"job:{new_job(db)}"  # estate 1
    command = sync.Command(op_id=str(uuid.uuid4()), kind=kind, target=target,
                           payload=payload, user_id=admin, device_id="test")
    if refused == "forbidden":
        out = sync.apply(db, command, HANDLERS, NOW)
        assert (out.status, out.result["reason"]) == ("rejected", "forbidden"), out.result
    else:  # a form's estate not among the user's: the field says so
        with pytest.raises(sync.Invalid) as invalid:
            sync.apply(db, command, HANDLERS, NOW)
        assert refused in invalid.value.errors
