"""The access log (Normen): every read or write of a patient's data leaves a row."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, transaction
from django.test import RequestFactory

from hab.core.models import AccessLog

pytestmark = pytest.mark.django_db


def rows(patient, **filters):
    return list(AccessLog.objects.filter(patient=patient, **filters).order_by("id"))


def test_reading_a_record_through_the_api_is_logged(api_as, make_patient):
    patient = make_patient()

    api_as("nurse.oslo").get(f"/patients/{patient.pk}", REMOTE_ADDR="10.1.2.3")

    [row] = rows(patient, action="view")
    assert row.username == "nurse.oslo"
    assert row.roles == "nurse"
    assert row.what == "record"
    assert row.channel == "api"
    assert row.basis == "care"
    assert row.clinic.code == "oslo"


def test_reading_a_record_in_the_browser_is_logged_with_the_ip(web_as, make_patient):
    patient = make_patient()

    web_as("doctor.oslo").get(f"/patients/{patient.pk}/", REMOTE_ADDR="10.9.8.7")

    [row] = rows(patient, action="view")
    assert (row.username, row.channel, row.ip) == ("doctor.oslo", "ui", "10.9.8.7")


def test_every_patient_shown_in_a_list_is_logged_as_listed(web_as, make_patient):
    shown = [make_patient(family_name="Aasen"), make_patient(family_name="Aasen")]
    hidden = make_patient(family_name="Berg")

    web_as("nurse.oslo").get("/patients/", {"q": "aasen"})

    for patient in shown:
        [row] = rows(patient, action="list")
        assert row.details == {"query": "aasen"}
    assert rows(hidden, action="list") == []


def test_creation_and_changes_are_logged(api_as, make_patient):
    patient = make_patient()
    api = api_as("nurse.oslo")

    api.post(f"/patients/{patient.pk}/consents", {"kind": "research", "given": True})
    api.post(f"/patients/{patient.pk}/relatives", {"name": "Anne", "relation": "mor"})

    logged = [(r.action, r.what) for r in rows(patient)]
    assert logged == [("create", "patient"), ("create", "consent"), ("create", "relative")]


def test_failed_attempts_write_nothing(api_as, make_patient):
    patient = make_patient("bergen")
    before = AccessLog.objects.count()

    assert api_as("nurse.oslo").get(f"/patients/{patient.pk}").status_code == 404
    assert api_as("researcher.bergen").get(f"/patients/{patient.pk}").status_code == 403

    assert AccessLog.objects.count() == before


def test_the_access_log_shows_who_read_the_record(api_as, make_patient):
    patient = make_patient()
    api_as("nurse.oslo").get(f"/patients/{patient.pk}")

    response = api_as("clinic_lead.oslo").get(f"/patients/{patient.pk}/access-log")

    assert response.status_code == 200
    entries = [(e["username"], e["action"], e["what"]) for e in response.json()]
    # Newest first; reading the log is itself logged.
    assert entries[:2] == [
        ("clinic_lead.oslo", "view", "access log"),
        ("nurse.oslo", "view", "record"),
    ]


def test_the_ui_access_log_page_lists_the_reads(web_as, make_patient):
    patient = make_patient()
    web_as("psychologist.oslo").get(f"/patients/{patient.pk}/")

    response = web_as("clinic_lead.oslo").get(f"/patients/{patient.pk}/access-log/")

    assert response.status_code == 200
    assert "psychologist.oslo" in response.content.decode()


def test_the_admin_role_states_a_reason_in_the_browser_before_reading(web_as, make_patient):
    patient = make_patient()
    client = web_as("admin.oslo")

    asked = client.get(f"/patients/{patient.pk}/")
    too_short = client.post(asked["Location"], {"reason": "x"})
    assert too_short.status_code == 200 and rows(patient, action="view") == []

    given = client.post(asked["Location"], {"reason": "Feilsøking av sak 4411"})
    page = client.get(f"/patients/{patient.pk}/")

    assert given.status_code == 302 and given["Location"] == f"/patients/{patient.pk}/"
    assert page.status_code == 200
    [row] = rows(patient, action="view")
    assert (row.basis, row.reason) == ("reason", "Feilsøking av sak 4411")


def test_rows_cannot_be_changed_in_the_database(make_patient):
    patient = make_patient()
    row = AccessLog.objects.filter(patient=patient).first()

    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).update(username="someone-else")

    row.refresh_from_db()
    assert row.username == "coordinator.oslo"


def test_the_admin_shows_the_log_read_only(staff):
    model_admin = site._registry[AccessLog]
    request = RequestFactory().get("/admin/")
    request.user = staff["admin.oslo"]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_list_shown_again_soon_is_logged_once(web_as, make_patient):
    import datetime

    from django.utils import timezone

    from hab.core import clock

    patient = make_patient(family_name="Aasen")
    client = web_as("nurse.oslo")
    start = timezone.now()

    for minutes in (0, 5, 14, 16):
        with clock.at(start + datetime.timedelta(minutes=minutes)):
            client.get("/patients/", {"q": "aasen"})

    # Shown at 0, 5, 14 and 16 minutes: logged at 0 and again at 16.
    assert len(rows(patient, action="list")) == 2
