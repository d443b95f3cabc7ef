"""Properties and boundaries of the survival estimators (km.py, survival.py): what must
hold for any data, and the edge cases a small programme meets (nobody left, one patient,
an end and a censoring on the same day)."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hab.evaluation import km, survival

CAUSES = ["lar", "dropped_out", "prison", "died"]

# Days in treatment (few distinct values, so ties are common) and how each course ended.
observations = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from([None, *CAUSES])), min_size=1, max_size=60
)


@pytest.fixture(scope="module")
def sksurv():
    import numpy
    import sksurv.nonparametric

    return sksurv, numpy


# --- Aalen–Johansen ------------------------------------------------------------------------


@given(observations)
def test_incidences_and_survival_add_up_to_one(data):
    steps = survival.cumulative_incidence([t for t, _ in data], [c for _, c in data])
    for step in steps:
        assert sum(step.incidence.values()) + step.survival == pytest.approx(1, abs=1e-12)


@given(observations)
def test_incidences_never_fall(data):
    steps = survival.cumulative_incidence([t for t, _ in data], [c for _, c in data])
    for before, after in itertools.pairwise(steps):
        for cause, value in before.incidence.items():
            assert after.incidence[cause] >= value


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=60))
def test_with_one_cause_the_incidence_is_one_minus_kaplan_meier(data):
    durations = [t for t, _ in data]
    steps = survival.cumulative_incidence(durations, ["left" if e else None for _, e in data])
    curve = km.kaplan_meier(durations, [e for _, e in data])
    assert [s.time for s in steps] == [s.time for s in curve]
    for step, k in zip(steps, curve, strict=True):
        assert step.incidence["left"] == pytest.approx(1 - k.survival, abs=1e-12)
        assert step.survival == pytest.approx(k.survival, abs=1e-12)


@given(observations)
def test_aalen_johansen_equals_scikit_survival(sksurv, data):
    sk, np = sksurv
    # The library numbers the causes 1 … k, each present, 0 for censored. It needs two
    # causes at least: with one (0.28.0) it fails or gives a wrong row, so the single
    # cause is checked against 1 − Kaplan–Meier above instead.
    present = sorted({c for _, c in data if c is not None})
    assume(len(present) >= 2)
    codes = [0 if c is None else 1 + present.index(c) for _, c in data]
    steps = survival.cumulative_incidence([t for t, _ in data], [c for _, c in data])
    times, expected = sk.nonparametric.cumulative_incidence_competing_risks(
        np.array(codes), np.array([float(t) for t, _ in data])
    )
    for i, t in enumerate(times.tolist()):
        at = survival.incidence_at(steps, t)
        for k in range(1, expected.shape[0]):
            assert at[present[k - 1]] == pytest.approx(expected[k][i], abs=1e-9, rel=0)


def test_an_end_and_a_censoring_on_the_same_day_count_the_end_first():
    # Day 5: 4 at risk, one to LAR, one censored. F_lar = 1/4, not 1/3.
    steps = survival.cumulative_incidence([5, 5, 8, 9], ["lar", None, "died", None])
    assert [(s.time, s.at_risk, dict(s.events)) for s in steps] == [
        (5, 4, {"lar": 1}),
        (8, 2, {"died": 1}),
    ]
    assert steps[0].incidence == {"died": 0.0, "lar": 0.25}
    # At day 8, 2 at risk and S(8−) = 3/4: F_died = 3/4 · 1/2.
    assert steps[1].incidence == {"died": 0.375, "lar": 0.25}
    assert steps[1].survival == 0.375


def test_incidence_at_reads_the_step_before_and_nothing_past_the_data():
    steps = survival.cumulative_incidence([5, 5, 8, 9], ["lar", None, "died", None])
    assert survival.incidence_at(steps, 4) == {"died": 0.0, "lar": 0.0}
    assert survival.incidence_at(steps, 7) == {"died": 0.0, "lar": 0.25}
    assert survival.incidence_at(steps, 9, longest=9) == {"died": 0.375, "lar": 0.25}
    assert survival.incidence_at(steps, 10, longest=9) is None


def test_nobody_left_gives_no_steps_and_no_incidence():
    assert survival.cumulative_incidence([], []) == []
    steps = survival.cumulative_incidence([3, 7], [None, None])
    assert steps == []
    assert survival.incidence_at(steps, 5) == {}


def test_one_patient_who_left():
    [step] = survival.cumulative_incidence([12], ["prison"])
    assert (step.time, step.at_risk, step.survival, step.incidence) == (12, 1, 0.0, {"prison": 1.0})


def test_cumulative_incidence_refuses_mismatched_or_negative_input():
    with pytest.raises(ValueError):
        survival.cumulative_incidence([1], [])
    with pytest.raises(ValueError):
        survival.cumulative_incidence([-1], ["lar"])


# --- Kaplan–Meier's band and median --------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=60))
def test_the_band_holds_the_estimate_within_zero_and_one(data):
    steps = km.kaplan_meier([t for t, _ in data], [e for _, e in data])
    for step in steps:
        assert 0 <= step.low <= step.survival <= step.high <= 1


@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=60))
def test_kaplan_meier_and_its_band_equal_scikit_survival(sksurv, data):
    sk, np = sksurv
    steps = km.kaplan_meier([t for t, _ in data], [e for _, e in data])
    times, expected, band = sk.nonparametric.kaplan_meier_estimator(
        np.array([e for _, e in data]), np.array([float(t) for t, _ in data]), conf_type="log-log"
    )
    for i, t in enumerate(times.tolist()):
        assert km.survival_at(steps, t) == pytest.approx(expected[i], abs=1e-9, rel=0)
        assert km.band_at(steps, t) == pytest.approx((band[0][i], band[1][i]), abs=1e-9, rel=0)


def test_the_band_of_the_textbook_example():
    # Freireich's 6-MP arm (test_km.py): at 6 weeks S = 0.857, Greenwood's variance of
    # log S is 3/(21·18), and the log-log interval is 0.620 … 0.952 (Kleinbaum & Klein).
    six_mp = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    ended = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    first = km.kaplan_meier(six_mp, [bool(e) for e in ended])[0]
    spread = km.Z_95 * math.sqrt(3 / (21 * 18)) / math.log(6 / 7)
    assert first.low == pytest.approx((6 / 7) ** math.exp(-spread), abs=1e-15)
    assert (round(first.low, 3), round(first.high, 3)) == (0.620, 0.952)


def test_the_band_where_everyone_left_is_zero():
    steps = km.kaplan_meier([1, 2], [True, True])
    assert (steps[-1].survival, steps[-1].low, steps[-1].high) == (0.0, 0.0, 0.0)


def test_band_at_reads_the_step_before_and_nothing_past_the_data():
    steps = km.kaplan_meier([1, 2, 3, 4], [True, False, True, False])
    assert km.band_at(steps, 0.5) == (1.0, 1.0)
    assert km.band_at(steps, 2) == (steps[0].low, steps[0].high)
    assert km.band_at(steps, 4, longest=4) == (steps[1].low, steps[1].high)
    assert km.band_at(steps, 5, longest=4) is None


def test_median_is_the_first_time_the_curve_reaches_one_half():
    # 4 patients: S = 3/4, 1/2 (exactly), 1/4 → the median is the time S hits 0.5.
    steps = km.kaplan_meier([1, 2, 3, 4], [True, True, True, False])
    assert km.median_survival(steps) == 2
    # Under half leave: no median.
    assert km.median_survival(km.kaplan_meier([1, 2, 3], [True, False, False])) is None
    assert km.median_survival([]) is None


def test_kaplan_meier_of_the_boundaries():
    assert km.kaplan_meier([], []) == []
    assert km.kaplan_meier([4, 9], [False, False]) == []  # all censored: no steps, S = 1
    assert km.survival_at([], 10) == 1.0
    [only] = km.kaplan_meier([7], [True])
    assert (only.time, only.at_risk, only.survival, only.low, only.high) == (7, 1, 0.0, 0.0, 0.0)


# --- Cox -----------------------------------------------------------------------------------

# Days in treatment, whether they ended, and a dose (mg/day) and a second covariate.
cohorts = st.lists(
    st.tuples(st.integers(1, 60), st.booleans(), st.integers(20, 120), st.sampled_from([0.0, 1.0])),
    min_size=8,
    max_size=40,
)


def _fits(data, sign=1.0):
    try:
        return survival.cox(
            [t for t, *_ in data],
            [e for _, e, *_ in data],
            [[sign * dose, group] for _, _, dose, group in data],
            ["dose", "group"],
        )
    except ValueError:
        return None  # no events or a constant covariate: refused, tested below


@given(cohorts)
def test_negating_a_covariate_turns_its_hazard_ratio_into_the_inverse(data):
    fit, negated = _fits(data), _fits(data, sign=-1.0)
    if fit is None or not fit.converged:
        return
    assert negated.converged
    dose, flipped = fit.term("dose"), negated.term("dose")
    assert flipped.hazard_ratio == pytest.approx(1 / dose.hazard_ratio, rel=1e-6)
    assert flipped.standard_error == pytest.approx(dose.standard_error, rel=1e-6)
    assert flipped.p_value == pytest.approx(dose.p_value, rel=1e-6, abs=1e-12)
    assert negated.term("group").hazard_ratio == pytest.approx(
        fit.term("group").hazard_ratio, rel=1e-6
    )


@given(cohorts)
def test_the_interval_holds_the_hazard_ratio(data):
    fit = _fits(data)
    if fit is None:
        return
    for term in fit.terms:
        assert term.low <= term.hazard_ratio <= term.high
        assert 0 <= term.p_value <= 1


def test_cox_with_ties_of_an_event_and_a_censoring():
    # Breslow: the censored patient at day 2 is still at risk for the end at day 2.
    # One binary covariate, two at risk at day 2 (x = 1 ends, x = 0 censored), and
    # at day 1 (x = 0 ends, risk set x = 0, 1, 0): ℓ(β) = β − log(1 + e^β) − log(2 + e^β).
    fit = survival.cox([1, 2, 2], [True, True, False], [[0.0], [1.0], [0.0]], ["x"])
    b = fit.terms[0].coefficient
    # The score is zero at β̂: 1 − e^β/(1 + e^β) − e^β/(2 + e^β) = 0 → e^β = √2.
    assert fit.converged
    assert b == pytest.approx(math.log(math.sqrt(2)), abs=1e-9)
    assert fit.log_likelihood == pytest.approx(
        b - math.log(1 + math.exp(b)) - math.log(2 + math.exp(b)), abs=1e-12
    )


def test_cox_refuses_no_events():
    with pytest.raises(ValueError, match="no events"):
        survival.cox([1, 2, 3], [False, False, False], [[1.0], [2.0], [3.0]], ["dose"])


def test_cox_refuses_a_constant_or_collinear_covariate():
    durations, events = [1, 2, 3, 4], [True, False, True, True]
    with pytest.raises(ValueError, match="singular"):
        survival.cox(durations, events, [[5.0], [5.0], [5.0], [5.0]], ["dose"])
    with pytest.raises(ValueError, match="singular"):
        survival.cox(durations, events, [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [5.0, 10.0]],
                     ["mg", "double_mg"])  # fmt: skip


def test_cox_refuses_malformed_input():
    with pytest.raises(ValueError):
        survival.cox([1, 2], [True], [[1.0], [2.0]], ["x"])
    with pytest.raises(ValueError):
        survival.cox([1, 2], [True, True], [[1.0], [2.0, 3.0]], ["x"])
    with pytest.raises(ValueError):
        survival.cox([1, 2], [True, True], [[1.0], [math.nan]], ["x"])
    with pytest.raises(ValueError):
        survival.cox([1, 2], [True, True], [[], []], [])


def test_cox_says_when_it_does_not_converge():
    # The covariate separates perfectly (x = 1 always leaves first): the likelihood has no
    # maximum, β runs off towards +∞, and the fit says so instead of passing for a result.
    fit = survival.cox([1, 2, 3, 4], [True, True, True, True], [[1.0], [1.0], [0.0], [0.0]],
                       ["x"])  # fmt: skip
    assert not fit.converged
    assert fit.terms[0].coefficient > 10
