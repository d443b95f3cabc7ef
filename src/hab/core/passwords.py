"""A password that is the user's own name, dressed up, is refused.

zxcvbn's estimate (settings.AUTH_PASSWORD_VALIDATORS) takes the user's names as its first
guesses, and Django's similarity check refuses a password close to one of them; yet
"karinordmann1980" for Kari Nordmann, or "oslo.nurse1" for nurse.oslo, estimates well
enough to pass both: the names are rare words to the estimator, and the year or the
reordering moves the password away from each name alone. An attacker who knows the user
tries exactly those first. This check takes the user's names out of the password; when
nothing but digits and marks is left, the password is the name and is refused.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Parts of a user name or a person's name: "nurse.oslo" -> nurse, oslo.
_PARTS = re.compile(r"[^\w]+|_")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def name_parts(*names: str) -> list[str]:
    """Every name and each of its parts, folded, longest first."""
    parts = set()
    for name in names:
        folded = _fold(name or "")
        if folded.strip():
            parts.add(folded.strip())
            parts.update(part for part in _PARTS.split(folded) if part)
    return sorted(parts, key=lambda part: (-len(part), part))


def is_only_names(password: str, names: list[str]) -> bool:
    """True when ``password`` is made of ``names`` (see ``name_parts``) and nothing but
    digits, marks and spaces."""
    rest = _fold(password)
    for name in names:
        rest = rest.replace(name, "")
    return len(rest) < len(_fold(password)) and not any(char.isalpha() for char in rest)


class NotTheUsersNameValidator:
    """For AUTH_PASSWORD_VALIDATORS: refuses the user name or the person's name with
    only digits or marks added, in any order or case."""

    ATTRIBUTES = ("username", "first_name", "last_name", "email")

    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        values = [str(getattr(user, name, "") or "") for name in self.ATTRIBUTES]
        # The e-mail's part before @ is a name too; its domain is not.
        values = [value.split("@")[0] for value in values]
        if is_only_names(password, name_parts(*values)):
            raise ValidationError(
                _(
                    "The password is made of your name or user name. Add words that have "
                    "nothing to do with you."
                ),
                code="password_is_the_users_name",
            )

    def get_help_text(self) -> str:
        return _("Your password cannot be your name or user name with digits added.")
