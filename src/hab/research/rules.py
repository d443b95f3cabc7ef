"""The follow-up schedule, as pure functions (no Django, no I/O).

Baseline at admission, then months 3, 6, 12, 18, 24, 36, 48 and 60, each with a window
(default ±30 days) within which the interview counts for that time point.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from enum import StrEnum

TIMEPOINTS: tuple[tuple[str, int], ...] = (
    ("baseline", 0),
    ("m3", 3),
    ("m6", 6),
    ("m12", 12),
    ("m18", 18),
    ("m24", 24),
    ("m36", 36),
    ("m48", 48),
    ("m60", 60),
)
WINDOW_DAYS = 30


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later; the month's last day when it is shorter."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Slot:
    timepoint: str
    months: int
    due_on: datetime.date
    window_from: datetime.date
    window_to: datetime.date


def schedule(admitted_on: datetime.date, window_days: int = WINDOW_DAYS) -> list[Slot]:
    """Every time point of a course of treatment that began on ``admitted_on``."""
    slots = []
    for code, months in TIMEPOINTS:
        due = add_months(admitted_on, months)
        width = datetime.timedelta(days=window_days)
        slots.append(Slot(code, months, due, due - width, due + width))
    return slots


class State(StrEnum):
    UPCOMING = "upcoming"  # the window has not opened
    DUE = "due"  # inside the window, before the due date
    OVERDUE = "overdue"  # inside the window, after the due date
    DONE = "done"
    MISSED = "missed"  # the window closed without an interview


def state(slot: Slot, today: datetime.date, *, answered: bool, missed: bool = False) -> State:
    if answered:
        return State.DONE
    if missed or today > slot.window_to:
        return State.MISSED
    if today < slot.window_from:
        return State.UPCOMING
    return State.DUE if today <= slot.due_on else State.OVERDUE


# Why a time point was recorded as missed (Missed.reason).
WINDOW_CLOSED = "window_closed"  # the window closed without an interview
ENDED = "ended"  # the course of treatment ended before the window opened


def not_reached(slot: Slot, ended_on: datetime.date | None) -> bool:
    """A time point whose window opens after the course of treatment ended is not due:
    it is recorded as missed for that reason. One whose window was open when the course
    ended can still be answered until its window closes (e.g. at the last visit)."""
    return ended_on is not None and slot.window_from > ended_on


def missed_reason(
    slot: Slot, today: datetime.date, ended_on: datetime.date | None, *, answered: bool
) -> str:
    """The reason to record the time point as missed now, or '' when it is not missed."""
    if answered:
        return ""
    if not_reached(slot, ended_on):
        return ENDED
    if today > slot.window_to:
        return WINDOW_CLOSED
    return ""
