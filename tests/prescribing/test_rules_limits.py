"""The protocol ranges as pure rules (hab.prescribing.rules), without a database: every
range at both ends and just outside them, the rules between settings at their edge, and
what counts as a change. Written so that the mutation run (scripts/mutation) sees a test
fail when a range end or a comparison moves; test_protocol_ranges.py tries the same ranges
through the service, the API, the form and the database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hab.prescribing.rules import (
    PROTOCOL_ORDERS,
    PROTOCOL_RANGES,
    Planned,
    PrescriptionProblem,
    Problem,
    Range,
    chain_medications,
    chain_of,
    prescription_problems,
    protocol_changes,
    protocol_problems,
)

# A whole protocol version inside every range and keeping every rule between settings.
VALID: dict[str, object] = {
    "dam_max_single_mg": 400,
    "dam_max_daily_mg": 1000,
    "dam_iv_warn_daily_mg": 600,
    "hydromorphone_max_single_mg": 200,
    "hydromorphone_max_daily_mg": 500,
    "methadone_max_daily_mg": 150,
    "morphine_max_daily_mg": 600,
    "min_interval_minutes": 180,
    "induction_interval_minutes": 30,
    "observation_minutes": 20,
    "first_iv_dose_mg": 15,
    "day1_max_iv_dose_mg": 30,
    "first_oral_dose_mg": 100,
    "oral_daily_step_mg": 300,
    "step_pct_two_sessions": 50,
    "prev_day_pct_three_sessions": 50,
    "titration_days": 3,
    "missed_days_block": 3,
    "missed_days_reduce": 2,
    "missed_reduce_pct": 25,
    "sedation_reduce_level": 3,
    "sedation_reduce_pct": 50,
    "sedation_block_level": 4,
    "intoxication_reduce_pct": 50,
    "oral_restart_pct": 50,
    "breath_alcohol_max_permille": Decimal("0.2"),
    "respiratory_rate_min": 10,
    "stock_count_hours": 8,
}


def ranges(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.code == "range"]


def test_the_valid_protocol_covers_every_setting_and_has_no_problem() -> None:
    assert set(VALID) == set(PROTOCOL_RANGES)
    assert protocol_problems(VALID) == []


def edges():
    for name, bounds in PROTOCOL_RANGES.items():
        # The smallest step a setting is given in: a hundredth of a permille, else 0.01 of
        # a unit (so that a range end moved by a fraction is seen too).
        step = Decimal("0.01")
        for value, inside in (
            (bounds.low, True),
            (bounds.high, True),
            (Decimal(str(bounds.low)) - step, False),
            (Decimal(str(bounds.high)) + step, False),
        ):
            yield pytest.param(name, value, inside, id=f"{name}={value}")


@pytest.mark.parametrize(("name", "value", "inside"), list(edges()))
def test_each_range_holds_at_its_ends_and_refuses_just_outside(name, value, inside) -> None:
    problems = ranges(protocol_problems({**VALID, name: value}))

    assert problems == ([] if inside else [Problem(name, "range")])
    assert PROTOCOL_RANGES[name].holds(value) is inside


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("min_interval_minutes", 120, 480),
        ("induction_interval_minutes", 30, 180),
        ("observation_minutes", 15, 120),
        ("titration_days", 3, 5),
        ("dam_max_daily_mg", 100, 1000),
        ("dam_iv_warn_daily_mg", 100, 600),
        ("sedation_block_level", 3, 4),
        ("missed_reduce_pct", 25, 50),
        ("breath_alcohol_max_permille", Decimal("0.00"), Decimal("0.50")),
    ],
)
def test_the_safeguards_ranges_are_the_published_ones(name: str, low, high) -> None:
    # The examples: none of these can be set so that its safeguard is off.
    assert (PROTOCOL_RANGES[name].low, PROTOCOL_RANGES[name].high) == (low, high)


def test_a_range_compares_exact_decimals() -> None:
    permille = Range("x", Decimal("0.00"), Decimal("0.50"), "‰", True, "")

    assert permille.holds(0.5) and permille.holds("0.50") and permille.holds(0)
    assert not permille.holds("0.5000001") and not permille.holds(-0.0001)


@pytest.mark.parametrize("empty", [None, ""])
def test_a_required_setting_left_empty_is_refused_an_optional_one_is_not(empty) -> None:
    required = [n for n, r in PROTOCOL_RANGES.items() if not r.optional]
    optional = [n for n, r in PROTOCOL_RANGES.items() if r.optional]
    together = {"missed_days_reduce", "missed_reduce_pct"}

    for name in required:
        assert protocol_problems({**VALID, name: empty}) == [Problem(name, "required")], name
    for name in optional:
        if name not in together:
            assert protocol_problems({**VALID, name: empty}) == [], name
    missing = {n: v for n, v in VALID.items() if n != "titration_days"}
    assert protocol_problems(missing) == [Problem("titration_days", "required")]


@pytest.mark.parametrize("value", ["abc", "NaN", "Infinity", True, [1]])
def test_a_value_that_is_no_number_is_left_to_the_caller(value) -> None:
    # The form or the API refuses it with its own message; the ranges say nothing of it,
    # nor do the rules between settings that involve it.
    assert protocol_problems({**VALID, "sedation_block_level": value}) == []


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"missed_days_reduce": 2, "missed_reduce_pct": None},
            Problem("missed_reduce_pct", "together", "missed_days_reduce"),
        ),
        (
            {"missed_days_reduce": "", "missed_reduce_pct": 25},
            Problem("missed_days_reduce", "together", "missed_reduce_pct"),
        ),
    ],
)
def test_the_reduction_after_missed_days_needs_both_settings(values, problem) -> None:
    assert protocol_problems({**VALID, **values}) == [problem]


def test_the_reduction_after_missed_days_may_be_left_out_altogether() -> None:
    values = {**VALID, "missed_days_reduce": None, "missed_reduce_pct": None}

    assert protocol_problems(values) == []


@pytest.mark.parametrize(
    ("values", "problems"),
    [
        # Strict: the block level above the reduce level.
        ({"sedation_block_level": 4, "sedation_reduce_level": 3}, []),
        (
            {"sedation_block_level": 3, "sedation_reduce_level": 3},
            [Problem("sedation_block_level", "order", "sedation_reduce_level")],
        ),
        ({"missed_days_block": 3, "missed_days_reduce": 2}, []),
        (
            {"missed_days_block": 2, "missed_days_reduce": 2},
            [Problem("missed_days_block", "order", "missed_days_reduce")],
        ),
        # At least: equal is allowed, below is not.
        ({"day1_max_iv_dose_mg": 15, "first_iv_dose_mg": 15}, []),
        (
            {"day1_max_iv_dose_mg": 14, "first_iv_dose_mg": 15},
            [Problem("day1_max_iv_dose_mg", "order", "first_iv_dose_mg")],
        ),
        ({"dam_max_single_mg": 100, "first_oral_dose_mg": 100}, []),
        (
            {"dam_max_single_mg": 99, "first_oral_dose_mg": 100},
            [Problem("dam_max_single_mg", "order", "first_oral_dose_mg")],
        ),
        (
            {"hydromorphone_max_daily_mg": 240, "hydromorphone_max_single_mg": 250},
            [Problem("hydromorphone_max_daily_mg", "order", "hydromorphone_max_single_mg")],
        ),
        # An optional setting left empty takes no part in the rules.
        ({"dam_max_single_mg": None, "first_oral_dose_mg": 100}, []),
    ],
)
def test_the_rules_between_settings_at_their_edge(values, problems) -> None:
    assert protocol_problems({**VALID, **values}) == problems


def test_a_setting_out_of_its_range_is_not_also_blamed_for_the_rules_it_is_in() -> None:
    above = {**VALID, "sedation_block_level": 5, "sedation_reduce_level": 3}
    below = {**VALID, "sedation_block_level": 3, "sedation_reduce_level": 1}
    # 2 is below the block level's range and below the reduce level as well: one problem.
    under_reduce = {**VALID, "sedation_block_level": 2, "sedation_reduce_level": 3}
    empty = {**VALID, "missed_days_reduce": None, "missed_days_block": 1}

    assert protocol_problems(above) == [Problem("sedation_block_level", "range")]
    assert protocol_problems(below) == [Problem("sedation_reduce_level", "range")]
    assert protocol_problems(under_reduce) == [Problem("sedation_block_level", "range")]
    assert protocol_problems(empty) == [
        Problem("missed_days_reduce", "together", "missed_reduce_pct")
    ]


def test_the_rules_after_one_that_is_not_made_are_still_made() -> None:
    # The first rule is not made (its setting is out of range), nor the third (the single
    # maximum is empty); the second and the sixth are broken and both are listed.
    values = {
        **VALID,
        "sedation_block_level": 5,
        "day1_max_iv_dose_mg": 10,
        "dam_max_single_mg": None,
        "hydromorphone_max_daily_mg": 240,
        "hydromorphone_max_single_mg": 250,
    }

    assert protocol_problems(values) == [
        Problem("sedation_block_level", "range"),
        Problem("day1_max_iv_dose_mg", "order", "first_iv_dose_mg"),
        Problem("hydromorphone_max_daily_mg", "order", "hydromorphone_max_single_mg"),
    ]


def test_every_problem_is_listed_in_table_order() -> None:
    values = {
        **VALID,
        "stock_count_hours": 0,
        "dam_max_daily_mg": 5000,
        "titration_days": None,
        "missed_reduce_pct": None,
        "day1_max_iv_dose_mg": 10,
    }

    assert protocol_problems(values) == [
        Problem("dam_max_daily_mg", "range"),
        Problem("titration_days", "required"),
        Problem("stock_count_hours", "range"),
        Problem("missed_reduce_pct", "together", "missed_days_reduce"),
        Problem("day1_max_iv_dose_mg", "order", "first_iv_dose_mg"),
    ]


def test_every_rule_between_settings_names_settings_with_a_range() -> None:
    for order in PROTOCOL_ORDERS:
        assert {order.setting, order.other} <= set(PROTOCOL_RANGES)


# --- what changed between two versions -------------------------------------------------


def test_a_first_version_lists_every_setting_it_sets() -> None:
    changes = protocol_changes(None, {"titration_days": 3, "stock_count_hours": 8})

    assert changes == [("titration_days", None, 3), ("stock_count_hours", None, 8)]


def test_a_change_is_a_different_number_or_a_value_set_or_cleared() -> None:
    before = {**VALID, "respiratory_rate_min": None}
    after = {
        **VALID,
        "min_interval_minutes": 181,
        "breath_alcohol_max_permille": None,
        "respiratory_rate_min": 10,
        # The same number written another way is no change.
        "titration_days": "3",
        "dam_max_single_mg": Decimal("400.0"),
    }

    assert protocol_changes(before, after) == [
        ("min_interval_minutes", 180, 181),
        ("breath_alcohol_max_permille", Decimal("0.2"), None),
        ("respiratory_rate_min", None, 10),
    ]
    assert protocol_changes(VALID, dict(VALID)) == []


# --- the chains of prescriptions ---------------------------------------------------------


def test_injected_and_oral_diacetylmorphine_are_chains_of_their_own() -> None:
    assert chain_of("dam_injectable") == "dam_injectable"
    assert chain_of("dam_tablet_sr") == chain_of("dam_tablet_ir") == "dam_oral"
    assert chain_medications("dam_tablet_sr") == ["dam_tablet_ir", "dam_tablet_sr"]
    assert chain_medications("methadone_oral") == ["methadone_oral"]


@pytest.mark.parametrize(
    ("injected", "tablets"),
    [({"morning": 0.5}, {"morning": 200.0}), ({"morning": 200.0}, {"morning": 0.5})],
)
def test_any_dose_of_both_halves_of_a_combined_regimen_in_one_session_is_refused(
    injected, tablets
) -> None:
    new = Planned("dam_injectable", {**injected, "afternoon": 0}, 400.0)
    other = Planned("dam_tablet_sr", {**tablets, "afternoon": 200.0}, 400.0)

    assert prescription_problems(new, [other], dam_daily_max_mg=1000.0) == [
        PrescriptionProblem("doses_mg.morning", "combined_session", "dam_tablet_sr", "morning")
    ]
