"""No oracle across clinics (issue 18): staff at one clinic registering or referring a
person HAB holds at another clinic get an answer that says neither that nor where, the
same on every path; the attempt is in the security log for the programme. At their own
clinic the duplicate is told plainly."""

from __future__ import annotations

import html

import pytest

from hab.core.models import SecurityEvent, SecurityEventKind
from hab.intake.models import Referral
from hab.patients.models import Patient
from hab.patients.services import NOT_HERE
from tests.helpers import days_ago

pytestmark = pytest.mark.django_db


def person(national_id: str) -> dict:
    return {"national_id": national_id, "given_name": "Per", "family_name": "Hansen"}


def referral(national_id: str, clinic: str = "bergen") -> dict:
    return {
        "person": person(national_id),
        "clinic": clinic,
        "source": "gp",
        "received_on": str(days_ago(1)),
        "referring_organisation": "Fastlege",
    }


def web_referral(national_id: str) -> dict:
    return person(national_id) | {
        "source": "gp",
        "referring_organisation": "Fastlege",
        "received_on": str(days_ago(0)),
    }


def matches() -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=SecurityEventKind.REGISTRATION_MATCH))


def test_registering_a_patient_of_another_clinic_reveals_nothing_and_is_logged(
    api_as, make_patient
):
    oslo = make_patient("oslo", given_name="Ola", family_name="Nordmann")

    response = api_as("coordinator.bergen").post(
        "/patients", person(oslo.national_id) | {"clinic": "bergen"}
    )

    assert response.status_code == 409
    detail = str(response.json()["detail"])
    assert str(NOT_HERE) in detail
    for hint in ("Oslo", "oslo", "another HAB clinic", "already registered", "Nordmann"):
        assert hint not in detail
    # and the programme can follow it up: which clinic asked, how; nothing of the person
    (event,) = matches()
    assert (event.username, event.clinic.code) == ("coordinator.bergen", "bergen")
    assert event.details == {"clinic": "bergen", "via": "patient", "channel": "api"}
    assert oslo.national_id not in str(event.details)
    assert Patient.objects.count() == 1


def test_every_path_from_another_clinic_gets_the_same_answer(api_as, web_as, make_patient):
    oslo = make_patient("oslo")
    api = api_as("coordinator.bergen")
    web = web_as("coordinator.bergen")
    web.cookies["django_language"] = "en"

    by_api = api.post("/patients", person(oslo.national_id) | {"clinic": "bergen"})
    referred = api.post("/referrals", referral(oslo.national_id))
    by_form = web.post("/patients/new/", person(oslo.national_id))
    by_referral_form = web.post("/intake/referrals/new/", web_referral(oslo.national_id))

    assert by_api.status_code == referred.status_code == 409
    assert by_api.json()["detail"] == referred.json()["detail"]
    for page in (by_form, by_referral_form):
        assert str(NOT_HERE) in html.unescape(page.content.decode())
    assert [(e.details["via"], e.details["channel"]) for e in reversed(matches())] == [
        ("patient", "api"),
        ("referral", "api"),
        ("patient", "ui"),
        ("referral", "ui"),
    ]
    assert not Referral.objects.exists() and Patient.objects.count() == 1


def test_a_duplicate_at_ones_own_clinic_is_told_plainly_and_not_logged(api_as, make_patient):
    mine = make_patient("bergen")

    registered = api_as("coordinator.bergen").post(
        "/patients", person(mine.national_id) | {"clinic": "bergen"}
    )

    assert registered.status_code == 409
    assert "already registered at this clinic" in str(registered.json()["detail"])
    assert matches() == []


def test_a_new_person_is_registered_and_nothing_is_logged(api_as):
    from tests.conftest import synthetic_id

    response = api_as("coordinator.bergen").post(
        "/patients", person(synthetic_id()) | {"clinic": "bergen"}
    )

    assert response.status_code == 201
    assert matches() == []
