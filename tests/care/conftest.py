"""A patient in treatment with a coordinator, and helpers to give or withdraw consent."""

from __future__ import annotations

import pytest

from hab.core.access import Actor
from hab.patients import services as patient_services
from hab.patients.models import Patient


@pytest.fixture
def in_treatment(admitted):
    """A patient admitted 10 days ago at a clinic (Oslo), coordinated by its coordinator."""

    def make(clinic: str = "oslo") -> Patient:
        episode = admitted(clinic, coordinator=f"coordinator.{clinic}")
        return Patient.objects.get(pk=episode["patient"])

    return make


@pytest.fixture
def patient(in_treatment) -> Patient:
    return in_treatment()


@pytest.fixture
def consent(staff):
    """Records the patient's consent to sharing with relatives (given or withdrawn)."""

    def record(patient: Patient, given: bool = True) -> None:
        patient_services.consent_record(
            actor=Actor.system(staff[f"coordinator.{patient.clinic.code}"]),
            patient_id=patient.pk,
            kind="relatives",
            given=given,
        )

    return record


@pytest.fixture
def relative(staff):
    def add(patient: Patient, name: str = "Randi Hansen", relation: str = "mor"):
        return patient_services.relative_save(
            actor=Actor.system(staff[f"coordinator.{patient.clinic.code}"]),
            patient_id=patient.pk,
            values={"name": name, "relation": relation},
        )

    return add
