"""The plan's pure rules: the review schedule, overdue actions and the catalogues."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hab.care import rules
from hab.care.rules import ReviewState

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 15), 3, date(2026, 4, 15)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 10, 31), 3, date(2027, 1, 31)),
        (date(2026, 12, 1), 12, date(2027, 12, 1)),
    ],
)
def test_add_months(day, months, expected):
    assert rules.add_months(day, months) == expected


@given(day=days, months=st.integers(min_value=0, max_value=48))
def test_add_months_lands_in_the_right_month_and_never_later_in_it(day, months):
    later = rules.add_months(day, months)

    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day <= day.day


def test_the_first_review_is_three_months_after_admission():
    assert rules.next_review_due(date(2026, 3, 1), []) == date(2026, 6, 1)


def test_the_next_review_is_the_one_agreed_at_the_latest_review():
    reviews = [(date(2026, 6, 1), date(2026, 9, 1)), (date(2026, 8, 20), date(2026, 10, 1))]

    assert rules.next_review_due(date(2026, 3, 1), reviews) == date(2026, 10, 1)


def test_reviews_before_this_admission_do_not_count():
    """A patient admitted again starts a new schedule."""
    old = [(date(2025, 1, 10), date(2025, 4, 10))]

    assert rules.next_review_due(date(2026, 3, 1), old) == date(2026, 6, 1)


def test_the_default_next_review_is_three_months_after_it():
    assert rules.default_next_review(date(2026, 5, 31)) == date(2026, 8, 31)


@pytest.mark.parametrize(
    ("offset", "state"),
    [
        (-1, ReviewState.OVERDUE),
        (0, ReviewState.DUE_SOON),
        (14, ReviewState.DUE_SOON),
        (15, ReviewState.SCHEDULED),
    ],
)
def test_review_state(offset, state):
    today = date(2026, 6, 1)

    assert rules.review_state(today + timedelta(days=offset), today) == state


@given(admitted=days, today=days, reviews=st.lists(st.tuples(days, days), max_size=5))
def test_overdue_exactly_when_the_due_date_has_passed(admitted, today, reviews):
    reviews = [(held, max(nxt, held + timedelta(days=1))) for held, nxt in reviews]
    due = rules.next_review_due(admitted, reviews)

    assert (rules.review_state(due, today) == ReviewState.OVERDUE) == (due < today)
    assert due > admitted


@pytest.mark.parametrize(
    ("due", "status", "overdue"),
    [
        (date(2026, 5, 31), "open", True),
        (date(2026, 6, 1), "open", False),
        (None, "open", False),
        (date(2026, 5, 1), "done", False),
        (date(2026, 5, 1), "dropped", False),
    ],
)
def test_an_action_is_overdue_only_while_open_past_its_date(due, status, overdue):
    assert rules.action_overdue(due, status, date(2026, 6, 1)) is overdue


def test_the_catalogues_have_unique_codes_and_both_languages():
    for catalogue in (rules.DOMAINS, rules.HOUSING, rules.ACTIVITY, rules.INVOLVEMENT):
        codes = rules.codes(catalogue)
        assert len(codes) == len(set(codes))
        assert all(item.nb and item.en for item in catalogue)
    assert rules.codes(rules.DOMAINS) == [
        "housing",
        "activity",
        "physical_health",
        "mental_health",
        "network",
        "finances",
        "legal",
    ]
    assert rules.label(rules.HOUSING, "homeless", "nb") == "Bostedsløs / gate"
    assert rules.label(rules.HOUSING, "homeless", "en") == "Homeless or street"
