"""How amounts are written for people, shared by the apps.

Human pages, messages, PDFs and charts show numbers the way the reader's language writes
them: 941 780,7 mg and 0,2 ‰ in bokmål, 941,780.7 mg and 0.2 ‰ in English (Django's
own formats for the two languages: a no-break space or a comma between thousands). The
API's JSON and the CSV and research exports keep machine numbers (a point, no grouping):
they use ``plain`` or the number itself, never these helpers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats


def plain(amount: Decimal | int | float) -> str:
    """150, 7.5 or 10000: an amount without trailing zeros, in machine form (a point, no
    grouping), for files, logs and command output read by programs."""
    text = f"{Decimal(str(amount)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def number(amount: Decimal | int | float | None, places: int | None = None) -> str:
    """An amount for a person in the active language: "941 780,7" in bokmål, "941,780.7"
    in English. ``places`` fixes the decimals (rounded half up, as Django's floatformat
    does); without it, as many as the amount has, trailing zeros left out (7,5, 150)."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    if places is None:
        text = plain(value)
        places = len(text.partition(".")[2])
        value = Decimal(text)
    # Django's number_format cuts extra decimals off; round them as a person would.
    value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return formats.number_format(value, places, use_l10n=True, force_grouping=True)


def mg_text(amount: Decimal | int | float) -> str:
    """150, 7,5 or 10 000: an amount of mg as a nurse reads it, in the active language."""
    return number(amount)
