"""A form is one read when opened and one write when saved; never a read and a write.

The URL walk (test_every_read_is_logged) covers every page whose path names a patient;
these are the forms that name them in the query, and the saves after a read.
"""

from __future__ import annotations

import pytest

from hab.core.models import AccessLog

pytestmark = pytest.mark.django_db


def new_rows(patient_id: int, before: int) -> list[tuple[str, str, str]]:
    rows = AccessLog.objects.filter(patient_id=patient_id).order_by("id")
    return list(rows.values_list("username", "action", "what")[before:])


def count(patient_id: int) -> int:
    return AccessLog.objects.filter(patient_id=patient_id).count()


def test_opening_a_referral_for_a_registered_patient_is_a_read(web_as, make_patient):
    patient = make_patient()
    before = count(patient.pk)

    page = web_as("coordinator.oslo").get("/intake/referrals/new/", {"patient": patient.pk})

    assert page.status_code == 200
    assert new_rows(patient.pk, before) == [("coordinator.oslo", "view", "referral")]


def test_opening_an_incident_report_about_a_patient_is_a_read(web_as, make_patient):
    patient = make_patient()
    before = count(patient.pk)

    page = web_as("nurse.oslo").get("/incidents/new/", {"patient": patient.pk})

    assert page.status_code == 200
    assert new_rows(patient.pk, before) == [("nurse.oslo", "view", "incident")]


def test_saving_the_patient_form_is_one_change_not_a_read_too(web_as, make_patient):
    patient = make_patient()
    client = web_as("nurse.oslo")
    client.get(f"/patients/{patient.pk}/edit/")
    before = count(patient.pk)

    saved = client.post(
        f"/patients/{patient.pk}/edit/",
        {"given_name": "Kari", "family_name": "Nyberg", "phone": "", "address": ""},
    )

    assert saved.status_code == 302
    assert new_rows(patient.pk, before) == [("nurse.oslo", "update", "patient")]


def test_saving_a_relative_is_one_change(web_as, make_patient):
    patient = make_patient()
    client = web_as("nurse.oslo")
    before = count(patient.pk)

    client.get(f"/patients/{patient.pk}/relatives/new/")
    saved = client.post(
        f"/patients/{patient.pk}/relatives/new/", {"name": "Anne Nyberg", "relation": "mor"}
    )

    assert saved.status_code == 302
    assert new_rows(patient.pk, before) == [
        ("nurse.oslo", "view", "relative"),
        ("nurse.oslo", "create", "relative"),
    ]


def test_a_form_refused_to_the_role_writes_nothing(web_as, make_patient):
    patient = make_patient()
    before = count(patient.pk)

    page = web_as("psychologist.oslo").get(f"/patients/{patient.pk}/edit/")

    assert page.status_code == 403
    assert new_rows(patient.pk, before) == []


def test_a_list_does_not_log_again_whom_the_person_just_opened(web_as, make_patient):
    patient = make_patient(family_name="Aasen")
    client = web_as("nurse.oslo")
    client.get(f"/patients/{patient.pk}/")
    before = count(patient.pk)

    client.get("/patients/", {"q": "aasen"})

    assert new_rows(patient.pk, before) == []
