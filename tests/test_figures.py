"""The figures' framework: scope, targets, change against the previous period."""

from datetime import datetime

from webapp.domain import figures, periods, settings

NOW = datetime(2026, 12, 7, 2, 0)


def _job(db, estate_id, number, received_at):
    db["jobs"].insert({
        "number": number, "estate_id": estate_id, "reporter_name": "王", "reporter_phone":
        "13800000000", "source": "phone", "category": "plumbing", "department": "maintenance",
        "job_class": "small", "description": "漏水", "status": "new",
        "received_at": received_at, "updated_at": received_at})


def _estates(db):
    """Two estates of their own, so the demo's jobs stay out of the counts."""
    return [db["estates"].insert({"code": code, "name": code}).last_pk for code in ("F1", "F2")]


def test_count_opens_exactly_what_it_counted(db):
    domain_db = db
    e1, e2 = _estates(db)
    _job(domain_db, e1, "J1", "2026-10-31T16:00:00")  # 1 November, 00:00 local: counts
    _job(domain_db, e1, "J2", "2026-10-31T15:59:59")  # still October locally
    _job(domain_db, e2, "J3", "2026-11-15T00:00:00")  # the other estate
    _job(domain_db, e1, "J4", "2026-10-10T00:00:00")
    sc = figures.scope(domain_db, [e1], periods.parse("2026-11", NOW), NOW)
    ev = figures.evaluate(domain_db, "jobs_reported", sc)
    assert ev.result.value == 1
    ids = [r[0] for r in domain_db.execute(ev.result.records.sql, ev.result.records.params)]
    assert [domain_db["jobs"].get(i)["number"] for i in ids] == ["J1"]
    assert ev.previous.value == 2 and ev.change == -1
    both = figures.scope(domain_db, [e1, e2], periods.parse("2026-11", NOW), NOW)
    assert figures.evaluate(domain_db, "jobs_reported", both).result.value == 2


def test_target_is_the_strictest_when_estates_differ(db):
    domain_db = db
    e1, e2 = _estates(db)
    settings.save(domain_db, e2, {"target_on_time_pct": 98, "target_rework_pct": 5})
    fig = figures.Figure("x", "x", "repairs", "percent", lambda db, sc: None,
                         "target_on_time_pct")
    low = figures.Figure("y", "y", "repairs", "percent", lambda db, sc: None,
                         "target_rework_pct", lower_is_better=True)
    one = figures.scope(domain_db, [e1], periods.parse("2026-11", NOW), NOW)
    both = figures.scope(domain_db, [e1, e2], periods.parse("2026-11", NOW), NOW)
    assert figures.target(fig, one) == 95 and figures.target(fig, both) == 98
    assert figures.target(low, both) == 2
    ev = figures.Evaluated(low, figures.Result(2.5), figures.Result(None), 2)
    assert ev.meets is False and ev.change is None


def test_every_figure_defines_itself():
    for fig in figures.FIGURES.values():
        assert len(fig.definition) > 40, fig.key


def test_a_building_is_named_with_its_estate_only_when_the_scope_has_several(db):
    e1, e2 = _estates(db)
    one = figures.scope(db, [e1], periods.parse("2026-11", NOW), NOW)
    both = figures.scope(db, [e1, e2], periods.parse("2026-11", NOW), NOW)
    assert one.place("F1", "1栋") == "1栋"
    assert both.place("F1", "1栋") == "F1 · 1栋"
