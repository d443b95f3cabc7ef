"""National identity numbers at the edges of every range, and the exact sentence a person
sees for each refusal (hab.patients.national_id). Written for the mutation run
(scripts/mutation): each test here fails when a limit moves by one or a message changes.

The numbers are completed with check digits worked out here, not by the module under test.
"""

from __future__ import annotations

import datetime

import pytest

from hab.patients.national_id import (
    NationalIdError,
    check_digits,
    make_synthetic,
    parse,
    resolve_birth_date,
)

W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
USE_REAL = "Please use the patient's fødselsnummer or D-nummer."


def weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


def complete(nine: str, *, k1_remainder: int = 0) -> str:
    """``nine`` with K1 chosen so that (S1 + K1) mod 11 is ``k1_remainder`` (0 classic,
    1-3 new style) and K2 by the classic rule. Fails the test when no digit fits."""
    k1 = next(k for k in range(10) if (weighted(nine, W1) + k) % 11 == k1_remainder)
    ten = f"{nine}{k1}"
    k2 = next(k for k in range(10) if (weighted(ten, W2) + k) % 11 == 0)
    return f"{ten}{k2}"


def first_completable(template: str, *, k1_remainder: int = 0) -> str:
    """The first number ``template`` (with ``{iii}`` for the individual number) that has
    check digits, trying individual numbers 000-499."""
    for iii in range(500):
        nine = template.format(iii=f"{iii:03d}")
        try:
            return complete(nine, k1_remainder=k1_remainder)
        except StopIteration:
            continue
    raise AssertionError(f"no number fits {template}")


def refusal(value: str, **kwargs: bool) -> NationalIdError:
    with pytest.raises(NationalIdError) as info:
        parse(value, **kwargs)
    return info.value


# --- what a person is told ---------------------------------------------------------------


def test_a_wrong_first_check_digit_is_explained() -> None:
    number = complete("170585123")
    wrong = f"{number[:9]}{(int(number[9]) + 5) % 10}{number[10]}"
    error = refusal(wrong)
    assert (error.code, error.message) == (
        "check_digit_1",
        "The national id is not valid: the first check digit (digit 10) does not match. "
        "Please check the number for typing errors.",
    )


def test_a_wrong_second_check_digit_is_explained() -> None:
    number = complete("170585123")
    error = refusal(f"{number[:10]}{(int(number[10]) + 1) % 10}")
    assert (error.code, error.message) == (
        "check_digit_2",
        "The national id is not valid: the second check digit (digit 11) does not match. "
        "Please check the number for typing errors.",
    )


def test_an_fh_number_is_explained() -> None:
    error = refusal(first_completable("812345{iii}"))
    assert (error.code, error.message) == (
        "unsupported_kind",
        "This is an FH-number (a help number used in the health service), "
        f"which is not accepted here. {USE_REAL}",
    )


def test_an_h_number_is_explained() -> None:
    error = refusal(first_completable("174585{iii}"))
    assert (error.code, error.message) == (
        "unsupported_kind",
        "This is an H-number (a temporary help number, month plus 40), "
        f"which is not accepted here. {USE_REAL}",
    )


def test_a_synthetic_number_is_explained() -> None:
    error = refusal(first_completable("178585{iii}"))
    assert (error.code, error.message) == (
        "synthetic_not_allowed",
        "This is a synthetic test number (month plus 80). "
        f"Synthetic test numbers are not accepted here. {USE_REAL}",
    )


MONTH_MESSAGE = "The national id is not valid: digits 3 and 4 must be the month of birth (01-12)."
DAY_MESSAGE = (
    "The national id is not valid: digits 1 and 2 must be the day of birth (01-31), "
    "or the day plus 40 for a D-nummer."
)


@pytest.mark.parametrize("month", ["00", "13", "39", "53", "80", "93", "99"])
def test_a_month_outside_every_range_is_explained(month: str) -> None:
    error = refusal(first_completable(f"17{month}85{{iii}}"), allow_synthetic=True)
    assert (error.code, error.message) == ("date", MONTH_MESSAGE)


@pytest.mark.parametrize("day", ["00", "32", "39", "40", "72", "79"])
def test_a_day_outside_both_ranges_is_explained(day: str) -> None:
    error = refusal(first_completable(f"{day}0585{{iii}}"))
    assert (error.code, error.message) == ("date", DAY_MESSAGE)


@pytest.mark.parametrize(
    ("day", "kind"), [("01", "fnr"), ("31", "fnr"), ("41", "dnr"), ("71", "dnr")]
)
def test_the_first_and_last_day_of_each_range_are_read(day: str, kind: str) -> None:
    nid = parse(first_completable(f"{day}0185{{iii}}"))
    assert (nid.kind, nid.day) == (kind, int(day) % 40)


def test_a_new_style_number_names_the_day_that_does_not_exist() -> None:
    number = first_completable("310485{iii}", k1_remainder=2)
    error = refusal(number)
    assert (error.code, error.message) == (
        "date",
        "The national id is not valid: 31 April does not exist in a year ending in 85.",
    )


def test_a_new_style_number_does_not_know_its_birth_year() -> None:
    nid = parse(first_completable("170585{iii}", k1_remainder=1))
    assert nid.new_style is True
    assert nid.birth_year_known is False
    assert (nid.birth_date, nid.sex) == (None, None)


def test_a_new_style_number_asks_for_the_birth_date() -> None:
    nid = parse(first_completable("170585{iii}", k1_remainder=3))
    with pytest.raises(NationalIdError) as info:
        resolve_birth_date(nid, None)
    assert (info.value.code, info.value.message) == (
        "birth_date_required",
        "This national id does not show the century of birth. Please enter the birth date.",
    )


def test_a_birth_date_that_does_not_fit_a_new_style_number_is_explained() -> None:
    nid = parse(first_completable("170485{iii}", k1_remainder=1))
    with pytest.raises(NationalIdError) as info:
        resolve_birth_date(nid, datetime.date(1986, 4, 17))
    assert (info.value.code, info.value.message) == (
        "birth_date_mismatch",
        "The birth date entered (17 April 1986) does not match the national id, "
        "which gives 17 April of a year ending in 85.",
    )


# --- the month limits of synthetic numbers -------------------------------------------------


@pytest.mark.parametrize(
    ("month", "code"),
    [
        ("80", "date"),
        ("81", "synthetic_not_allowed"),
        ("92", "synthetic_not_allowed"),
        ("93", "date"),
    ],
)
def test_synthetic_months_are_81_to_92(month: str, code: str) -> None:
    assert refusal(first_completable(f"17{month}85{{iii}}")).code == code


@pytest.mark.parametrize(("month", "read"), [("81", 1), ("92", 12)])
def test_the_first_and_last_synthetic_month_are_read(month: str, read: int) -> None:
    nid = parse(first_completable(f"17{month}85{{iii}}"), allow_synthetic=True)
    assert (nid.synthetic, nid.month) == (True, read)


@pytest.mark.parametrize(
    ("month", "code"), [("41", "unsupported_kind"), ("52", "unsupported_kind")]
)
def test_h_number_months_are_41_to_52(month: str, code: str) -> None:
    assert refusal(first_completable(f"17{month}85{{iii}}")).code == code


# --- the helpers' own refusals ----------------------------------------------------------


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678a", ""])
def test_check_digits_says_what_it_needs(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^check_digits needs exactly 9 digits\.$"):
        check_digits(bad)


@pytest.mark.parametrize(("value", "name"), [(17058512311, "int"), (None, "NoneType")])
def test_parse_names_the_type_it_was_given(value, name: str) -> None:
    with pytest.raises(TypeError, match=rf"^parse expects a string, not {name}\.$"):
        parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("individual", [-1, 1000])
def test_make_synthetic_takes_individual_numbers_0_to_999(individual: int) -> None:
    with pytest.raises(
        ValueError, match=rf"^The individual number must be 0-999 \(got {individual}\)\.$"
    ):
        make_synthetic(datetime.date(2001, 1, 1), individual)


@pytest.mark.parametrize("individual", [0, 999])
def test_make_synthetic_accepts_the_first_and_last_individual_number(individual: int) -> None:
    birth = datetime.date(1999, 1, 1) if individual == 0 else datetime.date(2001, 1, 1)
    number = make_synthetic(birth, individual) or make_synthetic(
        birth + datetime.timedelta(days=1), individual
    )
    assert number is not None
    assert number[6:9] == f"{individual:03d}"


def test_make_synthetic_names_the_individual_number_and_year_it_refuses() -> None:
    with pytest.raises(
        ValueError, match=r"^The individual number 500 is not used for people born in 1985\.$"
    ):
        make_synthetic(datetime.date(1985, 5, 17), 500)
