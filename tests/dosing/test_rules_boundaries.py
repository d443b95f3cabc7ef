"""The dose decision and the after-the-fact check of a day, limit by limit: each test
states the whole decision or the whole list of breaches a nurse would see (codes, the
numbers shown and whether they block), so that moving a limit by one, dropping a number
from a message or turning a block into a limit fails a test (scripts/mutation).

Pure: no database. tests/dosing/test_rules.py holds the rule-by-rule and property tests;
this file holds the exact expectations at each limit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from hab.dosing import rules
from hab.dosing.rules import (
    Assessment,
    Decision,
    Protocol,
    Reason,
    Titration,
)
from tests.dosing.rule_helpers import (
    BLOCK,
    DAY,
    LIMIT,
    OSLO,
    PROTOCOL,
    TABLET,
    WARN,
    YESTERDAY,
    G,
    at,
    decide,
    dose,
    rx,
    stable_history,
)

# --- what a decision allows ----------------------------------------------------------------


def test_a_decision_allows_more_than_0_up_to_its_maximum() -> None:
    decision = decide(stable_history() + [dose(DAY, 9, 200)])

    assert decision == Decision(prescribed_mg=200, max_mg=200, reasons=())
    assert decision.allows(200) and decision.allows(0.5) and decision.allows(0.1)
    assert not decision.allows(200.1)
    assert not decision.allows(0)
    assert not decision.allows(-1)


def test_a_blocked_decision_allows_nothing_whatever_its_maximum() -> None:
    blocked = Decision(prescribed_mg=200, max_mg=200, reasons=(Reason("x", BLOCK),))
    limited = Decision(prescribed_mg=200, max_mg=200, reasons=(Reason("y", LIMIT),))

    assert not blocked.allows(100)
    assert blocked.blocks == (Reason("x", BLOCK),)
    assert limited.allows(100) and limited.blocks == ()


@pytest.mark.parametrize(
    ("value", "floored"),
    [(150.0, 150.0), (0.29, 0.2), (0.3, 0.3), (0.1 + 0.2, 0.3), (0.29999996, 0.3), (0.2999, 0.2)],
)
def test_doses_are_floored_to_a_tenth_but_float_noise_is_not(value, floored) -> None:
    # Within a millionth of a tenth a value is that tenth (0.1 + 0.2 is 0.30000000000000004).
    assert rules.floor_mg(value) == floored


# --- decisions that stop before any rule -------------------------------------------------


def test_no_episode_no_prescription_no_protocol_and_no_dose_this_slot() -> None:
    history = stable_history()
    no_rx = rules.decide(
        protocol=PROTOCOL,
        prescription=None,
        history=history,
        now=at(DAY, 15),
        day=DAY,
        slot="afternoon",
        slots_per_day=2,
        in_episode=True,
    )

    assert decide(history, in_episode=False) == Decision(0.0, 0.0, (Reason("no_episode", BLOCK),))
    assert no_rx == Decision(0.0, 0.0, (Reason("no_prescription", BLOCK),))
    assert decide(history, protocol=None) == Decision(200, 0.0, (Reason("no_protocol", BLOCK),))
    assert decide(history, prescription=rx(dose=0)) == Decision(
        0.0, 0.0, (Reason("no_dose_this_slot", BLOCK, {"slot": "afternoon"}),)
    )


def test_a_slot_with_a_record_names_its_status() -> None:
    history = stable_history() + [dose(DAY, 15, 0, "afternoon", status="withheld")]

    assert decide(history) == Decision(
        200, 0.0, (Reason("already_recorded", BLOCK, {"status": "withheld"}),)
    )


def test_a_prescribed_dose_of_1_mg_may_be_given() -> None:
    decision = decide(stable_history() + [dose(DAY, 9, 200)], prescription=rx(dose=1.0))

    assert decision == Decision(1.0, 1.0, ())


def test_a_refused_record_does_not_count_as_a_dose_taken() -> None:
    # The last dose taken was five days ago; yesterday's record says refused (with the mg
    # that was drawn up): four days without a dose.
    history = [dose(DAY - timedelta(days=5), 9, 200), dose(YESTERDAY, 9, 200, status="refused")]

    decision = decide(history, slot="morning", now=at(DAY, 9))

    assert decision == Decision(200, 0.0, (Reason("missed_days", BLOCK, {"days": 4}),))


# --- the interval ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (
            at(DAY, 14, 59),
            Decision(
                200,
                0.0,
                (Reason("interval", BLOCK, {"elapsed_minutes": 179, "required_minutes": 180}),),
            ),
        ),
        (at(DAY, 15, 0), Decision(200, 200, ())),
        (at(DAY, 15, 1), Decision(200, 200, ())),
    ],
)
def test_the_interval_just_under_at_and_just_over_three_hours(now, expected) -> None:
    history = stable_history() + [dose(DAY, 12, 200)]

    assert decide(history, now=now) == expected


# --- the daily and single maxima -----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (250.0, Decision(200, 200, ())),
        (
            250.1,
            Decision(200, 199.9, (Reason("daily_max", LIMIT, {"daily_max": 450, "left": 199.9}),)),
        ),
        (
            449.9,
            Decision(
                200,
                0.1,
                (Reason("daily_max", LIMIT, {"daily_max": 450, "left": pytest.approx(0.1)}),),
            ),
        ),
        (450.0, Decision(200, 0.0, (Reason("daily_max_reached", BLOCK, {"daily_max": 450}),))),
    ],
)
def test_the_daily_maximum_left_today(given: float, expected: Decision) -> None:
    decision = decide(stable_history() + [dose(DAY, 9, given)])

    assert decision == expected


@pytest.mark.parametrize(
    ("prescribed", "reasons"),
    [(400.0, ()), (400.1, (Reason("single_max", LIMIT, {"max": 400.0}),))],
)
def test_the_single_maximum_at_and_just_over(prescribed: float, reasons: tuple) -> None:
    decision = decide(stable_history(mg=400), prescription=rx(dose=prescribed, daily=1000))

    assert decision == Decision(prescribed, 400.0, reasons)


# --- the assessment -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assessment", "reason"),
    [
        (Assessment(sedation=4), Reason("sedation_block", BLOCK, {"level": 4})),
        (
            Assessment(breath_alcohol_permille=0.3),
            Reason("alcohol", BLOCK, {"value": 0.3, "max": 0.2}),
        ),
        (Assessment(respiratory_rate=9), Reason("respiration", BLOCK, {"value": 9, "min": 10})),
        (Assessment(intoxication="obvious"), Reason("intoxication_block", BLOCK)),
    ],
)
def test_an_unsafe_assessment_blocks_and_says_what_was_measured(assessment, reason) -> None:
    decision = decide(stable_history() + [dose(DAY, 9, 200)], assessment=assessment)

    assert decision == Decision(200, 0.0, (reason,))


@pytest.mark.parametrize(
    "assessment",
    [
        Assessment(sedation=2, breath_alcohol_permille=0.2, respiratory_rate=10),
        Assessment(intoxication="none"),
        Assessment(),
    ],
)
def test_an_assessment_at_every_limit_lets_the_full_dose(assessment) -> None:
    decision = decide(stable_history() + [dose(DAY, 9, 200)], assessment=assessment)

    assert decision == Decision(200, 200, ())


def test_suspected_intoxication_and_sedation_3_both_reduce() -> None:
    decision = decide(
        stable_history() + [dose(DAY, 9, 200)],
        assessment=Assessment(sedation=3, intoxication="suspected"),
    )

    assert decision == Decision(
        200,
        50.0,
        (
            Reason("sedation_reduce", LIMIT, {"level": 3, "pct": 50}),
            Reason("intoxication_reduce", LIMIT, {"pct": 50}),
        ),
    )


# --- induction and titration ---------------------------------------------------------------


def test_a_titration_plan_and_the_first_injection_both_cap_the_first_dose() -> None:
    plan = Titration(start_mg=30, step_mg=30, target_mg=200)

    decision = decide([], slot="morning", now=at(DAY, 9), prescription=rx(titration=plan))

    assert decision == Decision(
        200,
        15.0,
        (
            Reason("titration_step", LIMIT, {"max": 30}),
            Reason("first_day_iv", LIMIT, {"max": 15}),
        ),
    )


def test_a_titration_plan_steps_from_the_last_dose_up_to_its_target() -> None:
    plan = Titration(start_mg=30, step_mg=30, target_mg=100)
    history = [dose(DAY - timedelta(days=b), 9, 90) for b in range(6, 0, -1)]

    stepping = decide(
        history[:-1] + [dose(YESTERDAY, 9, 50)],
        slot="morning",
        now=at(DAY, 9),
        prescription=rx(titration=plan),
    )
    at_target = decide(history, slot="morning", now=at(DAY, 9), prescription=rx(titration=plan))

    assert stepping == Decision(200, 80.0, (Reason("titration_step", LIMIT, {"max": 80}),))
    assert at_target == Decision(200, 100.0, (Reason("titration_step", LIMIT, {"max": 100}),))


def test_the_second_injection_of_the_first_day() -> None:
    decision = decide([dose(DAY, 9, 15)], now=at(DAY, 15))

    assert decision == Decision(200, 30.0, (Reason("first_day_iv", LIMIT, {"max": 30}),))


@pytest.mark.parametrize(("yesterday", "max_mg"), [(75.0, 37.5), (1.0, 0.5)])
def test_three_sessions_allow_half_of_any_total_yesterday(yesterday: float, max_mg: float) -> None:
    history = [dose(YESTERDAY, 9, yesterday)]

    decision = decide(history, slot="morning", now=at(DAY, 9), prescription=rx(sessions_per_day=3))

    assert decision == Decision(200, max_mg, (Reason("prev_day_share", LIMIT, {"max": max_mg}),))


def test_three_sessions_with_nothing_yesterday() -> None:
    history = [dose(YESTERDAY - timedelta(days=1), 9, 15)]

    decision = decide(history, slot="morning", now=at(DAY, 9), prescription=rx(sessions_per_day=3))

    assert decision == Decision(200, 0.0, (Reason("prev_day_none", BLOCK),))


def test_two_sessions_step_half_again_over_the_last_dose() -> None:
    history = [dose(YESTERDAY, 9, 15), dose(YESTERDAY, 15, 30, "afternoon")]

    decision = decide(history, slot="morning", now=at(DAY, 9))

    assert decision == Decision(200, 45.0, (Reason("step_from_previous", LIMIT, {"max": 45.0}),))


def test_the_titration_limits_end_after_day_3() -> None:
    history = [dose(DAY - timedelta(days=b), 9, 30) for b in (3, 2, 1)]

    day_4 = decide(history, slot="morning", now=at(DAY, 9))
    day_3 = decide(history[:-1], slot="morning", now=at(YESTERDAY, 9), day=YESTERDAY)

    assert day_4 == Decision(200, 200, ())
    assert day_3 == Decision(200, 45.0, (Reason("step_from_previous", LIMIT, {"max": 45.0}),))


def test_the_first_tablet_dose() -> None:
    decision = decide(
        [], slot="morning", now=at(DAY, 9), prescription=rx(medication=TABLET, daily=1000)
    )

    assert decision == Decision(200, 100.0, (Reason("first_oral", LIMIT, {"max": 100}),))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (100.0, Decision(300, 300, ())),
        (200.0, Decision(300, 200.0, (Reason("oral_daily_step", LIMIT, {"max": 200.0}),))),
        (399.5, Decision(300, 0.5, (Reason("oral_daily_step", LIMIT, {"max": 0.5}),))),
        (400.0, Decision(300, 0.0, (Reason("oral_daily_step_reached", BLOCK, {"max": 400.0}),))),
    ],
)
def test_tablets_rise_at_most_300_mg_over_yesterday(today: float, expected: Decision) -> None:
    history = [
        dose(YESTERDAY, 9, 100, medication=TABLET),
        dose(DAY, 9, today, medication=TABLET),
    ]

    decision = decide(history, prescription=rx(dose=300, daily=1000, medication=TABLET))

    assert decision == expected


def test_methadone_restarts_at_half_after_missed_days_and_a_review() -> None:
    history = [dose(DAY - timedelta(days=5), 9, 60, medication="methadone_oral")]
    methadone = rx(dose=60, daily=150, medication="methadone_oral", reviewed_on=YESTERDAY)

    decision = decide(history, slot="morning", now=at(DAY, 9), prescription=methadone)

    assert decision == Decision(
        60,
        30.0,
        (
            Reason("restart_after_review", WARN, {"days": 4}),
            Reason("oral_restart", LIMIT, {"max": 30.0}),
        ),
    )


# --- a day checked after the fact (corrections, paper doses) ------------------------------


def breaches(doses, *, prescriptions=None, day=DAY, **kw):
    return rules.day_breaches(
        protocol=kw.pop("protocol", PROTOCOL),
        prescriptions=prescriptions or {"dam_injectable": rx(daily=1000)},
        doses=list(doses),
        group=kw.pop("group", G.DAM),
        day=day,
        slots_per_day=kw.pop("slots_per_day", 2),
        **kw,
    )


def interval(earlier: datetime, later: datetime, elapsed: int, required: int = 180) -> Reason:
    return Reason(
        "breach_interval",
        BLOCK,
        {
            "earlier": earlier,
            "later": later,
            "elapsed_minutes": elapsed,
            "required_minutes": required,
        },
    )


def titration(rule: str, mg: float, limit: float, when: datetime) -> Reason:
    return Reason("breach_titration", BLOCK, {"rule": rule, "mg": mg, "max": limit, "at": when})


def test_a_day_without_a_dose_taken_has_no_breach() -> None:
    history = stable_history() + [dose(DAY, 9, 900, status="withheld")]

    assert breaches(history) == []


def test_a_day_within_every_limit_has_no_breach() -> None:
    assert breaches(stable_history() + [dose(DAY, 9, 200), dose(DAY, 12, 200)]) == []


@pytest.mark.parametrize(("minute", "elapsed"), [(59, 179)])
def test_two_doses_just_under_the_interval_apart(minute: int, elapsed: int) -> None:
    later = at(DAY, 11, minute)
    history = stable_history() + [dose(DAY, 9, 200), dose(DAY, later, 200, "afternoon")]

    assert breaches(history) == [interval(at(DAY, 9), later, elapsed)]


def test_the_interval_is_checked_across_midnight_both_ways() -> None:
    late = at(YESTERDAY, 23)
    early = at(DAY, 1)
    tomorrow = DAY + timedelta(days=1)
    next_night = at(tomorrow, 0, 30)
    history = stable_history()[:-1] + [
        dose(YESTERDAY, late, 200, "night"),
        dose(DAY, early, 200, "night"),
        dose(DAY, 22, 200, "evening"),
        dose(tomorrow, next_night, 200, "night"),
    ]

    assert breaches(history) == [
        interval(late, early, 120),
        interval(at(DAY, 22), next_night, 150),
    ]
    # Yesterday's own pair (09:00 and 23:00 are far apart; 15:00 was left out) is not today's.
    assert breaches(history[:-3], day=YESTERDAY) == []


def test_the_interval_is_real_time_on_the_autumn_change() -> None:
    # 25 October 2026: 03:00 summer time is 02:00 winter time in Oslo. 01:30 CEST and
    # 03:30 CET are three hours apart although the wall clock says two.
    change = date(2026, 10, 25)
    first = datetime(2026, 10, 25, 1, 30, tzinfo=OSLO)
    second = datetime(2026, 10, 25, 3, 30, tzinfo=OSLO)
    history = [dose(change - timedelta(days=b), 9, 200) for b in range(10, 0, -1)] + [
        dose(change, first, 200, "night"),
        dose(change, second, 200, "morning"),
    ]

    assert breaches(history, day=change) == []


@pytest.mark.parametrize(("minute", "breach"), [(29, True), (30, False)])
def test_the_first_day_interval_is_30_minutes(minute: int, breach: bool) -> None:
    second = at(DAY, 9, minute)
    history = [dose(DAY, 9, 15), dose(DAY, second, 30, "afternoon")]

    expected = [interval(at(DAY, 9), second, minute, 30)] if breach else []
    assert breaches(history) == expected


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (450.0, []),
        (450.1, [Reason("breach_daily_max", BLOCK, {"total": 450.1, "daily_max": 450.0})]),
    ],
)
def test_the_day_total_at_and_just_over_the_daily_maximum(total: float, expected) -> None:
    history = stable_history() + [dose(DAY, 9, 250), dose(DAY, 15, total - 250, "afternoon")]

    assert breaches(history, prescriptions={"dam_injectable": rx(daily=450)}) == expected


def test_a_combined_regimen_and_the_protocol_share_the_lowest_daily_maximum() -> None:
    history = stable_history() + [dose(DAY, 9, 200), dose(DAY, 15, 200, "afternoon")]
    combined = {
        "dam_injectable": rx(daily=1000),
        TABLET: rx(medication=TABLET, daily=350),
        # Another group's prescription does not lower this group's maximum.
        "methadone_oral": rx(medication="methadone_oral", daily=100),
    }
    low_protocol = Protocol(**{**PROTOCOL.__dict__, "max_daily_mg": {G.DAM: 390.0}})

    assert breaches(history, prescriptions=combined) == [
        Reason("breach_daily_max", BLOCK, {"total": 400.0, "daily_max": 350.0})
    ]
    assert breaches(history, protocol=low_protocol) == [
        Reason("breach_daily_max", BLOCK, {"total": 400.0, "daily_max": 390.0})
    ]
    assert breaches(history, prescriptions={"methadone_oral": combined["methadone_oral"]}) == []


@pytest.mark.parametrize(("mg", "breach"), [(399.9, False), (400.0, False), (400.1, True)])
def test_a_dose_at_and_just_over_the_single_maximum(mg: float, breach: bool) -> None:
    history = stable_history(mg=400) + [dose(DAY, 9, mg)]

    expected = [Reason("breach_single_max", BLOCK, {"mg": mg, "max": 400.0, "at": at(DAY, 9)})]
    assert breaches(history) == (expected if breach else [])


def test_a_group_without_a_single_maximum_is_not_checked_for_one() -> None:
    hydromorphone = "hydromorphone_injectable"
    history = [
        dose(DAY - timedelta(days=b), 9, 450, medication=hydromorphone) for b in range(5, -1, -1)
    ]

    assert (
        breaches(
            history,
            group=G.HYDROMORPHONE,
            prescriptions={hydromorphone: rx(dose=450, daily=500, medication=hydromorphone)},
        )
        == []
    )


@pytest.mark.parametrize(("mg", "breach"), [(200.0, False), (200.1, True)])
def test_a_dose_at_and_just_over_what_was_prescribed_for_its_session(
    mg: float, breach: bool
) -> None:
    history = stable_history() + [dose(DAY, 9, mg)]
    prescribed = {("dam_injectable", "morning"): 200.0, ("dam_injectable", "afternoon"): 0}

    expected = [Reason("breach_prescribed", BLOCK, {"mg": mg, "max": 200.0, "at": at(DAY, 9)})]
    assert breaches(history, prescribed=prescribed) == (expected if breach else [])
    # A session with nothing prescribed, or none given, is not checked.
    assert breaches(history, prescribed={("dam_injectable", "afternoon"): 0}) == []
    assert breaches(history) == []


def test_the_first_days_top_up_follows_at_once() -> None:
    top_up = at(DAY, 9, 5)
    history = [dose(DAY, 9, 15), dose(DAY, top_up, 15, top_up=True)]
    prescribed = {("dam_injectable", "morning"): 15.0}

    assert breaches(history, prescribed=prescribed) == []
    over = history[:1] + [dose(DAY, top_up, 15.1, top_up=True)]
    assert breaches(over, prescribed=prescribed) == [titration("top_up", 15.1, 15, top_up)]


@pytest.mark.parametrize(
    ("history", "required", "why"),
    [
        (
            [dose(YESTERDAY, 9, 15), dose(DAY, 9, 15), dose(DAY, at(DAY, 9, 5), 15, top_up=True)],
            180,
            "not the first day",
        ),
        (
            [dose(DAY, 9, 15), dose(DAY, at(DAY, 9, 5), 15, "afternoon", top_up=True)],
            30,
            "another session",
        ),
        (
            [
                dose(DAY, 9, 15, medication=TABLET),
                dose(DAY, at(DAY, 9, 5), 15, medication=TABLET, top_up=True),
            ],
            30,
            "tablets",
        ),
        (
            [
                dose(DAY, 9, 15, top_up=True),
                dose(DAY, at(DAY, 9, 5), 15, top_up=True),
            ],
            30,
            "after a top-up",
        ),
        (
            [
                dose(DAY, at(DAY, 8, 50), 5, "night"),
                dose(DAY, 9, 10),
                dose(DAY, at(DAY, 9, 5), 15, top_up=True),
            ],
            30,
            "after two doses",
        ),
    ],
)
def test_a_top_up_only_follows_the_first_injection_at_once(history, required, why) -> None:
    top_up = interval(history[-2].at, history[-1].at, 5, required)

    assert top_up in breaches(history), why


def test_a_titration_plan_limits_each_dose_by_its_step() -> None:
    plan = Titration(start_mg=30, step_mg=20, target_mg=60)
    plans = {"dam_injectable": rx(titration=plan, daily=1000)}
    history = [dose(DAY - timedelta(days=b), 9, 60) for b in range(6, 0, -1)]
    first_of_run = [dose(DAY, 9, 30.1)]
    stepping = history[:-1] + [dose(YESTERDAY, 9, 30), dose(DAY, 9, 50.1)]
    at_target = history + [dose(DAY, 9, 60.1)]

    assert breaches(first_of_run, prescriptions=plans) == [
        titration("titration_step", 30.1, 30, at(DAY, 9)),
        titration("first_day_iv", 30.1, 15, at(DAY, 9)),
    ]
    assert breaches(stepping, prescriptions=plans) == [
        titration("titration_step", 50.1, 50, at(DAY, 9))
    ]
    assert breaches(at_target, prescriptions=plans) == [
        titration("titration_step", 60.1, 60, at(DAY, 9))
    ]
    assert breaches(history + [dose(DAY, 9, 60)], prescriptions=plans) == []


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (15.0, 30.0, []),
        (15.1, 30.0, [("first_day_iv", 15.1, 15, 9)]),
        (15.0, 30.1, [("first_day_iv", 30.1, 30, 15)]),
    ],
)
def test_the_first_days_injections_at_and_just_over_15_and_30_mg(first, second, expected) -> None:
    history = [dose(DAY, 9, first), dose(DAY, 15, second, "afternoon")]

    assert breaches(history) == [titration(r, mg, m, at(DAY, h)) for r, mg, m, h in expected]


def test_a_new_run_after_missed_days_starts_at_the_first_day_limits() -> None:
    old = [dose(DAY - timedelta(days=b), 9, 200) for b in range(12, 3, -1)]

    assert breaches(old + [dose(DAY, 9, 15)]) == []
    assert breaches(old + [dose(DAY, 9, 15.1)]) == [titration("first_day_iv", 15.1, 15, at(DAY, 9))]
    # The day before the window is the run's last day before it: no gap, no new run.
    assert breaches([dose(DAY, 9, 200)], taken_before_window=YESTERDAY) == []
    assert breaches([dose(DAY, 9, 200)], taken_before_window=DAY - timedelta(days=4)) == [
        titration("first_day_iv", 200, 15, at(DAY, 9))
    ]


@pytest.mark.parametrize(("mg", "breach"), [(37.5, False), (37.6, True)])
def test_three_sessions_day_2_at_and_just_over_half_of_yesterday(mg: float, breach: bool) -> None:
    history = [
        dose(YESTERDAY, 9, 15),
        dose(YESTERDAY, 12, 30, "midday"),
        dose(YESTERDAY, 15, 30, "afternoon"),
        dose(DAY, 9, mg),
    ]

    three = {"dam_injectable": rx(sessions_per_day=3, daily=1000)}
    expected = [titration("prev_day_share", mg, 37.5, at(DAY, 9))] if breach else []
    assert breaches(history, prescriptions=three) == expected
    # The clinic's three sessions count when the prescription does not say.
    assert breaches(history, slots_per_day=3) == expected


@pytest.mark.parametrize(("mg", "breach"), [(45.0, False), (45.1, True)])
def test_two_sessions_day_2_at_and_just_over_half_again_the_last_dose(
    mg: float, breach: bool
) -> None:
    history = [dose(YESTERDAY, 9, 15), dose(YESTERDAY, 15, 30, "afternoon"), dose(DAY, 9, mg)]

    expected = [titration("step_from_previous", mg, 45.0, at(DAY, 9))] if breach else []
    assert breaches(history) == expected


def test_the_titration_limits_of_a_day_end_after_day_3() -> None:
    history = [dose(DAY - timedelta(days=b), 9, 30) for b in (3, 2, 1)] + [dose(DAY, 9, 200)]

    assert breaches(history) == []
    assert breaches(history[1:]) == [titration("step_from_previous", 200, 45.0, at(DAY, 9))]


@pytest.mark.parametrize(
    ("doses", "expected"),
    [
        ([100.0, 200.0], []),
        ([100.1], [("first_oral", 100.1, 100)]),
        ([100.0, 200.1], [("oral_daily_step", 300.1, 300.0)]),
    ],
)
def test_tablets_on_the_first_day(doses: list[float], expected) -> None:
    history = [
        dose(DAY, 9 + 6 * i, mg, ("morning", "afternoon")[i], medication=TABLET)
        for i, mg in enumerate(doses)
    ]
    tablets = {TABLET: rx(medication=TABLET, daily=1000)}

    found = breaches(history, prescriptions=tablets)

    assert found == [
        titration(rule, mg, limit, at(DAY, 9))
        if rule == "first_oral"
        else Reason("breach_titration", BLOCK, {"rule": rule, "total": mg, "max": limit})
        for rule, mg, limit in expected
    ]


@pytest.mark.parametrize(("today", "breach"), [(400.0, False), (400.1, True)])
def test_tablets_on_day_2_at_and_just_over_300_mg_above_yesterday(today, breach) -> None:
    history = [
        dose(YESTERDAY, 9, 100, medication=TABLET),
        dose(DAY, 9, 200, medication=TABLET),
        dose(DAY, 15, today - 200, "afternoon", medication=TABLET),
    ]
    tablets = {TABLET: rx(medication=TABLET, daily=1000)}

    expected = [
        Reason("breach_titration", BLOCK, {"rule": "oral_daily_step", "total": today, "max": 400.0})
    ]
    assert breaches(history, prescriptions=tablets) == (expected if breach else [])


# --- more edges the mutation run found unwatched ----------------------------------------


def test_the_observation_minutes_left_count_whole_minutes_of_real_time() -> None:
    assert rules.observation_minutes_left(at(DAY, 9), at(DAY, 9), 120) == 120
    assert rules.observation_minutes_left(at(DAY, 9), at(DAY, 10, 59), 120) == 1
    assert rules.observation_minutes_left(at(DAY, 9), at(DAY, 11), 120) == 0


@pytest.mark.parametrize(
    ("reviewed_on", "expected"),
    [
        # A review on the day the reduction began (two days missed: DAY) lifts it; one
        # made the day before does not.
        (DAY, Decision(200, 200, ())),
        (
            YESTERDAY,
            Decision(200, 150.0, (Reason("missed_reduce", LIMIT, {"days": 2, "pct": 25}),)),
        ),
    ],
)
def test_two_missed_days_reduce_until_a_review_on_or_after_the_day_it_began(
    reviewed_on, expected
) -> None:
    history = stable_history(10)[:-4]  # the last dose three days ago: DAY-2 and DAY-1 missed

    decision = decide(
        history, slot="morning", now=at(DAY, 9), prescription=rx(reviewed_on=reviewed_on)
    )

    assert decision == expected


def test_a_run_that_began_before_the_window_is_past_its_titration() -> None:
    history = [dose(DAY, 9, 200), dose(DAY, 15, 400, "afternoon")]

    assert breaches(history, taken_before_window=YESTERDAY) == []


def test_a_titration_plan_starts_again_with_a_new_run() -> None:
    plan = Titration(start_mg=30, step_mg=30, target_mg=200)
    old = [dose(DAY - timedelta(days=b), 9, 200) for b in range(12, 3, -1)]

    found = breaches(old + [dose(DAY, 9, 31)], prescriptions={"dam_injectable": rx(titration=plan)})

    assert found == [
        titration("titration_step", 31, 30, at(DAY, 9)),
        titration("first_day_iv", 31, 15, at(DAY, 9)),
    ]


def test_a_plan_at_its_target_checks_every_dose_of_the_day() -> None:
    plan = Titration(start_mg=30, step_mg=30, target_mg=60)
    history = [dose(DAY - timedelta(days=b), 9, 60) for b in range(6, 0, -1)]
    today = [dose(DAY, 9, 60), dose(DAY, 15, 60.1, "afternoon")]

    found = breaches(history + today, prescriptions={"dam_injectable": rx(titration=plan)})

    assert found == [titration("titration_step", 60.1, 60, at(DAY, 15))]


def test_a_session_prescribed_half_a_milligram_is_checked() -> None:
    history = stable_history() + [dose(DAY, 9, 0.6)]
    prescribed = {("dam_injectable", "morning"): 0.5}

    assert breaches(history, prescribed=prescribed) == [
        Reason("breach_prescribed", BLOCK, {"mg": 0.6, "max": 0.5, "at": at(DAY, 9)})
    ]


def test_after_the_top_up_the_first_days_limit_still_holds() -> None:
    history = [
        dose(DAY, 9, 15),
        dose(DAY, at(DAY, 9, 5), 15, top_up=True),
        dose(DAY, 15, 30.1, "afternoon"),
    ]

    assert breaches(history) == [titration("first_day_iv", 30.1, 30, at(DAY, 15))]


def test_an_injection_without_a_prescription_follows_the_clinics_sessions() -> None:
    history = [
        dose(YESTERDAY, 9, 15),
        dose(YESTERDAY, 12, 30, "midday"),
        dose(YESTERDAY, 15, 30, "afternoon"),
        dose(DAY, 9, 37.6),
    ]
    only_tablets = {TABLET: rx(medication=TABLET, daily=1000)}

    assert breaches(history, prescriptions=only_tablets, slots_per_day=3) == [
        titration("prev_day_share", 37.6, 37.5, at(DAY, 9))
    ]


def test_half_again_a_dose_is_not_rounded_to_whole_milligrams() -> None:
    history = [dose(YESTERDAY, 9, 15), dose(DAY, 9, 22.5)]

    assert breaches(history) == []
    assert breaches(history[:1] + [dose(DAY, 9, 22.6)]) == [
        titration("step_from_previous", 22.6, 22.5, at(DAY, 9))
    ]


@pytest.mark.parametrize(("run_day", "breach"), [(3, True), (4, False)])
def test_the_tablets_daily_step_ends_after_day_3(run_day: int, breach: bool) -> None:
    earlier = [
        dose(DAY - timedelta(days=b), 9, 100, medication=TABLET) for b in range(run_day - 1, 0, -1)
    ]
    history = earlier + [
        dose(DAY, 9, 200, medication=TABLET),
        dose(DAY, 15, 200.1, "afternoon", medication=TABLET),
    ]

    expected = [
        Reason("breach_titration", BLOCK, {"rule": "oral_daily_step", "total": 400.1, "max": 400.0})
    ]
    found = breaches(history, prescriptions={TABLET: rx(medication=TABLET, daily=1000)})
    assert found == (expected if breach else [])


@pytest.mark.parametrize(
    ("injected", "tablets", "warned"),
    [(400.0, 0.0, False), (400.1, 0.0, True), (300.0, 100.1, False)],
)
def test_the_600_mg_warning_at_and_just_over_injected_diacetylmorphine(
    injected: float, tablets: float, warned: bool
) -> None:
    history = stable_history() + [dose(DAY, 9, injected)]
    if tablets:
        history.append(dose(DAY, 12, tablets, "midday", medication=TABLET))

    decision = decide(history, now=at(DAY, 15, 30), prescription=rx(daily=1000))

    warning = (Reason("iv_over_warn", WARN, {"warn": 600, "injected": injected, "dose": 200}),)
    assert decision == Decision(200, 200, warning if warned else ())


def test_the_first_days_top_up_is_15_mg_once() -> None:
    first = [dose(DAY, 9, 15)]

    top_up = decide(first, slot="morning", now=at(DAY, 9, 5), top_up=True)
    day_2 = decide(
        [dose(YESTERDAY, 9, 15), dose(DAY, 9, 15)], slot="morning", now=at(DAY, 9, 5), top_up=True
    )

    assert top_up == Decision(200, 15.0, (Reason("top_up", LIMIT, {"max": 15}),))
    assert day_2 == Decision(200, 0.0, (Reason("top_up_not_allowed", BLOCK),))


def test_the_600_mg_warning_counts_only_what_may_still_be_given() -> None:
    # 0.5 mg is left of the day's 600 mg: 599.5 + 0.5 is not over the warning.
    history = stable_history() + [dose(DAY, 9, 599.5)]

    decision = decide(history, prescription=rx(daily=600))

    assert decision == Decision(
        200, 0.5, (Reason("daily_max", LIMIT, {"daily_max": 600, "left": 0.5}),)
    )


@pytest.mark.parametrize(("missed", "new_run"), [(2, False), (3, True)])
def test_a_run_is_broken_by_the_missed_days_threshold_exactly(missed: int, new_run: bool) -> None:
    earlier = DAY - timedelta(days=missed + 1)

    assert rules.run_start([earlier, DAY], None, 3) == (DAY if new_run else earlier)
    assert rules.run_start([DAY], earlier, 3) == (DAY if new_run else None)


def test_a_run_that_began_before_the_window_is_not_in_its_first_days() -> None:
    decision = decide([dose(DAY, 9, 100)], taken_before_window=YESTERDAY)

    assert decision == Decision(200, 200, ())
