"""Times and durations are shown in the user's language and the estate's time zone."""

from datetime import datetime, timedelta

from webapp.i18n import duration, local_time


def test_durations_are_translated(app):
    with app.test_request_context():
        assert duration(timedelta(days=1, hours=23)) == "1天23小时"
        assert duration(timedelta(hours=2, minutes=5)) == "2小时05分"
        assert duration(timedelta(minutes=-7)) == "7分钟"


def test_english_durations_for_an_english_session(app):
    with app.test_request_context():
        from flask import session

        session["locale"] = "en"
        assert duration(timedelta(days=2, hours=1)) == "2 d 1 h"


def test_local_time_is_beijing_time(app):
    with app.test_request_context():
        assert local_time("2026-11-10T16:30:00") == "2026-11-11 00:30"
        assert local_time(datetime(2026, 11, 10, 0, 0)) == "2026-11-10 08:00"


def test_a_display_zone_other_than_the_rules_zone_is_refused(tmp_path):
    # Times shown and the dates rules count (numbers, working days, months) must agree.
    import pytest

    from webapp import create_app

    with pytest.raises(RuntimeError, match="Asia/Shanghai"):
        create_app({"DATABASE": str(tmp_path / "x.db"), "SECRET_KEY": "t",
                    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris"})


def test_a_label_takes_the_languages_colon(app):
    from flask import render_template_string, session

    page = "{{ _('On site')|colon }}{{ '<b>'|colon }}"
    with app.test_request_context():
        assert render_template_string(page) == "到场：&lt;b&gt;："
    with app.test_request_context():
        session["locale"] = "en"
        assert render_template_string(page) == "On site: &lt;b&gt;: "


def test_a_remark_takes_the_languages_brackets(app):
    from flask import render_template_string, session

    page = "张女士{{ _('Owner')|paren }}"
    with app.test_request_context():
        assert render_template_string(page) == "张女士（业主）"
    with app.test_request_context():
        session["locale"] = "en"
        assert render_template_string(page) == "张女士 (Owner)"
