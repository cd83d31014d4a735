"""One rule for phone numbers, and a message that says what is wrong."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.domain import phones


@pytest.mark.parametrize("text", ["13800138000", "138-0013 8000", " 0755-8888 6666 ",
                                  "+86 138 0013 8000", "(0755)88886666", "010 6552 9988",
                                  "１３８００１３８０００", "19912345678", "400-820-8820",
                                  "0755-8600 1234 转 12", "+852 9123 4567"])
def test_numbers_people_type_are_accepted(text):
    assert phones.problem(text) is None


@pytest.mark.parametrize("text, says", [
    ("", "Enter a phone number."),
    ("   ", "Enter a phone number."),
    ("123", "This number is too short: a mobile has 11 digits, a landline its area code "
            "and 7 or 8 digits."),
    ("12345", "This number is too short: a mobile has 11 digits, a landline its area code "
              "and 7 or 8 digits."),
    # a mobile with a digit missing, or one too many: 5 to 15 digits passed before
    ("1380013800", "A mobile number has 11 digits."),
    ("138001380001", "A mobile number has 11 digits."),
    ("12800138000", "A mobile number starts with 13 to 19."),
    ("0755-860", "A landline is its area code and number, such as 0755-8600 1234."),
    ("8600 1234", "Add the area code, such as 0755-8600 1234."),
    ("+999 123 4567", "This number is not valid for its country code."),
    ("1234567890123456", "A mobile number has 11 digits."),
    ("138abc", "A phone number has digits only (spaces, - and + are fine; 转 before an "
               "extension)."),
    ("138+0013", "A phone number has digits only (spaces, - and + are fine; 转 before an "
                 "extension)."),
])
def test_each_problem_is_named(text, says):
    assert phones.problem(text) == says


@pytest.mark.parametrize("text, stored", [
    (" +86 (138) 0013-8000 ", "13800138000"),
    ("0086 138 0013 8000", "13800138000"),
    ("(0755) 8600-1234", "075586001234"),
    # the extension after a comma: a phone's dialler pauses there and dials it
    ("0755-8600 1234 转 12", "075586001234,12"),
    ("010-65529988 ext 7", "01065529988,7"),
    ("+852 9123 4567", "+85291234567"),
    ("１３８－００１３", "1380013"),  # not a number: its digits, shown back as typed
])
def test_normalise_stores_what_a_phone_dials(text, stored):
    assert phones.normalise(text) == stored


def test_a_stored_number_reads_back_as_valid():
    for text in ("0755-8600 1234 转 12", "+852 9123 4567", "138 0013 8000"):
        assert phones.problem(phones.normalise(text)) is None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(alphabet=st.sampled_from("0123456789１３８+-() 转x#,.ext分机a\u3000"), max_size=40)
       | st.text(max_size=300))
def test_any_typed_text_gets_an_answer_not_an_exception(text):
    # Whatever is typed, the rule answers (a message or None) and a number it accepts
    # is stored as one it accepts again.
    wrong = phones.problem(text)
    if wrong is None:
        assert phones.problem(phones.normalise(text)) is None
