"""The one reader of an amount in mg that the dose, prescription and ledger services share.

The forms turn what people type into a Decimal first (``parse_decimal``); this reader takes
that, or the number an API schema let through, and keeps the tenth of a mg HAB stores.
Bounds are each service's own and are pinned by their tests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils.translation import gettext
from hypothesis import given
from hypothesis import strategies as st

from hab.core.errors import FieldError, mg_entered
from hab.core.numbers import NumberError, parse_mg

MESSAGE = "Enter the amount in mg, e.g. 150 or 7.5."


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("150", "150.0"),
        ("7.5", "7.5"),
        (" 150 ", "150.0"),
        (150, "150.0"),
        (7.5, "7.5"),
        (0.1, "0.1"),
        (Decimal("399.5"), "399.5"),
        ("1e3", "1000.0"),
        ("+5", "5.0"),
    ],
)
def test_it_reads_a_number_to_the_tenth_of_a_mg(value, amount):
    assert str(parse_mg(value)) == amount


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("0.04", "0.0"),
        ("0.05", "0.0"),  # half to even, as the services always rounded
        ("0.15", "0.2"),
        ("2.25", "2.2"),
        ("2.35", "2.4"),
        ("5000.05", "5000.0"),
        ("5000.06", "5000.1"),
    ],
)
def test_it_rounds_to_the_tenth_half_to_even(value, amount):
    assert str(parse_mg(value)) == amount


@pytest.mark.parametrize("value", ["0", "-0", "-1", "-0.04", 0, -3])
def test_it_leaves_zero_and_negative_to_the_caller(value):
    # A withheld dose is 0 mg and a ledger correction may be negative: the service decides.
    assert parse_mg(value) == Decimal(str(value)).quantize(Decimal("0.1"))


@pytest.mark.parametrize(
    "value",
    [
        "7,5",  # a decimal comma never reaches a service: refused, not read as 75
        "399,5",
        "1.000,5",
        "1,000.5",
        "1,2,3",
        "",
        " ",
        None,
        "abc",
        "12,5x",
        "5,",
        "--1",
        "0x10",
        "½",
        "NaN",
        "nan",
        "sNaN",
        float("nan"),
        "Infinity",
        "-inf",
        float("inf"),
        "1e27",  # too large to keep a tenth of
        [150],
        {"mg": 150},
    ],
)
def test_it_refuses_what_is_no_amount(value):
    with pytest.raises(NumberError) as refused:
        parse_mg(value)
    assert refused.value.code == "mg"
    assert refused.value.reason == MESSAGE


def test_a_service_gets_the_field_and_the_one_message():
    errors: list[FieldError] = []
    assert mg_entered(errors, "doses_mg.morning", "7,5") is None
    assert errors == [FieldError("doses_mg.morning", gettext(MESSAGE))]


def test_a_service_gets_no_error_for_an_amount():
    errors: list[FieldError] = []
    assert mg_entered(errors, "quantity_mg", "7.46") == Decimal("7.5")
    assert errors == []


@given(
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=3)
)
def test_it_keeps_every_amount_to_its_tenth(amount):
    read = parse_mg(str(amount))
    assert read == amount.quantize(Decimal("0.1"))
    assert read.as_tuple().exponent == -1


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_it_reads_a_float_as_it_prints(number):
    # The API's floats are read by their shortest repr, never by their binary expansion.
    assert parse_mg(number) == Decimal(repr(number)).quantize(Decimal("0.1"))


@given(st.one_of(st.text(max_size=30), st.floats(), st.integers(), st.none()))
def test_it_answers_an_amount_or_a_reason_and_nothing_else(value):
    try:
        read = parse_mg(value)
    except NumberError as refused:
        assert refused.reason == MESSAGE
    else:
        assert read.is_finite()
        assert read.as_tuple().exponent == -1
