"""The dose decision, rule by rule, and its safety properties."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hab.dosing import rules
from hab.dosing.rules import Assessment, Dose, Group, Protocol, Titration
from tests.dosing.rule_helpers import DAY, OSLO, PROTOCOL, G, at, decide, dose, rx, stable_history


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
    reviewed = decide(history, slot="morning", now=at(DAY, 9), prescription=rx(issued=DAY))

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


# --- issue 16: per group, reviews, every reason, induction rules ----------------------


def test_missed_days_are_counted_per_medication_group():
    # Diacetylmorphine three days ago, methadone eleven days ago: methadone is blocked.
    methadone = rx(dose=100, daily=150, medication="methadone_oral")
    history = [dose(DAY - timedelta(days=3), 9, 200)]

    decision = decide(
        history,
        slot="morning",
        now=at(DAY, 9),
        prescription=methadone,
        taken_before_window=DAY - timedelta(days=11),
    )

    assert decision.blocked and codes(decision) == {"missed_days"}
    assert decision.reasons[0].params == {"days": 10}


def test_a_dose_of_another_group_does_not_restart_the_run():
    # Methadone given yesterday does not make diacetylmorphine's last day yesterday.
    history = [
        dose(DAY - timedelta(days=1), 9, 60, medication="methadone_oral"),
        dose(DAY - timedelta(days=2), 9, 60, medication="methadone_oral"),
    ]

    decision = decide(
        history, slot="morning", now=at(DAY, 9), taken_before_window=DAY - timedelta(days=12)
    )

    assert decision.blocked and "missed_days" in codes(decision)


@pytest.mark.parametrize(
    ("reviewed_on", "blocked"),
    [
        # Last dose day -5 with a block after 3 days: the block begins on day -1.
        (DAY - timedelta(days=4), True),  # issued before the threshold: no review of it
        (DAY - timedelta(days=2), True),  # the day before the block began
        (DAY - timedelta(days=1), False),  # the day the block began
        (DAY, False),
    ],
)
def test_only_a_review_after_the_block_began_lifts_it(reviewed_on, blocked):
    history = [dose(DAY - timedelta(days=5), 9, 200)]

    decision = decide(
        history,
        slot="morning",
        now=at(DAY, 9),
        prescription=rx(issued=DAY - timedelta(days=30), reviewed_on=reviewed_on),
    )

    assert decision.blocked is blocked
    assert ("missed_days" in codes(decision)) is blocked


@pytest.mark.parametrize(
    "medication",
    ["dam_injectable", "hydromorphone_injectable", "methadone_oral", "morphine_sr_oral"],
)
def test_every_group_is_blocked_after_missed_days(medication):
    history = [dose(DAY - timedelta(days=4), 9, 50, medication=medication)]

    decision = decide(
        history,
        slot="morning",
        now=at(DAY, 9),
        prescription=rx(dose=50, daily=150, medication=medication),
    )

    assert decision.blocked and codes(decision) == {"missed_days"}


@pytest.mark.parametrize("medication", ["methadone_oral", "morphine_sr_oral"])
def test_oral_opioids_restart_at_half_the_dose_after_a_review(medication):
    history = [dose(DAY - timedelta(days=6), 9, 100, medication=medication)]

    decision = decide(
        history,
        slot="morning",
        now=at(DAY, 9),
        prescription=rx(dose=100, daily=150, medication=medication, issued=DAY),
    )

    assert not decision.blocked
    assert decision.max_mg == 50 and "oral_restart" in codes(decision)


def test_a_missed_days_review_lets_the_full_oral_dose_on_the_next_day():
    history = [
        dose(DAY - timedelta(days=6), 9, 100, medication="methadone_oral"),
        dose(DAY - timedelta(days=1), 9, 50, medication="methadone_oral"),
    ]

    decision = decide(
        history,
        slot="morning",
        now=at(DAY, 9),
        prescription=rx(
            dose=100, daily=150, medication="methadone_oral", issued=DAY - timedelta(days=1)
        ),
    )

    assert decision.max_mg == 100 and "oral_restart" not in codes(decision)


def test_a_refusal_lists_every_blocking_reason():
    # Dosed 2 h ago up to the daily maximum, alcohol above the limit, POSS 4.
    history = stable_history() + [dose(DAY, 13, 450, "morning")]

    decision = decide(
        history,
        now=at(DAY, 15),
        assessment=Assessment(sedation=4, breath_alcohol_permille=0.5, intoxication="obvious"),
    )

    assert decision.blocked and decision.max_mg == 0
    assert codes(decision) == {
        "interval",
        "daily_max_reached",
        "sedation_block",
        "alcohol",
        "intoxication_block",
    }


def test_missed_days_and_an_unsafe_assessment_are_both_listed():
    history = [dose(DAY - timedelta(days=5), 9, 200)]

    decision = decide(
        history,
        slot="morning",
        now=at(DAY, 9),
        assessment=Assessment(sedation=1, breath_alcohol_permille=0.3),
    )

    assert codes(decision) == {"missed_days", "alcohol"}


@pytest.mark.parametrize(
    ("breach_minutes", "review_minutes", "blocked"),
    [
        (0, None, True),  # no review at all
        (0, -60, True),  # the review came before the breach
        (0, 0, True),  # at the same moment: not after it
        (0, 1, False),  # a minute after
    ],
)
def test_a_confirmed_breach_blocks_the_group_until_a_doctor_reviews(
    breach_minutes, review_minutes, blocked
):
    breach = at(DAY, 10) + timedelta(minutes=breach_minutes)
    reviewed = None if review_minutes is None else breach + timedelta(minutes=review_minutes)
    history = stable_history() + [dose(DAY, 9, 200)]

    decision = decide(
        history, now=at(DAY, 15), breach_at=breach, prescription=rx(reviewed_at=reviewed)
    )

    assert decision.blocked is blocked
    assert ("breach_review" in codes(decision)) is blocked


def test_oral_tablets_rise_at_most_300_mg_on_the_first_day():
    tablets = rx(dose=400, daily=1000, medication="dam_tablet_ir")

    first = decide([], slot="morning", now=at(DAY, 9), prescription=tablets)
    after_100 = decide(
        [dose(DAY, 9, 100, medication="dam_tablet_ir")],
        slot="afternoon",
        now=at(DAY, 9, 30),
        prescription=tablets,
    )
    after_300 = decide(
        [
            dose(DAY, 9, 100, medication="dam_tablet_ir"),
            dose(DAY, 10, 200, "afternoon", medication="dam_tablet_ir"),
        ],
        slot="evening",
        now=at(DAY, 11),
        prescription=tablets,
    )

    assert first.max_mg == 100
    assert after_100.max_mg == 200 and "oral_daily_step" in codes(after_100)
    assert after_300.blocked and "oral_daily_step_reached" in codes(after_300)


@pytest.mark.parametrize("yesterday", [299.9, 300, 300.1])
def test_oral_tablets_second_day_rises_by_300_over_yesterday(yesterday):
    # 300 mg given this morning: the rest of the day is yesterday's total + 300 - 300.
    tablets = rx(dose=600, daily=1000, medication="dam_tablet_ir")
    history = [
        dose(DAY - timedelta(days=1), 9, 100, medication="dam_tablet_ir"),
        dose(DAY - timedelta(days=1), 15, yesterday - 100, "afternoon", medication="dam_tablet_ir"),
        dose(DAY, 9, 300, medication="dam_tablet_ir"),
    ]

    decision = decide(history, slot="afternoon", now=at(DAY, 15), prescription=tablets)

    assert decision.max_mg == pytest.approx(yesterday)
    assert "oral_daily_step" in codes(decision)


def test_the_three_session_rule_follows_the_prescription_not_the_clinic():
    yesterday = DAY - timedelta(days=1)
    history = [dose(yesterday, 9, 40), dose(yesterday, 15, 60, "afternoon")]
    two_sessions = rx(dose=200, sessions_per_day=2)
    three_sessions = rx(dose=200, sessions_per_day=3)

    # A clinic with three slots; the patient is prescribed two.
    by_step = decide(
        history, slot="morning", now=at(DAY, 9), prescription=two_sessions, slots_per_day=3
    )
    by_share = decide(history, slot="morning", now=at(DAY, 9), prescription=three_sessions)

    assert by_step.max_mg == 90 and "step_from_previous" in codes(by_step)
    assert by_share.max_mg == 50 and "prev_day_share" in codes(by_share)


def test_three_sessions_with_nothing_yesterday_is_blocked_with_a_reason():
    history = [dose(DAY - timedelta(days=2), 9, 40)]

    decision = decide(history, slot="morning", now=at(DAY, 9), prescription=rx(sessions_per_day=3))

    assert decision.blocked and "prev_day_none" in codes(decision)


def test_the_first_injection_may_be_topped_up_once_at_once():
    first = [dose(DAY, 9, 15, "morning")]
    minute_later = at(DAY, 9, 1)

    top_up = decide(first, slot="morning", now=minute_later, top_up=True)
    second_top_up = decide(
        [*first, Dose(minute_later, DAY, "morning", "dam_injectable", 15, "given", top_up=True)],
        slot="morning",
        now=at(DAY, 9, 2),
        top_up=True,
    )

    assert not top_up.blocked and top_up.max_mg == 15 and "top_up" in codes(top_up)
    assert second_top_up.blocked and codes(second_top_up) == {"top_up_not_allowed"}


@pytest.mark.parametrize(
    ("history", "prescription"),
    [
        ([], None),  # nothing to top up
        (stable_history() + [dose(DAY, 9, 200)], None),  # not the first day
        ([dose(DAY, 9, 100, medication="dam_tablet_ir")], rx(medication="dam_tablet_ir")),
        ([dose(DAY, 9, 15, status="withheld")], None),
    ],
)
def test_a_top_up_is_only_for_the_first_injection(history, prescription):
    decision = decide(
        history, slot="morning", now=at(DAY, 9, 5), top_up=True, prescription=prescription
    )

    assert decision.blocked and "top_up_not_allowed" in codes(decision)


def test_after_a_top_up_the_first_day_rules_go_on():
    history = [
        dose(DAY, 9, 15),
        Dose(at(DAY, 9, 1), DAY, "morning", "dam_injectable", 15, "given", top_up=True),
    ]

    too_soon = decide(history, slot="afternoon", now=at(DAY, 9, 30))
    later = decide(history, slot="afternoon", now=at(DAY, 9, 31))

    assert too_soon.blocked and "interval" in codes(too_soon)
    assert later.max_mg == 30


@pytest.mark.parametrize(
    ("intoxication", "max_mg", "code"),
    [("none", 200, None), ("suspected", 100, "intoxication_reduce"), (None, 200, None)],
)
def test_suspected_intoxication_reduces_the_dose(intoxication, max_mg, code):
    decision = decide(
        stable_history(), assessment=Assessment(sedation=1, intoxication=intoxication)
    )

    assert not decision.blocked and decision.max_mg == max_mg
    assert code is None or code in codes(decision)


def test_obvious_intoxication_blocks():
    decision = decide(stable_history(), assessment=Assessment(sedation=1, intoxication="obvious"))

    assert decision.blocked and codes(decision) == {"intoxication_block"}


@pytest.mark.parametrize(
    ("injected", "tablets", "warned"),
    [
        (400.0, 0.0, False),  # 400 + 200 = 600: at the line, not over it
        (400.1, 0.0, True),
        (0.0, 400.0, False),  # tablets are not injections
        (200.0, 300.0, False),
    ],
)
def test_the_600_mg_warning_counts_injected_diacetylmorphine_only(injected, tablets, warned):
    history = stable_history()
    if injected:
        history.append(dose(DAY, 8, injected, "morning"))
    if tablets:
        history.append(dose(DAY, 9, tablets, "night", medication="dam_tablet_sr"))

    decision = decide(history, now=at(DAY, 15), prescription=rx(dose=200, daily=1000))

    assert ("iv_over_warn" in codes(decision)) is warned


@pytest.mark.parametrize(
    ("given_minute", "now_minute", "left"),
    [(0, 0, 20), (0, 19, 1), (0, 20, 0), (0, 25, 0)],
)
def test_observation_minutes_left(given_minute, now_minute, left):
    assert (
        rules.observation_minutes_left(at(DAY, 9, given_minute), at(DAY, 9, now_minute), 20) == left
    )


def test_observation_counts_a_part_of_a_minute_as_a_minute():
    given_at = at(DAY, 9)

    assert rules.observation_minutes_left(given_at, given_at + timedelta(seconds=1199), 20) == 1


# --- every limit at, just under and just over it ---------------------------------------


@pytest.mark.parametrize(("minutes", "blocked"), [(179, True), (180, False), (181, False)])
def test_the_maintenance_interval_boundary(minutes, blocked):
    history = stable_history() + [dose(DAY, 12, 200, "morning")]

    decision = decide(history, now=at(DAY, 12) + timedelta(minutes=minutes))

    assert decision.blocked is blocked


@pytest.mark.parametrize(("minutes", "blocked"), [(29, True), (30, False), (31, False)])
def test_the_induction_interval_boundary(minutes, blocked):
    decision = decide([dose(DAY, 9, 15)], now=at(DAY, 9) + timedelta(minutes=minutes))

    assert decision.blocked is blocked


@pytest.mark.parametrize(
    ("given", "max_mg", "blocked"),
    [
        (249.9, 200, False),
        (250, 200, False),
        (250.1, 199.9, False),
        (449.9, 0.1, False),
        (450, 0, True),
    ],
)
def test_the_daily_maximum_boundary(given, max_mg, blocked):
    history = stable_history() + [dose(DAY, 9, given, "morning")]

    decision = decide(history, now=at(DAY, 15), prescription=rx(dose=200, daily=450))

    assert decision.blocked is blocked
    assert decision.max_mg == pytest.approx(max_mg)


@pytest.mark.parametrize(
    ("medication", "protocol_max"),
    [
        ("dam_injectable", 1000),
        ("dam_tablet_sr", 1000),
        ("hydromorphone_injectable", 500),
        ("methadone_oral", 150),
        ("morphine_sr_oral", 600),
    ],
)
@pytest.mark.parametrize("offset", [-0.1, 0.0, 0.1])
def test_the_protocol_daily_maximum_of_every_group(medication, protocol_max, offset):
    # The prescription allows more than the protocol: the protocol's maximum holds.
    history = [
        dose(DAY - timedelta(days=b), 9, 10, medication=medication) for b in range(10, 0, -1)
    ]
    history.append(dose(DAY, 8, protocol_max + offset, "morning", medication=medication))

    decision = decide(
        history,
        now=at(DAY, 15),
        prescription=rx(dose=50, daily=5000, medication=medication),
    )

    assert decision.blocked is (offset >= 0)
    if offset < 0:
        assert decision.max_mg == pytest.approx(0.1)


@pytest.mark.parametrize(("prescribed", "max_mg"), [(399.9, 399.9), (400, 400), (400.1, 400)])
def test_the_single_maximum_boundary(prescribed, max_mg):
    decision = decide(
        stable_history(mg=300), prescription=rx(dose=prescribed, daily=1000), now=at(DAY, 15)
    )

    assert decision.max_mg == pytest.approx(max_mg)
    assert ("single_max" in codes(decision)) is (prescribed > 400)


@pytest.mark.parametrize(("alcohol", "blocked"), [(0.19, False), (0.2, False), (0.21, True)])
def test_the_breath_alcohol_boundary(alcohol, blocked):
    decision = decide(
        stable_history(), assessment=Assessment(sedation=1, breath_alcohol_permille=alcohol)
    )

    assert decision.blocked is blocked


@pytest.mark.parametrize(("rate", "blocked"), [(9, True), (10, False), (11, False)])
def test_the_respiratory_rate_boundary(rate, blocked):
    decision = decide(stable_history(), assessment=Assessment(sedation=1, respiratory_rate=rate))

    assert decision.blocked is blocked


@pytest.mark.parametrize(
    ("level", "max_mg", "blocked"), [(2, 200, False), (3, 100, False), (4, 0, True)]
)
def test_the_sedation_levels(level, max_mg, blocked):
    decision = decide(stable_history(), assessment=Assessment(sedation=level))

    assert decision.blocked is blocked and decision.max_mg == max_mg


@pytest.mark.parametrize(
    ("days_since", "code"),
    [(2, None), (3, "missed_reduce"), (4, "missed_days")],  # 1, 2 and 3 days missed
)
def test_the_missed_days_thresholds(days_since, code):
    history = [dose(DAY - timedelta(days=b), 9, 200) for b in range(12, days_since - 1, -1)]

    decision = decide(history, slot="morning", now=at(DAY, 9))

    found = codes(decision) & {"missed_reduce", "missed_days"}
    assert found == ({code} if code else set())


@pytest.mark.parametrize(("run_day", "capped"), [(3, True), (4, False)])
def test_titration_limits_end_after_the_titration_days(run_day, capped):
    # A run that began run_day - 1 days before DAY, 40 mg a dose.
    history = [
        dose(DAY - timedelta(days=b), h, 40, s)
        for b in range(run_day - 1, 0, -1)
        for h, s in ((9, "morning"), (15, "afternoon"))
    ]

    decision = decide(history, slot="morning", now=at(DAY, 9), prescription=rx(dose=200))

    assert (decision.max_mg == 60) is capped  # previous dose 40 + 50 %
    assert (decision.max_mg == 200) is not capped


@pytest.mark.parametrize(("previous", "max_mg"), [(39.9, 59.8), (40, 60), (40.1, 60.1)])
def test_the_two_session_step_boundary(previous, max_mg):
    history = [
        dose(DAY - timedelta(days=1), 9, 30),
        dose(DAY - timedelta(days=1), 15, previous, "afternoon"),
    ]

    decision = decide(history, slot="morning", now=at(DAY, 9))

    assert decision.max_mg == pytest.approx(max_mg)


def test_the_first_day_caps_at_their_limits():
    first = decide([], slot="morning", now=at(DAY, 9), prescription=rx(dose=15))
    later = decide([dose(DAY, 9, 15)], now=at(DAY, 10), prescription=rx(dose=30))
    over = decide([dose(DAY, 9, 15)], now=at(DAY, 10), prescription=rx(dose=30.1))

    assert first.max_mg == 15 and "first_day_iv" not in codes(first)
    assert later.max_mg == 30 and "first_day_iv" not in codes(later)
    assert over.max_mg == 30 and "first_day_iv" in codes(over)


def test_the_daily_maximum_counts_the_whole_day_on_the_short_dst_day():
    # 29 March 2026 has 23 hours in Oslo; doses at 00:30 and 23:30 are on the same day.
    change = date(2026, 3, 29)
    history = [dose(change - timedelta(days=b), 12, 100) for b in range(10, 0, -1)]
    history.append(Dose(at(change, 0, 30), change, "night", "dam_injectable", 400, "given"))

    decision = rules.decide(
        protocol=PROTOCOL,
        prescription=rx(dose=200, daily=450),
        history=history,
        now=datetime(2026, 3, 29, 23, 30, tzinfo=OSLO),
        day=change,
        slot="late",
        slots_per_day=2,
        in_episode=True,
    )

    assert decision.max_mg == 50


def test_missed_days_count_calendar_days_across_the_autumn_change():
    # 25 October 2026 has 25 hours in Oslo; it is one day without a dose, not more.
    change = date(2026, 10, 25)
    history = [dose(change - timedelta(days=b), 9, 200) for b in range(10, 0, -1)]

    decision = rules.decide(
        protocol=PROTOCOL,
        prescription=rx(dose=200, daily=450),
        history=history,
        now=datetime(2026, 10, 26, 9, tzinfo=OSLO),
        day=date(2026, 10, 26),
        slot="morning",
        slots_per_day=2,
        in_episode=True,
    )

    assert codes(decision) == set() and decision.max_mg == 200


# --- the protocol's invariants over random histories of every group ---------------------

SLOT_HOURS = {"morning": (8, 11), "afternoon": (14, 17), "evening": (19, 22)}
REGIMENS = {
    "dam_injectable": 200.0,
    "dam_tablet_sr": 300.0,
    "hydromorphone_injectable": 80.0,
    "methadone_oral": 60.0,
    "morphine_sr_oral": 200.0,
}

attempts = st.lists(
    st.tuples(
        st.integers(0, 9),  # day
        st.sampled_from(sorted(SLOT_HOURS)),
        st.integers(0, 179),  # minutes into the slot
        st.sampled_from(sorted(REGIMENS)),
        st.floats(0.1, 1.0),  # share of the allowed maximum the nurse gives
        st.one_of(st.none(), assessments),
        st.sampled_from([None, "none", "suspected", "obvious"]),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(attempts=attempts, daily_share=st.floats(0.2, 1.2), sessions=st.sampled_from([2, 3]))
def test_no_history_breaks_the_protocols_invariants(attempts, daily_share, sessions):
    """Whatever the nurse asks for, in any order, for any group: no day over its maximum,
    no dose inside the interval, no dose after the missed-days threshold without review,
    no dose above the single maximum or after an unsafe assessment."""
    start = DAY - timedelta(days=10)
    prescriptions = {
        medication: rx(
            dose=mg,
            daily=PROTOCOL.max_daily_mg[rules.MEDICATION_GROUP[medication]] * daily_share,
            medication=medication,
            issued=start,
            sessions_per_day=sessions,
        )
        for medication, mg in REGIMENS.items()
    }
    history: list[Dose] = []
    timeline = sorted(attempts, key=lambda a: (a[0], SLOT_HOURS[a[1]][0] * 60 + a[2]))
    for day_index, slot, minutes, medication, share, assessment, intoxication in timeline:
        day = start + timedelta(days=day_index)
        moment = at(day, SLOT_HOURS[slot][0]) + timedelta(minutes=minutes)
        if assessment is not None:
            assessment = Assessment(
                assessment.sedation,
                assessment.breath_alcohol_permille,
                assessment.respiratory_rate,
                intoxication,
            )
        decision = rules.decide(
            protocol=PROTOCOL,
            prescription=prescriptions[medication],
            history=history,
            now=moment,
            day=day,
            slot=slot,
            slots_per_day=3,
            in_episode=True,
            assessment=assessment,
        )
        amount = rules.floor_mg(decision.max_mg * share)
        if decision.blocked or amount <= 0:
            continue
        if assessment is not None:
            assert assessment.sedation != 4
            assert (assessment.breath_alcohol_permille or 0) <= PROTOCOL.breath_alcohol_max_permille
            assert (assessment.respiratory_rate or 99) >= PROTOCOL.respiratory_rate_min
            assert assessment.intoxication != "obvious"
        history.append(Dose(moment, day, slot, medication, amount, "given"))

    by_group: dict[Group, list[Dose]] = {}
    for given_dose in history:
        by_group.setdefault(given_dose.group, []).append(given_dose)
    for group, doses in by_group.items():
        daily_max = PROTOCOL.max_daily_mg[group] * min(daily_share, 1.0)
        for day in {d.day for d in doses}:
            assert sum(d.mg for d in doses if d.day == day) <= daily_max + 1e-6
        single = PROTOCOL.max_single_mg.get(group)
        assert all(single is None or d.mg <= single for d in doses)
        for before, after in itertools.pairwise(doses):
            missed = (after.day - before.day).days - 1
            assert missed < PROTOCOL.missed_days_block, "a dose after missed days, no review"
            minutes = (after.at - before.at).total_seconds() / 60
            first_day = after.day == doses[0].day
            required = (
                PROTOCOL.induction_interval_minutes if first_day else PROTOCOL.min_interval_minutes
            )
            assert minutes >= required


@pytest.mark.parametrize("pct", [25, 50])
def test_the_oral_restart_share_follows_the_protocol(pct):
    protocol = Protocol(**{**PROTOCOL.__dict__, "oral_restart_pct": pct})
    history = [dose(DAY - timedelta(days=6), 9, 100, medication="methadone_oral")]

    decision = decide(
        history,
        slot="morning",
        now=at(DAY, 9),
        protocol=protocol,
        prescription=rx(dose=100, daily=150, medication="methadone_oral", issued=DAY),
    )

    assert decision.max_mg == pct
