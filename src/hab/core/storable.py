"""Values no HAB record can hold, refused with the field they are in.

The databases disagree on what they refuse: PostgreSQL rejects NUL in text, a string longer
than its column and an integer beyond 64 bits with an error (a 500 if nobody asks first),
while SQLite stores the long string silently and overflows on the integer. Neither has an
opinion on the year 1 or 9999, which no date in a treatment programme can be. So the API
checks every argument it has validated (hab.core.api_contract) and every save of a HAB model
is checked here (a pre_save receiver, connected in CoreConfig.ready): the service's
transaction is rolled back and the caller gets 422, or the form its error, beside the field.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from pydantic import BaseModel

from hab.core.errors import FieldError, Invalid

#: The first and last day a HAB record may name: births from 1900, nothing after 2100.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2100, 12, 31)
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def value_problem(value: Any) -> str | None:
    """Why a single value cannot be stored, or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return _("Text may not contain NUL characters.")
        if any("\ud800" <= char <= "\udfff" for char in value):
            return _("Text may not contain invalid characters.")
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            return _("This number is too large.")
    elif isinstance(value, float | Decimal):
        if not math.isfinite(value):
            return _("Enter a finite number.")
    elif isinstance(value, datetime.date):
        day = value.date() if isinstance(value, datetime.datetime) else value
        if not EARLIEST <= day <= LATEST:
            return _("Enter a date between %(first)s and %(last)s.") % {
                "first": EARLIEST.year,
                "last": LATEST.year,
            }
    return None


def problems(value: Any, field: str = "") -> list[FieldError]:
    """Every unstorable value in ``value``, looking into objects, lists and validated
    schemas; ``field`` is the dotted path so far (schema fields by their public name)."""

    def under(name: object) -> str:
        return f"{field}.{name}" if field else str(name)

    if isinstance(value, BaseModel):
        found = []
        for name, info in type(value).model_fields.items():
            found += problems(getattr(value, name), under(info.alias or name))
        return found
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            found += problems(key, under(key)) + problems(item, under(key))
        return found
    if isinstance(value, list | tuple):
        found = []
        for index, item in enumerate(value):
            found += problems(item, under(index))
        return found
    message = value_problem(value)
    return [FieldError(field or "body", message)] if message else []


def _field_problem(field: models.Field, value: Any) -> str | None:
    if value is None:
        return None
    if message := value_problem(value):
        return message
    if isinstance(value, str) and field.max_length and len(value) > field.max_length:
        return _("Write at most %(limit)s characters.") % {"limit": field.max_length}
    if isinstance(field, models.DecimalField) and isinstance(value, Decimal | int | float):
        whole_digits = len(str(abs(int(value)))) if value else 0
        if whole_digits > field.max_digits - field.decimal_places:
            return _("This number is too large.")
    return None


def refuse_unstorable(sender, instance, raw: bool = False, **kwargs) -> None:
    """pre_save: raises Invalid for a HAB row with a value its column cannot hold."""
    if raw or not sender.__module__.startswith("hab."):
        return
    found = []
    for field in sender._meta.concrete_fields:
        if isinstance(field, models.FileField):
            continue
        if message := _field_problem(field, field.value_from_object(instance)):
            found.append(FieldError(field.name, message))
    if found:
        raise Invalid(found)
