"""Reporting periods: parsing, bounds in local time, the period before, months."""

from datetime import date, datetime

import pytest

from webapp.domain import periods

NOW = datetime(2026, 12, 7, 2, 0)  # UTC; 10:00 on 7 December in Shanghai


def test_empty_is_the_current_local_month():
    assert periods.parse("", NOW).key == "2026-12"
    # 23:30 UTC on 30 November is already 1 December in Shanghai.
    assert periods.parse(None, datetime(2026, 11, 30, 23, 30)).key == "2026-12"


@pytest.mark.parametrize("text,start,end", [
    ("2026-11", date(2026, 11, 1), date(2026, 12, 1)),
    ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
    ("2026-q1", date(2026, 1, 1), date(2026, 4, 1)),
    ("2026", date(2026, 1, 1), date(2027, 1, 1)),
    ("2026-11-03..2026-11-05", date(2026, 11, 3), date(2026, 11, 6)),
])
def test_parse(text, start, end):
    p = periods.parse(text, NOW)
    assert (p.start, p.end) == (start, end)
    assert periods.parse(p.key, NOW) == p


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26", "2026-11-05..2026-11-03",
                                  "2026-02-30..2026-03-01", "1900", "2016-01-01..2026-12-31",
                                  "drop table"])
def test_refused(text):
    with pytest.raises(ValueError):
        periods.parse(text, NOW)


def test_bounds_are_utc_of_local_midnight():
    assert periods.parse("2026-11", NOW).bounds() == ("2026-10-31T16:00:00",
                                                      "2026-11-30T16:00:00")


def test_previous():
    assert periods.parse("2026-01", NOW).previous().key == "2025-12"
    assert periods.parse("2026-Q1", NOW).previous().key == "2025-Q4"
    assert periods.parse("2026", NOW).previous().key == "2025"
    assert periods.parse("2026-11-03..2026-11-05", NOW).previous().key == \
        "2026-10-31..2026-11-02"


def test_months_cut_to_the_period():
    keys = [p.key for p in periods.parse("2026-10-15..2026-12-02", NOW).months()]
    assert keys == ["2026-10-15..2026-10-31", "2026-11", "2026-12-01..2026-12-02"]
    assert [p.key for p in periods.parse("2026-Q2", NOW).months()] == \
        ["2026-04", "2026-05", "2026-06"]


def test_trailing_months():
    keys = [p.key for p in periods.trailing_months(periods.parse("2026-Q1", NOW))]
    assert keys[0] == "2025-04" and keys[-1] == "2026-03" and len(keys) == 12
