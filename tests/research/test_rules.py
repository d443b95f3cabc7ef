"""The follow-up schedule as rules: time points, windows, states, and when a time point
is missed."""

from __future__ import annotations

import datetime
import itertools
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hab.research import rules
from hab.research.rules import State

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def test_baseline_is_at_admission_then_months_3_6_12_18_24_36_48_60():
    slots = rules.schedule(date(2026, 1, 31))

    assert [(s.timepoint, s.due_on) for s in slots] == [
        ("baseline", date(2026, 1, 31)),
        ("m3", date(2026, 4, 30)),  # April has 30 days
        ("m6", date(2026, 7, 31)),
        ("m12", date(2027, 1, 31)),
        ("m18", date(2027, 7, 31)),
        ("m24", date(2028, 1, 31)),
        ("m36", date(2029, 1, 31)),
        ("m48", date(2030, 1, 31)),
        ("m60", date(2031, 1, 31)),
    ]
    assert slots[1].window_from == date(2026, 3, 31)
    assert slots[1].window_to == date(2026, 5, 30)


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert rules.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert rules.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


@given(days)
def test_windows_of_consecutive_time_points_never_overlap(admitted_on):
    slots = rules.schedule(admitted_on)

    for earlier, later in itertools.pairwise(slots):
        assert earlier.window_to < later.window_from
        assert earlier.window_from <= earlier.due_on <= earlier.window_to


@given(days, st.integers(min_value=0, max_value=44))
def test_with_3_month_spacing_windows_up_to_44_days_do_not_overlap(admitted_on, width):
    # The shortest 3-month gap is 89 days (Nov 30 -> Feb 28): 2 * 44 < 89.
    slots = rules.schedule(admitted_on, window_days=width)

    for earlier, later in itertools.pairwise(slots):
        assert earlier.window_to < later.window_from


@given(days, st.integers(min_value=-400, max_value=2400))
def test_a_day_falls_in_at_most_one_window(admitted_on, offset):
    day = admitted_on + timedelta(days=offset)

    inside = [s for s in rules.schedule(admitted_on) if s.window_from <= day <= s.window_to]

    assert len(inside) <= 1


STATE_ORDER = [State.UPCOMING, State.DUE, State.OVERDUE, State.MISSED]


@given(days, st.sampled_from(range(9)), st.lists(st.integers(-100, 100), min_size=2))
def test_unanswered_states_only_move_forward_with_time(admitted_on, index, offsets):
    slot = rules.schedule(admitted_on)[index]
    seen = [
        rules.state(slot, slot.due_on + timedelta(days=o), answered=False) for o in sorted(offsets)
    ]

    ranks = [STATE_ORDER.index(s) for s in seen]
    assert ranks == sorted(ranks)


@given(days, st.sampled_from(range(9)), st.integers(-100, 100), st.booleans())
def test_an_answered_time_point_is_done_whatever_the_day(admitted_on, index, offset, missed):
    slot = rules.schedule(admitted_on)[index]

    state = rules.state(slot, slot.due_on + timedelta(days=offset), answered=True, missed=missed)

    assert state == State.DONE


def test_the_states_around_the_window():
    slot = rules.schedule(date(2026, 1, 1))[1]  # m3, due 1 April

    def at(day: datetime.date) -> State:
        return rules.state(slot, day, answered=False)

    assert at(date(2026, 3, 1)) == State.UPCOMING
    assert at(date(2026, 3, 2)) == State.DUE  # the window opens 30 days before
    assert at(date(2026, 4, 1)) == State.DUE
    assert at(date(2026, 4, 2)) == State.OVERDUE
    assert at(date(2026, 5, 1)) == State.OVERDUE  # the window's last day
    assert at(date(2026, 5, 2)) == State.MISSED
    assert rules.state(slot, date(2026, 3, 10), answered=False, missed=True) == State.MISSED


def test_a_time_point_after_the_end_of_treatment_is_missed_for_that_reason():
    slots = {s.timepoint: s for s in rules.schedule(date(2026, 1, 1))}
    ended = date(2026, 3, 10)  # inside the m3 window (2 March - 1 May)

    assert rules.not_reached(slots["m3"], ended) is False
    assert rules.not_reached(slots["m6"], ended) is True
    assert rules.missed_reason(slots["m6"], date(2026, 3, 11), ended, answered=False) == "ended"
    # m3 can still be answered until its window closes, then it is missed as usual.
    assert rules.missed_reason(slots["m3"], date(2026, 4, 20), ended, answered=False) == ""
    assert rules.missed_reason(slots["m3"], date(2026, 5, 2), ended, answered=False) == (
        "window_closed"
    )
    assert rules.missed_reason(slots["m6"], date(2026, 9, 1), ended, answered=True) == ""


@given(days, st.sampled_from(range(9)), st.integers(-100, 100), st.one_of(st.none(), days))
def test_missed_reason_agrees_with_the_state(admitted_on, index, offset, ended_on):
    slot = rules.schedule(admitted_on)[index]
    today = slot.due_on + timedelta(days=offset)

    reason = rules.missed_reason(slot, today, ended_on, answered=False)

    if today > slot.window_to:
        assert reason in ("window_closed", "ended")
    if reason == "":
        assert rules.state(slot, today, answered=False) != State.MISSED
