"""The one parser behind every quantity field: it reads what was typed or refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hab.core.numbers import MAX_LENGTH, NumberError, parse_decimal


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("399,5", "399.5"),
        ("399.5", "399.5"),
        (" 7,50 ", "7.50"),
        ("150", "150"),
        ("0", "0"),
        ("0,125", "0.125"),
        (",5", "0.5"),
        ("1,50", "1.50"),
        ("1234,567", "1234.567"),
        ("-2,5", "-2.5"),
        ("\u22122,5", "-2.5"),
        ("+2,5", "2.5"),
        ("1 000,5", "1000.5"),
        ("1\u00a0000,5", "1000.5"),
        ("941\u202f780,7", "941780.7"),
        ("12 345 678", "12345678"),
        ("007", "7"),
    ],
)
def test_it_reads_a_decimal_comma_or_point_exactly(text, value):
    assert parse_decimal(text) == Decimal(value)
    assert str(parse_decimal(text)) == value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1.000,5", "ambiguous"),
        ("1,000.5", "ambiguous"),
        ("12,5x", "character"),
        ("x12", "character"),
        ("1,2,3", "marks"),
        ("1.2.3", "marks"),
        ("", "empty"),
        ("   ", "empty"),
        ("-", "empty"),
        ("--1", "sign"),
        ("+-1", "sign"),
        ("1-2", "sign"),
        ("1e3", "character"),
        ("1E3", "character"),
        ("∞", "character"),
        ("NaN", "character"),
        ("Infinity", "character"),
        ("½", "character"),
        ("\u0663", "character"),  # an Arabic-Indic three
        ("5,", "fraction"),
        ("5.", "fraction"),
        ("5, 5", "fraction"),
        ("1 00", "grouping"),
        ("1 0000", "grouping"),
        ("1  000", "grouping"),
        ("0 100", "grouping"),
        ("1 000 ,5", "grouping"),
        ("1,500", "thousands"),
        ("12.345", "thousands"),
        ("999,999", "thousands"),
    ],
)
def test_it_refuses_what_it_cannot_read_without_guessing(text, code):
    with pytest.raises(NumberError) as refused:
        parse_decimal(text)
    assert refused.value.code == code
    assert refused.value.reason


def test_a_refused_character_is_named():
    with pytest.raises(NumberError) as refused:
        parse_decimal("12,5x")
    assert refused.value.char == "x"


def test_three_decimals_are_read_where_no_thousands_reading_exists():
    # just under and over the ambiguous shape: four digits before, two or four after,
    # or a zero before
    assert parse_decimal("1000,500") == Decimal("1000.5")
    assert parse_decimal("1,50") == Decimal("1.5")
    assert parse_decimal("1,5000") == Decimal("1.5")
    assert parse_decimal("0.500") == Decimal("0.5")


def test_its_length_limit_is_at_forty_characters():
    assert parse_decimal("1" * MAX_LENGTH) == Decimal("1" * MAX_LENGTH)
    with pytest.raises(NumberError) as refused:
        parse_decimal("1" * (MAX_LENGTH + 1))
    assert refused.value.code == "too_long"


def _typed(value: Decimal, mark: str, group: str = "") -> str:
    """``value`` as a person writes it: ``mark`` before the decimals, ``group`` between
    thousands (Norwegian pages: a no-break space)."""
    sign = value.as_tuple().sign
    text = f"{abs(value):f}"
    whole, _, fraction = text.partition(".")
    if group:
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = group.join([whole, *groups])
    return ("-" if sign else "") + whole + (mark + fraction if fraction else "")


def _ambiguous(text: str) -> bool:
    body = text.lstrip("-")
    for mark in ",.":
        whole, found, fraction = body.partition(mark)
        if found and len(fraction) == 3 and 1 <= len(whole) <= 3 and whole.strip("0"):
            return True
    return False


# Amounts as HAB stores them: up to three decimals (mg, ‰, NOK, FTEs), signed.
amounts = st.integers(min_value=0, max_value=3).flatmap(
    lambda places: st.decimals(
        min_value=Decimal("-9999999999.999"),
        max_value=Decimal("9999999999.999"),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )
)


@given(amounts, st.sampled_from([(",", ""), (",", "\u00a0"), (",", " "), (".", "")]))
def test_any_amount_written_the_norwegian_or_english_way_reads_back_exactly(value, style):
    mark, group = style
    text = _typed(value, mark, group)
    assume(not _ambiguous(text))
    read = parse_decimal(text)
    assert read == value
    # exactly: the same digits, not a rounded neighbour
    assert read.as_tuple().digits == Decimal(f"{abs(value):f}").as_tuple().digits


@given(
    st.integers(min_value=1, max_value=999),
    st.integers(min_value=0, max_value=999),
    st.sampled_from([",", "."]),
    st.sampled_from(["", "-"]),
)
def test_an_amount_that_looks_like_thousands_is_refused_not_misread(whole, part, mark, sign):
    with pytest.raises(NumberError) as refused:
        parse_decimal(f"{sign}{whole}{mark}{part:03d}")
    assert refused.value.code == "thousands"


@given(st.text(max_size=20))
def test_any_text_is_read_exactly_or_refused(text):
    """Never silently shortened: a number that is read has every digit typed, in order."""
    try:
        value = parse_decimal(text)
    except NumberError:
        return
    typed_digits = "".join(c for c in text if c in "0123456789").lstrip("0")
    read_digits = "".join(c for c in f"{abs(value):f}" if c.isdigit()).lstrip("0")
    assert typed_digits == read_digits
    if value != 0:
        assert (value < 0) == text.strip().startswith(("-", "\u2212"))


@given(
    st.decimals(min_value=0, max_value=10**6, places=1, allow_nan=False),
    st.sampled_from(["x", "e3", "mg", "%", "!", "..", ",,", "a"]),
)
def test_garbage_after_a_number_is_refused(value, junk):
    with pytest.raises(NumberError):
        parse_decimal(f"{value:f}".replace(".", ",") + junk)
