"""The intake pages: forms show problems beside the field and change nothing."""

from __future__ import annotations

import pytest

from hab.core.models import Clinic
from hab.intake.models import EligibilityAssessment, Episode, Referral
from hab.patients.models import Patient
from tests.conftest import synthetic_id
from tests.helpers import days_ago

pytestmark = pytest.mark.django_db


def referral_form(**extra) -> dict:
    return {
        "national_id": synthetic_id(),
        "given_name": "Trond",
        "family_name": "Eide",
        "source": "lar",
        "referring_organisation": "LAR Oslo",
        "received_on": str(days_ago(0)),
    } | extra


def test_a_coordinator_registers_a_referral_of_someone_new(web_as):
    response = web_as("coordinator.oslo").post(
        "/intake/referrals/new/", referral_form(), follow=True
    )

    referral = Referral.objects.get()
    assert response.redirect_chain[-1][0] == f"/intake/referrals/{referral.pk}/"
    assert referral.patient.family_name == "Eide"
    assert "Trond Eide" in response.content.decode()


def test_a_referral_form_with_a_bad_id_changes_nothing(web_as):
    response = web_as("coordinator.oslo").post(
        "/intake/referrals/new/", referral_form(national_id="01010112345")
    )

    assert response.status_code == 200
    assert "national_id" in response.context["form"].errors
    assert not Referral.objects.exists() and not Patient.objects.exists()


def test_a_referral_for_a_registered_patient_from_their_page(web_as, make_patient):
    patient = make_patient()
    client = web_as("coordinator.oslo")

    page = client.get(f"/patients/{patient.pk}/")
    form = client.get(f"/intake/referrals/new/?patient={patient.pk}")
    client.post(
        f"/intake/referrals/new/?patient={patient.pk}",
        {"source": "gp", "referring_organisation": "Fastlege", "received_on": str(days_ago(0))},
    )

    assert f"/intake/referrals/new/?patient={patient.pk}" in page.content.decode()
    assert "national_id" not in form.context["form"].fields
    assert Referral.objects.get().patient == patient


def test_the_inbox_filters_by_status(web_as, referral, eligible):
    received, found = referral(), eligible()
    client = web_as("nurse.oslo")

    in_progress = client.get("/intake/referrals/")
    only_eligible = client.get("/intake/referrals/", {"status": "eligible"})

    assert {r.pk for r in in_progress.context["referrals"]} == {received["id"], found["id"]}
    assert [r.pk for r in only_eligible.context["referrals"]] == [found["id"]]


def test_the_assessment_form_puts_errors_beside_the_criterion(web_as, referral):
    made = referral(born=days_ago(365 * 17))
    client = web_as("doctor.oslo")
    form = client.get(f"/intake/referrals/{made['id']}/assess/").context["form"]
    answers = {f"c_{c.code}": "yes" for c in form.criteria}

    response = client.post(
        f"/intake/referrals/{made['id']}/assess/",
        answers | {"eligible": "yes", "assessed_on": str(days_ago(0))},
    )

    assert response.status_code == 200
    assert "c_min_age" in response.context["form"].errors
    assert not EligibilityAssessment.objects.exists()


def test_the_referral_page_offers_each_role_its_next_step(web_as, eligible):
    made = eligible()
    url = f"/intake/referrals/{made['id']}/"

    doctor = web_as("doctor.oslo").get(url).context
    lead = web_as("clinic_lead.oslo").get(url).context
    nurse = web_as("nurse.oslo").get(url).context

    assert (doctor["can_assess"], doctor["can_urgent"], doctor["can_admit"]) == (True, True, False)
    assert (lead["can_offer"], lead["can_admit"], lead["can_assess"]) == (True, True, False)
    assert not any(nurse[k] for k in ("can_assess", "can_admit", "can_waitlist", "can_withdraw"))


def test_admitting_through_the_page(web_as, eligible):
    made = eligible()

    response = web_as("clinic_lead.oslo").post(
        f"/intake/referrals/{made['id']}/admit/",
        {"admitted_on": str(days_ago(0)), "phase": "induction", "coordinator": "nurse.oslo"},
        follow=True,
    )

    episode = Episode.objects.get()
    assert response.redirect_chain[-1][0] == f"/patients/{made['patient']}/"
    assert episode.coordinator.username == "nurse.oslo"
    assert response.context["episode"] == episode


def test_a_full_clinic_shows_the_reason_above_the_admission_form(web_as, eligible, admitted):
    admitted()
    Clinic.objects.filter(code="oslo").update(capacity=1)
    made = eligible()

    response = web_as("clinic_lead.oslo").post(
        f"/intake/referrals/{made['id']}/admit/",
        {"admitted_on": str(days_ago(0)), "phase": "induction"},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Episode.objects.count() == 1


def test_discharge_from_the_patient_page(web_as, admitted):
    episode = admitted()

    response = web_as("doctor.oslo").post(
        f"/intake/episodes/{episode['id']}/discharge/",
        {"ended_on": str(days_ago(0)), "reason": "death", "note": ""},
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"death_on", "note"}
    assert Episode.objects.get().ended_on is None


def test_the_capacity_page_is_for_researchers_too_but_names_nobody(web_as, admitted):
    admitted()

    researcher = web_as("researcher.oslo").get("/intake/capacity/")
    lead = web_as("clinic_lead.oslo").get("/intake/capacity/")

    assert researcher.status_code == 200
    assert researcher.context["overview"].used == 1
    assert researcher.context["missing"] == []
    assert len(lead.context["missing"]) == 1


def test_researchers_land_on_the_research_export(web_as):
    # Their work is the export; capacity stays in the menu (tests/core/test_home.py).
    response = web_as("researcher.oslo").get("/")

    assert response["Location"] == "/research/export/"


def test_a_malformed_patient_in_the_referral_link_is_404(web_as):
    response = web_as("coordinator.oslo").get("/intake/referrals/new/?patient=abc")

    assert response.status_code == 404
