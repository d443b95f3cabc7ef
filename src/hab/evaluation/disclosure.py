"""Small-number suppression of the indicators (pure: no Django, no database).

With a handful of patients a count identifies people, so anyone who is not the clinic's
own care staff sees the indicators through :func:`suppress`. The rule, in three steps:

1. *Primary*: a count of people, patient-days, doses or events from 1 to
   ``threshold - 1`` is withheld. Zero is shown: it names nobody.
2. *Secondary*: in a group whose parts add up to a shown total (referrals by source,
   doses by status, exits and deaths among exits, each month's doses against the
   period's, …), the cells that are not shown must not be recoverable by subtraction:
   when exactly one cell of a group is hidden, the smallest shown non-zero part is
   withheld as well, or the total if there is none. Where the parts do not cover the
   total (the eligible among the assessed leave out the ineligible), the rest is a cell
   that is never shown: it counts as hidden once a part is, and when every part is shown
   it is given away by subtraction, so a small rest counts as the one hidden cell. This
   runs until nothing changes, since a cell can sit in two groups.
3. *Derived*: a share, rate, mean, median or per-unit cost computed from a withheld
   count is withheld too (it would give the count back).

A withheld value becomes ``None`` and its path is listed in ``marks`` with the reason:
``"below"`` (the count is under the threshold: shown as "< 5"), ``"hidden"`` (withheld by
step 2 or 3: its true value may be any size).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

DEFAULT_THRESHOLD = 5
BELOW, HIDDEN = "below", "hidden"

Path = tuple[str | int, ...]

# Counts: every path matching one of these patterns ("*" is any key or index).
COUNTS: tuple[str, ...] = (
    "intake.referrals",
    "intake.referrals_by_source.*",
    "intake.assessed",
    "intake.eligible",
    "intake.waitlisted_at_end",
    "intake.waited",
    "patients.admitted",
    "patients.active",
    "patients.places_used_at_end",
    "patients.patient_days",
    "patients.deaths",
    "patients.ended_by_reason.*",
    "retention.courses",
    "retention.exits",
    "retention.positive_exits",
    "retention.deaths",
    "retention.curve.*.at_risk",
    "retention.curve.*.events",
    "leaving.exits_by_cause.*",
    "leaving.curve.*.at_risk",
    "retention_model.n",
    "retention_model.events",
    "dosing.doses_expected",
    "dosing.doses_given",
    "dosing.by_status.*",
    "dosing.attended_days",
    "dosing.withheld_by_reason.*",
    "dosing.patient_days_by_phase.*",
    "dosing.daily_dose_histogram.*.patient_days",
    "safety.incidents",
    "safety.overdoses",
    "safety.administrations",
    "outcomes.*.*.n",
    "outcomes_over_time_n.*.*",
    "monthly.*.active",
    "monthly.*.doses_expected",
    "monthly.*.doses_given",
    "monthly.*.incidents",
)

# Derived values: (value pattern, the counts it is computed from). "{1}" in a base is
# the key the value's first "*" matched, and so on.
DERIVED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("intake.median_days_waiting", ("intake.waited",)),
    ("patients.places_used_share", ("patients.places_used_at_end",)),
    ("patients.occupancy", ("patients.patient_days",)),
    ("patients.patient_years", ("patients.patient_days",)),
    ("retention.positive_exit_share", ("retention.positive_exits", "retention.exits")),
    ("retention.at_months.*", ("retention.courses",)),
    ("retention.longest_days", ("retention.courses",)),
    ("retention.curve.*.survival", ("retention.curve.{1}.at_risk",)),
    ("retention.curve.*.low", ("retention.curve.{1}.at_risk",)),
    ("retention.curve.*.high", ("retention.curve.{1}.at_risk",)),
    ("retention.band_at_months.*", ("retention.courses",)),
    ("retention.median_days", ("retention.courses",)),
    # The share of a small way of leaving would give its count back.
    ("leaving.at_months.*.*", ("leaving.exits_by_cause.{2}", "retention.courses")),
    ("leaving.curve.*.*", ("leaving.curve.{1}.at_risk", "leaving.exits_by_cause.{2}")),
    ("retention_model.terms.*.*", ("retention_model.n", "retention_model.events")),
    ("dosing.attendance", ("dosing.doses_given", "dosing.doses_expected")),
    ("dosing.mean_daily_dose_mg_by_phase.*", ("dosing.patient_days_by_phase.{1}",)),
    ("dosing.mean_daily_dose_mg", ("dosing.patient_days_by_phase.*",)),
    (
        "safety.incidents_per_1000_administrations",
        ("safety.incidents", "safety.administrations"),
    ),
    (
        "safety.overdoses_per_1000_administrations",
        ("safety.overdoses", "safety.administrations"),
    ),
    ("outcomes.*.*.baseline_mean", ("outcomes.{1}.{2}.n",)),
    ("outcomes.*.*.mean", ("outcomes.{1}.{2}.n",)),
    ("outcomes.*.*.mean_change", ("outcomes.{1}.{2}.n",)),
    ("outcomes_over_time.*.*", ("outcomes_over_time_n.{1}.{2}",)),
    ("costs.per_patient_year_nok", ("patients.patient_days",)),
    ("costs.per_attended_day_nok", ("dosing.attended_days",)),
    ("costs.per_administration_nok", ("dosing.doses_given",)),
    ("monthly.*.attendance", ("monthly.{1}.doses_given", "monthly.{1}.doses_expected")),
    (
        "monthly.*.incidents_per_1000_administrations",
        ("monthly.{1}.incidents", "monthly.{1}.doses_given"),
    ),
)

# Groups: (total, parts, whether the parts add up to the total exactly). Where they do
# not, the rest (total minus the parts) is a cell too, hidden when it is small.
GROUPS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("intake.referrals", ("intake.referrals_by_source.*",), True),
    ("intake.assessed", ("intake.eligible",), False),
    ("retention.exits", ("retention.positive_exits", "retention.deaths"), False),
    ("retention.exits", ("leaving.exits_by_cause.*",), True),
    ("dosing.doses_expected", ("dosing.by_status.*",), True),
    ("dosing.doses_given", ("dosing.by_status.given", "dosing.by_status.partial"), True),
    ("dosing.by_status.withheld", ("dosing.withheld_by_reason.*",), True),
    ("dosing.doses_expected", ("monthly.*.doses_expected",), True),
    ("dosing.doses_given", ("monthly.*.doses_given",), True),
    ("safety.incidents", ("safety.overdoses",), False),
    ("safety.incidents", ("monthly.*.incidents",), True),
)
# The same figure under two names: withheld together.
ALIASES: tuple[tuple[str, str], ...] = (
    ("safety.administrations", "dosing.doses_given"),
    ("leaving.exits_by_cause.treatment", "retention.positive_exits"),
    ("leaving.exits_by_cause.death", "retention.deaths"),
)


def _parse(pattern: str) -> Path:
    return tuple(pattern.split("."))


def _paths(data: Any, pattern: Path, prefix: Path = ()) -> Iterator[tuple[Path, Path]]:
    """(path, the keys its "*"s matched) for every path in ``data`` matching ``pattern``."""
    if not pattern:
        yield prefix, ()
        return
    head, rest = pattern[0], pattern[1:]
    if isinstance(data, dict):
        keys = list(data) if head == "*" else ([head] if head in data else [])
    elif isinstance(data, list):
        keys = list(range(len(data))) if head == "*" else []
    else:
        keys = []
    for key in keys:
        for path, stars in _paths(data[key], rest, (*prefix, key)):
            yield path, ((key, *stars) if head == "*" else stars)


def _get(data: Any, path: Path) -> Any:
    for key in path:
        data = data[key]
    return data


def _set(data: Any, path: Path, value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _fill(pattern: str, stars: Path) -> Path:
    return _parse(pattern.format(None, *[str(s) for s in stars]))


def _key(path: Path) -> str:
    return ".".join(str(key) for key in path)


def small(value: Any, threshold: int) -> bool:
    """A count that would be withheld by itself."""
    return isinstance(value, int) and 0 < value < threshold


def suppress(data: dict, threshold: int) -> tuple[dict, dict[str, str]]:
    """A copy of the indicators with every small number withheld, and the withheld paths
    ("patients.active", "monthly.2.doses_given") with their reasons (``BELOW``/``HIDDEN``).
    ``threshold`` 1 or less withholds nothing."""
    out = copy.deepcopy(data)
    marks: dict[Path, str] = {}
    counts = {path: _get(out, path) for p in COUNTS for path, _s in _paths(out, _parse(p))}
    for path, value in counts.items():
        if small(value, threshold):
            marks[path] = BELOW

    changed = True
    while changed:
        changed = False
        for name, alias in ALIASES:
            for a, b in ((_parse(name), _parse(alias)), (_parse(alias), _parse(name))):
                if a in marks and b in counts and b not in marks:
                    marks[b] = marks[a]
                    changed = True
        for total_pattern, part_patterns, exact in GROUPS:
            total_path = _parse(total_pattern)
            if total_path not in counts or total_path in marks:
                continue
            parts = [path for p in part_patterns for path, _s in _paths(out, _parse(p))]
            parts = [path for path in parts if isinstance(counts.get(path), int)]
            hidden = sum(1 for path in parts if path in marks)
            if not exact:
                # The rest is never shown: unknown as soon as a part is, else the total
                # minus the parts gives it, which matters only when it is small.
                rest = counts[total_path] - sum(counts[path] for path in parts)
                hidden = hidden + 1 if hidden else int(small(rest, threshold))
            if hidden != 1:
                continue
            shown = [path for path in parts if path not in marks and counts[path]]
            chosen = min(shown, key=lambda path: (counts[path], _key(path))) if shown else None
            marks[chosen or total_path] = HIDDEN
            changed = True

    for pattern, bases in DERIVED:
        for path, stars in _paths(out, _parse(pattern)):
            based_on = [
                base
                for b in bases
                for base, _s in _paths(out, _fill(b, stars) if "{" in b else _parse(b))
            ]
            if _get(out, path) is not None and any(base in marks for base in based_on):
                marks.setdefault(path, HIDDEN)

    for path in marks:
        _set(out, path, None)
    return out, {_key(path): reason for path, reason in marks.items()}


def shown(data: dict, marks: dict[str, str], *, below: str, hidden: str) -> dict:
    """A copy for display: each withheld value replaced by ``below`` ("< 5") or
    ``hidden`` ("withheld"), never by a number."""
    out = copy.deepcopy(data)
    for key, reason in marks.items():
        _set(out, _resolve(out, key), below if reason == BELOW else hidden)
    return out


def _resolve(data: Any, key: str) -> Path:
    """The path of a dotted key: list indices as numbers, dict keys as they are."""
    path: list[str | int] = []
    for part in key.split("."):
        step: str | int = int(part) if isinstance(data, list) else part
        path.append(step)
        data = data[step]
    return tuple(path)
