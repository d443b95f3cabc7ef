"""The intake protocol as pure rules: referral states, the eligibility checklist, waitlist
order and the open-place count. No Django, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Status(StrEnum):
    RECEIVED = "received"
    ASSESSING = "assessing"
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    WAITLISTED = "waitlisted"
    ADMITTED = "admitted"
    WITHDRAWN = "withdrawn"


S = Status
# Where a referral may go from each state. A new assessment may change an earlier
# decision until the person is admitted; admitted and withdrawn are final.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.ASSESSING, S.ELIGIBLE, S.NOT_ELIGIBLE, S.WITHDRAWN}),
    S.ASSESSING: frozenset({S.ELIGIBLE, S.NOT_ELIGIBLE, S.WITHDRAWN}),
    S.ELIGIBLE: frozenset({S.WAITLISTED, S.ADMITTED, S.NOT_ELIGIBLE, S.WITHDRAWN}),
    S.NOT_ELIGIBLE: frozenset({S.ASSESSING, S.ELIGIBLE, S.WITHDRAWN}),
    S.WAITLISTED: frozenset({S.ADMITTED, S.NOT_ELIGIBLE, S.WITHDRAWN}),
    S.ADMITTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
OPEN_STATUSES = frozenset(s for s, targets in TRANSITIONS.items() if targets)
ADMISSIBLE = frozenset({S.ELIGIBLE, S.WAITLISTED})
ASSESSABLE = frozenset({S.RECEIVED, S.ASSESSING, S.ELIGIBLE, S.NOT_ELIGIBLE, S.WAITLISTED})


def can_move(current: Status, target: Status) -> bool:
    return target in TRANSITIONS[current]


class Outcome(StrEnum):
    """What the checklist alone says."""

    ELIGIBLE = "eligible"  # every criterion met
    NOT_ELIGIBLE = "not_eligible"  # at least one criterion not met
    INCOMPLETE = "incomplete"  # none failed, but some unknown


def checklist_outcome(answers: Mapping[str, bool | None]) -> Outcome:
    values = list(answers.values())
    if any(value is False for value in values):
        return Outcome.NOT_ELIGIBLE
    if any(value is None for value in values):
        return Outcome.INCOMPLETE
    return Outcome.ELIGIBLE


def decision_needs_justification(answers: Mapping[str, bool | None], eligible: bool) -> bool:
    """A decision that the checklist does not support must be justified in writing.

    Eligible needs every criterion met; not eligible needs at least one not met.
    """
    outcome = checklist_outcome(answers)
    if eligible:
        return outcome != Outcome.ELIGIBLE
    return outcome != Outcome.NOT_ELIGIBLE


def answer_problems(codes: Iterable[str], answers: Mapping[str, object]) -> dict[str, str]:
    """Problems with the answers, by criterion code: every criterion answered, none unknown.

    The messages are codes ("missing", "unknown", "not_yes_no") for the caller to word.
    """
    expected = list(codes)
    problems: dict[str, str] = {}
    for code in expected:
        if code not in answers:
            problems[code] = "missing"
        elif answers[code] not in (True, False, None):
            problems[code] = "not_yes_no"
    for code in answers:
        if code not in expected:
            problems[code] = "unknown"
    return problems


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class WaitlistItem:
    referral_id: int
    urgent: bool
    eligible_on: date


def waitlist_order(items: Iterable[WaitlistItem]) -> list[WaitlistItem]:
    """Urgent first, then by the day found eligible, then by referral number (stable)."""
    return sorted(items, key=lambda item: (not item.urgent, item.eligible_on, item.referral_id))


def days_waiting(eligible_on: date, today: date) -> int:
    return max(0, (today - eligible_on).days)


def places_free(capacity: int, open_episodes: int) -> int:
    return max(0, capacity - open_episodes)


def median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


class Phase(StrEnum):
    INDUCTION = "induction"
    MAINTENANCE = "maintenance"
    TAPERING = "tapering"


PHASE_CHANGES: dict[Phase, frozenset[Phase]] = {
    Phase.INDUCTION: frozenset({Phase.MAINTENANCE}),
    Phase.MAINTENANCE: frozenset({Phase.TAPERING}),
    # Tapering may be stopped and the patient stabilised again.
    Phase.TAPERING: frozenset({Phase.MAINTENANCE}),
}

COORDINATOR_DAYS = 7


def coordinator_overdue(admitted_on: date, has_coordinator: bool, today: date) -> bool:
    """A coordinator (los) is required within 7 days of admission."""
    return not has_coordinator and (today - admitted_on).days > COORDINATOR_DAYS
