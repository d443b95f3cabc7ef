"""The staffing rule and the opening times as pure functions."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from hab.operations import messages, rules
from hab.operations.rules import (
    DEFAULT_RULE,
    DayException,
    Duty,
    Need,
    Rule,
    Source,
    Staffed,
    StaffRole,
    TemplateVersion,
    missing_total,
    opening,
    shortfalls,
)

NURSE = Staffed(StaffRole.NURSE, Duty.ON_DUTY)
NURSE_ON_CALL = Staffed(StaffRole.NURSE, Duty.ON_CALL)
DOCTOR = Staffed(StaffRole.DOCTOR, Duty.ON_DUTY)
DOCTOR_ON_CALL = Staffed(StaffRole.DOCTOR, Duty.ON_CALL)


def english(found) -> list[str]:
    with translation.override("en"):
        return messages.texts(found)


# --- shortfalls -----------------------------------------------------------------------------


def test_the_default_is_two_nurses_and_a_doctor_on_duty_or_on_call():
    assert Rule(min_nurses=2, min_doctors=1, doctor_on_call_counts=True) == DEFAULT_RULE


def test_an_empty_session_lacks_two_nurses_and_a_doctor():
    found = shortfalls(DEFAULT_RULE, [])

    assert [(s.need, s.missing) for s in found] == [(Need.NURSES, 2), (Need.DOCTORS, 1)]
    assert english(found) == ["Missing 2 nurses", "No doctor on duty or on call"]


def test_two_nurses_and_a_doctor_on_call_is_staffed():
    assert shortfalls(DEFAULT_RULE, [NURSE, NURSE, DOCTOR_ON_CALL]) == []


def test_one_nurse_short_is_said_in_the_singular():
    found = shortfalls(DEFAULT_RULE, [NURSE, DOCTOR])

    assert english(found) == ["Missing 1 nurse"]


def test_a_nurse_on_call_does_not_count_as_on_duty():
    found = shortfalls(DEFAULT_RULE, [NURSE, NURSE_ON_CALL, DOCTOR])

    assert [(s.need, s.present, s.missing) for s in found] == [(Need.NURSES, 1, 1)]


def test_a_doctor_on_call_does_not_count_when_the_rule_says_so():
    rule = Rule(min_nurses=2, min_doctors=1, doctor_on_call_counts=False)

    found = shortfalls(rule, [NURSE, NURSE, DOCTOR_ON_CALL])

    assert english(found) == ["No doctor on duty"]


def test_several_doctors_missing():
    found = shortfalls(Rule(min_nurses=0, min_doctors=2), [DOCTOR])

    assert english(found) == ["Missing 1 doctor on duty or on call"]
    assert english(shortfalls(Rule(min_nurses=0, min_doctors=3), [])) == [
        "Missing 3 doctors on duty or on call"
    ]
    assert english(shortfalls(Rule(0, 2, doctor_on_call_counts=False), [])) == [
        "Missing 2 doctors on duty"
    ]


def test_a_rule_of_nothing_is_always_met():
    assert shortfalls(Rule(min_nurses=0, min_doctors=0), []) == []


def test_roles_other_than_nurse_and_doctor_count_for_nothing():
    found = shortfalls(DEFAULT_RULE, [Staffed("psychologist", Duty.ON_DUTY)] * 5)

    assert missing_total(found) == 3


people = st.lists(
    st.builds(
        Staffed,
        role=st.sampled_from(list(StaffRole)),
        duty=st.sampled_from(list(Duty)),
    ),
    max_size=8,
)
any_rule = st.builds(
    Rule,
    min_nurses=st.integers(0, 6),
    min_doctors=st.integers(0, 3),
    doctor_on_call_counts=st.booleans(),
)


@given(rule=any_rule, staff=people, more=people)
def test_adding_staff_never_makes_a_session_more_understaffed(rule, staff, more):
    before = {s.need: s.missing for s in shortfalls(rule, staff)}
    after = {s.need: s.missing for s in shortfalls(rule, staff + more)}

    assert set(after) <= set(before)
    assert all(after[need] <= before[need] for need in after)
    assert missing_total(shortfalls(rule, staff + more)) <= missing_total(shortfalls(rule, staff))


@given(rule=any_rule, staff=people)
def test_a_shortfall_is_exactly_what_is_needed_to_meet_the_rule(rule, staff):
    found = shortfalls(rule, staff)
    extra = [NURSE] * sum(s.missing for s in found if s.need == Need.NURSES)
    extra += [DOCTOR] * sum(s.missing for s in found if s.need == Need.DOCTORS)

    assert all(s.missing > 0 for s in found)
    assert shortfalls(rule, staff + extra) == []


@given(staff=people, nurses=st.integers(0, 5), doctors=st.integers(0, 3))
def test_a_stricter_rule_never_lacks_less(staff, nurses, doctors):
    lenient = Rule(nurses, doctors, doctor_on_call_counts=True)
    strict = Rule(nurses + 1, doctors + 1, doctor_on_call_counts=False)

    assert missing_total(shortfalls(strict, staff)) >= missing_total(shortfalls(lenient, staff))


# --- opening times --------------------------------------------------------------------------

MONDAY = date(2026, 11, 30)
SLOT = (time(8), time(11))
WEEKDAY_0800 = TemplateVersion(1, 0, date(2026, 1, 1), time(8), time(11))
SATURDAY_0900 = TemplateVersion(2, 5, date(2026, 1, 1), time(9), time(11))


def test_without_a_template_the_session_keeps_the_slot_times():
    found = opening(MONDAY, slot_times=SLOT)

    assert (found.starts_at, found.ends_at, found.source, found.closed) == (
        time(8),
        time(11),
        Source.SLOT,
        False,
    )


def test_the_weekday_template_gives_the_times():
    saturday = MONDAY + timedelta(days=5)

    found = opening(saturday, slot_times=SLOT, versions=[WEEKDAY_0800, SATURDAY_0900])

    assert (found.starts_at, found.source, found.template_id) == (time(9), Source.TEMPLATE, 2)


def test_a_newer_version_applies_from_its_day_only():
    later = TemplateVersion(3, 0, MONDAY, time(7, 30), time(10, 30))
    versions = [WEEKDAY_0800, later]

    assert opening(MONDAY - timedelta(days=7), slot_times=SLOT, versions=versions).template_id == 1
    assert opening(MONDAY, slot_times=SLOT, versions=versions).starts_at == time(7, 30)


def test_of_two_versions_from_the_same_day_the_later_row_wins():
    a = TemplateVersion(5, 0, MONDAY, time(9), time(11))
    b = TemplateVersion(6, 0, MONDAY, time(10), time(11))

    assert opening(MONDAY, slot_times=SLOT, versions=[b, a]).template_id == 6


def test_a_holiday_has_its_own_times():
    holiday = DayException(9, closed=False, starts_at=time(10), ends_at=time(12))

    found = opening(MONDAY, slot_times=SLOT, versions=[WEEKDAY_0800], exception=holiday)

    assert (found.starts_at, found.ends_at, found.source, found.exception_id) == (
        time(10),
        time(12),
        Source.EXCEPTION,
        9,
    )
    assert not found.closed


def test_a_closure_closes_and_keeps_the_times_it_would_have_had():
    found = opening(
        MONDAY, slot_times=SLOT, versions=[WEEKDAY_0800], exception=DayException(4, closed=True)
    )

    assert found.closed
    assert (found.starts_at, found.ends_at, found.exception_id) == (time(8), time(11), 4)


@given(
    day=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    versions=st.lists(
        st.builds(
            TemplateVersion,
            id=st.integers(1, 1000),
            weekday=st.integers(0, 6),
            valid_from=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
            starts_at=st.just(time(9)),
            ends_at=st.just(time(11)),
        ),
        max_size=10,
    ),
)
def test_the_clinic_opens_every_day_without_a_closure(day, versions):
    found = opening(day, slot_times=SLOT, versions=versions)

    assert not found.closed
    assert found.starts_at < found.ends_at


@pytest.mark.parametrize("weekday", range(7))
def test_template_in_force_looks_only_at_the_days_weekday(weekday):
    day = MONDAY + timedelta(days=weekday)
    versions = [TemplateVersion(w + 1, w, date(2026, 1, 1), time(8), time(11)) for w in range(7)]

    assert rules.template_in_force(versions, day).weekday == weekday
