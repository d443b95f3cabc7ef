"""HAB's survival estimators on outside data: the addicts retention data of two methadone
clinics (tests/evaluation/data/SOURCE.md), against an independent library
(scikit-survival) and the published analysis (Kleinbaum & Klein, Survival Analysis: A
Self-Learning Text; Caplehorn, McNeill & Kleinbaum 1993)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hab.evaluation import km, survival

DATA = Path(__file__).parent / "data" / "addicts.csv"
GROUPS = ["all", "clinic 1", "clinic 2"]


def addicts(group: str = "all") -> list[dict[str, float]]:
    with DATA.open(newline="") as f:
        rows = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]
    if group != "all":
        rows = [r for r in rows if r["clinic"] == float(group.split()[-1])]
    return rows


@pytest.fixture(scope="module")
def sksurv():
    """scikit-survival takes seconds to import: only once, and only for these tests."""
    import numpy
    import sksurv.linear_model
    import sksurv.linear_model.coxph
    import sksurv.nonparametric
    import sksurv.util

    return sksurv, numpy


def test_the_data_is_the_published_data_set():
    rows = addicts()
    assert len(rows) == 238
    assert sum(r["status"] for r in rows) == 150  # left treatment; 88 censored
    assert len(addicts("clinic 1")) == 163 and len(addicts("clinic 2")) == 75


@pytest.mark.parametrize("group", GROUPS)
def test_kaplan_meier_and_its_band_equal_scikit_survival_at_every_time(sksurv, group):
    sk, np = sksurv
    rows = addicts(group)
    durations = [r["survtime"] for r in rows]
    events = [r["status"] == 1 for r in rows]
    steps = km.kaplan_meier(durations, events)
    times, expected, band = sk.nonparametric.kaplan_meier_estimator(
        np.array(events), np.array(durations), conf_type="log-log"
    )
    # scikit-survival reports every distinct time (censorings too): read HAB's step
    # function there, which checks the event times and the flat stretches between.
    assert {s.time for s in steps} <= set(times.tolist())
    for i, t in enumerate(times.tolist()):
        assert km.survival_at(steps, t) == pytest.approx(expected[i], abs=1e-9, rel=0)
        low, high = km.band_at(steps, t)
        assert low == pytest.approx(band[0][i], abs=1e-9, rel=0)
        assert high == pytest.approx(band[1][i], abs=1e-9, rel=0)


@pytest.mark.parametrize("group", GROUPS)
def test_median_time_in_treatment_equals_the_library_step_function(sksurv, group):
    sk, np = sksurv
    rows = addicts(group)
    durations = [r["survtime"] for r in rows]
    events = [r["status"] == 1 for r in rows]
    times, values = sk.nonparametric.kaplan_meier_estimator(np.array(events), np.array(durations))
    reached = times[values <= 0.5]
    expected = float(reached[0]) if len(reached) else None
    assert km.median_survival(km.kaplan_meier(durations, events)) == expected


def test_clinic_2_keeps_half_its_patients_past_the_end_of_follow_up():
    # Clinic 1's median is 399 days; clinic 2's curve ends at 0.517 (878 days), so it has
    # no median: the estimator must say so rather than make one up.
    def median(group):
        rows = addicts(group)
        steps = km.kaplan_meier([r["survtime"] for r in rows], [r["status"] == 1 for r in rows])
        return km.median_survival(steps), steps[-1].survival

    assert median("clinic 1")[0] == 399
    assert median("clinic 2")[0] is None
    assert median("clinic 2")[1] == pytest.approx(0.5171, abs=1e-4)


def fit_addicts() -> survival.CoxFit:
    rows = addicts()
    return survival.cox(
        [r["survtime"] for r in rows],
        [r["status"] == 1 for r in rows],
        [[r["clinic"], r["prison"], r["maxdose"]] for r in rows],
        ["clinic", "prison", "maxdose"],
    )


def test_cox_equals_scikit_survival_with_breslow_ties(sksurv):
    sk, np = sksurv
    rows = addicts()
    x = np.array([[r["clinic"], r["prison"], r["maxdose"]] for r in rows])
    event = np.array([r["status"] == 1 for r in rows])
    time = np.array([r["survtime"] for r in rows])
    model = sk.linear_model.CoxPHSurvivalAnalysis(ties="breslow", alpha=0, tol=1e-12)
    model.fit(x, sk.util.Surv.from_arrays(event, time))

    fit = fit_addicts()

    assert fit.converged and (fit.n, fit.events) == (238, 150)
    assert [t.coefficient for t in fit.terms] == pytest.approx(model.coef_.tolist(), abs=1e-6)
    # The standard errors from the library's own information matrix at its estimate.
    optimizer = sk.linear_model.coxph.CoxPHOptimizer(x, event, time, np.zeros(3), "breslow")
    optimizer.update(model.coef_)
    covariance = np.linalg.inv(optimizer.hessian * len(rows))
    assert [t.standard_error for t in fit.terms] == pytest.approx(
        np.sqrt(np.diag(covariance)).tolist(), rel=1e-6
    )
    assert fit.log_likelihood == pytest.approx(
        -optimizer.nlog_likelihood(model.coef_) * len(rows), rel=1e-9
    )


def test_cox_reproduces_the_published_hazard_ratios():
    # Kleinbaum & Klein, the Cox model of the addicts data with clinic, prison and dose:
    # clinic 2 vs 1 HR 0.36 (coefficient −1.009, SE 0.215), 0.965 per mg of maximum dose.
    fit = fit_addicts()
    clinic, dose = fit.term("clinic"), fit.term("maxdose")
    assert clinic.hazard_ratio == pytest.approx(0.36, abs=0.01)
    assert round(clinic.coefficient, 3) == -1.009
    assert round(clinic.standard_error, 3) == 0.215
    assert dose.hazard_ratio == pytest.approx(0.965, abs=0.01)
    assert round(dose.hazard_ratio, 3) == 0.965
    # Both well away from "no effect": the interval excludes 1 and p is tiny.
    assert clinic.high < 1 and dose.high < 1
    assert clinic.p_value < 1e-4 and dose.p_value < 1e-4


@pytest.mark.parametrize("group", GROUPS)
def test_aalen_johansen_equals_scikit_survival_with_competing_causes(sksurv, group):
    # Two ways of leaving, made up from the prison record (the data has one), so that
    # the causes compete: code 1 = left, no prison record; 2 = left, prison record.
    sk, np = sksurv
    rows = addicts(group)
    durations = [r["survtime"] for r in rows]
    codes = [int(r["status"]) * (1 + int(r["prison"])) for r in rows]
    causes = [None if c == 0 else {1: "no prison", 2: "prison"}[c] for c in codes]
    steps = survival.cumulative_incidence(durations, causes)
    times, expected = sk.nonparametric.cumulative_incidence_competing_risks(
        np.array(codes), np.array(durations)
    )
    for i, t in enumerate(times.tolist()):
        at = survival.incidence_at(steps, t)
        assert at["no prison"] == pytest.approx(expected[1][i], abs=1e-9, rel=0)
        assert at["prison"] == pytest.approx(expected[2][i], abs=1e-9, rel=0)
        # The library's row 0 is the incidence of leaving at all: 1 − all-cause KM.
        assert sum(at.values()) == pytest.approx(expected[0][i], abs=1e-9, rel=0)
