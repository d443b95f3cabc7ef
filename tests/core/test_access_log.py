"""The access log (Normen): every read or write of a patient's data leaves a row."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, transaction

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

    response = api_as("clinic_lead.oslo", **{"X-HAB-Access-Reason": "Klage fra pasienten"}).get(
        f"/patients/{patient.pk}/access-log"
    )

    assert response.status_code == 200
    entries = [(e["username"], e["action"], e["what"]) for e in response.json()]
    # Newest first; reading the log is itself logged.
    assert entries[:2] == [
        ("clinic_lead.oslo", "view", "access log"),
        ("nurse.oslo", "view", "record"),
    ]
    [read] = rows(patient, what="access log")
    assert (read.basis, read.reason) == ("reason", "Klage fra pasienten")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reading_the_access_log_always_takes_a_reason(api_as, make_patient, reason):
    patient = make_patient()
    headers = {} if reason is None else {"X-HAB-Access-Reason": reason}

    # The clinic lead has a care relationship, and is still asked.
    response = api_as("clinic_lead.oslo", **headers).get(f"/patients/{patient.pk}/access-log")

    assert response.status_code == 403
    assert "access log" in response.json()["detail"]
    assert rows(patient, what="access log") == []


def test_the_ui_access_log_page_asks_why_every_time(web_as, make_patient):
    patient = make_patient()
    web_as("psychologist.oslo").get(f"/patients/{patient.pk}/")
    client = web_as("clinic_lead.oslo")
    url = f"/patients/{patient.pk}/access-log/"

    asked = client.get(url)
    too_short = client.post(url, {"reason": "kort"})
    shown = client.post(url, {"reason": "Klage fra pasienten"})
    asked_again = client.get(url)

    for page in (asked, too_short, asked_again):
        assert page.status_code == 200 and "psychologist.oslo" not in page.content.decode()
    assert shown.status_code == 200 and "psychologist.oslo" in shown.content.decode()
    [read] = rows(patient, what="access log")
    assert (read.username, read.basis, read.reason) == (
        "clinic_lead.oslo",
        "reason",
        "Klage fra pasienten",
    )


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


def test_the_django_admin_has_no_access_log(staff):
    # Read per patient in HAB, with a reason; never browsed in bulk in /admin/.
    assert AccessLog not in site._registry


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
