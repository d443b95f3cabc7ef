"""Relatives in the plan only with the patient's current consent to sharing with
relatives: without it the service refuses (422, field and reason) and the plan shows
nothing about relatives; withdrawing the consent hides what was recorded."""

from __future__ import annotations

import pytest

from hab.care.models import Involvement, PlanAction, Review
from tests.helpers import days_ago

pytestmark = pytest.mark.django_db

REASON = (
    "The patient has not consented to sharing with relatives: relatives cannot be part of the plan."
)


def path(patient, part=""):
    return f"/patients/{patient.pk}/care-plan" + (f"/{part}" if part else "")


def test_with_consent_a_relative_is_invited_to_the_responsibility_group(
    api_as, patient, consent, relative
):
    consent(patient)
    mother = relative(patient)
    api = api_as("coordinator.oslo")

    response = api.post(
        path(patient, "relatives"),
        {"relative": mother.pk, "kind": "responsibility_group", "note": "Ønsker å delta"},
    )

    assert response.status_code == 201, response.content
    plan = api.get(path(patient)).json()
    assert plan["relatives_consent"] is True
    assert [(r["relative"]["name"], r["kind"]) for r in plan["relatives"]] == [
        ("Randi Hansen", "responsibility_group")
    ]


@pytest.mark.parametrize("consent_state", ["never", "withdrawn"])
def test_without_consent_relative_involvement_is_refused(
    api_as, patient, consent, relative, consent_state
):
    mother = relative(patient)
    if consent_state == "withdrawn":
        consent(patient, True)
        consent(patient, False)
    api = api_as("coordinator.oslo")

    involvement = api.post(
        path(patient, "relatives"), {"relative": mother.pk, "kind": "responsibility_group"}
    )
    action = api.post(
        path(patient, "actions"),
        {"domain": "network", "text": "Mor ringer hver søndag", "owner": "relative"},
    )
    review = api.post(
        path(patient, "reviews"), {"held_on": str(days_ago(1)), "relatives": [mother.pk]}
    )

    assert involvement.status_code == 422
    assert involvement.json()["detail"] == [{"field": "relative", "message": REASON}]
    assert action.status_code == 422
    assert action.json()["detail"] == [{"field": "owner", "message": REASON}]
    assert review.status_code == 422
    assert review.json()["detail"] == [{"field": "relatives", "message": REASON}]
    assert (Involvement.objects.count(), PlanAction.objects.count(), Review.objects.count()) == (
        0,
        0,
        0,
    )


def test_a_relative_of_another_patient_cannot_be_involved(
    api_as, patient, in_treatment, consent, relative
):
    consent(patient)
    stranger = relative(in_treatment(), name="Per Olsen")

    response = api_as("coordinator.oslo").post(
        path(patient, "relatives"), {"relative": stranger.pk, "kind": "meetings"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "relative"


def test_withdrawn_consent_hides_everything_about_relatives(
    api_as, web_as, patient, consent, relative
):
    consent(patient)
    mother = relative(patient)
    api = api_as("coordinator.oslo")
    api.post(path(patient, "relatives"), {"relative": mother.pk, "kind": "responsibility_group"})
    api.post(
        path(patient, "actions"),
        {"domain": "network", "text": "Mor ringer hver søndag", "owner": "relative"},
    )
    api.post(
        path(patient, "actions"), {"domain": "network", "text": "Gå på NA", "owner": "patient"}
    )
    api.post(path(patient, "reviews"), {"held_on": str(days_ago(1)), "relatives": [mother.pk]})
    shown = api.get(path(patient)).json()
    assert len(shown["relatives"]) == 1
    assert shown["reviews"][0]["relatives"][0]["name"] == "Randi Hansen"

    consent(patient, False)
    plan = api.get(path(patient)).json()
    page = web_as("coordinator.oslo").get(f"/care/patients/{patient.pk}/").content.decode()

    assert plan["relatives_consent"] is False
    assert plan["relatives"] == []
    assert [a["text"] for a in plan["actions"]] == ["Gå på NA"]
    assert plan["reviews"][0]["relatives"] == []
    assert "Randi Hansen" not in page
    assert "Mor ringer" not in page
    # Nothing was deleted: with consent given again, it all shows again.
    consent(patient, True)
    assert len(api.get(path(patient)).json()["relatives"]) == 1
