"""Small helpers shared by tests."""

from __future__ import annotations

from datetime import date, timedelta

from hab.core import clock
from hab.intake.selectors import active_criteria_set


def all_yes() -> dict[str, bool]:
    return {c.code: True for c in active_criteria_set().criteria.all()}


def days_ago(days: int) -> date:
    return clock.today() - timedelta(days=days)
