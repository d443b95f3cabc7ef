"""The small-number rule (hab.evaluation.disclosure): counts under the threshold are
withheld, and so is whatever would give them back (a rest by subtraction, a rate)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hab.evaluation.disclosure import BELOW, GROUPS, HIDDEN, _resolve, suppress


def indicators(**counts) -> dict:
    """A minimal set of indicators in the shape of ``indicators.compute``."""
    given_, partial, missed, withheld = (
        counts.get("given", 20),
        counts.get("partial", 0),
        counts.get("missed", 10),
        counts.get("withheld", 0),
    )
    expected = given_ + partial + missed + withheld
    done = given_ + partial
    active = counts.get("active", 12)
    split = counts.get("split", 0.5)
    return {
        "intake": {
            "referrals": sum(counts.get("by_source", [6, 7])),
            "referrals_by_source": dict(
                zip("abcdef", counts.get("by_source", [6, 7]), strict=False)
            ),
            "assessed": counts.get("assessed", 10),
            "eligible": counts.get("eligible", 8),
            "waitlisted_at_end": 0,
            "waited": counts.get("waited", 6),
            "median_days_waiting": 14,
        },
        "patients": {
            "admitted": 6,
            "active": active,
            "places_used_at_end": active,
            "capacity": 200,
            "places_used_share": round(active / 200, 4),
            "occupancy": 0.05,
            "patient_days": counts.get("patient_days", active * 30),
            "patient_years": round(counts.get("patient_days", active * 30) / 365.25, 3),
            "deaths": 0,
            "ended_by_reason": {},
        },
        "retention": {"courses": 12, "exits": 0, "positive_exits": 0, "deaths": 0},
        "dosing": {
            "doses_expected": expected,
            "doses_given": done,
            "by_status": {
                "given": given_,
                "partial": partial,
                "missed": missed,
                "withheld": withheld,
            },
            "attendance": round(done / expected, 4) if expected else None,
        },
        "safety": {
            "incidents": counts.get("incidents", 0),
            "overdoses": counts.get("overdoses", 0),
            "administrations": done,
            "incidents_per_1000_administrations": 1.0,
        },
        "costs": {"total_nok": 1000.0, "per_patient_year_nok": 50.0},
        # the period's doses and incidents in two months: the first month's share
        "monthly": [
            {
                "month": month,
                "doses_given": part(done),
                "doses_expected": part(expected),
                "incidents": part(counts.get("incidents", 0)),
                "attendance": 0.5,
            }
            for month, part in (
                ("2025-01", lambda n: int(n * split)),
                ("2025-02", lambda n: n - int(n * split)),
            )
        ],
    }


@pytest.mark.parametrize(
    ("active", "withheld"), [(0, False), (1, True), (4, True), (5, False), (6, False)]
)
def test_a_count_is_withheld_under_the_threshold_and_zero_is_shown(active, withheld):
    data, marks = suppress(indicators(active=active), 5)
    assert (data["patients"]["active"] is None) is withheld
    assert (marks.get("patients.active") == BELOW) is withheld
    if not withheld:
        assert data["patients"]["active"] == active


def test_a_rate_from_a_withheld_count_is_withheld_too():
    # given one day with three patients
    data, marks = suppress(indicators(active=3, patient_days=3), 5)
    assert data["patients"]["places_used_share"] is None
    assert marks["patients.places_used_share"] == HIDDEN
    assert data["patients"]["patient_years"] is None
    assert data["costs"]["per_patient_year_nok"] is None  # would give patient-years back
    assert data["patients"]["capacity"] == 200  # not a count of people


def test_one_small_part_of_a_total_takes_the_next_smallest_with_it():
    # given referrals 2 + 7 + 9 = 18: the 2 alone could be had as 18 - 7 - 9
    data, marks = suppress(indicators(by_source=[2, 7, 9]), 5)
    assert marks["intake.referrals_by_source.a"] == BELOW
    assert marks["intake.referrals_by_source.b"] == HIDDEN
    assert data["intake"]["referrals_by_source"]["c"] == 9
    assert data["intake"]["referrals"] == 18


def test_a_small_rest_is_hidden_by_withholding_the_part():
    # given 10 assessed and 8 eligible: 2 were not eligible
    data, marks = suppress(indicators(assessed=10, eligible=8), 5)
    assert data["intake"]["eligible"] is None and marks["intake.eligible"] == HIDDEN
    assert data["intake"]["assessed"] == 10


def test_the_total_goes_when_no_other_part_can():
    # given 3 overdoses are the only incidents: 3 of 3
    data, _marks = suppress(indicators(incidents=3, overdoses=3), 5)
    assert data["safety"]["incidents"] is None and data["safety"]["overdoses"] is None
    # given 9 incidents, 3 of them overdoses: the other 6 are not shown anywhere, so
    # the total can stay
    data, _marks = suppress(indicators(incidents=9, overdoses=3), 5)
    assert data["safety"]["overdoses"] is None and data["safety"]["incidents"] == 9


def test_the_same_figure_under_two_names_is_withheld_together():
    data, _marks = suppress(indicators(given=2, missed=10), 5)
    assert data["dosing"]["doses_given"] is None
    assert data["safety"]["administrations"] is None
    assert data["dosing"]["attendance"] is None


def test_threshold_one_withholds_nothing():
    data, marks = suppress(indicators(active=1, by_source=[1, 2]), 1)
    assert marks == {} and data == indicators(active=1, by_source=[1, 2])


def _cells(data: dict, marks: dict) -> list[tuple[str, object]]:
    from hab.evaluation.disclosure import COUNTS, _key, _parse, _paths

    return [
        (_key(path), _get(data, path))
        for pattern in COUNTS
        for path, _s in _paths(data, _parse(pattern))
    ]


def _get(data, path):
    for key in path:
        data = data[key]
    return data


small_counts = st.integers(min_value=0, max_value=12)


@given(
    by_source=st.lists(small_counts, min_size=1, max_size=6),
    given_=small_counts,
    partial=small_counts,
    missed=small_counts,
    withheld=small_counts,
    assessed=small_counts,
    eligible_share=st.floats(0, 1),
    incidents=small_counts,
    overdose_share=st.floats(0, 1),
    split=st.floats(0, 1),
    threshold=st.integers(min_value=2, max_value=10),
)
def test_no_shown_count_is_small_and_no_hidden_cell_comes_back_by_subtraction(
    by_source,
    given_,
    partial,
    missed,
    withheld,
    assessed,
    eligible_share,
    incidents,
    overdose_share,
    split,
    threshold,
):
    raw = indicators(
        by_source=by_source,
        given=given_,
        partial=partial,
        missed=missed,
        withheld=withheld,
        assessed=assessed,
        eligible=int(assessed * eligible_share),
        incidents=incidents,
        overdoses=int(incidents * overdose_share),
        split=split,
    )
    data, marks = suppress(raw, threshold)
    # no published count from 1 to threshold - 1
    for key, value in _cells(data, marks):
        assert value is None or not 0 < value < threshold, key
        if value is None:
            assert key in marks
    # what is shown is the true figure
    for key, value in _cells(data, marks):
        if value is not None:
            assert value == _get(raw, _resolve(raw, key))
    # in each group with a shown total, never exactly one cell unknown
    from hab.evaluation.disclosure import _parse, _paths

    for total, parts, exact in GROUPS:
        total_paths = list(_paths(data, _parse(total)))
        if not total_paths or _get(data, total_paths[0][0]) is None:
            continue
        cells = [path for p in parts for path, _s in _paths(data, _parse(p))]
        unknown = [path for path in cells if _get(data, path) is None]
        if exact:
            assert len(unknown) != 1, (total, unknown)
        elif not unknown:  # the rest is given away by subtraction: never small
            rest = _get(raw, total_paths[0][0]) - sum(_get(raw, path) for path in cells)
            assert not 0 < rest < threshold, (total, rest)
        # totals stay consistent: the shown parts never exceed the shown total
        shown = sum(_get(data, path) for path in cells if _get(data, path) is not None)
        assert shown <= _get(data, total_paths[0][0])
