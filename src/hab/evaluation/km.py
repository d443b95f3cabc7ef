"""The Kaplan–Meier estimate of staying in treatment, as pure functions (no Django).

Each course of treatment is one observation: the days from admission to its end (the
event) or to the end of the period looked at (censored). Ties follow the usual
convention: events at a time come before censorings at the same time.

Checked against scikit-survival and the addicts data (tests/evaluation/test_survival*.py).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

# The two-sided 95 % normal quantile, 1.959963984540054 (scipy's norm.isf(0.025)).
Z_95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True)
class Step:
    time: float  # when the curve drops (an event time)
    at_risk: int
    events: int
    survival: float  # S(t) just after ``time``
    # The pointwise 95 % confidence band at ``time`` (log-log transform, Greenwood's
    # variance): see ``kaplan_meier``. The defaults say "not computed".
    low: float = math.nan
    high: float = math.nan


def kaplan_meier(durations: Sequence[float], events: Sequence[bool]) -> list[Step]:
    """The product-limit estimate with its pointwise 95 % confidence band.

    S(t) = Π over event times t_i ≤ t of (1 − d_i / n_i), where n_i are at risk just
    before t_i and d_i leave at t_i.

    The band is the log-log (log-minus-log) interval, as scikit-survival's
    ``kaplan_meier_estimator(..., conf_type="log-log")`` and lifelines compute it:

        σ²(t) = Σ over t_i ≤ t of d_i / (n_i (n_i − d_i))      (Greenwood's sum)
        low, high = S(t) ** exp(± z σ(t) / log S(t))             (z = 1.96)

    i.e. the normal interval of log(−log S) mapped back, which always lies in [0, 1].
    Where S(t) drops to 0 (everyone still at risk leaves) the band is [0, 0] and that
    step adds nothing to Greenwood's sum (the term would divide by zero), as in
    scikit-survival.
    """
    if len(durations) != len(events):
        raise ValueError("durations and events differ in length")
    if any(d < 0 for d in durations):
        raise ValueError("a duration is negative")
    pairs = sorted(zip(durations, events, strict=True))
    at_risk = len(pairs)
    survival = 1.0
    greenwood = 0.0
    steps: list[Step] = []
    i = 0
    while i < len(pairs):
        time = pairs[i][0]
        died = censored = 0
        while i < len(pairs) and pairs[i][0] == time:
            if pairs[i][1]:
                died += 1
            else:
                censored += 1
            i += 1
        if died:
            survival *= 1 - died / at_risk
            if died < at_risk:
                greenwood += died / (at_risk * (at_risk - died))
            low, high = _log_log_band(survival, greenwood)
            steps.append(Step(time, at_risk, died, survival, low, high))
        at_risk -= died + censored
    return steps


def _log_log_band(survival: float, variance: float) -> tuple[float, float]:
    """S ** exp(± z σ / log S): the band of one step (see ``kaplan_meier``)."""
    eps = sys.float_info.epsilon
    if survival <= eps:
        return 0.0, 0.0
    log_s = math.log(survival)
    if log_s >= -eps:  # S ≈ 1: no width to speak of
        return survival, survival
    spread = Z_95 * math.sqrt(variance) / log_s  # negative, as log S is
    return math.exp(math.exp(-spread) * log_s), math.exp(math.exp(spread) * log_s)


def survival_at(
    steps: Sequence[Step], time: float, *, longest: float | None = None
) -> float | None:
    """S(time): the value of the last step at or before ``time``; None beyond the longest
    observation (``longest``), where the curve is not estimated."""
    if longest is not None and time > longest:
        return None
    value = 1.0
    for step in steps:
        if step.time > time:
            break
        value = step.survival
    return value


def band_at(
    steps: Sequence[Step], time: float, *, longest: float | None = None
) -> tuple[float, float] | None:
    """The 95 % band (low, high) at ``time``: that of the last step at or before it,
    (1.0, 1.0) before the first event, None beyond ``longest`` (as ``survival_at``)."""
    if longest is not None and time > longest:
        return None
    band = (1.0, 1.0)
    for step in steps:
        if step.time > time:
            break
        band = (step.low, step.high)
    return band


def median_survival(steps: Sequence[Step]) -> float | None:
    """The median time: the first event time at which S(t) ≤ 0.5, None if the curve
    never gets there (the convention of lifelines and of reading scikit-survival's step
    function). A curve that lands exactly on 0.5 gives that step's time, not the midpoint
    to the next step that some textbooks take."""
    for step in steps:
        if step.survival <= 0.5:
            return step.time
    return None
