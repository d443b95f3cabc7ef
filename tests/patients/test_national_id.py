"""Tests of the Norwegian national identity number rules (hab.patients.national_id).

Plain functions, no Django, no database. Expected check digits are worked out from the
published weights in the comments, and re-computed by helpers written here (not by the
module under test).
"""

import datetime
import pickle

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hab.patients.national_id import (
    NationalId,
    NationalIdError,
    check_digits,
    make_synthetic,
    parse,
    resolve_birth_date,
)

# The published weights, written out again here so the tests do not trust the module's copy.
W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# No example database: the tests must not write files into the project.
PROPERTY = settings(database=None, max_examples=300, deadline=None)


def weighted(digits: str, weights: tuple[int, ...]) -> int:
    assert len(digits) == len(weights)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True))


def k1_remainder(number: str) -> int:
    """(weighted sum of digits 1-9 + K1) mod 11."""
    return (weighted(number[:9], W1) + int(number[9])) % 11


def k2_remainder(number: str) -> int:
    """(weighted sum of digits 1-10 + K2) mod 11."""
    return (weighted(number[:10], W2) + int(number[10])) % 11


def complete_classic(nine: str) -> str | None:
    """Append K1 and K2 by trying every digit (deliberately not the module's arithmetic)."""
    k1 = next((k for k in range(10) if (weighted(nine, W1) + k) % 11 == 0), None)
    if k1 is None:
        return None
    ten = f"{nine}{k1}"
    k2 = next((k for k in range(10) if (weighted(ten, W2) + k) % 11 == 0), None)
    if k2 is None:
        return None
    return f"{ten}{k2}"


def error_of(value: str, **kwargs: bool) -> NationalIdError:
    with pytest.raises(NationalIdError) as info:
        parse(value, **kwargs)
    return info.value


# ---------------------------------------------------------------------------------------
# Hand-computed classic numbers
# ---------------------------------------------------------------------------------------


def test_hand_computed_fodselsnummer_male() -> None:
    # 17 May 1985, individual number 123.
    # S1 = 1*3 + 7*7 + 0*6 + 5*1 + 8*8 + 5*9 + 1*4 + 2*5 + 3*2
    #    = 3 + 49 + 0 + 5 + 64 + 45 + 4 + 10 + 6 = 186; 186 = 16*11 + 10, so K1 = 11 - 10 = 1.
    # S2 = 1*5 + 7*4 + 0*3 + 5*2 + 8*7 + 5*6 + 1*5 + 2*4 + 3*3 + 1*2
    #    = 5 + 28 + 0 + 10 + 56 + 30 + 5 + 8 + 9 + 2 = 153; 153 = 13*11 + 10, so K2 = 1.
    # Individual number 123 is in 000-499, so the year is 1985. Digit 9 is 3 (odd): male.
    assert weighted("170585123", W1) == 186
    assert (186 + 1) % 11 == 0
    assert weighted("1705851231", W2) == 153
    assert (153 + 1) % 11 == 0

    nid = parse("17058512311")
    assert nid == NationalId(
        value="17058512311",
        kind="fnr",
        synthetic=False,
        new_style=False,
        day=17,
        month=5,
        year_2=85,
        birth_date=datetime.date(1985, 5, 17),
        sex="male",
        birth_year_known=True,
    )


def test_hand_computed_fodselsnummer_female() -> None:
    # 17 May 1985, individual number 126.
    # S1 = 1*3 + 7*7 + 0*6 + 5*1 + 8*8 + 5*9 + 1*4 + 2*5 + 6*2 = 192; 192 mod 11 = 5, K1 = 6.
    # S2 = 1*5 + 7*4 + 0*3 + 5*2 + 8*7 + 5*6 + 1*5 + 2*4 + 6*3 + 6*2 = 172;
    #      172 mod 11 = 7, K2 = 4.  Digit 9 is 6 (even): female.
    assert weighted("170585126", W1) == 192
    assert (192 + 6) % 11 == 0
    assert weighted("1705851266", W2) == 172
    assert (172 + 4) % 11 == 0

    nid = parse("17058512664")
    assert nid.sex == "female"
    assert nid.birth_date == datetime.date(1985, 5, 17)
    assert nid.new_style is False


def test_hand_computed_d_number() -> None:
    # D-nummer for 17 May 1985: first digit 1 + 4 = 5, so the day digits are 57.
    # S1 = 5*3 + 7*7 + 0*6 + 5*1 + 8*8 + 5*9 + 1*4 + 2*5 + 3*2 = 198 = 18*11, K1 = 0.
    # S2 = 5*5 + 7*4 + 0*3 + 5*2 + 8*7 + 5*6 + 1*5 + 2*4 + 3*3 + 0*2 = 171;
    #      171 = 15*11 + 6, K2 = 5.
    assert weighted("570585123", W1) == 198
    assert weighted("5705851230", W2) == 171
    assert (171 + 5) % 11 == 0

    nid = parse("57058512305")
    assert nid.kind == "dnr"
    assert (nid.day, nid.month, nid.year_2) == (17, 5, 85)
    assert nid.birth_date == datetime.date(1985, 5, 17)
    assert nid.sex == "male"
    assert nid.synthetic is False


@pytest.mark.parametrize(
    ("number", "kind", "birth_date"),
    [
        ("01058510072", "fnr", datetime.date(1985, 5, 1)),
        ("31058510095", "fnr", datetime.date(1985, 5, 31)),
        # D-nummer day range 41-71 is day 1-31 plus 40.
        ("41058510066", "dnr", datetime.date(1985, 5, 1)),
        ("71058510089", "dnr", datetime.date(1985, 5, 31)),
    ],
)
def test_day_range_boundaries(number: str, kind: str, birth_date: datetime.date) -> None:
    assert k1_remainder(number) == 0
    assert k2_remainder(number) == 0
    nid = parse(number)
    assert nid.kind == kind
    assert nid.birth_date == birth_date


@pytest.mark.parametrize(
    "typed",
    [
        "170585 12311",
        "170585  12311",
        " 17058512311 ",
        "170 585 123 11",
        "17058512311\n",
        "170585\u00a012311",  # non-breaking space, common when pasting from documents
        "170585\t12311",
    ],
)
def test_spaces_are_stripped(typed: str) -> None:
    assert parse(typed).value == "17058512311"


# ---------------------------------------------------------------------------------------
# Invalid input: one test per error code at least
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "1705851231a",
        "170585-12311",
        "17.05.85 12311",
        "+4717058512311",
        # Unicode digits that str.isdigit() accepts but are not 0-9:
        "\u0661\u0667\u0660\u0665\u0668\u0665\u0661\u0662\u0663\u0661\u0661",  # Arabic-Indic
        "\uff11\uff17\uff10\uff15\uff18\uff15\uff11\uff12\uff13\uff11\uff11",  # full width
        "1705851231\u00b9",  # superscript one
        "abc",
    ],
)
def test_not_digits(typed: str) -> None:
    error = error_of(typed)
    assert error.code == "not_digits"
    assert error.message == "The national id may only contain digits 0-9 (and spaces)."


@pytest.mark.parametrize(
    ("typed", "got"),
    [("", 0), ("   ", 0), ("1705851231", 10), ("170585123110", 12), ("1", 1)],
)
def test_length(typed: str, got: int) -> None:
    error = error_of(typed)
    assert error.code == "length"
    assert error.message == f"The national id must have 11 digits (got {got})."


def test_check_digit_1() -> None:
    # 170585123 has S1 = 186; with K1 = 5 the remainder is 191 mod 11 = 4 (not 0-3).
    assert k1_remainder("17058512351") == 4
    error = error_of("17058512351")
    assert error.code == "check_digit_1"
    assert "first check digit" in error.message


def test_check_digit_2() -> None:
    # K1 = 1 is right (remainder 0) but K2 should be 1, not 2: (153 + 2) mod 11 = 1.
    assert k1_remainder("17058512312") == 0
    assert k2_remainder("17058512312") == 1
    error = error_of("17058512312")
    assert error.code == "check_digit_2"
    assert "second check digit" in error.message


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("00018510073", "day 00"),
        ("32018510064", "day 32"),
        ("40018510067", "day 40 (neither a day nor a D-nummer day)"),
        ("72018510058", "day 72 (D-nummer day 32)"),
        ("01008510012", "month 00"),
        ("01138510030", "month 13"),
        ("01408510186", "month 40 (just below the H-number range)"),
        ("01538510013", "month 53 (past the H-number range)"),
        ("01808510088", "month 80 (synthetic month 00)"),
        ("01938510187", "month 93 (synthetic month 13)"),
        ("31048510186", "31 April 1985"),
        ("29028510037", "29 February 1985, not a leap year"),
    ],
)
def test_date_errors(number: str, reason: str) -> None:
    # The check digits are valid, so the date is what fails.
    assert k1_remainder(number) == 0, reason
    assert k2_remainder(number) == 0, reason
    error = error_of(number, allow_synthetic=True)
    assert error.code == "date", reason


def test_date_error_message_names_the_impossible_date() -> None:
    assert error_of("31048510186").message == (
        "The national id is not valid: 31 April 1985 is not a real date."
    )
    # 30 April 1985 with valid check digits is fine.
    assert parse("30048510066").birth_date == datetime.date(1985, 4, 30)


@pytest.mark.parametrize(
    "number",
    [
        "17458510040",  # H-number: month 05 + 40 = 45
        "01418510095",  # H-number: month 41 (January), the first H-number month
        "01528510023",  # H-number: month 52 (December), the last H-number month
        "57458510034",  # D-nummer day with an H-number month
        "81234500090",  # FH-number: first digit 8
        "91234500061",  # FH-number: first digit 9
    ],
)
@pytest.mark.parametrize("allow_synthetic", [False, True])
def test_unsupported_kinds(number: str, allow_synthetic: bool) -> None:
    assert k1_remainder(number) == 0
    assert k2_remainder(number) == 0
    error = error_of(number, allow_synthetic=allow_synthetic)
    assert error.code == "unsupported_kind"
    assert "not accepted" in error.message


def test_h_number_message() -> None:
    assert "H-number" in error_of("17458510040").message


# ---------------------------------------------------------------------------------------
# Synthetic test numbers (Tenor: month + 80)
# ---------------------------------------------------------------------------------------


def test_synthetic_number_needs_the_flag() -> None:
    # 17 May 1985 synthetic: month 05 + 80 = 85.
    # S1 = 1*3 + 7*7 + 8*6 + 5*1 + 8*8 + 5*9 + 1*4 + 2*5 + 3*2 = 234 = 21*11 + 3, K1 = 8.
    # S2 = 1*5 + 7*4 + 8*3 + 5*2 + 8*7 + 5*6 + 1*5 + 2*4 + 3*3 + 8*2 = 191 = 17*11 + 4, K2 = 7.
    assert weighted("178585123", W1) == 234
    assert weighted("1785851238", W2) == 191
    assert (234 + 8) % 11 == 0
    assert (191 + 7) % 11 == 0

    error = error_of("17858512387")
    assert error.code == "synthetic_not_allowed"
    assert "synthetic test numbers are not accepted" in error.message.lower()

    nid = parse("17858512387", allow_synthetic=True)
    assert nid.synthetic is True
    assert nid.kind == "fnr"
    assert (nid.day, nid.month, nid.year_2) == (17, 5, 85)
    assert nid.birth_date == datetime.date(1985, 5, 17)
    assert nid.sex == "male"


def test_synthetic_d_number() -> None:
    # Day 17 + 40 = 57, month 05 + 80 = 85.
    # S1 = 5*3 + 7*7 + 8*6 + 5*1 + 8*8 + 5*9 + 1*4 + 2*5 + 3*2 = 246 = 22*11 + 4, K1 = 7.
    # S2 = 5*5 + 7*4 + 8*3 + 5*2 + 8*7 + 5*6 + 1*5 + 2*4 + 3*3 + 7*2 = 209 = 19*11, K2 = 0.
    assert weighted("578585123", W1) == 246
    assert weighted("5785851237", W2) == 209

    assert error_of("57858512370").code == "synthetic_not_allowed"
    nid = parse("57858512370", allow_synthetic=True)
    assert (nid.kind, nid.synthetic) == ("dnr", True)
    assert nid.birth_date == datetime.date(1985, 5, 17)


def test_allow_synthetic_still_accepts_real_numbers() -> None:
    assert parse("17058512311", allow_synthetic=True).synthetic is False


# ---------------------------------------------------------------------------------------
# Century table
# ---------------------------------------------------------------------------------------

VALID_CENTURY_ROWS = [
    # 000-499 -> 1900-1999
    ("31120000090", datetime.date(1900, 12, 31)),  # III 000, YY 00
    ("31129949980", datetime.date(1999, 12, 31)),  # III 499, YY 99
    # 500-749 with YY 54-99 -> 1854-1899
    ("01015450068", datetime.date(1854, 1, 1)),  # III 500, YY 54
    ("01019974940", datetime.date(1899, 1, 1)),  # III 749, YY 99
    ("01019950065", datetime.date(1899, 1, 1)),  # III 500, YY 99
    # 500-999 with YY 00-39 -> 2000-2039
    ("01010050053", datetime.date(2000, 1, 1)),  # III 500, YY 00
    ("01010075056", datetime.date(2000, 1, 1)),  # III 750, YY 00
    ("31123974932", datetime.date(2039, 12, 31)),  # III 749, YY 39
    ("31123989972", datetime.date(2039, 12, 31)),  # III 899, YY 39
    ("31123999935", datetime.date(2039, 12, 31)),  # III 999, YY 39
    # 900-999 with YY 40-99 -> 1940-1999
    ("01014090017", datetime.date(1940, 1, 1)),  # III 900, YY 40
    ("01019999943", datetime.date(1999, 1, 1)),  # III 999, YY 99
]

UNALLOCATED_CENTURY_ROWS = [
    "01014050066",  # III 500, YY 40 (500-749 is only for YY 54-99 or 00-39)
    "31125374983",  # III 749, YY 53
    "01014075069",  # III 750, YY 40 (750-899 is only for YY 00-39)
    "01015475060",  # III 750, YY 54
    "31125389913",  # III 899, YY 53
    "31129989931",  # III 899, YY 99
]


@pytest.mark.parametrize(("number", "birth_date"), VALID_CENTURY_ROWS)
def test_century_table_rows(number: str, birth_date: datetime.date) -> None:
    assert k1_remainder(number) == 0
    assert k2_remainder(number) == 0
    nid = parse(number)
    assert nid.birth_date == birth_date
    assert nid.new_style is False


@pytest.mark.parametrize("number", UNALLOCATED_CENTURY_ROWS)
def test_unallocated_individual_numbers_are_accepted_born_in_the_1900s(number: str) -> None:
    # Skatteetaten's validator checks the date and the check digits, not the century table:
    # these numbers are valid there. The digits do not tell the century; every unallocated
    # combination has YY 40-99, and the birth year is read as 19YY (1940-2039 window).
    assert k1_remainder(number) == 0
    assert k2_remainder(number) == 0
    nid = parse(number)
    assert nid.new_style is False
    assert nid.birth_year_known is False
    assert nid.birth_date == datetime.date(
        1900 + int(number[4:6]), int(number[2:4]), int(number[0:2])
    )


def test_century_table_against_every_individual_number() -> None:
    # Walk the whole table for a few two-digit years and compare with the published rows.
    def expected_year(iii: int, yy: int) -> int | None:
        rows = [
            (range(0, 500), range(0, 100), 1900),
            (range(500, 750), range(54, 100), 1800),
            (range(500, 1000), range(0, 40), 2000),
            (range(900, 1000), range(40, 100), 1900),
        ]
        years = {base + yy for iiis, yys, base in rows if iii in iiis and yy in yys}
        assert len(years) <= 1  # the rows never overlap
        return years.pop() if years else None

    checked = 0
    for yy in (0, 39, 40, 53, 54, 99):
        for iii in range(1000):
            for day in range(1, 29):
                number = complete_classic(f"{day:02d}01{yy:02d}{iii:03d}")
                if number is not None:
                    break
            else:
                continue
            year = expected_year(iii, yy)
            nid = parse(number)
            if year is None:
                # Not allocated: valid all the same, born in the 1940-2039 window.
                assert nid.birth_year_known is False, number
                assert nid.birth_date == datetime.date(1900 + yy, 1, day), number
            else:
                assert nid.birth_year_known is True, number
                assert nid.birth_date == datetime.date(year, 1, day), number
            checked += 1
    assert checked == 6 * 1000


# ---------------------------------------------------------------------------------------
# Leap days
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "birth_date"),
    [
        # 29.02.00 with III 500: 2000 was a leap year.
        # S1 = 2*3 + 9*7 + 0*6 + 2*1 + 0*8 + 0*9 + 5*4 + 0*5 + 0*2 = 91 = 8*11 + 3, K1 = 8.
        # S2 = 2*5 + 9*4 + 0*3 + 2*2 + 0*7 + 0*6 + 5*5 + 0*4 + 0*3 + 8*2 = 91, K2 = 8.
        ("29020050088", datetime.date(2000, 2, 29)),
        ("69020050071", datetime.date(2000, 2, 29)),  # the same day as a D-nummer
        ("29028410016", datetime.date(1984, 2, 29)),
        ("29029650037", datetime.date(1896, 2, 29)),  # III 500-749, 1800s
        ("29029690098", datetime.date(1996, 2, 29)),  # III 900-999, 1900s
    ],
)
def test_leap_days(number: str, birth_date: datetime.date) -> None:
    assert k1_remainder(number) == 0
    assert k2_remainder(number) == 0
    assert parse(number).birth_date == birth_date


def test_29_february_1985_does_not_exist() -> None:
    number = "29028510037"
    assert (k1_remainder(number), k2_remainder(number)) == (0, 0)
    error = error_of(number)
    assert error.code == "date"
    assert error.message == "The national id is not valid: 29 February 1985 is not a real date."


def test_29_february_00_is_2000_whatever_the_individual_number() -> None:
    # III 000 says 1900, which had no 29 February; Skatteetaten's validator reads the year
    # as 20YY and accepts the number. The century table is wrong for it, so the birth year
    # comes from the 1940-2039 window: 2000.
    number = "29020000064"
    assert (k1_remainder(number), k2_remainder(number)) == (0, 0)
    nid = parse(number)
    assert nid.birth_date == datetime.date(2000, 2, 29)
    assert nid.birth_year_known is False


# ---------------------------------------------------------------------------------------
# New-style numbers (from 2032): K1 remainder 1, 2 or 3
# ---------------------------------------------------------------------------------------

# Prefix 150333002 (15 March, YY 33, individual number 002):
# S1 = 1*3 + 5*7 + 0*6 + 3*1 + 3*8 + 3*9 + 0*4 + 0*5 + 2*2 = 96 = 8*11 + 8.
# K1 = 3 -> 99 mod 11 = 0 (classic), 4 -> 1, 5 -> 2, 6 -> 3, 7 -> 4 (invalid).
# K2 for each, with S2 of digits 1-9 = 1*5 + 5*4 + 0*3 + 3*2 + 3*7 + 3*6 + 0*5 + 0*4 + 2*3 = 76:
#   K1 = 3: 76 + 6 = 82 = 7*11 + 5 -> K2 = 6
#   K1 = 4: 76 + 8 = 84 = 7*11 + 7 -> K2 = 4
#   K1 = 5: 76 + 10 = 86 = 7*11 + 9 -> K2 = 2
#   K1 = 6: 76 + 12 = 88 = 8*11 -> K2 = 0
#   K1 = 7: 76 + 14 = 90 = 8*11 + 2 -> K2 = 9
NEW_STYLE = {0: "15033300236", 1: "15033300244", 2: "15033300252", 3: "15033300260"}
NEW_STYLE_REMAINDER_4 = "15033300279"


def test_new_style_arithmetic() -> None:
    assert weighted("150333002", W1) == 96
    assert weighted("150333002", W2[:9]) == 76
    for remainder, number in [*NEW_STYLE.items(), (4, NEW_STYLE_REMAINDER_4)]:
        assert k1_remainder(number) == remainder
        assert k2_remainder(number) == 0


def test_remainder_0_is_classic() -> None:
    nid = parse(NEW_STYLE[0])
    assert nid.new_style is False
    assert nid.birth_date == datetime.date(1933, 3, 15)
    assert nid.sex == "female"


@pytest.mark.parametrize("remainder", [1, 2, 3])
def test_new_style_remainders_accepted(remainder: int) -> None:
    nid = parse(NEW_STYLE[remainder])
    assert nid.new_style is True
    assert (nid.day, nid.month, nid.year_2) == (15, 3, 33)
    assert nid.kind == "fnr"
    assert nid.synthetic is False
    assert nid.birth_date is None
    assert nid.sex is None


def test_new_style_remainder_4_rejected() -> None:
    assert error_of(NEW_STYLE_REMAINDER_4).code == "check_digit_1"


def test_new_style_ignores_the_century_table() -> None:
    # III 750 with YY 75 is not allocated for classic numbers, but new-style numbers no
    # longer carry the century in the individual number.
    number = "15127575182"
    assert (k1_remainder(number), k2_remainder(number)) == (1, 0)
    nid = parse(number)
    assert nid.new_style is True
    assert (nid.day, nid.month, nid.year_2) == (15, 12, 75)


def test_new_style_d_number_and_synthetic() -> None:
    dnr = parse("55033300084")
    assert (k1_remainder(dnr.value), dnr.kind, dnr.new_style, dnr.day) == (2, "dnr", True, 15)

    assert error_of("15833300064").code == "synthetic_not_allowed"
    synthetic = parse("15833300064", allow_synthetic=True)
    assert k1_remainder(synthetic.value) == 3
    assert (synthetic.synthetic, synthetic.new_style, synthetic.month) == (True, True, 3)

    both = parse("55833300031", allow_synthetic=True)
    assert (both.kind, both.synthetic, both.new_style) == ("dnr", True, True)
    assert (both.day, both.month, both.year_2) == (15, 3, 33)


def test_new_style_h_number_rejected() -> None:
    assert k1_remainder("15453300045") == 1
    assert error_of("15453300045").code == "unsupported_kind"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        # Classic 29020000226 would be 29 February 1900 (no such day), but as a new-style
        # number (remainder 1) the century is open and 29.02.2000 exists.
        ("29020000234", True),
        ("29020400046", True),  # YY 04: 1904 and 2004 were leap years
        ("29020100336", False),  # YY 01: never a leap year
        ("31043300078", False),  # 31 April never exists
    ],
)
def test_new_style_dates(number: str, valid: bool) -> None:
    assert k1_remainder(number) in (1, 2, 3)
    assert k2_remainder(number) == 0
    if valid:
        assert parse(number).new_style is True
    else:
        assert error_of(number).code == "date"


def test_classic_twin_of_new_style_leap_day_is_2000() -> None:
    assert k1_remainder("29020000226") == 0
    assert parse("29020000226").birth_date == datetime.date(2000, 2, 29)


# ---------------------------------------------------------------------------------------
# resolve_birth_date
# ---------------------------------------------------------------------------------------

MAY_17_1985 = datetime.date(1985, 5, 17)


def test_resolve_classic_without_entered_date() -> None:
    assert resolve_birth_date(parse("17058512311"), None) == MAY_17_1985


def test_resolve_classic_with_matching_date() -> None:
    assert resolve_birth_date(parse("17058512311"), MAY_17_1985) == MAY_17_1985


@pytest.mark.parametrize(
    "entered",
    [
        datetime.date(1985, 5, 18),
        datetime.date(1985, 6, 17),
        datetime.date(2085, 5, 17),  # same digits, other century: still wrong for classic
        datetime.date(1885, 5, 17),
    ],
)
def test_resolve_classic_mismatch(entered: datetime.date) -> None:
    with pytest.raises(NationalIdError) as info:
        resolve_birth_date(parse("17058512311"), entered)
    assert info.value.code == "birth_date_mismatch"
    assert "17 May 1985" in info.value.message


def test_resolve_new_style_requires_a_date() -> None:
    with pytest.raises(NationalIdError) as info:
        resolve_birth_date(parse(NEW_STYLE[1]), None)
    assert info.value.code == "birth_date_required"


@pytest.mark.parametrize("year", [1933, 2033])
def test_resolve_new_style_matching_date(year: int) -> None:
    entered = datetime.date(year, 3, 15)
    assert resolve_birth_date(parse(NEW_STYLE[2]), entered) == entered


@pytest.mark.parametrize(
    "entered",
    [
        datetime.date(2033, 3, 16),  # day differs
        datetime.date(2033, 4, 15),  # month differs
        datetime.date(2034, 3, 15),  # two-digit year differs
    ],
)
def test_resolve_new_style_mismatch(entered: datetime.date) -> None:
    with pytest.raises(NationalIdError) as info:
        resolve_birth_date(parse(NEW_STYLE[3]), entered)
    assert info.value.code == "birth_date_mismatch"


def test_resolve_new_style_d_number_uses_the_real_day() -> None:
    nid = parse("55033300084")  # D-nummer, day 55 - 40 = 15
    assert resolve_birth_date(nid, datetime.date(2033, 3, 15)) == datetime.date(2033, 3, 15)


# ---------------------------------------------------------------------------------------
# check_digits and make_synthetic
# ---------------------------------------------------------------------------------------


def test_check_digits_known() -> None:
    assert check_digits("170585123") == (1, 1)  # worked out above
    assert check_digits("570585123") == (0, 5)
    assert check_digits("178585123") == (8, 7)


def test_check_digits_k1_would_be_10() -> None:
    # S1 = 1*3 + 7*7 + 0*6 + 5*1 + 8*8 + 5*9 + 0 + 0 + 0 = 166 = 15*11 + 1 -> K1 = 10.
    assert weighted("170585000", W1) == 166
    assert check_digits("170585000") is None


def test_check_digits_k2_would_be_10() -> None:
    # S1 = 166 + 5*2 = 176 = 16*11 -> K1 = 0.
    # S2 = 1*5 + 7*4 + 0*3 + 5*2 + 8*7 + 5*6 + 0*5 + 0*4 + 5*3 + 0*2 = 144 = 13*11 + 1
    #      -> K2 = 10.
    assert weighted("170585005", W1) == 176
    assert weighted("1705850050", W2) == 144
    assert check_digits("170585005") is None


@pytest.mark.parametrize("bad", ["", "12345678", "1234567890", "12345678a", "\u0661" * 9])
def test_check_digits_needs_nine_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digits(bad)


def test_make_synthetic_known() -> None:
    assert make_synthetic(MAY_17_1985, 123) == "17858512387"
    assert make_synthetic(MAY_17_1985, 123, d_number=True) == "57858512370"


def test_make_synthetic_without_check_digits() -> None:
    # 17 May 1985 synthetic with individual number 009, prefix 178585009:
    # S1 = 1*3 + 7*7 + 8*6 + 5*1 + 8*8 + 5*9 + 0*4 + 0*5 + 9*2
    #    = 3 + 49 + 48 + 5 + 64 + 45 + 0 + 0 + 18 = 232 = 21*11 + 1 -> K1 = 10.
    assert weighted("178585009", W1) == 232
    assert make_synthetic(MAY_17_1985, 9) is None


@pytest.mark.parametrize(
    ("birth_date", "individual"),
    [
        (MAY_17_1985, -1),
        (MAY_17_1985, 1000),
        (MAY_17_1985, 500),  # 500-899 is not used for 1940-1999
        (MAY_17_1985, 899),
        (datetime.date(1935, 1, 1), 900),  # 900-999 starts in 1940
        (datetime.date(2001, 1, 1), 499),  # 2000s need 500-999
        (datetime.date(1870, 1, 1), 750),  # 1800s need 500-749
        (datetime.date(1853, 12, 31), 600),  # before 1854
        (datetime.date(2040, 1, 1), 600),  # after 2039
    ],
)
def test_make_synthetic_rejects_wrong_individual_number(
    birth_date: datetime.date, individual: int
) -> None:
    with pytest.raises(ValueError):
        make_synthetic(birth_date, individual)


@pytest.mark.parametrize(
    ("birth_date", "individual"),
    [
        (datetime.date(1854, 1, 1), 500),
        (datetime.date(1899, 12, 31), 749),
        (datetime.date(1900, 1, 1), 0),
        (datetime.date(1940, 1, 1), 999),
        (datetime.date(1999, 12, 31), 499),
        (datetime.date(2000, 1, 1), 999),
        (datetime.date(2039, 12, 31), 500),
    ],
)
def test_make_synthetic_century_edges(birth_date: datetime.date, individual: int) -> None:
    # Whatever make_synthetic returns must agree with the brute-force completion here.
    nine = f"{birth_date.day:02d}{birth_date.month + 80:02d}{birth_date.year % 100:02d}"
    nine += f"{individual:03d}"
    assert make_synthetic(birth_date, individual) == complete_classic(nine)


# ---------------------------------------------------------------------------------------
# The error and value types
# ---------------------------------------------------------------------------------------


def test_error_is_a_value_error_with_code_and_message() -> None:
    error = error_of("1705851231")
    assert isinstance(error, ValueError)
    assert str(error) == error.message
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.message) == (error.code, error.message)


def test_national_id_is_frozen_and_repr_hides_the_number() -> None:
    nid = parse("17058512311")
    with pytest.raises(AttributeError):
        nid.value = "17058512312"  # type: ignore[misc]
    assert "17058512311" not in repr(nid)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        parse(17058512311)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------


@st.composite
def date_and_individual(draw: st.DrawFn) -> tuple[datetime.date, int]:
    birth_date = draw(
        st.dates(min_value=datetime.date(1854, 1, 1), max_value=datetime.date(2039, 12, 31))
    )
    year = birth_date.year
    if year < 1900:
        ranges = [range(500, 750)]
    elif year < 1940:
        ranges = [range(0, 500)]
    elif year < 2000:
        ranges = [range(0, 500), range(900, 1000)]
    else:
        ranges = [range(500, 1000)]
    individual = draw(st.sampled_from(ranges).flatmap(st.sampled_from))
    return birth_date, individual


@PROPERTY
@given(date_and_individual(), st.booleans())
def test_make_synthetic_round_trips(
    date_individual: tuple[datetime.date, int], d_number: bool
) -> None:
    birth_date, individual = date_individual
    number = make_synthetic(birth_date, individual, d_number=d_number)
    day = birth_date.day + (40 if d_number else 0)
    nine = f"{day:02d}{birth_date.month + 80:02d}{birth_date.year % 100:02d}{individual:03d}"
    assert number == complete_classic(nine)
    if number is None:
        return
    assert (k1_remainder(number), k2_remainder(number)) == (0, 0)
    nid = parse(number, allow_synthetic=True)
    assert nid.synthetic is True
    assert nid.new_style is False
    assert nid.birth_date == birth_date
    assert nid.kind == ("dnr" if d_number else "fnr")
    assert nid.sex == ("male" if individual % 2 else "female")
    with pytest.raises(NationalIdError) as info:
        parse(number)
    assert info.value.code == "synthetic_not_allowed"


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@PROPERTY
@given(nine_digits)
def test_check_digits_satisfy_both_rules(nine: str) -> None:
    result = check_digits(nine)
    expected = complete_classic(nine)
    if result is None:
        assert expected is None
        return
    assert expected is not None
    assert result == (int(expected[9]), int(expected[10]))
    k1, k2 = result
    number = f"{nine}{k1}{k2}"
    assert (weighted(nine, W1) + k1) % 11 == 0
    assert (weighted(number[:10], W2) + k2) % 11 == 0


@PROPERTY
@given(nine_digits, st.integers(min_value=0, max_value=10), st.integers(1, 9))
def test_single_digit_change_is_always_detected(nine: str, position: int, shift: int) -> None:
    # Every K2 weight (and the weight 1 of K2 itself) is non-zero mod 11 and 11 is prime,
    # so changing one digit by 1-9 always changes the K2 remainder.
    result = check_digits(nine)
    if result is None:
        return
    number = f"{nine}{result[0]}{result[1]}"
    changed_digit = str((int(number[position]) + shift) % 10)
    altered = number[:position] + changed_digit + number[position + 1 :]
    assert altered != number
    assert k1_remainder(altered) != 0 or k2_remainder(altered) != 0
    assert k2_remainder(altered) != 0
    with pytest.raises(NationalIdError) as info:
        parse(altered, allow_synthetic=True)
    assert info.value.code in ("check_digit_1", "check_digit_2")


@PROPERTY
@given(st.text())
def test_parse_only_raises_national_id_error_for_any_text(text: str) -> None:
    for allow in (False, True):
        try:
            parse(text, allow_synthetic=allow)
        except NationalIdError as error:
            assert error.code in {
                "length",
                "not_digits",
                "check_digit_1",
                "check_digit_2",
                "date",
                "synthetic_not_allowed",
                "unsupported_kind",
            }
            assert error.message


@st.composite
def plausible_numbers(draw: st.DrawFn) -> str:
    """11 digits that often pass: date-like digits and a K1 remainder of 0-3 where possible."""
    day = draw(st.integers(0, 99))
    month = draw(st.sampled_from([0, 1, 2, 4, 12, 13, 41, 52, 80, 81, 82, 92, 93]))
    year_2 = draw(st.integers(0, 99))
    individual = draw(st.integers(0, 999))
    nine = f"{day:02d}{month:02d}{year_2:02d}{individual:03d}"
    k1 = (draw(st.integers(0, 3)) - weighted(nine, W1)) % 11
    k2 = -weighted(f"{nine}{k1 % 10}", W2) % 11
    return f"{nine}{k1 % 10}{k2 % 10}"


any_eleven_digits = st.one_of(
    st.text(alphabet="0123456789", min_size=11, max_size=11), plausible_numbers()
)


@PROPERTY
@given(any_eleven_digits, st.booleans())
def test_whatever_parses_obeys_the_rules(number: str, allow: bool) -> None:
    try:
        nid = parse(number, allow_synthetic=allow)
    except NationalIdError as error:
        assert number not in error.message  # messages never repeat the number
        return
    assert nid.value == number
    assert k2_remainder(number) == 0
    assert k1_remainder(number) in (0, 1, 2, 3)
    assert nid.new_style == (k1_remainder(number) != 0)
    assert nid.synthetic == (81 <= int(number[2:4]) <= 92)
    assert allow or not nid.synthetic
    assert nid.kind == ("dnr" if int(number[0:2]) > 40 else "fnr")
    assert 1 <= nid.day <= 31
    assert 1 <= nid.month <= 12
    if nid.new_style:
        assert nid.birth_date is None
        assert nid.sex is None
    else:
        assert nid.birth_date is not None
        assert (nid.birth_date.day, nid.birth_date.month) == (nid.day, nid.month)
        assert nid.birth_date.year % 100 == nid.year_2
        assert 1854 <= nid.birth_date.year <= 2039
        if not nid.birth_year_known:
            assert 1940 <= nid.birth_date.year <= 2039
        assert nid.sex == ("male" if int(number[8]) % 2 else "female")


@PROPERTY
@given(st.lists(st.sampled_from("0123456789 "), min_size=11, max_size=16).map("".join))
def test_spaces_never_change_the_result(typed: str) -> None:
    stripped = typed.replace(" ", "")
    try:
        expected = parse(stripped, allow_synthetic=True)
    except NationalIdError as error:
        with pytest.raises(NationalIdError) as info:
            parse(typed, allow_synthetic=True)
        assert info.value.code == error.code
    else:
        assert parse(typed, allow_synthetic=True) == expected


# ---------------------------------------------------------------------------------------
# Skatteetaten's published validator
# ---------------------------------------------------------------------------------------
#
# Skatteetaten publishes a validator for fødselsnummer and D-nummer, both the 1964 type
# and the 2032 type, real or synthetic (folkeregisteret-api-dokumentasjon,
# foedselsEllerDNummerValidator). Its rules, written out again here:
#
# * 11 digits;
# * synthetic numbers only when asked for: the month's first digit is 8 or 9, and 8 is
#   taken from it;
# * a first digit of 4-7 is a D-nummer: 4 is taken from it;
# * what is left, ddMMyy, is a real calendar day when read as the year 20yy (so
#   29 February is valid in every year divisible by four, 00 included);
# * (weighted sum of digits 1-9 + K1) mod 11 is 0, 1, 2 or 3, and
#   (weighted sum of digits 1-10 + K2) mod 11 is 0.
#
# Nothing else: the individual number is not checked against the century table. HAB
# accepts exactly these numbers (synthetic ones where the installation allows them).


def skatteetaten_accepts(number: str, *, synthetic: bool) -> bool:
    if len(number) != 11 or not all(c in "0123456789" for c in number):
        return False
    date = number[:6]
    if synthetic:
        if int(date[2]) < 8:
            return False
        date = date[:2] + str(int(date[2]) - 8) + date[3:]
    if number[0] in "4567":
        date = str(int(date[0]) - 4) + date[1:]
    try:
        datetime.date(2000 + int(date[4:6]), int(date[2:4]), int(date[0:2]))
    except ValueError:
        return False
    return k1_remainder(number) in (0, 1, 2, 3) and k2_remainder(number) == 0


def accepted(number: str, **kwargs: bool) -> bool:
    try:
        parse(number, **kwargs)
    except NationalIdError:
        return False
    return True


def test_skatteetaten_example_synthetic_1964_d_number() -> None:
    # "syntetisk 1964-D-nummer": day 41 = 1 + 40, month 81 = January + 80, YY 90 and the
    # individual number 773, which the century table gives no year for YY 90.
    number = "41819077302"
    assert skatteetaten_accepts(number, synthetic=True)
    assert (k1_remainder(number), k2_remainder(number)) == (0, 0)
    nid = parse(number, allow_synthetic=True)
    assert (nid.kind, nid.synthetic, nid.new_style) == ("dnr", True, False)
    assert (nid.day, nid.month, nid.year_2) == (1, 1, 90)
    assert nid.birth_date == datetime.date(1990, 1, 1)
    assert nid.birth_year_known is False
    assert nid.sex == "male"  # digit 9 is 3
    assert error_of(number).code == "synthetic_not_allowed"


def test_a_birth_date_entered_for_an_unallocated_number_decides_the_century() -> None:
    nid = parse("41819077302", allow_synthetic=True)
    assert resolve_birth_date(nid, None) == datetime.date(1990, 1, 1)
    assert resolve_birth_date(nid, datetime.date(1890, 1, 1)) == datetime.date(1890, 1, 1)
    for wrong in (datetime.date(1990, 1, 2), datetime.date(1991, 1, 1)):
        with pytest.raises(NationalIdError) as info:
            resolve_birth_date(nid, wrong)
        assert info.value.code == "birth_date_mismatch"


@st.composite
def skatteetaten_valid(draw: st.DrawFn) -> tuple[str, bool]:
    """A number Skatteetaten's validator accepts, built from its rules: any day of a
    20yy year, any individual number, D-nummer or not, synthetic or not, K1 remainder
    0-3 (where K1 would not be 10) and the one K2."""
    born = draw(st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)))
    d_number = draw(st.booleans())
    synthetic = draw(st.booleans())
    day = born.day + (40 if d_number else 0)
    month = born.month + (80 if synthetic else 0)
    nine = f"{day:02d}{month:02d}{born.year % 100:02d}{draw(st.integers(0, 999)):03d}"
    k1 = (draw(st.integers(0, 3)) - weighted(nine, W1)) % 11
    k2 = -weighted(f"{nine}{k1 % 10}", W2) % 11
    assume(k1 != 10 and k2 != 10)
    return f"{nine}{k1}{k2}", synthetic


@PROPERTY
@given(skatteetaten_valid())
def test_every_number_skatteetaten_accepts_is_accepted(made: tuple[str, bool]) -> None:
    number, synthetic = made
    assert skatteetaten_accepts(number, synthetic=synthetic)
    nid = parse(number, allow_synthetic=True)
    assert nid.synthetic == synthetic
    assert accepted(number) == (not synthetic)
    if nid.birth_date is not None:
        assert (nid.birth_date.day, nid.birth_date.month) == (nid.day, nid.month)
        assert nid.birth_date.year % 100 == nid.year_2


@PROPERTY
@given(skatteetaten_valid(), st.integers(0, 10), st.integers(1, 9))
def test_any_single_digit_change_is_refused(
    made: tuple[str, bool], position: int, shift: int
) -> None:
    number, _synthetic = made
    altered = number[:position] + str((int(number[position]) + shift) % 10)
    altered += number[position + 1 :]
    assert not skatteetaten_accepts(altered, synthetic=True)
    assert not skatteetaten_accepts(altered, synthetic=False)
    assert not accepted(altered, allow_synthetic=True)


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    """Numbers at the edges of the rules: days 0-35, months 0-13, either offset or the
    H-number one, any year and individual number, K1 remainders 0-4."""
    day = draw(st.integers(0, 35)) + draw(st.sampled_from([0, 40]))
    month = draw(st.integers(0, 13)) + draw(st.sampled_from([0, 40, 80]))
    nine = f"{day:02d}{month:02d}{draw(st.integers(0, 99)):02d}{draw(st.integers(0, 999)):03d}"
    k1 = (draw(st.integers(0, 4)) - weighted(nine, W1)) % 11 % 10
    k2 = -weighted(f"{nine}{k1}", W2) % 11 % 10
    return f"{nine}{k1}{k2}"


@PROPERTY
@given(st.one_of(any_eleven_digits, near_valid()))
def test_hab_accepts_exactly_what_skatteetaten_accepts(number: str) -> None:
    real = skatteetaten_accepts(number, synthetic=False)
    either = real or skatteetaten_accepts(number, synthetic=True)
    assert accepted(number) == real
    assert accepted(number, allow_synthetic=True) == either
