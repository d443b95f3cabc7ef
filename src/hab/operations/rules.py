"""The clinic's opening and staffing rules. Pure: no Django, no I/O.

- ``opening``: the times of one session slot on one day, from the slot's template versions
  and the day's calendar exception. The clinic opens every day; only an explicit closure
  closes a session.
- ``shortfalls``: what a session lacks against the clinic's staffing rule. Shortfalls are
  codes with numbers; ``hab.operations.messages`` words them for the clinic lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum


class StaffRole(StrEnum):
    NURSE = "nurse"
    DOCTOR = "doctor"


class Duty(StrEnum):
    ON_DUTY = "on_duty"
    ON_CALL = "on_call"


class Source(StrEnum):
    TEMPLATE = "template"
    EXCEPTION = "exception"
    SLOT = "slot"  # no template for the weekday: the clinic's own slot times


# --- opening times --------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateVersion:
    """One version of a slot's times on a weekday, in force from ``valid_from``."""

    id: int
    weekday: int  # Monday 0 ... Sunday 6
    valid_from: date
    starts_at: time
    ends_at: time


@dataclass(frozen=True)
class DayException:
    """The day's own times for a slot (a holiday), or a closure (no times)."""

    id: int
    closed: bool
    starts_at: time | None = None
    ends_at: time | None = None


@dataclass(frozen=True)
class Opening:
    starts_at: time
    ends_at: time
    source: Source
    template_id: int | None = None
    exception_id: int | None = None
    closed: bool = False


def template_in_force(versions: Iterable[TemplateVersion], day: date) -> TemplateVersion | None:
    """The newest version for the day's weekday that is in force on the day (the later
    row wins among versions from the same date)."""
    candidates = [v for v in versions if v.weekday == day.weekday() and v.valid_from <= day]
    return max(candidates, key=lambda v: (v.valid_from, v.id), default=None)


def opening(
    day: date,
    *,
    slot_times: tuple[time, time],
    versions: Sequence[TemplateVersion] = (),
    exception: DayException | None = None,
) -> Opening:
    """The session's times on ``day``. An exception with times wins over the template; a
    closure keeps the times the session would have had, so the rota still shows them."""
    version = template_in_force(versions, day)
    if version is not None:
        base = Opening(version.starts_at, version.ends_at, Source.TEMPLATE, template_id=version.id)
    else:
        base = Opening(slot_times[0], slot_times[1], Source.SLOT)
    if exception is None:
        return base
    if exception.closed:
        return Opening(
            base.starts_at,
            base.ends_at,
            Source.EXCEPTION,
            template_id=base.template_id,
            exception_id=exception.id,
            closed=True,
        )
    assert exception.starts_at is not None and exception.ends_at is not None
    return Opening(
        exception.starts_at, exception.ends_at, Source.EXCEPTION, exception_id=exception.id
    )


# --- staffing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """The clinic's minimum staffing of a session. The programme's default: two nurses on
    duty, and a doctor on duty or on call."""

    min_nurses: int = 2
    min_doctors: int = 1
    doctor_on_call_counts: bool = True


DEFAULT_RULE = Rule()


@dataclass(frozen=True)
class Staffed:
    """One person on the session's rota."""

    role: StaffRole | str
    duty: Duty | str


class Need(StrEnum):
    NURSES = "nurses"
    DOCTORS = "doctors"


@dataclass(frozen=True)
class Shortfall:
    need: Need
    required: int
    present: int
    # Whether a doctor on call would have counted (words the message).
    on_call_counts: bool = False

    @property
    def missing(self) -> int:
        return self.required - self.present


def counts(rule: Rule, staff: Iterable[Staffed]) -> dict[Need, int]:
    """How many count towards each need: nurses on duty; doctors on duty, and on call
    where the rule lets them count."""
    found = {Need.NURSES: 0, Need.DOCTORS: 0}
    for person in staff:
        on_duty = person.duty == Duty.ON_DUTY
        if person.role == StaffRole.NURSE and on_duty:
            found[Need.NURSES] += 1
        elif person.role == StaffRole.DOCTOR and (on_duty or rule.doctor_on_call_counts):
            found[Need.DOCTORS] += 1
    return found


def shortfalls(rule: Rule, staff: Iterable[Staffed]) -> list[Shortfall]:
    """What the session lacks against the rule; empty when it is staffed."""
    found = counts(rule, staff)
    needed = [
        (Need.NURSES, rule.min_nurses, False),
        (Need.DOCTORS, rule.min_doctors, rule.doctor_on_call_counts),
    ]
    return [
        Shortfall(need, required, found[need], on_call)
        for need, required, on_call in needed
        if found[need] < required
    ]


def missing_total(found: Iterable[Shortfall]) -> int:
    return sum(s.missing for s in found)
