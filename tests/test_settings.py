"""Per-estate settings are read one way: settings.of_estates, for one estate or several,
in one statement (stored values over the defaults)."""

from datetime import datetime

from webapp.domain import figures, page_versions, periods, settings

NOW = datetime(2026, 12, 7, 2, 0)


def _reads(db, fn):
    statements = []
    db.conn.set_trace_callback(statements.append)
    try:
        out = fn()
    finally:
        db.conn.set_trace_callback(None)
    return out, [s for s in statements if "estate_settings" in s]


def test_stored_values_over_the_defaults_per_estate(db):
    settings.save(db, 2, {"notify_minutes": 9, "report_day": 20})
    found = settings.of_estates(db, [2, 1, 2])
    assert sorted(found) == [1, 2]
    defaults = {s.key: s.default for s in settings.SETTINGS}
    # The demo's 锦绣家园 (2) has a callback team.
    assert found[2] == {**defaults, "callback_policy": 1, "notify_minutes": 9,
                        "report_day": 20}
    assert found[1]["notify_minutes"] == settings.BY_KEY["notify_minutes"].default
    assert settings.estate_settings(db, 2) == found[2]
    assert settings.estate_settings(db, 1) == found[1]
    assert settings.of_estates(db, []) == {}


def test_a_key_no_longer_known_is_left_out(db):
    db.execute("INSERT INTO estate_settings VALUES (1, 'retired_setting', '3')")
    assert "retired_setting" not in settings.estate_settings(db, 1)


def test_several_estates_are_read_in_one_statement(db):
    settings.save(db, 2, {"target_on_time_pct": 80})
    sc, reads = _reads(db, lambda: figures.scope(db, [1, 2], periods.parse("2026-11", NOW), NOW))
    assert len(reads) == 1
    assert sc.setting("target_on_time_pct") == {1: 95, 2: 80}


def test_the_pages_version_moves_with_a_stored_setting(db):
    before, reads = _reads(db, lambda: page_versions.reference(db, [1, 2]))
    assert len(reads) == 1
    settings.save(db, 2, {"notify_minutes": 9})
    assert page_versions.reference(db, [1, 2]) != before
    assert page_versions.reference(db, [1]) == page_versions.reference(db, [1])
