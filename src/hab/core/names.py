"""People's names as HAB stores them: one rule for every name a person types.

A name is shown on the dosing board, on a label and in a report; what a nurse reads
there must be what was typed, and must be a name. Two things break that:

- characters that show nothing or change what is around them: the right-to-left
  override U+202E turns "\u202eevil" into "live" on screen, a zero-width space makes
  "Kari" and "Ka\u200bri" two different people to a search. Unicode calls them control
  (Cc) and format (Cf) characters. They are refused, together with the rest of
  Unicode's "other" category (surrogates, private-use and unassigned code points),
  which no name in any script is written with;
- one name stored in two spellings: "Å" typed on a Norwegian keyboard is one code
  point (U+00C5), pasted from a Mac it may be "A" and a combining ring (U+0041 U+030A).
  Names are stored in Unicode's composed form (NFC), so the two are one name.

What is accepted: any name with at least one letter, in any script, with the marks,
hyphens, apostrophes, spaces and full stops names are written with ("Åse Ødegård",
"Áile Ŋuolja", "Anne-Marit O'Brien", "Jr."). Runs of spaces are made one space, and
spaces at either end are dropped. No Django here: tests/core/test_names.py tests the rule
at, under and over each limit; hab.core.name_fields puts it into forms and services.
"""

from __future__ import annotations

import unicodedata


class PersonNameError(ValueError):
    """Why a name was refused: ``code`` is one of "empty", "invisible", "no_letter",
    "too_long"; ``char`` is the refused character as "U+202E" for "invisible"."""

    def __init__(self, code: str, char: str = "") -> None:
        super().__init__(f"{code} {char}".strip())
        self.code = code
        self.char = char


def person_name(value: str, *, max_length: int) -> str:
    """The name as stored: NFC, one space between words, none at the ends.

    Raises ``PersonNameError`` for an empty name, a character of Unicode's "other"
    category (control, format, surrogate, private use, unassigned), a name without a
    letter, and a name longer than ``max_length`` once normalised.
    """
    for char in value:
        if unicodedata.category(char).startswith("C") and not char.isspace():
            raise PersonNameError("invisible", f"U+{ord(char):04X}")
    # Tabs and line breaks are control characters too, but only ever white space in a
    # name that was pasted; they become one space like any other run of spaces.
    name = " ".join(unicodedata.normalize("NFC", value).split())
    if not name:
        raise PersonNameError("empty")
    if not any(unicodedata.category(char).startswith("L") for char in name):
        raise PersonNameError("no_letter")
    if len(name) > max_length:
        raise PersonNameError("too_long")
    return name
