"""How amounts are written for people, shared by the apps."""

from __future__ import annotations

from decimal import Decimal


def mg_text(amount: Decimal) -> str:
    """150, 7.5 or 10000: an amount as a nurse writes it."""
    text = f"{Decimal(amount):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
