"""Competing risks and the Cox model for time in treatment, as pure functions (no Django).

The companions of ``km.kaplan_meier``, on the same data (one observation per course of
treatment: days from admission to its end, or to the end of the period looked at) and the
same convention for ties: events at a time come before censorings at the same time.

- ``cumulative_incidence``: the Aalen–Johansen estimate of the probability of having
  left by each way of leaving (to LAR, dropped out, prison, died …) by time t, when the
  ways compete: one who left for LAR can no longer die in HAB.
- ``cox``: the Cox proportional-hazards model of leaving, e.g. by dose and clinic.

Both are checked against scikit-survival, and the Cox model against the published
analysis of the addicts data (tests/evaluation/test_survival*.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from hab.evaluation.km import Z_95

# --- Competing risks: Aalen–Johansen ------------------------------------------------------


@dataclass(frozen=True)
class IncidenceStep:
    time: float  # an event time (of any cause)
    at_risk: int  # still in treatment just before ``time``
    events: Mapping[str, int]  # who left at ``time``, by cause (causes with none left out)
    survival: float  # all-cause Kaplan–Meier S(t) just after ``time``
    incidence: Mapping[str, float]  # F_k(t) just after ``time``, for every cause in the data


def cumulative_incidence(
    durations: Sequence[float], causes: Sequence[str | None]
) -> list[IncidenceStep]:
    """The Aalen–Johansen estimate of the cumulative incidence of each cause.

    ``causes[i]`` is the way observation i ended, or None where it was censored. At each
    event time t_j, with n_j at risk and d_kj leaving by cause k (d_j of all causes):

        S(t)   = Π over t_j ≤ t of (1 − d_j / n_j)          (all-cause Kaplan–Meier)
        F_k(t) = Σ over t_j ≤ t of S(t_j−) · d_kj / n_j     (S just before t_j)

    so Σ_k F_k(t) + S(t) = 1 at every t, and with a single cause F = 1 − S. This is what
    scikit-survival's ``cumulative_incidence_competing_risks`` computes; unlike 1 − KM
    per cause (censoring the other causes), it does not count anyone twice.
    """
    if len(durations) != len(causes):
        raise ValueError("durations and causes differ in length")
    if any(d < 0 for d in durations):
        raise ValueError("a duration is negative")
    names = sorted({c for c in causes if c is not None})
    incidence = dict.fromkeys(names, 0.0)
    # Sorting None as "" keeps an event before a censoring at the same time readable
    # below; the order within a time does not change the estimate.
    pairs = sorted(zip(durations, causes, strict=True), key=lambda p: (p[0], p[1] or ""))
    at_risk = len(pairs)
    survival = 1.0
    steps: list[IncidenceStep] = []
    i = 0
    while i < len(pairs):
        time = pairs[i][0]
        events: dict[str, int] = {}
        censored = 0
        while i < len(pairs) and pairs[i][0] == time:
            cause = pairs[i][1]
            if cause is None:
                censored += 1
            else:
                events[cause] = events.get(cause, 0) + 1
            i += 1
        left = sum(events.values())
        if left:
            for cause, count in events.items():
                incidence[cause] += survival * count / at_risk
            survival *= 1 - left / at_risk
            steps.append(IncidenceStep(time, at_risk, events, survival, dict(incidence)))
        at_risk -= left + censored
    return steps


def incidence_at(
    steps: Sequence[IncidenceStep], time: float, *, longest: float | None = None
) -> dict[str, float] | None:
    """F_k(time) for every cause: the last step at or before ``time`` (0 for every cause
    before the first event, {} when nobody left at all); None beyond the longest
    observation (``longest``), where nothing is estimated (as ``km.survival_at``)."""
    if longest is not None and time > longest:
        return None
    value = dict.fromkeys(steps[0].incidence, 0.0) if steps else {}
    for step in steps:
        if step.time > time:
            break
        value = dict(step.incidence)
    return value


# --- The Cox proportional-hazards model ---------------------------------------------------


@dataclass(frozen=True)
class CoxTerm:
    name: str
    coefficient: float  # β: log hazard ratio per unit of the covariate
    standard_error: float  # √ of the diagonal of the inverse information at β
    hazard_ratio: float  # exp(β)
    low: float  # 95 % confidence interval of the hazard ratio: exp(β ± 1.96 SE)
    high: float
    p_value: float  # two-sided Wald test of β = 0: erfc(|β / SE| / √2)


@dataclass(frozen=True)
class CoxFit:
    terms: tuple[CoxTerm, ...]  # in the order of ``names``
    n: int  # observations
    events: int
    iterations: int  # Newton–Raphson steps taken
    converged: bool
    log_likelihood: float  # the log partial likelihood at β

    def term(self, name: str) -> CoxTerm:
        return next(t for t in self.terms if t.name == name)


def cox(
    durations: Sequence[float],
    events: Sequence[bool],
    covariates: Sequence[Sequence[float]],
    names: Sequence[str],
    *,
    max_iterations: int = 50,
) -> CoxFit:
    """Fit h(t | x) = h₀(t) · exp(β · x) by maximising the log partial likelihood with
    Newton–Raphson; ties by Breslow's approximation (every event at a time sees the whole
    risk set, as SAS PHREG's and scikit-survival's ``ties="breslow"``):

        ℓ(β) = Σ over events i of [ β·x_i − log Σ over j with t_j ≥ t_i of exp(β·x_j) ]
        U(β) = Σ over events i of (x_i − x̄(t_i)),   x̄ = Σ_R w_j x_j / Σ_R w_j, w = e^(β·x)
        I(β) = Σ over events i of (Σ_R w_j x_j x_jᵀ / Σ_R w_j − x̄ x̄ᵀ)
        β ← β + I(β)⁻¹ U(β)   (halved while ℓ falls), from β = 0,

    until the step is below 1e-10 of the covariate's scale (I_jj^-½). Standard errors are
    √diag I(β̂)⁻¹; the Wald p-value is erfc(|β/SE| / √2). ``covariates[i]`` is the row of
    observation i, one value per name.

    A model that does not converge in ``max_iterations`` comes back with
    ``converged=False``: typically a covariate that separates leavers from stayers, so
    that the likelihood has no maximum and β runs off towards infinity. Its figures are
    then meaningless (the standard error may be inf, the interval 0 … inf): check
    ``converged`` before showing them.

    Raises ValueError on malformed input, no events, or a singular information matrix
    (a constant covariate, or one that is a combination of others).
    """
    n = len(durations)
    p = len(names)
    if len(events) != n or len(covariates) != n:
        raise ValueError("durations, events and covariates differ in length")
    if p == 0:
        raise ValueError("the model needs at least one covariate")
    if any(len(row) != p for row in covariates):
        raise ValueError(f"every row of covariates needs {p} values, one per name")
    if any(d < 0 for d in durations):
        raise ValueError("a duration is negative")
    if not all(math.isfinite(v) for row in covariates for v in row):
        raise ValueError("a covariate is missing or not finite")
    n_events = sum(1 for e in events if e)
    if n_events == 0:
        raise ValueError("no events: the Cox model cannot be estimated")
    # Centring changes no β but keeps exp(β·x) in range.
    means = [sum(row[j] for row in covariates) / n for j in range(p)]
    x = [[row[j] - means[j] for j in range(p)] for row in covariates]
    order = sorted(range(n), key=lambda i: durations[i], reverse=True)
    data = _CoxData([durations[i] for i in order], [bool(events[i]) for i in order],
                    [x[i] for i in order])  # fmt: skip

    beta = [0.0] * p
    loglik, gradient, information = data.evaluate(beta)
    _solve(information, [gradient])  # singular at the start: refuse (see Raises)
    iterations = 0
    converged = False
    while iterations < max_iterations:
        try:
            step = _solve(information, [gradient])[0]
        except ValueError:
            break  # the information has vanished on the way: β is running off
        iterations += 1
        new_beta = [b + s for b, s in zip(beta, step, strict=True)]
        new_loglik, new_gradient, new_information = data.evaluate(new_beta)
        halvings = 0
        while new_loglik < loglik - 1e-12 * abs(loglik) and halvings < 30:
            step = [s / 2 for s in step]
            new_beta = [b + s for b, s in zip(beta, step, strict=True)]
            new_loglik, new_gradient, new_information = data.evaluate(new_beta)
            halvings += 1
        # Small against the covariate's scale, and not a flat likelihood's steady march
        # off to infinity (where the information, and so the first test, fades to 0).
        small = all(
            abs(s) * math.sqrt(information[j][j]) < 1e-10 and abs(s) < 1e-6 * (1 + abs(beta[j]))
            for j, s in enumerate(step)
        )
        beta, loglik, gradient, information = new_beta, new_loglik, new_gradient, new_information
        if small:
            converged = True
            break

    try:
        inverse = _solve(information, [[float(i == j) for i in range(p)] for j in range(p)])
        errors = [math.sqrt(inverse[j][j]) for j in range(p)]
    except ValueError:  # only where β ran off (converged is False): no information left
        errors = [math.inf] * p
    terms = []
    for j, name in enumerate(names):
        se = errors[j]
        terms.append(
            CoxTerm(
                name=name,
                coefficient=beta[j],
                standard_error=se,
                hazard_ratio=_exp(beta[j]),
                low=_exp(beta[j] - Z_95 * se),
                high=_exp(beta[j] + Z_95 * se),
                p_value=math.erfc(abs(beta[j] / se) / math.sqrt(2)),
            )
        )
    return CoxFit(tuple(terms), n, n_events, iterations, converged, loglik)


def _exp(value: float) -> float:
    """exp() that says inf, not OverflowError, for a β that ran off (converged=False)."""
    return math.exp(value) if value < 709 else math.inf


@dataclass(frozen=True)
class _CoxData:
    """Observations sorted by time, latest first, so the risk set only grows."""

    times: list[float]
    events: list[bool]
    x: list[list[float]]

    def __post_init__(self) -> None:
        # The arrays of the vectorised pass: the covariates, and for each observation the
        # last index of its time's tie group (the risk set of a time is everyone from the
        # first index to there: every observation at the time or later).
        n = len(self.times)
        matrix = np.asarray(self.x, dtype=float).reshape(n, -1)
        ends = np.empty(n, dtype=np.intp)
        k = 0
        while k < n:
            start = k
            while k < n and self.times[k] == self.times[start]:
                k += 1
            ends[start:k] = k - 1
        dead = np.flatnonzero(np.asarray(self.events, dtype=bool))
        object.__setattr__(self, "_matrix", matrix)
        object.__setattr__(self, "_dead", dead)
        object.__setattr__(self, "_dead_ends", ends[dead])

    def evaluate(self, beta: Sequence[float]) -> tuple[float, list[float], list[list[float]]]:
        """ℓ(β), U(β) and I(β) (see ``cox``), with numpy: the risk sets' sums are
        cumulative sums down the times, and Σ over events of the risk set's weighted
        x xᵀ is one product, Xᵀ diag(w c) X, where c_j adds 1 / Σ_R w over the events
        whose risk set holds j. Weights are taken relative to the largest β·x; where that
        leaves a risk set too small to divide by (β run off to hundreds), the exact pass
        below."""
        x, dead, ends = self._matrix, self._dead, self._dead_ends
        eta = x @ np.asarray(beta, dtype=float)
        shift = float(eta.max())
        w = np.exp(eta - shift)
        s0 = np.cumsum(w)[ends]
        if not (np.all(np.isfinite(s0)) and np.all(s0 > 1e-300)):  # 1 / s0 stays finite
            return self._evaluate_exactly(beta)
        s1 = np.cumsum(w[:, None] * x, axis=0)[ends]
        means = s1 / s0[:, None]
        loglik = float(np.sum(eta[dead] - (shift + np.log(s0))))
        gradient = np.sum(x[dead] - means, axis=0)
        share = np.zeros(len(w))
        np.add.at(share, ends, 1.0 / s0)
        c = np.cumsum(share[::-1])[::-1]  # c_j: the events whose risk set holds j
        information = (x * (w * c)[:, None]).T @ x - means.T @ means
        return loglik, gradient.tolist(), information.tolist()

    def _evaluate_exactly(
        self, beta: Sequence[float]
    ) -> tuple[float, list[float], list[list[float]]]:
        """ℓ(β), U(β) and I(β) (see ``cox``) in one pass down the times.

        The risk-set sums are kept relative to the largest β·x seen so far (``shift``),
        so that no exp() overflows however far β runs."""
        p = len(beta)
        eta = [sum(b * v for b, v in zip(beta, row, strict=True)) for row in self.x]
        shift = -math.inf
        s0 = 0.0
        s1 = [0.0] * p
        s2 = [[0.0] * p for _ in range(p)]
        loglik = 0.0
        gradient = [0.0] * p
        information = [[0.0] * p for _ in range(p)]
        n = len(self.times)
        k = 0
        while k < n:
            time = self.times[k]
            group = []
            while k < n and self.times[k] == time:
                group.append(k)
                k += 1
            for i in group:  # they join the risk set before any of them leaves
                if eta[i] > shift:
                    scale = math.exp(shift - eta[i]) if shift > -math.inf else 0.0
                    s0 *= scale
                    s1 = [v * scale for v in s1]
                    s2 = [[v * scale for v in row] for row in s2]
                    shift = eta[i]
                w = math.exp(eta[i] - shift)
                xi = self.x[i]
                s0 += w
                for a in range(p):
                    s1[a] += w * xi[a]
                    for b in range(p):
                        s2[a][b] += w * xi[a] * xi[b]
            dead = [i for i in group if self.events[i]]
            if not dead:
                continue
            mean = [v / s0 for v in s1]
            log_s0 = shift + math.log(s0)
            for i in dead:
                loglik += eta[i] - log_s0
                for a in range(p):
                    gradient[a] += self.x[i][a] - mean[a]
                    for b in range(p):
                        information[a][b] += s2[a][b] / s0 - mean[a] * mean[b]
        return loglik, gradient, information


def _solve(matrix: Sequence[Sequence[float]], rhs: Sequence[Sequence[float]]) -> list[list[float]]:
    """Solve A y = r for each r in ``rhs`` by Gaussian elimination.

    A is the information matrix, symmetric and positive semi-definite, so the diagonal
    pivots need no row exchanges. A pivot is the part of its covariate's information not
    explained by the covariates before it (1 − R² times its diagonal entry): one below
    1e-10 of the diagonal entry, whatever the covariate's units, means A is singular."""
    size = len(matrix)
    a = [list(row) + [r[i] for r in rhs] for i, row in enumerate(matrix)]
    for col in range(size):
        if not a[col][col] > 1e-10 * matrix[col][col] or matrix[col][col] <= 0.0:
            raise ValueError(
                "the information matrix is singular: a covariate is constant, or a"
                " combination of the others"
            )
        for r in range(size):
            if r != col and a[r][col] != 0.0:
                factor = a[r][col] / a[col][col]
                a[r] = [v - factor * c for v, c in zip(a[r], a[col], strict=True)]
    return [[a[i][size + k] / a[i][i] for i in range(size)] for k in range(len(rhs))]
