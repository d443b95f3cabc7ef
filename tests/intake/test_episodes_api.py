"""Admission within capacity, one open episode, phase, coordinator, transfer, discharge."""

from __future__ import annotations

import pytest

from hab.core.models import Clinic
from hab.intake.models import EndReason, Episode, Referral
from hab.patients.models import Patient
from tests.helpers import all_yes, days_ago

pytestmark = pytest.mark.django_db


def admit(api, patient: int, clinic: str = "oslo", **extra):
    return api.post(
        "/episodes",
        {"patient": patient, "clinic": clinic, "admitted_on": str(days_ago(1))} | extra,
    )


def test_the_clinic_lead_admits_an_eligible_patient(api_as, eligible):
    made = eligible()

    response = admit(api_as("clinic_lead.oslo"), made["patient"], coordinator="coordinator.oslo")

    assert response.status_code == 201, response.content
    episode = response.json()
    assert (episode["phase"], episode["coordinator"], episode["clinic"]) == (
        "induction",
        "coordinator.oslo",
        "oslo",
    )
    assert Referral.objects.get().status == "admitted"


def test_a_patient_stabilised_elsewhere_starts_in_maintenance(api_as, eligible):
    made = eligible()

    response = admit(api_as("clinic_lead.oslo"), made["patient"], phase="maintenance")

    assert response.json()["phase"] == "maintenance"


def test_starting_in_tapering_is_422(api_as, eligible):
    made = eligible()

    response = admit(api_as("clinic_lead.oslo"), made["patient"], phase="tapering")

    assert response.status_code == 422
    assert not Episode.objects.exists()


@pytest.mark.parametrize("who", ["doctor.oslo", "coordinator.oslo", "nurse.oslo"])
def test_only_the_clinic_lead_admits(api_as, eligible, who):
    made = eligible()

    assert admit(api_as(who), made["patient"]).status_code == 403


def test_admitting_without_an_eligible_referral_is_409(api_as, referral, make_patient):
    received = referral()
    not_eligible = referral()
    api_as("doctor.oslo").post(
        f"/referrals/{not_eligible['id']}/assessment",
        {"criteria": all_yes() | {"previous_oat": False}, "eligible": False},
    )
    unreferred = make_patient()
    lead = api_as("clinic_lead.oslo")

    for patient in (received["patient"], not_eligible["patient"], unreferred.pk):
        response = admit(lead, patient)
        assert response.status_code == 409
        assert "eligible" in response.json()["detail"]
    assert not Episode.objects.exists()


def test_a_second_open_episode_is_409(api_as, admitted, staff):
    episode = admitted()
    Referral.objects.create(
        patient_id=episode["patient"],
        clinic=Clinic.objects.get(code="oslo"),
        source="gp",
        referring_organisation="x",
        received_on=days_ago(3),
        status="eligible",
        created_by=staff["coordinator.oslo"],
    )

    response = admit(api_as("clinic_lead.oslo"), episode["patient"])

    assert response.status_code == 409
    assert "already in treatment" in response.json()["detail"]


def test_admitting_beyond_capacity_is_409(api_as, eligible, admitted):
    Clinic.objects.filter(code="oslo").update(capacity=2)
    admitted()
    admitted()
    waiting = eligible()

    response = admit(api_as("clinic_lead.oslo"), waiting["patient"])

    assert response.status_code == 409
    assert "full" in response.json()["detail"]
    assert Episode.objects.filter(ended_on__isnull=True).count() == 2
    assert Referral.objects.get(pk=waiting["id"]).status == "eligible"


def test_the_coordinator_must_work_at_the_clinic(api_as, eligible):
    made = eligible()

    response = admit(api_as("clinic_lead.oslo"), made["patient"], coordinator="coordinator.bergen")

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "coordinator"


def test_a_coordinator_can_be_set_later(api_as, admitted):
    episode = admitted()

    response = api_as("coordinator.oslo").post(
        f"/episodes/{episode['id']}/coordinator", {"coordinator": "nurse.oslo"}
    )

    assert response.json()["coordinator"] == "nurse.oslo"


def test_the_capacity_overview_counts_places_and_missing_coordinators(api_as, admitted, eligible):
    admitted(admitted_on=str(days_ago(9)))
    admitted(coordinator="coordinator.oslo")
    waiting = eligible()
    api_as("coordinator.oslo").post(f"/referrals/{waiting['id']}/waitlist")

    overview = api_as("researcher.oslo").get("/clinics/oslo/capacity").json()

    assert overview == {
        "clinic": "oslo",
        "capacity": 200,
        "used": 2,
        "free": 198,
        "waitlist_length": 1,
        "median_days_waiting": 20.0,
        "offered": 0,
        "without_coordinator": 1,
        "coordinator_overdue": 1,
    }


def test_phase_goes_induction_maintenance_tapering(api_as, admitted):
    episode = admitted()
    doctor = api_as("doctor.oslo")

    skip = doctor.post(f"/episodes/{episode['id']}/phase", {"phase": "tapering"})
    maintenance = doctor.post(f"/episodes/{episode['id']}/phase", {"phase": "maintenance"})
    tapering = doctor.post(f"/episodes/{episode['id']}/phase", {"phase": "tapering"})
    by_nurse = api_as("nurse.oslo").post(f"/episodes/{episode['id']}/phase", {"phase": "x"})

    assert skip.status_code == 422
    assert maintenance.json()["phase"] == "maintenance"
    assert tapering.json()["phase"] == "tapering"
    assert by_nurse.status_code == 403


@pytest.mark.parametrize(
    "reason", [r for r in EndReason.values if r not in ("death", "transfer_hab")]
)
def test_discharge_with_each_reason(api_as, admitted, reason):
    episode = admitted()

    response = api_as("doctor.oslo").post(
        f"/episodes/{episode['id']}/discharge", {"ended_on": str(days_ago(0)), "reason": reason}
    )

    assert response.status_code == 200, response.content
    assert response.json()["end_reason"] == reason
    assert response.json()["ended_on"] == str(days_ago(0))


def test_death_needs_the_date_and_a_note(api_as, admitted):
    episode = admitted()
    lead = api_as("clinic_lead.oslo")

    bare = lead.post(
        f"/episodes/{episode['id']}/discharge", {"ended_on": str(days_ago(0)), "reason": "death"}
    )
    complete = lead.post(
        f"/episodes/{episode['id']}/discharge",
        {
            "ended_on": str(days_ago(0)),
            "reason": "death",
            "death_on": str(days_ago(1)),
            "note": "Funnet død hjemme, melding fra pårørende",
        },
    )

    assert bare.status_code == 422
    assert {d["field"] for d in bare.json()["detail"]} == {"death_on", "note"}
    assert complete.status_code == 200
    assert complete.json()["death_on"] == str(days_ago(1))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ended_on": "2999-01-01", "reason": "dropout"}, "ended_on"),
        ({"ended_on": "2000-01-01", "reason": "dropout"}, "ended_on"),
        ({"ended_on": "2026-01-01", "reason": "bored"}, "reason"),
        ({"ended_on": "2026-01-01", "reason": "transfer_hab"}, "reason"),
    ],
)
def test_invalid_discharges_are_422_and_change_nothing(api_as, admitted, body, field):
    episode = admitted()

    response = api_as("doctor.oslo").post(f"/episodes/{episode['id']}/discharge", body)

    assert response.status_code == 422
    assert field in {d["field"] for d in response.json()["detail"]}
    assert Episode.objects.get().ended_on is None


def test_discharging_twice_is_409(api_as, admitted):
    episode = admitted()
    body = {"ended_on": str(days_ago(0)), "reason": "dropout"}
    api_as("doctor.oslo").post(f"/episodes/{episode['id']}/discharge", body)

    again = api_as("doctor.oslo").post(f"/episodes/{episode['id']}/discharge", body)

    assert again.status_code == 409


def test_a_discharged_patient_can_be_referred_again(api_as, admitted):
    episode = admitted()
    api_as("doctor.oslo").post(
        f"/episodes/{episode['id']}/discharge", {"ended_on": str(days_ago(0)), "reason": "prison"}
    )

    response = api_as("coordinator.oslo").post(
        "/referrals",
        {
            "patient": episode["patient"],
            "source": "prison_health",
            "received_on": str(days_ago(0)),
            "referring_organisation": "Helsetjenesten Oslo fengsel",
        },
    )

    assert response.status_code == 201


def test_a_transfer_closes_one_episode_and_opens_the_next(api_as, admitted):
    episode = admitted(coordinator="coordinator.oslo")
    api_as("doctor.oslo").post(f"/episodes/{episode['id']}/phase", {"phase": "maintenance"})

    response = api_as("clinic_lead.oslo").post(
        f"/episodes/{episode['id']}/transfer", {"clinic": "bergen", "note": "Flytter til Bergen"}
    )

    assert response.status_code == 201, response.content
    following = response.json()
    assert (following["clinic"], following["phase"], following["previous"]) == (
        "bergen",
        "maintenance",
        episode["id"],
    )
    assert following["coordinator"] is None
    closed = Episode.objects.get(pk=episode["id"])
    assert (closed.end_reason, closed.ended_on) == ("transfer_hab", days_ago(0))
    assert Patient.objects.get(pk=episode["patient"]).clinic.code == "bergen"
    # The record now lives at Bergen: Oslo no longer sees it, Bergen does.
    assert api_as("nurse.oslo").get(f"/patients/{episode['patient']}").status_code == 404
    assert api_as("nurse.bergen").get(f"/patients/{episode['patient']}").status_code == 200


def test_a_transfer_to_a_full_clinic_is_409_and_changes_nothing(api_as, admitted):
    Clinic.objects.filter(code="bergen").update(capacity=1)
    admitted("bergen")
    episode = admitted()

    response = api_as("clinic_lead.oslo").post(
        f"/episodes/{episode['id']}/transfer", {"clinic": "bergen"}
    )

    assert response.status_code == 409
    assert Episode.objects.get(pk=episode["id"]).ended_on is None
    assert Patient.objects.get(pk=episode["patient"]).clinic.code == "oslo"


def test_the_timeline_shows_referral_assessment_and_episode(api_as, admitted):
    episode = admitted()

    entries = api_as("nurse.oslo").get(f"/patients/{episode['patient']}/timeline").json()

    assert [e["kind"] for e in entries] == ["referral", "assessment", "episode"]
    assert entries[-1]["title"] == "Admitted to HAB Oslo"
