"""The clinical FHIR Bundle of one patient (for handing them over to LAR or another
service): what it holds, that every resource parses as FHIR R4(B) and every reference
resolves, corrections kept as entered-in-error, and the read logged."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction

from hab.core import clock
from hab.core.models import AccessLog, User
from hab.patients.models import Patient
from hab.research.models import Response
from tests import clock as test_clock
from tests.helpers import days_ago
from tests.interop.conftest import HPR
from tests.interop.lmdi_check import fhir_problems

pytestmark = pytest.mark.django_db


def _fetch(api_as, patient_id: int, user: str = "doctor.oslo") -> dict:
    response = api_as(user).get(f"/patients/{patient_id}/fhir")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    return json.loads(response.content)


def _all(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _references(value) -> list[str]:
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def assert_whole(bundle: dict) -> None:
    """Parses as FHIR, and every reference points at an entry of the Bundle."""
    assert fhir_problems(bundle) == []
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    dangling = {r for r in _references([e["resource"] for e in bundle["entry"]])} - set(urls)
    assert dangling == set()


@pytest.fixture
def planned(scene, api_as):
    api = api_as("coordinator.oslo")
    path = f"/patients/{scene['patient']}/care-plan"
    goal = api.post(f"{path}/goals", {"domain": "housing", "text": "Egen leilighet før jul"})
    api.post(
        f"{path}/goals",
        {
            "domain": "housing",
            "text": "Egen leilighet",
            "status": "achieved",
            "replaces": goal.json()["id"],
        },
    )
    api.post(
        f"{path}/actions",
        {
            "domain": "housing",
            "text": "Søke kommunal bolig med NAV",
            "owner": "coordinator.oslo",
            "due_on": str(days_ago(-14)),
        },
    )
    api.post(f"/patients/{scene['patient']}/consents", {"kind": "research", "given": True})
    api.post(f"/patients/{scene['patient']}/consents", {"kind": "research", "given": False})
    return scene


def test_the_bundle_holds_the_record_and_parses(planned, api_as):
    bundle = _fetch(api_as, planned["patient"])

    assert_whole(bundle)
    assert bundle["type"] == "collection"
    [patient] = _all(bundle, "Patient")
    national = Patient.objects.get(pk=planned["patient"]).national_id
    assert patient["identifier"] == [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": national}]
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds >= {
        "Patient",
        "Organization",
        "Practitioner",
        "EpisodeOfCare",
        "Condition",
        "CarePlan",
        "Goal",
        "MedicationRequest",
        "MedicationAdministration",
        "Observation",
        "Consent",
    }


def test_practitioners_carry_their_hpr_number_where_they_have_one(planned, api_as):
    bundle = _fetch(api_as, planned["patient"])
    by_name = {p["name"][0]["given"][0]: p for p in _all(bundle, "Practitioner")}
    doctor = User.objects.get(username="doctor.oslo")
    nurse = User.objects.get(username="nurse.oslo")

    assert by_name[doctor.first_name]["identifier"] == [
        {"system": "urn:oid:2.16.578.1.12.4.1.4.4", "value": HPR}
    ]
    assert nurse.hpr_number == ""
    assert "identifier" not in by_name[nurse.first_name]


def test_every_dose_record_with_corrections_entered_in_error(planned, api_as):
    bundle = _fetch(api_as, planned["patient"])
    urls = {e["resource"].get("id") or e["fullUrl"]: e for e in bundle["entry"]}
    doses = {r["identifier"][0]["value"]: r for r in _all(bundle, "MedicationAdministration")}

    # Six earlier records, two corrections and today's: every record, none merged.
    assert len(doses) == 9
    first = doses[str(planned["first"])]
    assert first["status"] == "entered-in-error"
    [replaced_by] = first["extension"]
    replacement = next(
        e for e in urls.values() if e["fullUrl"] == replaced_by["valueReference"]["reference"]
    )
    assert replacement["resource"]["identifier"][0]["value"] == str(planned["smaller"])
    assert replacement["resource"]["status"] == "completed"
    assert replacement["resource"]["dosage"]["dose"]["value"] == 150
    assert doses[str(planned["not_given"])]["status"] == "not-done"
    assert doses[str(planned["missed"])]["status"] == "not-done"
    assert doses[str(planned["today"])]["status"] == "completed"


def test_the_pre_dose_assessment_as_observations(planned, api_as):
    bundle = _fetch(api_as, planned["patient"])
    today = next(
        r
        for r in _all(bundle, "MedicationAdministration")
        if r["identifier"][0]["value"] == str(planned["today"])
    )
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    seen = {}
    for reference in today["supportingInformation"]:
        observation = urls[reference["reference"]]
        code = observation["code"]["coding"][0]["code"]
        seen[code] = observation.get(
            "valueInteger", observation.get("valueQuantity", {}).get("value")
        )

    assert seen == {"poss": 1, "breath-alcohol": 0.0, "9279-1": 14}


def test_the_plan_holds_current_goals_and_actions(planned, api_as):
    bundle = _fetch(api_as, planned["patient"])
    [plan] = _all(bundle, "CarePlan")
    [goal] = _all(bundle, "Goal")

    assert goal["description"]["text"] == "Egen leilighet"
    assert goal["lifecycleStatus"] == "completed"
    [activity] = plan["activity"]
    assert activity["detail"]["description"] == "Søke kommunal bolig med NAV"
    assert activity["detail"]["status"] == "in-progress"


def test_consents_in_order_with_the_one_in_force_active(planned, api_as):
    bundle = _fetch(api_as, planned["patient"])
    research = [c for c in _all(bundle, "Consent") if c["scope"]["coding"][0]["code"] == "research"]

    assert [(c["status"], c["provision"]["type"]) for c in research] == [
        ("inactive", "permit"),
        ("rejected", "deny"),
    ]


def test_prescriptions_as_medication_requests(planned, api_as):
    bundle = _fetch(api_as, planned["patient"])
    [request] = _all(bundle, "MedicationRequest")

    assert request["status"] == "active"
    assert request["medicationCodeableConcept"]["coding"][0]["code"] == "N07BC06"
    assert [d["doseAndRate"][0]["doseQuantity"]["value"] for d in request["dosageInstruction"]] == [
        200,
        200,
    ]
    assert request["dosageInstruction"][0]["maxDosePerPeriod"]["numerator"]["value"] == 450


def test_the_read_is_logged(planned, api_as):
    _fetch(api_as, planned["patient"], "coordinator.oslo")

    row = AccessLog.objects.filter(what="fhir document").get()
    assert (row.patient_id, row.username, row.action) == (
        planned["patient"],
        "coordinator.oslo",
        "view",
    )


def test_the_web_download(planned, web_as):
    response = web_as("doctor.oslo").get(f"/patients/{planned['patient']}/fhir/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["resourceType"] == "Bundle"
    assert AccessLog.objects.filter(what="fhir document", channel="ui").count() == 1


@pytest.fixture(scope="module")
def demo_bundles(django_db_setup, django_db_blocker):
    """The demo's most recorded patient of each clinic, as Bundles, built once."""
    from hab.core.access import Actor
    from hab.interop import clinical

    found = []
    with django_db_blocker.unblock(), test_clock.fixed(test_clock.NOW), transaction.atomic():
        call_command("demo", "--scale", "0.05", stdout=io.StringIO())
        responded = Response.objects.values_list("follow_up__patient_id", flat=True)
        for code in ("oslo", "bergen"):
            patient = (
                Patient.objects.filter(
                    clinic__code=code, pk__in=responded, administrations__isnull=False
                )
                .order_by("pk")
                .first()
            )
            lead = User.objects.get(username=f"clinic_lead.{code}")
            found.append(clinical.bundle_for(Actor.system(lead), patient.pk, now=clock.now()))
        transaction.set_rollback(True)
    return found


def test_the_demos_records_become_whole_bundles(demo_bundles):
    for bundle in demo_bundles:
        assert_whole(bundle)
        kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
        assert {"QuestionnaireResponse", "MedicationAdministration", "EpisodeOfCare"} <= kinds
        [response, *_] = [
            e["resource"]
            for e in bundle["entry"]
            if e["resource"]["resourceType"] == "QuestionnaireResponse"
        ]
        assert len(response["item"]) > 2  # the time point and the answers
