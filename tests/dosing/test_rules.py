"""The dose decision, rule by rule, and its safety properties."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hab.dosing import rules
from hab.dosing.rules import Assessment, Dose, Group, Prescription, Protocol, Titration

OSLO = ZoneInfo("Europe/Oslo")
DAY = date(2026, 11, 20)
G = Group

PROTOCOL = Protocol(
    version=1,
    max_single_mg={G.DAM: 400.0, G.HYDROMORPHONE: None, G.METHADONE: None, G.MORPHINE: None},
    max_daily_mg={G.DAM: 1000.0, G.HYDROMORPHONE: 500.0, G.METHADONE: 150.0, G.MORPHINE: 600.0},
    breath_alcohol_max_permille=0.2,
    missed_days_reduce=2,
    missed_reduce_pct=25,
    respiratory_rate_min=10,
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


def rx(dose=200.0, daily=450.0, medication="dam_injectable", issued=date(2026, 1, 1), **kw):
    return Prescription(
        medication=medication, dose_mg=dose, daily_max_mg=daily, issued_on=issued, **kw
    )


def dose(
    day: date, hour: int, mg: float, slot="morning", status="given", medication="dam_injectable"
):
    return Dose(at=at(day, hour), day=day, slot=slot, medication=medication, mg=mg, status=status)


def stable_history(days: int = 10, mg: float = 200.0) -> list[Dose]:
    """A patient in maintenance: two doses a day for ``days`` days before DAY."""
    history = []
    for back in range(days, 0, -1):
        day = DAY - timedelta(days=back)
        history += [dose(day, 9, mg, "morning"), dose(day, 15, mg, "afternoon")]
    return history


def decide(history=(), *, now=None, slot="afternoon", prescription=None, **kw):
    return rules.decide(
        protocol=kw.pop("protocol", PROTOCOL),
        prescription=prescription or rx(),
        history=list(history),
        now=now or at(DAY, 15),
        day=DAY,
        slot=slot,
        slots_per_day=kw.pop("slots_per_day", 2),
        in_episode=kw.pop("in_episode", True),
        **kw,
    )


def codes(decision) -> set[str]:
    return {r.code for r in decision.reasons}


def test_a_stable_patient_may_have_the_prescribed_dose():
    decision = decide(stable_history() + [dose(DAY, 9, 200)])

    assert not decision.blocked
    assert decision.max_mg == 200
    assert decision.reasons == ()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"in_episode": False}, "no_episode"),
        ({"protocol": None}, "no_protocol"),
    ],
)
def test_blocks_without_episode_or_protocol(kwargs, code):
    decision = decide(stable_history(), **kwargs)

    assert decision.blocked and code in codes(decision) and decision.max_mg == 0


def test_blocks_without_a_prescription():
    decision = rules.decide(
        protocol=PROTOCOL,
        prescription=None,
        history=[],
        now=at(DAY, 9),
        day=DAY,
        slot="morning",
        slots_per_day=2,
        in_episode=True,
    )

    assert decision.blocked and codes(decision) == {"no_prescription"}


def test_blocks_a_slot_without_a_prescribed_dose():
    assert "no_dose_this_slot" in codes(decide(stable_history(), prescription=rx(dose=0)))


def test_blocks_a_second_record_in_the_slot():
    decision = decide(stable_history() + [dose(DAY, 15, 0, "afternoon", status="withheld")])

    assert decision.blocked and codes(decision) == {"already_recorded"}


def test_blocks_within_the_minimum_interval_and_says_how_long():
    history = stable_history() + [dose(DAY, 13, 200, "morning")]

    decision = decide(history, now=at(DAY, 15, 10))

    assert decision.blocked
    [reason] = decision.reasons
    assert reason.code == "interval"
    assert reason.params == {"elapsed_minutes": 130, "required_minutes": 180}


def test_the_daily_maximum_counts_every_dose_today():
    history = stable_history() + [dose(DAY, 8, 300, "morning")]

    decision = decide(history, now=at(DAY, 15), prescription=rx(dose=200, daily=450))

    assert decision.max_mg == 150
    assert "daily_max" in codes(decision)


def test_the_daily_maximum_reached_blocks():
    decision = decide(stable_history() + [dose(DAY, 8, 450)], prescription=rx(dose=200, daily=450))

    assert decision.blocked and "daily_max_reached" in codes(decision)


def test_the_protocol_single_maximum_caps():
    decision = decide(
        stable_history(mg=300), prescription=rx(dose=500, daily=1000), now=at(DAY, 15)
    )

    assert decision.max_mg == 400 and "single_max" in codes(decision)


def test_three_missed_days_block_until_a_doctor_reviews():
    history = [dose(DAY - timedelta(days=4), 9, 200)]

    blocked = decide(history, slot="morning", now=at(DAY, 9))
    reviewed = decide(
        history, slot="morning", now=at(DAY, 9), prescription=rx(issued=DAY - timedelta(days=1))
    )

    assert blocked.blocked and blocked.reasons[0].params == {"days": 3}
    assert not reviewed.blocked
    # After the review the first-day limits apply again.
    assert reviewed.max_mg == PROTOCOL.first_iv_dose_mg
    assert "restart_after_review" in codes(reviewed)


def test_two_missed_days_reduce_the_dose():
    history = [dose(DAY - timedelta(days=3), 9, 200)] + stable_history(10)[:-6]

    decision = decide(history, slot="morning", now=at(DAY, 9))

    assert not decision.blocked
    assert decision.max_mg == 150  # 200 less 25 %
    assert "missed_reduce" in codes(decision)


@pytest.mark.parametrize(
    ("assessment", "code"),
    [
        (Assessment(sedation=4, breath_alcohol_permille=0), "sedation_block"),
        (Assessment(sedation=1, breath_alcohol_permille=0.5), "alcohol"),
        (Assessment(sedation=1, breath_alcohol_permille=0, respiratory_rate=7), "respiration"),
    ],
)
def test_the_assessment_can_stop_the_dose(assessment, code):
    decision = decide(stable_history(), assessment=assessment)

    assert decision.blocked and codes(decision) == {code}


def test_sedation_three_halves_the_dose():
    decision = decide(
        stable_history(), assessment=Assessment(sedation=3, breath_alcohol_permille=0)
    )

    assert decision.max_mg == 100 and "sedation_reduce" in codes(decision)


def test_the_first_injection_day():
    first = decide([], slot="morning", now=at(DAY, 9))
    second = decide([dose(DAY, 9, 15)], slot="afternoon", now=at(DAY, 9, 40))
    too_soon = decide([dose(DAY, 9, 15)], slot="afternoon", now=at(DAY, 9, 20))

    assert first.max_mg == 15
    assert second.max_mg == 30 and not second.blocked
    assert too_soon.blocked and too_soon.reasons[0].params["required_minutes"] == 30


def test_titration_two_sessions_allows_fifty_percent_more_than_the_last_dose():
    history = [dose(DAY - timedelta(days=1), 9, 40), dose(DAY - timedelta(days=1), 15, 60)]

    decision = decide(history, slot="morning", now=at(DAY, 9))

    assert decision.max_mg == 90 and "step_from_previous" in codes(decision)


def test_titration_three_sessions_allows_half_of_yesterdays_total():
    yesterday = DAY - timedelta(days=1)
    history = [dose(yesterday, h, 40, s) for h, s in ((9, "a"), (13, "b"), (17, "c"))]

    decision = decide(history, slot="a", now=at(DAY, 9), slots_per_day=3)

    assert decision.max_mg == 60 and "prev_day_share" in codes(decision)


def test_a_titration_plan_caps_by_its_step():
    plan = Titration(start_mg=30, step_mg=20, target_mg=200)
    history = [dose(DAY - timedelta(days=5), 9, 30)] + [
        dose(DAY - timedelta(days=b), 9, 30) for b in range(4, 0, -1)
    ]

    decision = decide(history, slot="morning", now=at(DAY, 9), prescription=rx(titration=plan))

    assert decision.max_mg == 50 and "titration_step" in codes(decision)


def test_oral_tablets_start_at_100_mg_and_step_300_a_day():
    tablets = rx(dose=400, daily=1000, medication="dam_tablet_ir")
    yesterday = DAY - timedelta(days=1)
    history = [
        dose(yesterday, 9, 100, medication="dam_tablet_ir"),
        dose(yesterday, 15, 200, "afternoon", medication="dam_tablet_ir"),
    ]

    first = decide([], slot="morning", now=at(DAY, 9), prescription=tablets)
    second_day = decide(history, slot="morning", now=at(DAY, 9), prescription=tablets)

    assert first.max_mg == 100
    assert second_day.max_mg == 400  # 300 yesterday + 300 step = 600 today; 400 prescribed
    assert "first_oral" in codes(first)


def test_doses_elsewhere_and_of_other_groups_are_counted_apart():
    history = stable_history() + [dose(DAY, 9, 100, "morning", medication="methadone_oral")]

    decision = decide(history, now=at(DAY, 15))

    assert decision.max_mg == 200  # methadone does not use up diacetylmorphine's maximum


def test_the_interval_is_real_time_across_the_daylight_saving_change():
    # 29 March 2026: clocks go from 02:00 to 03:00 in Oslo.
    change = date(2026, 3, 29)
    history = [dose(change - timedelta(days=b), 9, 200) for b in range(10, 0, -1)]
    history.append(Dose(at(change, 1, 30), change, "night", "dam_injectable", 200, "given"))

    decision = rules.decide(
        protocol=PROTOCOL,
        prescription=rx(dose=200, daily=1000),
        history=history,
        now=datetime(2026, 3, 29, 4, 0, tzinfo=OSLO),  # 1 h 30 min of real time later
        day=change,
        slot="morning",
        slots_per_day=2,
        in_episode=True,
    )

    assert decision.blocked
    assert decision.reasons[0].params["elapsed_minutes"] == 90


# --- properties ------------------------------------------------------------------------

assessments = st.builds(
    Assessment,
    sedation=st.sampled_from([None, 1, 2, 3, 4]),
    breath_alcohol_permille=st.sampled_from([None, 0.0, 0.1, 0.3]),
    respiratory_rate=st.sampled_from([None, 8, 12, 16]),
)


@settings(max_examples=150, deadline=None)
@given(
    prescribed=st.floats(10, 600),
    daily=st.floats(50, 1000),
    requests=st.lists(
        st.tuples(st.integers(0, 23), st.floats(0, 1), assessments), min_size=1, max_size=8
    ),
)
def test_no_sequence_of_decisions_exceeds_the_daily_maximum(prescribed, daily, requests):
    """Giving, every time, whatever share of the allowed maximum the nurse chooses, never
    adds up to more than the day's maximum, whatever the order and the assessments."""
    history = stable_history()
    given_today = 0.0
    for index, (hour, share, assessment) in enumerate(sorted(requests, key=lambda r: r[0])):
        slot = f"s{index}"
        decision = decide(
            history,
            now=at(DAY, hour),
            slot=slot,
            prescription=rx(dose=prescribed, daily=daily),
            assessment=assessment,
            slots_per_day=3,
        )
        if decision.blocked:
            continue
        amount = rules.floor_mg(decision.max_mg * share)
        if amount <= 0:
            continue
        history.append(Dose(at(DAY, hour), DAY, slot, "dam_injectable", amount, "given"))
        given_today += amount
    assert given_today <= min(daily, PROTOCOL.max_daily_mg[G.DAM]) + 1e-9


@settings(max_examples=200, deadline=None)
@given(
    history_days=st.integers(0, 12),
    hour=st.integers(6, 22),
    assessment=st.one_of(st.none(), assessments),
    episode=st.booleans(),
    prescribed=st.floats(0, 500),
)
def test_a_blocked_decision_always_has_a_reason_and_allows_nothing(
    history_days, hour, assessment, episode, prescribed
):
    decision = decide(
        stable_history(history_days),
        now=at(DAY, hour),
        prescription=rx(dose=prescribed, daily=1000),
        assessment=assessment,
        in_episode=episode,
    )

    if decision.blocked:
        assert decision.reasons and decision.max_mg == 0
        assert not decision.allows(0.1)
    else:
        assert 0 <= decision.max_mg <= decision.prescribed_mg


@settings(max_examples=150, deadline=None)
@given(level=st.sampled_from([1, 2, 3]), prescribed=st.floats(10, 400))
def test_a_reduction_never_raises_a_dose(level, prescribed):
    plain = decide(stable_history(), prescription=rx(dose=prescribed, daily=1000))
    assessed = decide(
        stable_history(),
        prescription=rx(dose=prescribed, daily=1000),
        assessment=Assessment(sedation=level, breath_alcohol_permille=0),
    )

    assert assessed.max_mg <= plain.max_mg


@given(st.lists(st.dates(date(2026, 1, 1), date(2026, 2, 1)), max_size=15), st.integers(1, 5))
def test_a_run_starts_after_the_last_long_gap(days, gap):
    start = rules.run_start(days, None, gap)

    if not days:
        assert start is None
    else:
        later = sorted(set(d for d in days if d >= start))
        for before, after in itertools.pairwise(later):
            assert (after - before).days - 1 < gap
