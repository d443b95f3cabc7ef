"""Finding a patient on the dosing board from what the nurse types.

Pure: no Django, no I/O. The nurse types what the board shows or what the patient says at
the counter: the name as the list writes it ("Amundsen, Rune"), the name as it is spoken
("Rune Amundsen"), the first letters of a name ("amu"), the birth date as it is said
(ddmmyy, ddmmyyyy, dd.mm.yyyy) or the initials on the photo placeholder ("RA").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# Norwegian letters folded so a keyboard without them, and the old spelling, still find
# the name ("Asen" and "Aasen" find "Åsen", "Haakon" finds "Håkon", "soren" finds
# "Søren"); other accents are dropped ("Rene" finds "René"). Applied alike to the query
# and the names, so what the nurse types in Norwegian letters always finds itself.
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})
_DOUBLE_A = re.compile("a{2,}")
# What separates the parts of a query: spaces and the comma of "Family, Given".
_SEPARATORS = re.compile(r"[\s,;]+")
# Parts of a name: "Berg-Olsen" is found by "olsen" too.
_NAME_PARTS = re.compile(r"[\s\-']+")
# A date with separators: 14.03.1979, 14.3.79, 14/03/1979, 14-03-1979.
_DOTTED = re.compile(r"^(\d{1,2})[./\-](\d{1,2})(?:[./\-](\d{2}|\d{4}))?$")
# Fewer letters than this match only at the start of a name part: "ra" would otherwise
# find every "Sara" and "Bratli" on the list.
_INFIX_FROM = 3


def fold(text: str) -> str:
    """Lower case, composed Unicode, Norwegian letters spelled out, other accents dropped."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    return _DOUBLE_A.sub("a", "".join(c for c in decomposed if not unicodedata.combining(c)))


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a board row is found by."""

    given_name: str
    family_name: str
    birth_date: date
    national_id: str = ""


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every term must match the patient (in any order)."""

    terms: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Query:
        terms: list[str] = []
        for term in _SEPARATORS.split(text.strip()):
            if any(c.isdigit() for c in term):
                terms.append(term)  # a date keeps its separators: 14-03-1979
            else:
                terms += [part for part in _NAME_PARTS.split(term) if part]
        return cls(tuple(terms))

    def __bool__(self) -> bool:
        return bool(self.terms)

    def matches(self, candidate: Candidate) -> bool:
        if not self.terms:
            return True
        names = [
            part
            for part in _NAME_PARTS.split(fold(f"{candidate.given_name} {candidate.family_name}"))
            if part
        ]
        initials = fold(candidate.given_name[:1] + candidate.family_name[:1])
        return all(_term_matches(term, names, initials, candidate) for term in self.terms)


def matches(text: str, candidate: Candidate) -> bool:
    return Query.parse(text).matches(candidate)


def _term_matches(term: str, names: list[str], initials: str, candidate: Candidate) -> bool:
    if any(c.isdigit() for c in term):
        return _date_matches(term, candidate)
    folded = fold(term)
    if not folded:
        return False
    if folded == initials:
        return True
    return any(
        part.startswith(folded) or (len(folded) >= _INFIX_FROM and folded in part) for part in names
    )


def _date_matches(term: str, candidate: Candidate) -> bool:
    """The birth date, as digits (the start of ddmmyy or ddmmyyyy, or of the national id)
    or with separators (dd.mm, dd.mm.yy, dd.mm.yyyy, leading zeros optional)."""
    born = candidate.birth_date
    dotted = _DOTTED.match(term)
    if dotted:
        day, month, year = dotted.groups()
        if (int(day), int(month)) != (born.day, born.month):
            return False
        if year is None:
            return True
        return int(year) == (born.year if len(year) == 4 else born.year % 100)
    if not term.isdigit():
        return False
    short = f"{born.day:02d}{born.month:02d}{born.year % 100:02d}"
    long = f"{born.day:02d}{born.month:02d}{born.year:04d}"
    return (
        short.startswith(term)
        or long.startswith(term)
        or bool(candidate.national_id and candidate.national_id.startswith(term))
    )
