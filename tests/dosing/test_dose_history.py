"""The last four weeks of a patient's dosing, session by session (dosing/history.py)."""

from __future__ import annotations

import pytest

from hab.core.access import Actor
from hab.core.errors import Forbidden
from hab.core.models import AccessLog
from hab.dosing import history
from hab.patients.models import Patient
from hab.prescribing.selectors import active_prescriptions
from tests.dosing.dose_history_helpers import ago, build
from tests.dosing.helpers import TODAY
from tests.dosing.helpers import history as past_doses

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(admitted):
    return build(admitted()["patient"])


def read(built, **kw) -> history.DoseHistory:
    return history.dose_history(Patient.objects.get(pk=built.patient_id), **kw)


def session(found: history.DoseHistory, days_ago: int, slot: str, group: str = "dam"):
    return found.sessions[(ago(days_ago), slot, group)]


def test_the_window_is_the_last_28_days_up_to_today(built):
    found = read(built)

    assert (found.start, found.end) == (ago(27), TODAY)
    assert len(found.days) == 28
    assert [code for code, _name in found.slots] == ["morning", "afternoon"]
    # The dose 28 days ago lies just outside.
    assert (ago(28), "morning", "dam") not in found.sessions


def test_given_sessions_carry_the_dose_the_poss_and_the_observation(built):
    found = read(built)

    morning = session(found, 25, "morning")
    assert (morning.prescribed_mg, morning.given_mg, morning.status) == (200, 200, "given")
    assert (morning.sedation, morning.outcome) == (1, "no_concern")


def test_a_record_without_its_prescribed_figure_takes_the_prescription_in_force(built):
    assert session(read(built), 25, "afternoon").prescribed_mg == 200


def test_partial_missed_withheld_and_refused_sessions(built):
    found = read(built)

    partial = session(found, 24, "morning")
    missed = session(found, 24, "afternoon")
    withheld = session(found, 23, "morning")
    refused = session(found, 23, "afternoon")
    assert (partial.status, partial.given_mg) == ("partial", 137.5)
    assert (missed.status, missed.given_mg, missed.sedation) == ("missed", 0, None)
    assert (withheld.status, withheld.given_mg, withheld.sedation) == ("withheld", 0, 3)
    assert (refused.status, refused.prescribed_mg) == ("refused", 200)
    assert found.counts("dam")["missed"] == 1
    assert found.counts("dam")["withheld"] == 1


def test_a_corrected_dose_counts_as_corrected_and_keeps_its_observation(built):
    morning = session(read(built), 22, "morning")

    assert (morning.given_mg, morning.status, morning.corrected) == (180, "given", True)
    # The observation was ended on the record before the correction.
    assert morning.outcome == "sedated"


def test_a_top_up_adds_to_the_session_and_an_overdose_shows_its_naloxone(built):
    found = read(built)

    morning = session(found, 21, "morning")
    afternoon = session(found, 21, "afternoon")
    assert (morning.given_mg, morning.top_up_mg, morning.status) == (30, 15, "given")
    assert morning.sedation == 2  # the highest POSS of the session (the top-up's)
    assert (afternoon.outcome, afternoon.naloxone_mg) == ("overdose", 0.4)


def test_a_day_with_no_prescription_in_force_has_nothing_expected(built):
    found = read(built)

    day = [s for s in found.of("dam") if s.day == ago(19)]
    assert [s.state for s in day] == ["none", "none"]
    assert all(s.prescribed_mg is None for s in day)


def test_a_prescribed_session_without_a_record_is_open(built):
    found = read(built)

    assert session(found, 3, "morning").given_mg == 250
    afternoon = session(found, 3, "afternoon")
    assert (afternoon.prescribed_mg, afternoon.state) == (220, "open")
    # The step of the prescription 5 days ago: 200 mg in the afternoon before, 220 after.
    assert session(found, 6, "afternoon").prescribed_mg == 200
    assert session(found, 5, "afternoon").prescribed_mg == 220


def test_each_medication_group_has_its_own_sessions(built):
    found = read(built)

    methadone = session(found, 25, "afternoon", "methadone")
    assert (methadone.given_mg, methadone.prescribed_mg) == (60, 60)
    assert found.groups == ["dam", "methadone"]
    assert session(found, 26, "afternoon", "methadone").state == "open"


def test_the_prescriptions_in_force_follow_the_rule_of_the_dosing_room(built):
    rows = history.Rx  # the columns read
    found = read(built)
    prescriptions = [
        rows(
            p.pk, p.medication, p.doses_mg, p.valid_from, p.valid_to, p.stopped_on, p.supersedes_id
        )
        for p in built.prescriptions.values()
    ]

    for day in found.days:
        expected = {
            p.pk for p in active_prescriptions([built.patient_id], day).get(built.patient_id, [])
        }
        assert {p.pk for p in history.in_force_on(prescriptions, day)} == expected, day


def test_it_reads_in_a_fixed_number_of_queries(admitted, django_assert_max_num_queries):
    patient = Patient.objects.get(pk=admitted()["patient"])
    build(patient.pk)
    other = Patient.objects.get(pk=admitted()["patient"])
    past_doses(other.pk, 90)

    with django_assert_max_num_queries(3):
        week = history.dose_history(patient, days=7)
    with django_assert_max_num_queries(3):
        quarter = history.dose_history(patient, days=90)

    with django_assert_max_num_queries(3):
        months = history.dose_history(other, days=90)

    assert len(week.days) == 7
    assert len(quarter.days) == 90
    assert sum(s.status == "given" for s in months.of("dam")) == 2 * 89


def test_a_nurse_reads_it_and_the_read_is_logged(built, staff):
    patient = Patient.objects.get(pk=built.patient_id)

    found = history.dose_history_for(Actor.system(staff["nurse.oslo"]), patient)

    assert found.end == TODAY
    row = AccessLog.objects.filter(patient=patient, what="dose history").get()
    assert row.username == "nurse.oslo"


def test_a_page_that_logged_its_read_does_not_log_it_twice(built, staff):
    patient = Patient.objects.get(pk=built.patient_id)

    history.dose_history_for(Actor.system(staff["doctor.oslo"]), patient, log=False)

    assert not AccessLog.objects.filter(patient=patient, what="dose history").exists()


@pytest.mark.parametrize("username", ["researcher.oslo", "programme.oslo", "admin.oslo"])
def test_roles_without_the_dosing_room_may_not_read_it(built, staff, username):
    patient = Patient.objects.get(pk=built.patient_id)

    with pytest.raises(Forbidden):
        history.dose_history_for(Actor.system(staff[username]), patient)

    assert not AccessLog.objects.filter(patient=patient, what="dose history").exists()


def test_staff_of_another_clinic_may_not_read_it(built, staff):
    patient = Patient.objects.get(pk=built.patient_id)

    with pytest.raises(Forbidden):
        history.dose_history_for(Actor.system(staff["doctor.bergen"]), patient)
