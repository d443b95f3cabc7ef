"""Referral → assessment → waitlist through the API, and every refused transition."""

from __future__ import annotations

import pytest

from hab.core.models import AccessLog
from hab.intake.models import EligibilityAssessment, Referral, ReferralEvent
from hab.patients.models import Patient
from tests.conftest import synthetic_id
from tests.helpers import all_yes, days_ago

pytestmark = pytest.mark.django_db


def test_a_referral_for_a_new_person_registers_them(api_as):
    national_id = synthetic_id()

    response = api_as("coordinator.oslo").post(
        "/referrals",
        {
            "person": {"national_id": national_id, "given_name": "Geir", "family_name": "Lund"},
            "clinic": "oslo",
            "source": "low_threshold",
            "received_on": str(days_ago(2)),
            "referring_organisation": "Sprøyterommet Oslo",
            "referring_contact": "Anne Bakke, tlf 22 00 00 00",
            "documents": "Henvisningsbrev, epikrise LAR",
        },
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "received"
    patient = Patient.objects.get(national_id=national_id)
    assert data["patient"] == patient.pk
    assert [(e.kind, e.to_status) for e in ReferralEvent.objects.all()] == [
        ("received", "received")
    ]


def test_a_bad_national_id_in_a_new_referral_writes_nothing(api_as):
    response = api_as("coordinator.oslo").post(
        "/referrals",
        {
            "person": {"national_id": "12345678901", "given_name": "A", "family_name": "B"},
            "clinic": "oslo",
            "source": "gp",
            "received_on": str(days_ago(1)),
            "referring_organisation": "Fastlege",
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "national_id"
    assert not Patient.objects.exists() and not Referral.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "internet"}, "source"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"referring_organisation": " "}, "referring_organisation"),
    ],
)
def test_invalid_referrals_are_422(api_as, make_patient, change, field):
    patient = make_patient()
    body = {
        "patient": patient.pk,
        "source": "lar",
        "received_on": str(days_ago(1)),
        "referring_organisation": "LAR",
    } | change

    response = api_as("coordinator.oslo").post("/referrals", body)

    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["detail"]]
    assert not Referral.objects.exists()


def test_a_second_referral_in_progress_is_409(api_as, referral):
    first = referral()

    response = api_as("coordinator.oslo").post(
        "/referrals",
        {
            "patient": first["patient"],
            "source": "gp",
            "received_on": str(days_ago(1)),
            "referring_organisation": "Fastlege",
        },
    )

    assert response.status_code == 409
    assert Referral.objects.count() == 1


def test_a_person_registered_at_the_other_clinic_is_409(api_as, make_patient):
    bergen = make_patient("bergen")

    response = api_as("coordinator.oslo").post(
        "/referrals",
        {
            "person": {"national_id": bergen.national_id, "given_name": "X", "family_name": "Y"},
            "clinic": "oslo",
            "source": "gp",
            "received_on": str(days_ago(1)),
            "referring_organisation": "Fastlege",
        },
    )

    # and the answer does not say where (tests/patients/test_registration_match.py)
    assert response.status_code == 409
    assert "Bergen" not in str(response.json()["detail"])


def test_doctors_assess_and_an_eligible_referral_joins_the_waitlist(api_as, referral):
    made = referral()
    doctor = api_as("doctor.oslo")

    started = doctor.post(f"/referrals/{made['id']}/status", {"status": "assessing"})
    assessed = doctor.post(
        f"/referrals/{made['id']}/assessment",
        {
            "criteria": all_yes(),
            "eligible": True,
            "criterion_notes": {"previous_oat": "Metadon 2015-2019, buprenorfin 2021"},
        },
    )
    waitlisted = api_as("coordinator.oslo").post(f"/referrals/{made['id']}/waitlist")

    assert started.json()["status"] == "assessing"
    assert assessed.status_code == 201
    assert assessed.json()["criteria_version"] == 1
    assert waitlisted.json()["status"] == "waitlisted"
    assert waitlisted.json()["eligible_on"] == str(days_ago(0))
    detail = doctor.get(f"/referrals/{made['id']}").json()
    assert [e["to_status"] for e in detail["events"]] == [
        "received",
        "assessing",
        "eligible",
        "waitlisted",
    ]
    assert detail["assessments"][0]["criterion_notes"] == {
        "previous_oat": "Metadon 2015-2019, buprenorfin 2021"
    }


def test_an_answer_against_the_decision_needs_a_justification(api_as, referral):
    made = referral()
    answers = all_yes() | {"treatment_attempts": None}

    refused = api_as("doctor.oslo").post(
        f"/referrals/{made['id']}/assessment", {"criteria": answers, "eligible": True}
    )
    justified = api_as("doctor.oslo").post(
        f"/referrals/{made['id']}/assessment",
        {"criteria": answers, "eligible": True, "notes": "Journal fra Sverige bekrefter to forsøk"},
    )

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "notes"
    assert justified.status_code == 201


def test_not_eligible_when_a_criterion_fails_needs_no_justification(api_as, referral):
    made = referral()

    response = api_as("doctor.oslo").post(
        f"/referrals/{made['id']}/assessment",
        {"criteria": all_yes() | {"previous_oat": False}, "eligible": False},
    )

    assert response.status_code == 201
    assert Referral.objects.get().status == "not_eligible"


def test_every_criterion_must_be_answered_and_no_others(api_as, referral):
    made = referral()
    answers = all_yes()
    del answers["informed_consent"]
    answers["likes_music"] = True

    response = api_as("doctor.oslo").post(
        f"/referrals/{made['id']}/assessment", {"criteria": answers, "eligible": True}
    )

    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["detail"]}
    assert fields == {"criteria.informed_consent", "criteria.likes_music"}
    assert not EligibilityAssessment.objects.exists()


def test_the_age_answer_is_checked_against_the_birth_date(api_as, referral):
    from datetime import date

    made = referral(born=date(timezone_year() - 17, 1, 1))

    response = api_as("doctor.oslo").post(
        f"/referrals/{made['id']}/assessment", {"criteria": all_yes(), "eligible": True}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "criteria.min_age"
    assert "17" in response.json()["detail"][0]["message"]


def timezone_year() -> int:
    from django.utils import timezone

    return timezone.localdate().year


@pytest.mark.parametrize("who", ["nurse.oslo", "coordinator.oslo", "clinic_lead.oslo"])
def test_only_doctors_assess(api_as, referral, who):
    made = referral()

    response = api_as(who).post(
        f"/referrals/{made['id']}/assessment", {"criteria": all_yes(), "eligible": True}
    )

    assert response.status_code == 403


def test_waitlisting_a_referral_not_found_eligible_is_409(api_as, referral):
    made = referral()

    response = api_as("coordinator.oslo").post(f"/referrals/{made['id']}/waitlist")

    assert response.status_code == 409
    assert Referral.objects.get().status == "received"


def test_a_withdrawn_referral_is_final(api_as, referral):
    made = referral()
    api = api_as("coordinator.oslo")

    no_reason = api.post(f"/referrals/{made['id']}/status", {"status": "withdrawn"})
    withdrawn = api.post(
        f"/referrals/{made['id']}/status", {"status": "withdrawn", "note": "Ønsker ikke HAB"}
    )
    again = api_as("doctor.oslo").post(
        f"/referrals/{made['id']}/assessment", {"criteria": all_yes(), "eligible": True}
    )

    assert no_reason.status_code == 422
    assert withdrawn.json()["status"] == "withdrawn"
    assert again.status_code == 409


def test_urgency_needs_a_doctor_and_a_reason(api_as, eligible):
    made = eligible()

    by_coordinator = api_as("coordinator.oslo").post(
        f"/referrals/{made['id']}/urgent", {"urgent": True, "reason": "x"}
    )
    no_reason = api_as("doctor.oslo").post(f"/referrals/{made['id']}/urgent", {"urgent": True})
    marked = api_as("doctor.oslo").post(
        f"/referrals/{made['id']}/urgent", {"urgent": True, "reason": "Gjentatte overdoser"}
    )

    assert by_coordinator.status_code == 403
    assert no_reason.status_code == 422
    assert marked.json()["urgent"] is True


def test_the_waitlist_puts_urgent_first_then_the_longest_waiting(api_as, referral):
    doctor, coordinator = api_as("doctor.oslo"), api_as("coordinator.oslo")
    ids = []
    for days in (28, 10, 20):
        made = referral()
        doctor.post(
            f"/referrals/{made['id']}/assessment",
            {"criteria": all_yes(), "eligible": True, "assessed_on": str(days_ago(days))},
        )
        coordinator.post(f"/referrals/{made['id']}/waitlist")
        ids.append(made["id"])
    doctor.post(f"/referrals/{ids[1]}/urgent", {"urgent": True, "reason": "Overdose i går"})

    rows = api_as("nurse.oslo").get("/clinics/oslo/waitlist").json()

    assert [r["referral"] for r in rows] == [ids[1], ids[0], ids[2]]
    assert [r["days_waiting"] for r in rows] == [10, 28, 20]
    assert [r["position"] for r in rows] == [1, 2, 3]


def test_the_clinic_lead_offers_a_place(api_as, eligible):
    made = eligible()

    by_coordinator = api_as("coordinator.oslo").post(f"/referrals/{made['id']}/offer", {})
    offered = api_as("clinic_lead.oslo").post(f"/referrals/{made['id']}/offer", {})

    assert by_coordinator.status_code == 403
    assert offered.json()["offered_on"] == str(days_ago(0))


def test_reading_a_referral_is_logged(api_as, referral):
    made = referral()

    api_as("psychologist.oslo").get(f"/referrals/{made['id']}")

    row = AccessLog.objects.filter(username="psychologist.oslo").get()
    assert (row.action, row.what, row.patient_id) == ("view", "referral", made["patient"])


def test_other_clinics_get_404_for_referrals(api_as, referral):
    made = referral("bergen")

    assert api_as("doctor.oslo").get(f"/referrals/{made['id']}").status_code == 404
    assert (
        api_as("doctor.oslo")
        .post(f"/referrals/{made['id']}/assessment", {"criteria": all_yes(), "eligible": True})
        .status_code
        == 404
    )


def test_the_criteria_are_versioned_and_old_assessments_keep_theirs(api_as, eligible, staff):
    made = eligible()
    new_set = [
        {"code": "opioid_dependence", "text_nb": "Opioidavhengighet", "text_en": "Opioid dep."},
        {"code": "min_age", "text_nb": "23 år", "text_en": "23 years", "min_age": 23},
    ]

    refused = api_as("doctor.oslo").post(
        "/eligibility/criteria", {"note": "Strengere", "criteria": new_set}
    )
    created = api_as("programme.oslo").post(
        "/eligibility/criteria", {"note": "Strengere aldersgrense", "criteria": new_set}
    )
    active = api_as("doctor.oslo", **{"Accept-Language": "nb"}).get("/eligibility/criteria")

    assert refused.status_code == 404
    assert created.status_code == 201 and created.json()["version"] == 2
    assert [c["code"] for c in active.json()["criteria"]] == ["opioid_dependence", "min_age"]
    assert active.json()["criteria"][1]["text"] == "23 år"
    old = api_as("doctor.oslo").get(f"/referrals/{made['id']}").json()["assessments"][0]
    assert old["criteria_version"] == 1


def test_the_default_criteria_are_the_trials(api_as):
    response = api_as("doctor.oslo").get("/eligibility/criteria")

    codes = [c["code"] for c in response.json()["criteria"]]
    assert codes == [
        "opioid_dependence",
        "min_age",
        "dependence_duration",
        "previous_oat",
        "treatment_attempts",
        "informed_consent",
        "no_contraindication",
    ]
    assert "F11.2" in response.json()["criteria"][0]["text"]
