"""The individual plan (individuell plan) as pure rules: the coded catalogues with their
bokmål and English labels, the review schedule and who may read which notes. No Django,
no I/O.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class Code:
    """A coded answer with its label in both languages (stored: the code)."""

    code: str
    nb: str
    en: str

    def label(self, language: str | None) -> str:
        return self.nb if (language or "nb").startswith("nb") else self.en


# The plan's life domains, in the order the plan shows them.
DOMAINS: tuple[Code, ...] = (
    Code("housing", "Bolig", "Housing"),
    Code("activity", "Aktivitet og arbeid", "Activity and work"),
    Code("physical_health", "Fysisk helse", "Physical health"),
    Code("mental_health", "Psykisk helse", "Mental health"),
    Code("network", "Nettverk og pårørende", "Network and relatives"),
    Code("finances", "Økonomi", "Finances"),
    Code("legal", "Juridiske forhold", "Legal matters"),
)
# Where the patient lives now.
HOUSING: tuple[Code, ...] = (
    Code("own_flat", "Egen bolig", "Own flat"),
    Code("supported_housing", "Bolig med oppfølging", "Supported housing"),
    Code("hostel", "Hospits eller akuttovernatting", "Hostel or shelter"),
    Code("homeless", "Bostedsløs / gate", "Homeless or street"),
    Code("institution", "Institusjon", "Institution"),
    Code("prison", "Fengsel", "Prison"),
    Code("other", "Annet", "Other"),
)
# What fills the patient's day.
ACTIVITY: tuple[Code, ...] = (
    Code("work", "Arbeid", "Work"),
    Code("education", "Utdanning", "Education"),
    Code("day_programme", "Dagtilbud eller aktivitetstilbud", "Day programme or activity"),
    Code("none", "Ingen", "None"),
    Code("other", "Annet", "Other"),
)
# How a relative takes part in the plan (only with the patient's consent).
INVOLVEMENT: tuple[Code, ...] = (
    Code(
        "responsibility_group",
        "Invitert til ansvarsgruppen",
        "Invited to the responsibility group",
    ),
    Code("meetings", "Deltar i møter om planen", "Takes part in plan meetings"),
    Code("support", "Praktisk støtte i hverdagen", "Practical support day to day"),
    Code("contact", "Fast kontaktperson for teamet", "Regular contact for the team"),
    Code("other", "Annet", "Other"),
)


def codes(catalogue: Iterable[Code]) -> list[str]:
    return [item.code for item in catalogue]


def label(catalogue: Iterable[Code], code: str, language: str | None) -> str:
    for item in catalogue:
        if item.code == code:
            return item.label(language)
    return code


def choices(catalogue: Iterable[Code], language: str | None) -> list[tuple[str, str]]:
    return [(item.code, item.label(language)) for item in catalogue]


# --- reviews ----------------------------------------------------------------------------

REVIEW_MONTHS = 3
DUE_SOON_DAYS = 14


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it has no such day
    (31 January + 1 month = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_next_review(held_on: date) -> date:
    return add_months(held_on, REVIEW_MONTHS)


def next_review_due(admitted_on: date, reviews: Iterable[tuple[date, date]]) -> date:
    """When the plan is next reviewed: the date agreed at the latest review held in this
    episode (``reviews`` are (held_on, next_on) pairs), or three months after admission
    when none has been held yet."""
    held = [(held_on, next_on) for held_on, next_on in reviews if held_on >= admitted_on]
    if not held:
        return add_months(admitted_on, REVIEW_MONTHS)
    return max(held)[1]


class ReviewState(StrEnum):
    SCHEDULED = "scheduled"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def review_state(due: date, today: date) -> ReviewState:
    """Overdue the day after the due date; due soon within two weeks of it."""
    if due < today:
        return ReviewState.OVERDUE
    if due - today <= timedelta(days=DUE_SOON_DAYS):
        return ReviewState.DUE_SOON
    return ReviewState.SCHEDULED


def action_overdue(due_on: date | None, status: str, today: date) -> bool:
    return status == "open" and due_on is not None and due_on < today


# --- notes ------------------------------------------------------------------------------


class Visibility(StrEnum):
    """Who reads a note: the whole care team, the clinicians (doctor and psychologist),
    or the psychologist only."""

    TEAM = "team"
    CLINICAL = "clinical"
    PSYCHOLOGY = "psychology"


def readable_levels(*, team: bool, clinical: bool, psychology: bool) -> frozenset[Visibility]:
    """The levels a reader may see, from the three permissions they hold. Each level
    needs its own permission: reading psychology notes does not come with a lower one by
    itself, the policy grants both to the psychologist."""
    granted = {
        Visibility.TEAM: team,
        Visibility.CLINICAL: clinical,
        Visibility.PSYCHOLOGY: psychology,
    }
    return frozenset(level for level, allowed in granted.items() if allowed)


def may_read(level: str, levels: frozenset[Visibility]) -> bool:
    return level in levels


def may_choose(level: str, levels: frozenset[Visibility]) -> bool:
    """An author may give a note only a level they can read themselves: nobody writes
    what they could not read back."""
    return level in levels
