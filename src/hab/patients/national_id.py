"""Norwegian national identity numbers: fødselsnummer and D-nummer.

Written from the rules Skatteetaten (the Norwegian Tax Administration) publishes for the
National Population Register. Pure Python: no Django, no I/O.

A national identity number has 11 digits, ``DDMMYYIIIKK``:

* digits 1-6 are the birth date (day, month, two-digit year);
* digits 7-9 are the individual number;
* digits 10 and 11 are the check digits K1 and K2.

Variants recognised here:

* **D-nummer**: 4 is added to the first digit, so the day is 41-71.
* **Synthetic test numbers** (Tenor style): 80 is added to the month, so the month is 81-92.
  They are accepted only when the caller asks for them. A synthetic D-nummer has both offsets.
* **H-numbers** (month plus 40) and **FH-numbers** (first digit 8 or 9) are recognised and
  rejected.

Check digits. K1 uses the weights 3 7 6 1 8 9 4 5 2 on digits 1-9; K2 uses the weights
5 4 3 2 7 6 5 4 3 2 on digits 1-10.

* Classic rule: (weighted sum of digits 1-9 + K1) mod 11 = 0 and
  (weighted sum of digits 1-10 + K2) mod 11 = 0. When a computed check digit would be 10,
  no number with those first digits can exist.
* Numbers issued from 2032: (weighted sum of digits 1-9 + K1) mod 11 may be 0, 1, 2 or 3;
  the K2 rule is unchanged. In these numbers the individual number no longer tells the
  century or the legal sex. A remainder of 0 is read as a classic number, a remainder of
  1-3 as a new-style number.

What is accepted is what Skatteetaten's published validator accepts
(``foedselsEllerDNummerValidator`` in folkeregisteret-api-dokumentasjon, for numbers of
the 1964 and the 2032 type, real or synthetic): 11 digits, the check digits above, and
a birth day that exists on the calendar. The validator reads the year as 20YY, so
29 February is accepted in every year divisible by four, 00 included. The individual
number is **not** checked against the century table below: Skatteetaten accepts numbers
whose individual number the table has no century for (its own example is the synthetic
D-nummer 41819077302, YY 90 with individual number 773).

Century of birth for classic numbers, from the individual number (III) and the two-digit
year (YY):

======== ======== ===========
III      YY       Born
======== ======== ===========
000-499  00-99    1900-1999
500-749  54-99    1854-1899
500-999  00-39    2000-2039
900-999  40-99    1940-1999
======== ======== ===========

Every other combination (500-749 with YY 40-53, 750-899 with YY 40-99) is not allocated,
and III 000-499 with 29.02.00 would be 29 February 1900, which did not exist. For these
numbers the digits do not tell the century (``birth_year_known`` is False) and the
birth year is read in the window 1940-2039, the only century in which such a person can
be alive and born (19YY for YY 40-99, 20YY for YY 00-39). A birth date typed in for such
a number decides the century, as for new-style numbers, as long as its day, month and
two-digit year match.

Legal sex of classic numbers: the 9th digit is odd for male and even for female.

Checks in :func:`parse` run in this order, and the first failure is reported: characters,
length, check digit 1, check digit 2, kind of number (FH-number, H-number), synthetic test
number, day and month ranges, and finally whether the birth date is a real calendar day.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "K1_WEIGHTS",
    "K2_WEIGHTS",
    "NationalId",
    "NationalIdError",
    "check_digits",
    "make_synthetic",
    "parse",
    "resolve_birth_date",
]

#: Weights for the first check digit (K1), applied to digits 1-9.
K1_WEIGHTS: tuple[int, ...] = (3, 7, 6, 1, 8, 9, 4, 5, 2)
#: Weights for the second check digit (K2), applied to digits 1-10.
K2_WEIGHTS: tuple[int, ...] = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

_LENGTH = 11
_ASCII_DIGITS = frozenset("0123456789")
_D_NUMBER_DAY_OFFSET = 40
_SYNTHETIC_MONTH_OFFSET = 80
_H_NUMBER_MONTH_OFFSET = 40
_NEW_STYLE_K1_REMAINDERS = frozenset({1, 2, 3})
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_USE_REAL_NUMBER = "Please use the patient's fødselsnummer or D-nummer."


class NationalIdError(ValueError):
    """A national identity number was rejected.

    ``code`` is a stable machine-readable reason, one of ``"length"``, ``"not_digits"``,
    ``"check_digit_1"``, ``"check_digit_2"``, ``"date"``, ``"synthetic_not_allowed"``,
    ``"unsupported_kind"``, ``"birth_date_mismatch"`` or ``"birth_date_required"``.
    ``message`` is a plain English sentence for the person who typed the number.
    Messages never repeat the full number.
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type["NationalIdError"], tuple[str, str]]:
        # Keeps the exception picklable despite the two-argument constructor.
        return (type(self), (self.code, self.message))


@dataclass(frozen=True)
class NationalId:
    """A national identity number that passed :func:`parse`.

    ``day``, ``month`` and ``year_2`` are the birth date digits with the D-nummer and
    synthetic offsets removed. ``birth_date`` and ``sex`` are set only for classic numbers;
    for new-style numbers (issued from 2032) both are ``None`` and the birth date must come
    from elsewhere (see :func:`resolve_birth_date`). ``birth_year_known`` says whether the
    digits fix the century: False for new-style numbers and for classic numbers whose
    individual number the century table has no year for (``birth_date`` is then read in
    the window 1940-2039).
    The number itself is left out of ``repr`` so that it does not end up in logs.
    """

    value: str = field(repr=False)
    """The 11 digits, without spaces."""
    kind: str
    """``"fnr"`` for a fødselsnummer, ``"dnr"`` for a D-nummer."""
    synthetic: bool
    """True for a synthetic test number (month plus 80)."""
    new_style: bool
    """True when (weighted sum of digits 1-9 + K1) mod 11 is 1, 2 or 3."""
    day: int
    month: int
    year_2: int
    birth_date: datetime.date | None
    sex: str | None
    """``"male"`` or ``"female"`` for classic numbers, else ``None``."""
    birth_year_known: bool
    """True when the individual number tells the century of ``birth_date``."""


def _weighted_sum(digits: str, weights: Sequence[int]) -> int:
    return sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True))


def _is_ascii_digits(text: str) -> bool:
    return all(char in _ASCII_DIGITS for char in text)


def _century_year(individual: int, year_2: int) -> int | None:
    """The four-digit birth year of a classic number, or None when not allocated.

    Individual numbers 000-499 are used for 1900-1999; 500-749 for 1854-1899 (YY 54-99);
    500-999 for 2000-2039 (YY 00-39); 900-999 for 1940-1999 (YY 40-99).
    """
    if 0 <= individual <= 499:
        return 1900 + year_2
    if 500 <= individual <= 749 and 54 <= year_2 <= 99:
        return 1800 + year_2
    if 500 <= individual <= 999 and 0 <= year_2 <= 39:
        return 2000 + year_2
    if 900 <= individual <= 999 and 40 <= year_2 <= 99:
        return 1900 + year_2
    return None


def _window_year(year_2: int) -> int:
    """The year ending in ``year_2`` within 1940-2039: the only century in which someone
    whose number the table cannot place can be born and alive (YY 40-99 are not future
    years, and the 1800s rows never use those individual numbers)."""
    return (1900 if year_2 >= 40 else 2000) + year_2


def _is_real_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _spell_date(date: datetime.date) -> str:
    return f"{date.day} {_MONTH_NAMES[date.month - 1]} {date.year}"


def check_digits(first_nine: str) -> tuple[int, int] | None:
    """The classic check digits K1 and K2 for the first 9 digits of a number.

    K1 makes (weighted sum of digits 1-9 + K1) mod 11 = 0 with the weights
    3 7 6 1 8 9 4 5 2; K2 makes (weighted sum of digits 1-10 + K2) mod 11 = 0 with the
    weights 5 4 3 2 7 6 5 4 3 2. Returns None when either would have to be 10: no classic
    number starts with those 9 digits.

    Raises ValueError unless ``first_nine`` is exactly 9 ASCII digits.
    """
    if len(first_nine) != 9 or not _is_ascii_digits(first_nine):
        raise ValueError("check_digits needs exactly 9 digits.")
    k1 = -_weighted_sum(first_nine, K1_WEIGHTS) % 11
    if k1 == 10:
        return None
    k2 = -_weighted_sum(f"{first_nine}{k1}", K2_WEIGHTS) % 11
    if k2 == 10:
        return None
    return k1, k2


def parse(value: str, *, allow_synthetic: bool = False) -> NationalId:
    """Check a fødselsnummer or D-nummer and read what its digits say.

    Spaces (any whitespace) are removed first; any other character that is not a digit
    0-9 is an error. Synthetic test numbers (month plus 80) are accepted only with
    ``allow_synthetic=True``. H-numbers and FH-numbers are rejected.

    Raises :class:`NationalIdError` with a ``code`` and a plain ``message`` when the
    number is not valid. Raises TypeError when ``value`` is not a string.
    """
    if not isinstance(value, str):
        raise TypeError(f"parse expects a string, not {type(value).__name__}.")
    digits = "".join(char for char in value if not char.isspace())

    if not _is_ascii_digits(digits):
        raise NationalIdError(
            "not_digits", "The national id may only contain digits 0-9 (and spaces)."
        )
    if len(digits) != _LENGTH:
        raise NationalIdError("length", f"The national id must have 11 digits (got {len(digits)}).")

    k1_remainder = (_weighted_sum(digits[:9], K1_WEIGHTS) + int(digits[9])) % 11
    if k1_remainder != 0 and k1_remainder not in _NEW_STYLE_K1_REMAINDERS:
        raise NationalIdError(
            "check_digit_1",
            "The national id is not valid: the first check digit (digit 10) does not match. "
            "Please check the number for typing errors.",
        )
    if (_weighted_sum(digits[:10], K2_WEIGHTS) + int(digits[10])) % 11 != 0:
        raise NationalIdError(
            "check_digit_2",
            "The national id is not valid: the second check digit (digit 11) does not match. "
            "Please check the number for typing errors.",
        )
    new_style = k1_remainder != 0

    raw_day = int(digits[0:2])
    raw_month = int(digits[2:4])
    year_2 = int(digits[4:6])
    individual = int(digits[6:9])

    if digits[0] in "89":
        raise NationalIdError(
            "unsupported_kind",
            "This is an FH-number (a help number used in the health service), "
            f"which is not accepted here. {_USE_REAL_NUMBER}",
        )
    if 1 + _H_NUMBER_MONTH_OFFSET <= raw_month <= 12 + _H_NUMBER_MONTH_OFFSET:
        raise NationalIdError(
            "unsupported_kind",
            "This is an H-number (a temporary help number, month plus 40), "
            f"which is not accepted here. {_USE_REAL_NUMBER}",
        )

    synthetic = 1 + _SYNTHETIC_MONTH_OFFSET <= raw_month <= 12 + _SYNTHETIC_MONTH_OFFSET
    if synthetic and not allow_synthetic:
        raise NationalIdError(
            "synthetic_not_allowed",
            "This is a synthetic test number (month plus 80). "
            f"Synthetic test numbers are not accepted here. {_USE_REAL_NUMBER}",
        )
    month = raw_month - _SYNTHETIC_MONTH_OFFSET if synthetic else raw_month
    if not 1 <= month <= 12:
        raise NationalIdError(
            "date",
            "The national id is not valid: digits 3 and 4 must be the month of birth (01-12).",
        )

    if 1 <= raw_day <= 31:
        kind, day = "fnr", raw_day
    elif 1 + _D_NUMBER_DAY_OFFSET <= raw_day <= 31 + _D_NUMBER_DAY_OFFSET:
        kind, day = "dnr", raw_day - _D_NUMBER_DAY_OFFSET
    else:
        raise NationalIdError(
            "date",
            "The national id is not valid: digits 1 and 2 must be the day of birth (01-31), "
            "or the day plus 40 for a D-nummer.",
        )

    birth_date: datetime.date | None
    sex: str | None
    if new_style:
        # The century is not in the digits; the date must exist in some century.
        if not any(_is_real_date(century + year_2, month, day) for century in (1900, 2000)):
            raise NationalIdError(
                "date",
                f"The national id is not valid: {day} {_MONTH_NAMES[month - 1]} does not "
                f"exist in a year ending in {year_2:02d}.",
            )
        birth_date = None
        sex = None
        known = False
    else:
        # The individual number gives the century where the table has a row for it and
        # that year had the day; otherwise (valid all the same, as for Skatteetaten) the
        # year comes from the 1940-2039 window.
        year = _century_year(individual, year_2)
        known = year is not None and _is_real_date(year, month, day)
        if not known:
            year = _window_year(year_2)
        if not _is_real_date(year, month, day):
            raise NationalIdError(
                "date",
                f"The national id is not valid: {day} {_MONTH_NAMES[month - 1]} {year} "
                "is not a real date.",
            )
        birth_date = datetime.date(year, month, day)
        sex = "male" if int(digits[8]) % 2 == 1 else "female"

    return NationalId(
        value=digits,
        kind=kind,
        synthetic=synthetic,
        new_style=new_style,
        day=day,
        month=month,
        year_2=year_2,
        birth_date=birth_date,
        sex=sex,
        birth_year_known=known,
    )


def resolve_birth_date(nid: NationalId, entered: datetime.date | None) -> datetime.date:
    """The birth date of the person, from the number and the date typed in.

    For a classic number whose individual number tells the century, the digits determine
    the birth date: it is returned, and a date that was entered must be the same. Where the
    digits give the day, month and two-digit year but not the century, a date that was
    entered decides it (its day, month and last two digits of the year must match the
    number). Without one, a classic number's birth year is read in the window 1940-2039;
    a new-style number (issued from 2032) needs the date entered.

    Raises :class:`NationalIdError` with code ``"birth_date_mismatch"`` or
    ``"birth_date_required"``.
    """
    if nid.birth_year_known and nid.birth_date is not None:
        if entered is not None and entered != nid.birth_date:
            raise NationalIdError(
                "birth_date_mismatch",
                f"The birth date entered ({_spell_date(entered)}) does not match the "
                f"national id, which gives {_spell_date(nid.birth_date)}.",
            )
        return nid.birth_date

    if entered is None and nid.birth_date is not None:
        return nid.birth_date
    if entered is None:
        raise NationalIdError(
            "birth_date_required",
            "This national id does not show the century of birth. Please enter the birth date.",
        )
    if (entered.day, entered.month, entered.year % 100) != (nid.day, nid.month, nid.year_2):
        raise NationalIdError(
            "birth_date_mismatch",
            f"The birth date entered ({_spell_date(entered)}) does not match the national id, "
            f"which gives {nid.day} {_MONTH_NAMES[nid.month - 1]} of a year ending in "
            f"{nid.year_2:02d}.",
        )
    return entered


def make_synthetic(
    birth_date: datetime.date, individual: int, *, d_number: bool = False
) -> str | None:
    """Build a classic synthetic test number (Tenor style, month plus 80).

    The number is for ``birth_date`` with the individual number ``individual`` (0-999); with
    ``d_number=True`` it is a synthetic D-nummer (day plus 40 as well). Returns None when no
    valid check digits exist for those 9 digits.

    Raises ValueError when ``individual`` is outside 0-999, or does not belong to the
    century of ``birth_date`` according to the table (000-499 for 1900-1999, 500-749 for
    1854-1899, 500-999 for 2000-2039, 900-999 for 1940-1999).
    """
    if not 0 <= individual <= 999:
        raise ValueError(f"The individual number must be 0-999 (got {individual}).")
    year_2 = birth_date.year % 100
    if _century_year(individual, year_2) != birth_date.year:
        raise ValueError(
            f"The individual number {individual:03d} is not used for people born in "
            f"{birth_date.year}."
        )
    day = birth_date.day + (_D_NUMBER_DAY_OFFSET if d_number else 0)
    month = birth_date.month + _SYNTHETIC_MONTH_OFFSET
    first_nine = f"{day:02d}{month:02d}{year_2:02d}{individual:03d}"
    digits = check_digits(first_nine)
    if digits is None:
        return None
    k1, k2 = digits
    return f"{first_nine}{k1}{k2}"
