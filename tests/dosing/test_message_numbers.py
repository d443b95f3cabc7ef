"""The dose decision's reasons write numbers the way the reader's language does:
"0,6 ‰" and "7,5 mg" in bokmål, "0.6 ‰" and "7.5 mg" in English."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from hab.dosing import messages
from hab.dosing.rules import Reason, Severity


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nb", "Promille i utåndingsluft er 0,6 ‰, over grensen på 0,2 ‰."),
        ("en", "Breath alcohol 0.6 ‰ is above the limit of 0.2 ‰."),
    ],
)
def test_a_breath_alcohol_reason_writes_the_permille_in_the_language(language, expected):
    reason = Reason("alcohol", Severity.BLOCK, {"value": Decimal("0.60"), "max": 0.2})

    with translation.override(language):
        assert messages.text(reason) == expected


@pytest.mark.parametrize(
    ("language", "amount", "written"),
    [
        ("nb", Decimal("7.5"), "7,5 mg"),
        ("en", Decimal("7.5"), "7.5 mg"),
        ("nb", 1250.0, "1\u00a0250 mg"),
        ("en", 1250.0, "1,250 mg"),
        ("nb", Decimal("150.0"), "150 mg"),
    ],
)
def test_an_amount_in_a_reason_is_written_in_the_language(language, amount, written):
    reason = Reason("daily_max_reached", Severity.BLOCK, {"daily_max": amount})

    with translation.override(language):
        assert written in messages.text(reason)
