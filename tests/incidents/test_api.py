"""Incidents through the API: reporting, the 422s, follow-up by the lead or the owner,
incidents opened by an overdose after a dose and by a stock count, and the summary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core import clock
from hab.core.models import AccessLog
from hab.incidents.models import Incident, IncidentEvent
from tests.dosing.helpers import TODAY, dose_body, local

pytestmark = pytest.mark.django_db


def report_body(**extra):
    return {
        "clinic": "oslo",
        "kind": "violence",
        "severity": "moderate",
        "occurred_at": (clock.now() - timedelta(hours=1)).isoformat(),
        "description": "Truende oppførsel i venterommet; vekter tilkalt.",
    } | extra


def test_a_nurse_reports_an_incident(api_as, make_patient):
    patient = make_patient()

    response = api_as("nurse.oslo").post(
        "/incidents",
        report_body(
            patient=patient.pk, immediate_actions="Skjermet pasienten", owner="doctor.oslo"
        ),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["owner"]) == ("violence", "open", "doctor.oslo")
    assert body["patient"] == patient.pk
    assert body["reported_by"] == "nurse.oslo"
    assert [e["status"] for e in body["events"]] == ["open"]
    assert AccessLog.objects.filter(patient=patient, what="incident", action="create").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "fight"}, "kind"),
        ({"severity": "huge"}, "severity"),
        ({"description": "  "}, "description"),
        ({"occurred_at": "2099-01-01T10:00:00+01:00"}, "occurred_at"),
        ({"occurred_at": "2001-01-01T10:00:00+01:00"}, "occurred_at"),
        ({"naloxone_mg": -0.4}, "naloxone_mg"),
        ({"naloxone_mg": "NaN"}, "naloxone_mg"),
        ({"naloxone_doses": 0}, "naloxone_doses"),
        ({"owner": "researcher.oslo"}, "owner"),
        ({"owner": "nurse.bergen"}, "owner"),
        ({"kind": "stock_discrepancy", "patient": "PATIENT"}, "patient"),
        ({"administration": 999999}, "administration"),
    ],
)
def test_bad_reports_are_refused_and_write_nothing(api_as, make_patient, change, field):
    patient = make_patient()
    if change.get("patient") == "PATIENT":
        change = change | {"patient": patient.pk}

    response = api_as("nurse.oslo").post("/incidents", report_body(**change))

    assert response.status_code == 422, response.content
    assert field in [d["field"] for d in response.json()["detail"]]
    assert not Incident.objects.exists()


def test_a_patient_of_another_clinic_is_not_found(api_as, make_patient):
    patient = make_patient("bergen")

    response = api_as("nurse.oslo").post("/incidents", report_body(patient=patient.pk))

    assert response.status_code == 404
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("user", "status"),
    [("researcher.oslo", 403), ("programme.oslo", 403), ("admin.oslo", 403), ("nurse.bergen", 404)],
)
def test_who_may_report(api_as, user, status):
    assert api_as(user).post("/incidents", report_body()).status_code == status


def test_the_lead_follows_up_and_closes_with_a_note(api_as):
    made = api_as("nurse.oslo").post("/incidents", report_body()).json()
    lead = api_as("clinic_lead.oslo")
    url = f"/incidents/{made['id']}/follow-up"

    assigned = lead.post(url, {"status": "follow_up", "owner": "doctor.oslo", "note": "Se på"})
    silent_close = lead.post(url, {"status": "closed"})
    by_owner = api_as("doctor.oslo").post(
        url, {"status": "closed", "note": "Samtale med pasienten; ny avtale om oppførsel."}
    )
    by_nurse = api_as("nurse.oslo").post(url, {"status": "open", "note": "x"})

    assert assigned.status_code == 201
    assert assigned.json()["owner"] == "doctor.oslo"
    assert silent_close.status_code == 422
    assert by_owner.status_code == 201
    assert by_owner.json()["status"] == "closed"
    assert by_nurse.status_code == 403
    assert IncidentEvent.objects.filter(incident_id=made["id"]).count() == 3


def test_only_the_lead_hands_the_follow_up_on(api_as):
    made = api_as("nurse.oslo").post("/incidents", report_body(owner="doctor.oslo")).json()

    response = api_as("doctor.oslo").post(
        f"/incidents/{made['id']}/follow-up",
        {"status": "follow_up", "owner": "nurse.oslo", "note": "Din tur"},
    )

    assert response.status_code == 403


def test_listing_filters_and_logs_the_patients_shown(api_as, make_patient):
    patient = make_patient()
    nurse = api_as("nurse.oslo")
    nurse.post("/incidents", report_body(patient=patient.pk, kind="seizure"))
    nurse.post("/incidents", report_body())

    seizures = nurse.get("/incidents", {"clinic": "oslo", "kind": "seizure"}).json()
    open_ones = nurse.get("/incidents", {"clinic": "oslo", "status": "open"}).json()
    bad = nurse.get("/incidents", {"clinic": "oslo", "month": "2026-13"})

    assert [i["kind"] for i in seizures] == ["seizure"]
    assert len(open_ones) == 2
    assert bad.status_code == 422
    assert AccessLog.objects.filter(patient=patient, action="list").exists()


def test_reading_an_incident_is_logged(api_as, make_patient):
    patient = make_patient()
    made = api_as("nurse.oslo").post("/incidents", report_body(patient=patient.pk)).json()

    response = api_as("psychologist.oslo").get(f"/incidents/{made['id']}")

    assert response.status_code == 200
    assert AccessLog.objects.filter(
        patient=patient, what="incident", action="view", username="psychologist.oslo"
    ).exists()
    assert api_as("nurse.bergen").get(f"/incidents/{made['id']}").status_code == 404


def test_an_overdose_after_a_dose_opens_an_incident(api_as, on_prescription):
    patient = on_prescription()["patient"]
    nurse = api_as("nurse.oslo")
    with clock.at(local(TODAY, 15)):
        given = nurse.post("/administrations", dose_body(patient)).json()
    with clock.at(local(TODAY, 15, 12)):
        ended = nurse.post(
            f"/administrations/{given['id']}/observation",
            {
                "outcome": "overdose",
                "note": "Respirasjonsfrekvens 6, nalokson gitt",
                "naloxone_mg": 0.4,
            },
        )

    assert ended.status_code == 201, ended.content
    incident = Incident.objects.get()
    assert (incident.kind, incident.source, incident.severity) == (
        "overdose",
        "observation",
        "serious",
    )
    assert incident.administration_id == given["id"]
    assert incident.patient_id == patient
    assert float(incident.naloxone_mg) == 0.4


def test_a_stock_count_that_differs_opens_an_incident_closed_by_the_resolution(stocked, api_as):
    nurse, lead = api_as("nurse.oslo"), api_as("clinic_lead.oslo")
    counted = nurse.post(
        "/stock/counts",
        {"clinic": "oslo", "product": "dam-inj", "batch": "A1", "counted_mg": 9990},
    ).json()
    incident = Incident.objects.get()
    lead.post(
        f"/stock/discrepancies/{counted['discrepancy']}/resolution",
        {"explanation": "Telt feil; ny telling stemte", "adjust": False},
    )

    assert (incident.kind, incident.patient_id) == ("stock_discrepancy", None)
    assert "difference -10 mg" in incident.description
    body = nurse.get(f"/incidents/{incident.pk}").json()
    assert body["status"] == "closed"
    assert body["events"][-1]["note"] == "Telt feil; ny telling stemte"


def test_the_monthly_summary_counts_per_1000_doses(api_as, on_prescription):
    patient = on_prescription()["patient"]
    nurse = api_as("nurse.oslo")
    nurse.post("/incidents", report_body(kind="overdose", severity="serious", naloxone_mg=0.8))
    nurse.post("/incidents", report_body(kind="injection_site", severity="minor"))
    month = f"{clock.today():%Y-%m}"

    summary = (
        api_as("clinic_lead.oslo").get("/clinics/oslo/incidents/summary", {"month": month}).json()
    )
    programme = api_as("programme.oslo").get("/clinics/oslo/incidents/summary", {"month": month})
    nurse_view = nurse.get("/clinics/oslo/incidents/summary", {"month": month})

    from hab.dosing.models import Administration

    doses = Administration.objects.filter(
        clinic__code="oslo",
        status="given",
        given_at__gte=local(clock.today().replace(day=1), 0),
    ).count()
    assert doses > 0 and patient
    assert summary["incidents"] == 2
    assert summary["by_kind"]["overdose"] == 1
    assert summary["naloxone_given"] == 1
    assert summary["administrations"] == doses
    assert summary["incidents_per_1000_administrations"] == round(2 * 1000 / doses, 2)
    assert programme.status_code == 200
    assert nurse_view.status_code == 403


def test_the_programme_owner_finds_the_summary_in_the_menu(web_as):
    programme = web_as("programme.oslo").get("/", follow=True)
    nurse = web_as("nurse.oslo").get("/", follow=True)
    summary = web_as("programme.oslo").get("/incidents/summary/")

    assert 'href="/incidents/summary/"' in programme.content.decode()
    assert 'href="/incidents/summary/"' not in nurse.content.decode()
    assert 'href="/incidents/"' in nurse.content.decode()
    assert summary.status_code == 200
