"""The one field for every quantity a person types into HAB.

The browser's number input reads "399,5" as 3995 in some locales and as nothing in
others; Django's own DecimalField without ``localize`` refuses the comma, with it reads
only the active language's mark. A nurse must not need to know which: every quantity
field reads both marks with ``hab.core.numbers.parse_decimal`` and refuses, beside the
field, what it cannot read without guessing. tests/core/test_quantity_fields.py walks
every form in HAB and fails on any other number field.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hab.core.numbers import NumberError, parse_decimal

# Why a number was refused, in the user's language (the parser's codes).
MESSAGES = {
    "empty": _("Enter a number."),
    "too_long": _("The number is too long."),
    "character": _("“%(char)s” is not part of a number: use digits and one comma or point."),
    "sign": _("Write at most one sign, in front of the number."),
    "ambiguous": _(
        "“%(text)s” can be read two ways: write it without a thousands separator "
        "(1000,5) and with one decimal comma or point."
    ),
    "thousands": _(
        "“%(text)s” could be a thousand and more or a number with three decimals: write "
        "it without a thousands separator (1500) or with fewer decimals (1,5)."
    ),
    "marks": _("More than one decimal mark: write one comma or point at most."),
    "fraction": _("Only digits may follow the decimal mark, and at least one."),
    "grouping": _("Spaces may only separate groups of three digits (1 000,5)."),
}


def _parse(value, field: forms.Field) -> Decimal | None:
    if value in field.empty_values:
        return None
    if isinstance(value, bool):
        raise ValidationError(MESSAGES["empty"], code="invalid")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        return None
    try:
        return parse_decimal(text)
    except NumberError as error:
        raise ValidationError(
            MESSAGES[error.code],
            code="invalid",
            params={"char": error.char, "text": text.strip()[:20]},
        ) from error


def _widget(inputmode: str) -> forms.TextInput:
    # Text, not type=number: the browser must hand over every character typed.
    attrs = {"autocomplete": "off", "spellcheck": "false"}
    if inputmode:
        attrs["inputmode"] = inputmode
    return forms.TextInput(attrs=attrs)


class QuantityField(forms.DecimalField):
    """A decimal quantity (mg, ‰, NOK, FTEs): "399,5" and "399.5" are both 399.5.

    Shown back in the active language (399,5 in bokmål, 399.5 in English), without
    thousands grouping so that what is shown is what the field reads. ``keyboard`` is the
    on-screen keyboard a tablet offers: "decimal" (digits and the mark) for amounts that
    cannot be negative, "text" where a minus sign is needed (stock adjustments).
    """

    def __init__(self, *, keyboard: str = "decimal", **kwargs) -> None:
        kwargs.setdefault("widget", _widget("" if keyboard == "text" else keyboard))
        kwargs["localize"] = True
        super().__init__(**kwargs)

    def to_python(self, value) -> Decimal | None:
        amount = _parse(value, self)
        if amount is None or not amount.is_finite():
            return amount
        # "7,50" is 7,5 exactly: zeros after the last decimal do not count against
        # decimal_places (Django's own field would refuse them).
        if amount == amount.to_integral_value():
            return amount.quantize(Decimal(1))
        return amount.normalize()


class WholeNumberField(forms.IntegerField):
    """A whole quantity (minutes, per cent, breaths a minute, doses, a year).

    Read by the same parser, so "12,5" is refused with a message instead of becoming 125
    in a browser's number input; "12,0" is 12.
    """

    default_error_messages = {"invalid": _("Enter a whole number.")}

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", _widget("numeric"))
        kwargs["localize"] = True
        super().__init__(**kwargs)

    def to_python(self, value) -> int | None:
        number = _parse(value, self)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(number)


def quantity_formfield(db_field: models.Field, **kwargs) -> forms.Field | None:
    """A ModelForm's ``formfield_callback``: the model's number columns get HAB's fields
    (``Meta.formfield_callback = quantity_formfield``)."""
    if isinstance(db_field, models.DecimalField):
        kwargs.setdefault("form_class", QuantityField)
    elif isinstance(db_field, models.IntegerField) and not db_field.choices:
        kwargs.setdefault("form_class", WholeNumberField)
    elif isinstance(db_field, models.FloatField):
        kwargs.setdefault("form_class", QuantityField)
    return db_field.formfield(**kwargs)
