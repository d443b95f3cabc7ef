"""The Kaplan–Meier estimate against the textbook example: Freireich's 6-MP arm
(Freireich et al., Blood 1963; Kleinbaum & Klein, Survival Analysis, table 2.1)."""

import pytest

from hab.evaluation import km

# Weeks in remission of the 21 patients on 6-MP; False marks a censored observation.
SIX_MP = [
    (6, True), (6, True), (6, True), (6, False), (7, True), (9, False), (10, True),
    (10, False), (11, False), (13, True), (16, True), (17, False), (19, False), (20, False),
    (22, True), (23, True), (25, False), (32, False), (32, False), (34, False), (35, False),
]  # fmt: skip


def test_it_matches_the_textbook_estimates_for_the_6mp_arm():
    steps = km.kaplan_meier([t for t, _e in SIX_MP], [e for _t, e in SIX_MP])
    # The published table: S(t) at each event time, with the numbers at risk.
    assert [(s.time, s.at_risk, s.events) for s in steps] == [
        (6, 21, 3), (7, 17, 1), (10, 15, 1), (13, 12, 1), (16, 11, 1), (22, 7, 1), (23, 6, 1),
    ]  # fmt: skip
    assert [round(s.survival, 4) for s in steps] == [
        0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482,
    ]  # fmt: skip


def test_survival_at_reads_the_step_before_and_nothing_past_the_data():
    steps = km.kaplan_meier([t for t, _e in SIX_MP], [e for _t, e in SIX_MP])
    assert km.survival_at(steps, 5) == 1.0
    assert round(km.survival_at(steps, 12), 4) == 0.7529
    assert round(km.survival_at(steps, 35, longest=35), 4) == 0.4482
    assert km.survival_at(steps, 36, longest=35) is None


def test_censoring_at_an_event_time_comes_after_the_event():
    # 2 at risk at t=1: one event, one censored → S = 1/2, not 0.
    steps = km.kaplan_meier([1, 1], [True, False])
    assert steps[0].survival == 0.5


def test_it_refuses_mismatched_or_negative_input():
    with pytest.raises(ValueError):
        km.kaplan_meier([1], [])
    with pytest.raises(ValueError):
        km.kaplan_meier([-1], [True])
