"""Closing a session writes ``missed`` only for patients no other clinic may still dose:
a patient dosed at the other clinic, or authorised as a guest there while its session is
open, is left alone (issue 16, finding 6)."""

from __future__ import annotations

import pytest

from hab.core.models import AccessLog
from hab.dosing.models import Administration
from tests.dosing.helpers import TODAY, dose_body

pytestmark = pytest.mark.django_db


def close(api_as, clinic: str, slot: str = "afternoon", observing: tuple[int, ...] = ()):
    response = api_as(f"nurse.{clinic}").post(
        f"/clinics/{clinic}/sessions/close",
        {"date": str(TODAY), "slot": slot, "confirm_observing": list(observing)},
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def guest_in_bergen(api_as, on_prescription):
    """An Oslo patient whose doctor lets HAB Bergen dose them today."""
    made = on_prescription()
    response = api_as("doctor.oslo").post(
        f"/patients/{made['patient']}/guest-dosing",
        {"clinic": "bergen", "valid_from": str(TODAY), "valid_to": str(TODAY)},
    )
    assert response.status_code == 201, response.content
    return made


def test_the_home_close_leaves_a_patient_authorised_at_the_other_clinic(
    api_as, guest_in_bergen, on_prescription, afternoon
):
    stays_home = on_prescription()

    closed = close(api_as, "oslo")
    dosed = api_as("nurse.bergen").post(
        "/administrations", dose_body(guest_in_bergen["patient"], clinic="bergen")
    )

    assert closed["missed"] == 1  # the patient with no guest authorisation
    assert Administration.objects.get(patient_id=stays_home["patient"], day=TODAY).status == (
        "missed"
    )
    assert dosed.status_code == 201, dosed.content
    [record] = Administration.objects.filter(patient_id=guest_in_bergen["patient"], day=TODAY)
    assert (record.status, record.clinic.code) == ("given", "bergen")


def test_the_guest_close_leaves_a_guest_the_home_clinic_may_still_dose(
    api_as, guest_in_bergen, afternoon
):
    closed = close(api_as, "bergen")
    dosed = api_as("nurse.oslo").post("/administrations", dose_body(guest_in_bergen["patient"]))

    assert closed["missed"] == 0
    assert dosed.status_code == 201, dosed.content


@pytest.mark.parametrize("first", ["oslo", "bergen"])
def test_the_last_clinic_to_close_writes_missed_for_a_guest_seen_nowhere(
    api_as, guest_in_bergen, afternoon, first
):
    last = "bergen" if first == "oslo" else "oslo"

    before = close(api_as, first)
    after = close(api_as, last)

    assert (before["missed"], after["missed"]) == (0, 1)
    [missed] = Administration.objects.filter(patient_id=guest_in_bergen["patient"], day=TODAY)
    assert (missed.status, missed.clinic.code, missed.slot) == ("missed", last, "afternoon")


def test_a_dose_given_at_the_other_clinic_is_not_missed_at_home(api_as, guest_in_bergen, afternoon):
    dosed = api_as("nurse.bergen").post(
        "/administrations", dose_body(guest_in_bergen["patient"], clinic="bergen")
    )
    # Bergen closes first, so nothing but the dose itself keeps Oslo from writing missed.
    # The guest is under observation at Bergen, not at home: only Bergen names them.
    at_bergen = close(api_as, "bergen", observing=(guest_in_bergen["patient"],))

    at_home = close(api_as, "oslo")

    assert dosed.status_code == 201, dosed.content
    assert (at_bergen["missed"], at_home["missed"]) == (0, 0)
    [record] = Administration.objects.filter(patient_id=guest_in_bergen["patient"], day=TODAY)
    assert (record.status, record.clinic.code) == ("given", "bergen")


def test_a_guest_authorisation_for_another_day_does_not_spare_the_patient(
    api_as, on_prescription, afternoon
):
    made = on_prescription()
    tomorrow = TODAY.fromordinal(TODAY.toordinal() + 1)
    api_as("doctor.oslo").post(
        f"/patients/{made['patient']}/guest-dosing",
        {"clinic": "bergen", "valid_from": str(tomorrow), "valid_to": str(tomorrow)},
    )

    closed = close(api_as, "oslo")

    assert closed["missed"] == 1
    assert Administration.objects.get(patient_id=made["patient"], day=TODAY).status == "missed"


def test_each_missed_record_is_in_the_access_log_like_any_dose_written(
    api_as, on_prescription, afternoon
):
    # given: a patient expected in the session who never comes
    made = on_prescription()

    # when
    close(api_as, "oslo")

    # then: the record written for them is logged as the other dose writes are
    missed = Administration.objects.get(patient_id=made["patient"], day=TODAY)
    logged = AccessLog.objects.get(
        username="nurse.oslo", what="administration", patient_id=made["patient"]
    )
    assert (logged.action, logged.basis, logged.clinic.code) == ("create", "care", "oslo")
    assert logged.details == {"administration": missed.pk, "status": "missed", "dose_mg": "0"}


def test_a_guest_missed_at_the_clinic_closing_last_is_logged_as_a_guest_dose(
    api_as, guest_in_bergen, afternoon
):
    close(api_as, "oslo")

    close(api_as, "bergen")

    missed = Administration.objects.get(patient_id=guest_in_bergen["patient"], day=TODAY)
    logged = AccessLog.objects.get(
        username="nurse.bergen", what="administration", patient_id=guest_in_bergen["patient"]
    )
    assert (logged.basis, logged.clinic.code) == ("guest", "bergen")
    assert logged.details["administration"] == missed.pk
