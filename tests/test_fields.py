"""The field kit (sync/fields.py): each parser takes what a form or a phone may send and
answers a value or Invalid, never another exception."""

from datetime import date, datetime

import pytest

from sync import Invalid, fields


@pytest.mark.parametrize("value", [0, -1, 2**63, 10**30, "9" * 5000, "²", "1.5", 1.0, True,
                                   None, [], {}, "", " ", "0x10"])
def test_record_ids_out_of_range_or_not_numbers_are_invalid(value):
    with pytest.raises(Invalid) as caught:
        fields.record_id(value, "job")
    assert caught.value.errors == {"job": fields.BAD_ID}


@pytest.mark.parametrize(("value", "expected"), [(1, 1), ("42", 42), (" 7 ", 7),
                                                 (2**63 - 1, 2**63 - 1), ("١٢", 12)])
def test_record_ids_in_range_are_read(value, expected):
    assert fields.record_id(value, "job") == expected


def test_bounded_integers_say_the_callers_message():
    assert fields.integer("5", "n", 1, 5) == 5
    with pytest.raises(Invalid) as caught:
        fields.integer("6", "n", 1, 5, "1 to 5")
    assert caught.value.errors == {"n": "1 to 5"}
    assert fields.optional_integer("", "n", 1, 5) is None


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01",
                                   "2026-02-30", "x", 20261110, None])
def test_days_outside_the_years_or_unreadable_are_invalid(value):
    with pytest.raises(Invalid):
        fields.day(value, "day")


def test_days_and_times_inside_the_years_are_read():
    assert fields.day("2026-11-10", "day") == date(2026, 11, 10)
    assert fields.utc("2026-11-10T17:00+08:00", "at") == datetime(2026, 11, 10, 9, 0)
    assert fields.utc("2026-11-10T09:00:00Z", "at") == datetime(2026, 11, 10, 9, 0)


@pytest.mark.parametrize("value", [None, 12, True, ["2026-11-10"], "0001-01-01T00:00+08:00",
                                   "9999-12-31T23:59:59-05:00", "not a time"])
def test_a_device_time_that_cannot_be_read_is_absent(value):
    assert fields.optional_utc(value) is None


def test_text_drops_lone_surrogates_and_is_cut():
    assert fields.text("a\ud800b\udfffc") == "abc"
    assert fields.text("修" * 5000, 10) == "修" * 10
    assert fields.text(["not", "text"]) == ""
    assert fields.text("😀") == "😀"  # a real pair is kept


def test_bounded_refuses_long_and_deep_and_cleans_the_rest():
    clean = fields.bounded({"note": "a\ud800", "n": 10**30, "f": float("nan"),
                            "photos": ["x\udc00"], "strokes": "s" * 100_000})
    assert clean == {"note": "a", "n": str(10**30), "f": None, "photos": ["x"],
                     "strokes": "s" * 100_000}
    with pytest.raises(Invalid) as caught:
        fields.bounded({"note": "a" * (fields.STORED_LIMIT + 1)})
    assert caught.value.errors == {"note": fields.TOO_LONG}
    deep: object = "x"
    for _ in range(fields.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(Invalid):
        fields.bounded({"results": deep})


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000,
                                  "[" * (fields.JSON_MAX_DEPTH + 1) + "]" * (
                                      fields.JSON_MAX_DEPTH + 1), "{", b"\xff"])
def test_a_body_too_deep_or_not_json_is_a_value_error(body):
    with pytest.raises(ValueError):
        fields.loads(body)


def test_depth_counts_without_recursion():
    assert fields.depth("x") == 0
    assert fields.depth({"a": [1, {"b": []}]}) == 4  # dict, list, dict, list
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    assert fields.depth(deep) == 100_000
