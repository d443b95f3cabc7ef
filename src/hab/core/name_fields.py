"""The rule for people's names (hab.core.names) in forms and services.

Services call ``clean_person_name`` for every name they store, so the web pages and the
API refuse the same names with the same words: beside the field on a page, as a 422
naming the field in the API. Forms use ``PersonNameField`` so a page answers before the
service is called. tests/core/test_person_name_fields.py walks every form in HAB and
fails on a name field of another kind.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from hab.core.errors import FieldError
from hab.core.names import PersonNameError, person_name

# Why a name was refused, in the user's language (the rule's codes).
MESSAGES = {
    "empty": _("This field is required."),
    "invisible": _(
        "The name contains an invisible or control character (%(char)s). "
        "Type the name again instead of pasting it."
    ),
    "no_letter": _("A name must contain at least one letter."),
    "too_long": _("The name is too long: at most %(max)d characters."),
}


def person_name_message(error: PersonNameError, max_length: int) -> str:
    return str(MESSAGES[error.code]) % {"char": error.char, "max": max_length}


def clean_person_name(
    errors: list[FieldError], field: str, value: object, *, max_length: int, required: bool = True
) -> str:
    """The name as stored, or the value unchanged with the reason added to ``errors``.
    An optional name left empty (or only spaces) is stored as ""."""
    text = "" if value is None else str(value)
    if not required and not text.strip():
        return ""
    try:
        return person_name(text, max_length=max_length)
    except PersonNameError as error:
        errors.append(FieldError(field, person_name_message(error, max_length)))
        return text


class PersonNameField(forms.CharField):
    """A person's given, family or full name, normalised as HAB stores it."""

    def __init__(self, *, max_length: int, **kwargs) -> None:
        super().__init__(max_length=max_length, strip=False, **kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return text
        try:
            return person_name(text, max_length=self.max_length)
        except PersonNameError as error:
            raise ValidationError(
                person_name_message(error, self.max_length), code=error.code
            ) from error
