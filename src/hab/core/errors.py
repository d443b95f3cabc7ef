"""Domain errors. Services raise them; the API and the views map them in one place."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from hab.core.numbers import NumberError, parse_mg


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def mg_entered(errors: list[FieldError], field: str, value: object) -> Decimal | None:
    """``value`` read by ``parse_mg`` for a service that lists every field's problem before
    it refuses: None, and the one message every amount in mg gives, when it is no amount."""
    try:
        return parse_mg(value)
    except NumberError:
        errors.append(FieldError(field, _("Enter the amount in mg, e.g. 150 or 7.5.")))
        return None


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """Unknown, or outside the caller's clinics: the two are not told apart."""

    status = 404


class Forbidden(DomainError):
    status = 403


class ReasonRequired(Forbidden):
    """The caller may open the record only after stating a reason (no care relationship)."""


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    """Invalid or unsafe input; every problem is listed with the field it concerns."""

    status = 422

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> Invalid:
        return cls([FieldError(field, str(message))])

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]]) -> Invalid:
        return cls([FieldError(field, str(message)) for field, message in pairs])
