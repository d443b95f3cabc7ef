"""The pure rules of the shared tablet's lock screen (hab.core.rules)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hab.core import rules
from hab.core.rules import PinProblem, is_idle, pin_problem


@pytest.mark.parametrize(
    ("idle_seconds", "locked"),
    [(119, False), (119.999, False), (120, False), (120.001, True), (121, True)],
)
def test_a_session_is_idle_only_over_the_limit(idle_seconds, locked):
    start = 1_800_000_000.0

    assert is_idle(start, start + idle_seconds, 120) is locked


@given(
    last=st.floats(min_value=0, max_value=2e9),
    idle=st.floats(min_value=0, max_value=1e5),
    later=st.floats(min_value=0, max_value=1e5),
    limit=st.integers(min_value=60, max_value=1800),
)
def test_once_idle_a_session_stays_idle_as_time_goes_on(last, idle, later, limit):
    if is_idle(last, last + idle, limit):
        assert is_idle(last, last + idle + later, limit)


def test_a_clock_set_back_never_locks():
    # The tests move the clock back and forth; time "before" the activity is not idle.
    assert is_idle(1000.0, 900.0, 60) is False


@pytest.mark.parametrize(
    ("minutes", "valid"), [(0, False), (1, True), (2, True), (30, True), (31, False)]
)
def test_the_clinic_setting_is_1_to_30_minutes(minutes, valid):
    assert rules.idle_lock_minutes_valid(minutes) is valid


@pytest.mark.parametrize(
    ("pin", "problem"),
    [
        ("258", PinProblem.LENGTH),
        ("2580", None),
        ("25803", None),
        ("25803691", None),
        ("258036914", PinProblem.LENGTH),
        ("", PinProblem.NOT_DIGITS),
        ("25a0", PinProblem.NOT_DIGITS),
        ("25 80", PinProblem.NOT_DIGITS),
        ("٢٥٨٠", PinProblem.NOT_DIGITS),  # Arabic-Indic digits are digits, but not ours
        ("0000", PinProblem.GUESSABLE),
        ("77777777", PinProblem.GUESSABLE),
        ("1234", PinProblem.GUESSABLE),
        ("98765", PinProblem.GUESSABLE),
        ("7890", PinProblem.GUESSABLE),
        ("1235", None),
        ("1122", None),
    ],
)
def test_a_pin_is_4_to_8_digits_and_not_the_first_ones_tried(pin, problem):
    assert pin_problem(pin) == problem


@pytest.mark.parametrize(("failures", "left"), [(0, 5), (3, 2), (4, 1), (5, 0), (6, 0)])
def test_five_wrong_tries_at_the_lock_screen_are_the_last(failures, left):
    assert rules.unlock_attempts_left(failures) == left
