"""The Kaplan–Meier estimate of staying in treatment, as pure functions (no Django).

Each course of treatment is one observation: the days from admission to its end (the
event) or to the end of the period looked at (censored). Ties follow the usual
convention: events at a time come before censorings at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    time: float  # when the curve drops (an event time)
    at_risk: int
    events: int
    survival: float  # S(t) just after ``time``


def kaplan_meier(durations: Sequence[float], events: Sequence[bool]) -> list[Step]:
    """The product-limit estimate: S(t) = Π over event times t_i ≤ t of (1 − d_i / n_i)."""
    if len(durations) != len(events):
        raise ValueError("durations and events differ in length")
    if any(d < 0 for d in durations):
        raise ValueError("a duration is negative")
    pairs = sorted(zip(durations, events, strict=True))
    at_risk = len(pairs)
    survival = 1.0
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
            steps.append(Step(time, at_risk, died, survival))
        at_risk -= died + censored
    return steps


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
