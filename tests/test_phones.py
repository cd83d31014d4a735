"""One rule for phone numbers, and a message that says what is wrong."""

import pytest

from webapp.domain import phones


@pytest.mark.parametrize("text", ["13800138000", "138-0013 8000", " 0755-8888 6666 ",
                                  "+86 138 0013 8000", "(0755)88886666", "12345",
                                  "１３８００１３８０００"])
def test_numbers_people_type_are_accepted(text):
    assert phones.problem(text) is None


@pytest.mark.parametrize("text, says", [
    ("", "Enter a phone number."),
    ("   ", "Enter a phone number."),
    ("123", "This number is too short: a phone number has at least 5 digits."),
    ("1234567890123456", "This number is too long: a phone number has at most 15 digits."),
    ("138abc", "A phone number has digits only (spaces, - and + are fine)."),
    ("138+0013", "A phone number has digits only (spaces, - and + are fine)."),
])
def test_each_problem_is_named(text, says):
    assert phones.problem(text) == says


def test_normalise_keeps_plain_digits_and_a_country_code():
    assert phones.normalise(" +86 (138) 0013-8000 ") == "+8613800138000"
    assert phones.normalise("１３８－００１３") == "1380013"
