"""The pure prescribing rules between a patient's prescriptions: chains, the combined DAM
regimen (one injected and one oral DAM prescription, sharing the DAM daily maximum) and
the adjunct oral opioids (methadone or slow-release morphine, not both without an
override)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hab.prescribing.rules import (
    CHAINS,
    OVERRIDABLE,
    Planned,
    chain_medications,
    chain_of,
    prescription_problems,
)

MEDICATIONS = sorted(CHAINS)


def rx(medication="dam_injectable", daily=400.0, **doses) -> Planned:
    return Planned(medication, doses or {"morning": 200.0}, daily)


def codes(new, others, limit=1000.0):
    return [(p.code, p.field) for p in prescription_problems(new, others, dam_daily_max_mg=limit)]


def test_injected_and_oral_dam_are_chains_of_their_own():
    assert chain_medications("dam_injectable") == ["dam_injectable"]
    assert chain_medications("dam_tablet_ir") == ["dam_tablet_ir", "dam_tablet_sr"]
    assert chain_of("dam_tablet_sr") == chain_of("dam_tablet_ir") != chain_of("dam_injectable")
    assert chain_medications("methadone_oral") == ["methadone_oral"]


def test_a_combined_regimen_in_separate_sessions_within_the_maximum_is_allowed():
    injected = rx("dam_injectable", 250, morning=200)
    tablets = rx("dam_tablet_sr", 600, afternoon=600)

    assert codes(tablets, [injected]) == []
    assert codes(injected, [tablets]) == []


def test_both_dam_prescriptions_in_one_session_are_refused_on_that_session():
    injected = rx("dam_injectable", 450, morning=200, afternoon=200)
    tablets = rx("dam_tablet_ir", 300, afternoon=200, night=100)

    assert codes(tablets, [injected]) == [("combined_session", "doses_mg.afternoon")]


@pytest.mark.parametrize(
    ("tablet_max", "refused"),
    [(749.9, False), (750.0, False), (750.1, True)],  # 250 + 750 = the 1000 mg maximum
)
def test_the_two_daily_maxima_share_the_protocols_dam_maximum(tablet_max, refused):
    injected = rx("dam_injectable", 250, morning=200)
    tablets = rx("dam_tablet_sr", tablet_max, afternoon=600)

    found = prescription_problems(tablets, [injected], dam_daily_max_mg=1000)

    assert [p.code for p in found] == (["combined_daily_max"] if refused else [])
    if refused:
        assert (found[0].field, found[0].total, found[0].limit) == (
            "daily_max_mg",
            250 + tablet_max,
            1000,
        )


def test_without_a_protocol_only_the_sessions_are_checked():
    injected = rx("dam_injectable", 900, morning=200)
    tablets = rx("dam_tablet_sr", 900, afternoon=600)

    assert prescription_problems(tablets, [injected], dam_daily_max_mg=None) == []


def test_a_prescription_of_the_same_chain_is_superseded_not_combined():
    tablets_ir = rx("dam_tablet_ir", 900, afternoon=600)
    tablets_sr = rx("dam_tablet_sr", 900, afternoon=600)

    assert codes(tablets_sr, [tablets_ir]) == []


@pytest.mark.parametrize(
    ("new", "other"),
    [("methadone_oral", "morphine_sr_oral"), ("morphine_sr_oral", "methadone_oral")],
)
def test_methadone_and_slow_release_morphine_are_not_both_prescribed(new, other):
    found = prescription_problems(
        rx(new, 150, afternoon=60), [rx(other, 600, afternoon=400)], dam_daily_max_mg=1000
    )

    assert [(p.code, p.field, p.other) for p in found] == [("adjunct_both", "medication", other)]
    assert {p.code for p in found} <= OVERRIDABLE


def test_an_adjunct_goes_with_dam_and_hydromorphone():
    for other in ("dam_injectable", "dam_tablet_sr", "hydromorphone_injectable"):
        assert codes(rx("methadone_oral", 150, afternoon=60), [rx(other, 900, morning=1)]) == []


doses = st.dictionaries(
    st.sampled_from(["morning", "afternoon", "night"]),
    st.floats(0, 600, allow_nan=False).map(lambda mg: round(mg, 1)),
    max_size=3,
)
planned = st.builds(
    Planned,
    st.sampled_from(MEDICATIONS),
    doses,
    st.floats(0.1, 1000, allow_nan=False).map(lambda mg: round(mg, 1)),
)


@settings(database=None, max_examples=300, deadline=None)
@given(planned, st.lists(planned, max_size=4), st.sampled_from([None, 600.0, 1000.0]))
def test_the_problems_are_exactly_the_breaches(new, others, limit):
    """Written out again: every session both DAM prescriptions dose in, every DAM pair whose
    maxima add up to more than the limit, every methadone-morphine pair; nothing else."""
    expected = []
    for other in others:
        pair = {chain_of(new.medication), chain_of(other.medication)}
        if pair == {"dam_injectable", "dam_oral"}:
            for slot, mg in new.doses_mg.items():
                if mg > 0 and other.doses_mg.get(slot, 0) > 0:
                    expected.append(("combined_session", f"doses_mg.{slot}", other.medication))
            if limit is not None and new.daily_max_mg + other.daily_max_mg > limit:
                expected.append(("combined_daily_max", "daily_max_mg", other.medication))
        if pair == {"methadone", "morphine"}:
            expected.append(("adjunct_both", "medication", other.medication))

    found = prescription_problems(new, others, dam_daily_max_mg=limit)

    assert sorted((p.code, p.field, p.other) for p in found) == sorted(expected)
