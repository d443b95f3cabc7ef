"""Small helpers shared by tests."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from hab.intake.selectors import active_criteria_set


def all_yes() -> dict[str, bool]:
    return {c.code: True for c in active_criteria_set().criteria.all()}


def days_ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)
