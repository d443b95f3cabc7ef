"""Numbers as people type them: one parser for every quantity field in HAB.

A nurse in Oslo types "399,5", a visiting doctor "399.5"; both mean 399.5 mg. A number
field that drops a character it does not understand turns "399,5" into 3995, a tenfold
error in the controlled-drug ledger. This parser either reads exactly what was typed or
refuses with the reason; it never drops, guesses or rounds.

What it reads (the same in every language, so a number never depends on the page's
language):

- digits with at most one decimal mark, a comma or a point: "399,5", "399.5", ",5";
- an optional sign in front: "-2,5", "+2,5", "−2,5" (the typographic minus);
- spaces (also the no-break and thin spaces that the Norwegian pages show) between
  groups of exactly three digits before the decimal mark: "941 780,7", "1 000".
  A space is never a decimal mark, so grouping with spaces is unambiguous.

What it refuses, with a reason:

- both a comma and a point ("1.000,5", "1,000.5") or more than one mark ("1,2,3"): a
  point or comma is a thousands separator in one language and the decimal mark in the
  other, so there is no safe reading;
- one mark followed by exactly three digits after one to three digits that are not
  just "0" ("1,500", "12.345"): a thousand and a half in one language, one and a half in
  the other. "0,125", "1234,567" and "1,50" are read as written;
- anything that is not a digit, a mark, a sign or a grouping space ("12,5x", "1e3",
  "NaN", "∞", "½", Arabic-Indic digits), a mark with no digit after it ("5,"), two signs
  ("--1"), an empty field, and text longer than ``MAX_LENGTH``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Longer than any quantity HAB stores (14 digits and a mark, plus grouping spaces).
MAX_LENGTH = 40

# The spaces a person or a copied Norwegian number may hold between digit groups.
GROUP_SPACES = " \u00a0\u202f\u2009"
MINUS_SIGNS = "-\u2212"

_DIGITS = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:[ \u00a0\u202f\u2009][0-9]{3})+")
_ALLOWED = set("0123456789,.+" + GROUP_SPACES + MINUS_SIGNS)


# The tenth of a mg that doses, prescriptions and the ledger keep.
MG_STEP = Decimal("0.1")


class NumberError(ValueError):
    """The text is not a number HAB can read without guessing. ``reason`` says why, in
    words for the person who typed it (translated where shown)."""

    def __init__(self, reason: str, code: str, char: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.char = char  # the character that is not part of a number, for "character"


def parse_decimal(text: str) -> Decimal:
    """The exact Decimal that ``text`` means, or NumberError saying why there is none."""
    if not isinstance(text, str):
        raise TypeError("parse_decimal reads text")
    if len(text) > MAX_LENGTH:
        raise NumberError("The number is too long.", "too_long")
    body = text.strip()
    if not body:
        raise NumberError("Enter a number.", "empty")
    strange = [c for c in body if c not in _ALLOWED]
    if strange:
        raise NumberError(
            f"“{strange[0]}” is not part of a number: use digits and one comma or point.",
            "character",
            strange[0],
        )
    sign = ""
    if body[0] in "+" + MINUS_SIGNS:
        sign = "-" if body[0] in MINUS_SIGNS else ""
        body = body[1:]
    if not body:
        raise NumberError("Enter a number.", "empty")
    if body[0] in "+" + MINUS_SIGNS:
        raise NumberError("Write at most one sign in front of the number.", "sign")
    if any(c in "+" + MINUS_SIGNS for c in body):
        raise NumberError("A sign can only stand in front of the number.", "sign")
    marks = [c for c in body if c in ",."]
    if len(set(marks)) > 1:
        raise NumberError(
            "Both a comma and a point: write the number without a thousands separator, "
            "with one decimal comma or point (1000,5).",
            "ambiguous",
        )
    if len(marks) > 1:
        raise NumberError("More than one decimal mark: write one comma or point at most.", "marks")
    whole, _, fraction = body.partition(marks[0]) if marks else (body, "", "")
    if marks and not fraction:
        raise NumberError("A digit is missing after the decimal mark.", "fraction")
    if fraction and not _DIGITS.fullmatch(fraction):
        raise NumberError("Only digits may follow the decimal mark.", "fraction")
    if any(c in GROUP_SPACES for c in whole):
        if not _GROUPED.fullmatch(whole):
            raise NumberError(
                "Spaces may only separate groups of three digits (1 000,5).", "grouping"
            )
        whole = "".join(c for c in whole if c not in GROUP_SPACES)
    elif whole and not _DIGITS.fullmatch(whole):
        raise NumberError("Enter a number.", "empty")
    if len(fraction) == 3 and 1 <= len(whole) <= 3 and whole.strip("0"):
        raise NumberError(
            "It could mean a thousand-and-something or a number with three decimals: "
            "write it without a thousands separator (1500) or with fewer decimals (1,5).",
            "thousands",
        )
    return Decimal(f"{sign}{whole or '0'}.{fraction}" if fraction else f"{sign}{whole}")


def parse_mg(value: object) -> Decimal:
    """The amount in mg that a service receives (a number from the API's schema, or text in
    Python's Decimal syntax), rounded to the tenth of a mg HAB keeps; NumberError when it
    is none. The forms read what people type with ``parse_decimal`` first, so a decimal
    comma never reaches here. Bounds (zero, negative, a maximum) are the caller's: a dose
    may be 0 mg, a receipt may not."""
    try:
        amount = Decimal(str(value)).quantize(MG_STEP)
    except (InvalidOperation, ValueError, TypeError):
        raise NumberError("Enter the amount in mg, e.g. 150 or 7.5.", "mg") from None
    if not amount.is_finite():
        # NaN survives the rounding; it compares to nothing, so no bound could refuse it.
        raise NumberError("Enter the amount in mg, e.g. 150 or 7.5.", "mg")
    return amount
