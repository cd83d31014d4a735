"""The sign-off page and a job's page once signed: open before the work is recorded, the
resident's rating beside the signature, no empty card after."""

from webapp.db import connect

from .pages import Page


def test_sign_page_of_an_arrived_job_shows_no_empty_work_line(app, client, auth):
    # The phone keeps the sign page of an arrived job for offline use, before the
    # work is recorded: it must not print "None".
    from tests.jobflow import job_in

    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = job_in(db, "arrived")
    db.close()
    auth.login("tech")
    html = client.get(f"/jobs/{job_id}/sign").get_data(as_text=True)
    assert "None" not in html and Page(html).find("data-form", "signoff")


def test_sign_page_is_open_to_the_assignee_before_the_work_is_recorded(app, client, auth):
    # Offline, the technician may accept, arrive and finish with the page kept from
    # before: it must exist for each of those steps, and not once the job is signed.
    from tests.jobflow import job_in

    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    ids = {status: job_in(db, status) for status in ("accepted", "completed", "closed")}
    db.close()
    auth.login("tech")
    page = Page(client.get(f"/jobs/{ids['accepted']}/sign").get_data(as_text=True))
    line = page.find("data-work-done", f"job:{ids['accepted']}")
    assert page.find("data-form", "signoff") and len(line) == 1 and "hidden" in line[0]
    # ...but the form waits for the work: until then the page says to finish it first.
    (later,) = page.find("data-sign-later")
    (form_box,) = page.find("data-when-status", "completed")
    assert "hidden" not in later and "hidden" in form_box
    done = Page(client.get(f"/jobs/{ids['completed']}/sign").get_data(as_text=True))
    assert "hidden" in done.find("data-sign-later")[0]
    assert "hidden" not in done.find("data-when-status", "completed")[0]
    closed = client.get(f"/jobs/{ids['closed']}/sign")
    assert closed.status_code == 302
    assert closed.headers["Location"].endswith(f"/jobs/{ids['closed']}")
    auth.logout()
    auth.login("tech2")  # same estate, not the assignee: not their job
    assert client.get(f"/jobs/{ids['accepted']}/sign").status_code == 404


def test_the_sign_off_asks_the_residents_rating_where_the_signature_is_the_callback(
        app, client, auth):
    from tests.jobflow import job_in
    from webapp.domain.settings import save as save_settings

    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = job_in(db, "completed")
    db.conn.commit()
    db.close()
    auth.login("tech")
    page = Page(client.get(f"/jobs/{job_id}/sign").get_data(as_text=True))
    assert page.find("data-rating", "overall") and page.find("data-rate-each")
    assert {"rating_overall", "rating_quality", "rating_attitude", "rating_timeliness"} <= set(
        page.forms["job.signoff"])
    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    save_settings(db, 1, {"signature_counts_as_callback": 0})
    db.conn.commit()
    db.close()
    page = Page(client.get(f"/jobs/{job_id}/sign").get_data(as_text=True))
    assert not page.find("data-rating", "overall")


def test_a_closed_job_shows_the_technician_no_empty_card(app, client, auth):
    from tests.jobflow import job_in

    db = connect(app.config["DATABASE"], app.config["RECORDS_KEY"])
    job_id = job_in(db, "closed")
    db.conn.commit()
    db.close()
    auth.login("tech")
    page = Page(client.get(f"/jobs/{job_id}").get_data(as_text=True))
    assert page.find("data-signature") and page.find("data-history")
    assert not page.find("data-actions") and not page.find("data-job-steps")
