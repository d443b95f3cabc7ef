from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from hab.intake.selectors import active_criteria_set

YES = True


def all_yes() -> dict[str, bool]:
    return {c.code: True for c in active_criteria_set().criteria.all()}


def days_ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


@pytest.fixture
def referral(api_as, make_patient):
    """A received referral of a new patient at a clinic (Oslo by default)."""

    def make(clinic: str = "oslo", **patient_fields):
        patient = make_patient(clinic, **patient_fields)
        response = api_as(f"coordinator.{clinic}").post(
            "/referrals",
            {
                "patient": patient.pk,
                "source": "lar",
                "received_on": str(days_ago(30)),
                "referring_organisation": "LAR Oslo øst",
            },
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def eligible(referral, api_as):
    """A referral assessed eligible (all criteria met)."""

    def make(clinic: str = "oslo", **patient_fields):
        made = referral(clinic, **patient_fields)
        response = api_as(f"doctor.{clinic}").post(
            f"/referrals/{made['id']}/assessment",
            {"criteria": all_yes(), "eligible": True, "assessed_on": str(days_ago(20))},
        )
        assert response.status_code == 201, response.content
        return made

    return make


@pytest.fixture
def admitted(eligible, api_as):
    """An open episode of a newly admitted patient."""

    def make(clinic: str = "oslo", **fields):
        made = eligible(clinic)
        response = api_as(f"clinic_lead.{clinic}").post(
            "/episodes",
            {"patient": made["patient"], "clinic": clinic, "admitted_on": str(days_ago(10))}
            | fields,
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make
