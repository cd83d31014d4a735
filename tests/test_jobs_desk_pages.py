"""The desk's pages for a job after intake: correcting it, and whom to dispatch it to."""

import re

from webapp.db import connect

from .pages import Page
from .test_jobs_pages import INTAKE, create, post, user_id


def test_the_desk_corrects_a_job_on_its_edit_page(app, client, auth):
    auth.login("desk")
    created = post(client, "/jobs/new", **{**INTAKE, "category": "other"})
    job_url = created.headers["Location"]
    detail = Page(client.get(job_url).get_data(as_text=True))
    [link] = detail.find("data-action", "edit")
    page = Page(client.get(link["href"]).get_data(as_text=True))
    assert page.values["unit_id"] == "1" and page.textareas["description"] == INTAKE[
        "description"]
    bad = post(client, link["href"], category="plumbing", job_class="emergency",
               description="x", unit_id="1", reason="分类有误")
    assert bad.status_code == 422
    kept = Page(bad.get_data(as_text=True))
    assert kept.errors["description"] == "请描述问题。" and kept.values["reason"] == "分类有误"
    good = post(client, link["href"], category="plumbing", job_class="emergency",
                description="厨房水管爆裂", unit_id="1", unit_query="1栋-101")
    assert good.status_code == 303 and good.headers["Location"].endswith(job_url)
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = int(job_url.rsplit("/", 1)[1])
    row = db.execute("SELECT category, job_class, description FROM jobs WHERE id = ?",
                     [job_id]).fetchone()
    db.close()
    assert tuple(row) == ("plumbing", "emergency", "厨房水管爆裂")
    page = Page(client.get(job_url).get_data(as_text=True))
    assert page.text("data-event", "edit").endswith("客服更正")


def test_dispatch_offers_the_jobs_department_first_with_each_persons_load(app, client, auth):
    from tests.jobflow import job_in

    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    for _ in range(2):
        job_in(db, "accepted")  # two more open jobs for 王师傅 (tech)
    db.conn.commit()
    loads = dict(db.execute(
        "SELECT assignee_id, count(*) FROM jobs WHERE estate_id = 1 AND status IN "
        "('assigned', 'accepted', 'arrived', 'paused') GROUP BY assignee_id").fetchall())
    db.close()
    auth.login("desk")
    job_id = create(client)  # a plumbing job: 维修部's
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    page = Page(html)
    groups = [g["data-dispatch-group"] for g in page.find("data-dispatch-group")]
    assert groups == ["fits", "others"]
    fits_block = html.split('data-dispatch-group="fits"')[1].split("</optgroup>")[0]
    people = re.findall(r'value="user:(\d+)" data-open-jobs="(\d+)"', fits_block)
    assert people and all(int(n) == loads.get(int(uid), 0) for uid, n in people)
    assert [int(n) for _, n in people] == sorted(int(n) for _, n in people)
    others = html.split('data-dispatch-group="others"')[1].split("</optgroup>")[0]
    assert user_id(app, "tech") in [int(u) for u, _ in people]
    assert user_id(app, "guard") in [int(u) for u in re.findall(r'value="user:(\d+)"', others)]
    pools = re.findall(r'value="pool:(\w+)"', html)
    assert pools[0] == "maintenance"
