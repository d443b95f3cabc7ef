"""The intake protocol's pure rules, with properties."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hab.intake import rules
from hab.intake.rules import Outcome, Status

answers = st.dictionaries(
    st.sampled_from(["a", "b", "c", "d", "e"]), st.sampled_from([True, False, None]), min_size=1
)


def test_final_states_go_nowhere():
    assert rules.TRANSITIONS[Status.ADMITTED] == frozenset()
    assert rules.TRANSITIONS[Status.WITHDRAWN] == frozenset()
    assert Status.ADMITTED not in rules.OPEN_STATUSES


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (Status.RECEIVED, Status.ADMITTED, False),
        (Status.RECEIVED, Status.WAITLISTED, False),
        (Status.NOT_ELIGIBLE, Status.ADMITTED, False),
        (Status.NOT_ELIGIBLE, Status.WAITLISTED, False),
        (Status.ELIGIBLE, Status.ADMITTED, True),
        (Status.WAITLISTED, Status.ADMITTED, True),
        (Status.ADMITTED, Status.WITHDRAWN, False),
        (Status.WITHDRAWN, Status.RECEIVED, False),
    ],
)
def test_transitions(current, target, allowed):
    assert rules.can_move(current, target) is allowed


@given(st.lists(st.sampled_from(list(Status)), max_size=12))
def test_admission_is_only_ever_reached_through_eligibility(path):
    """Walking any allowed path from received, admitted is entered only from eligible or
    waitlisted, and those only after an eligible decision."""
    state, seen_eligible = Status.RECEIVED, False
    for target in path:
        if not rules.can_move(state, target):
            continue
        if target == Status.ADMITTED:
            assert state in rules.ADMISSIBLE and seen_eligible
        seen_eligible = seen_eligible or target == Status.ELIGIBLE
        if target == Status.NOT_ELIGIBLE:
            seen_eligible = False
        state = target


@given(answers)
def test_the_checklist_outcome(values):
    outcome = rules.checklist_outcome(values)

    if False in values.values():
        assert outcome == Outcome.NOT_ELIGIBLE
    elif None in values.values():
        assert outcome == Outcome.INCOMPLETE
    else:
        assert outcome == Outcome.ELIGIBLE


@given(answers, st.booleans())
def test_a_decision_needs_justification_exactly_when_the_checklist_disagrees(values, eligible):
    outcome = rules.checklist_outcome(values)
    agrees = (eligible and outcome == Outcome.ELIGIBLE) or (
        not eligible and outcome == Outcome.NOT_ELIGIBLE
    )

    assert rules.decision_needs_justification(values, eligible) is (not agrees)


def test_answer_problems_names_each_code():
    problems = rules.answer_problems(["a", "b", "c"], {"a": True, "c": "maybe", "z": False})

    assert problems == {"b": "missing", "c": "not_yes_no", "z": "unknown"}


@given(
    st.lists(
        st.tuples(st.booleans(), st.dates(date(2022, 1, 1), date(2026, 12, 31))),
        max_size=20,
    )
)
def test_waitlist_order_puts_every_urgent_before_every_other_and_keeps_date_order(items):
    waiting = [rules.WaitlistItem(i, urgent, day) for i, (urgent, day) in enumerate(items)]

    ordered = rules.waitlist_order(waiting)

    assert sorted(w.referral_id for w in ordered) == list(range(len(items)))
    flags = [w.urgent for w in ordered]
    assert flags == sorted(flags, reverse=True)
    for first, second in itertools.pairwise(ordered):
        if first.urgent == second.urgent:
            assert first.eligible_on <= second.eligible_on


@given(st.integers(1, 400), st.integers(0, 500))
def test_free_places_are_never_negative(capacity, used):
    assert rules.places_free(capacity, used) == max(0, capacity - used)


@pytest.mark.parametrize(
    ("values", "expected"), [([], None), ([3], 3.0), ([1, 9, 4], 4.0), ([1, 2, 3, 10], 2.5)]
)
def test_median(values, expected):
    assert rules.median(values) == expected


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
        (date(1990, 6, 1), date(2026, 6, 1), 36),
    ],
)
def test_age_on_a_day(born, on, age):
    assert rules.age_on(born, on) == age


def test_a_coordinator_is_overdue_after_seven_days():
    admitted = date(2026, 11, 1)

    assert not rules.coordinator_overdue(admitted, False, admitted + timedelta(days=7))
    assert rules.coordinator_overdue(admitted, False, admitted + timedelta(days=8))
    assert not rules.coordinator_overdue(admitted, True, admitted + timedelta(days=30))


def test_phases_move_forward_and_tapering_can_stop():
    assert rules.PHASE_CHANGES[rules.Phase.INDUCTION] == {rules.Phase.MAINTENANCE}
    assert rules.Phase.INDUCTION not in rules.PHASE_CHANGES[rules.Phase.TAPERING]
