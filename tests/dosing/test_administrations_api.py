"""Recording supervised doses through the API: every 409 and 422, corrections, observation,
closing a session, guest dosing."""

from __future__ import annotations

import pytest

from hab.core import clock
from hab.core.models import AccessLog
from hab.dosing.models import Administration, Observation
from tests.dosing.helpers import TODAY, dose_body, local
from tests.prescribing.helpers import in_force

pytestmark = pytest.mark.django_db


def test_a_nurse_records_a_safe_dose(api_as, on_prescription, afternoon):
    made = on_prescription()

    response = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["status"], data["dose_mg"], data["max_allowed_mg"]) == ("given", 200, 200)
    assert data["observe_until"] is not None
    record = Administration.objects.get(day=TODAY)
    assert record.protocol.version == 1 and record.sedation == 1
    assert AccessLog.objects.filter(what="administration", username="nurse.oslo").exists()


def test_a_second_dose_in_the_slot_is_409(api_as, on_prescription, afternoon):
    made = on_prescription()
    api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))

    again = api_as("doctor.oslo").post("/administrations", dose_body(made["patient"]))

    assert again.status_code == 409
    assert Administration.objects.filter(day=TODAY).count() == 1


def test_more_than_allowed_is_422_with_the_reasons_and_nothing_written(
    api_as, on_prescription, afternoon
):
    made = on_prescription()

    response = api_as("nurse.oslo").post(
        "/administrations", dose_body(made["patient"], dose_mg=250)
    )

    assert response.status_code == 422
    messages = [d["message"] for d in response.json()["detail"]]
    assert "250 mg is more than the 200 mg that may be given now." in messages
    assert not Administration.objects.filter(day=TODAY).exists()


@pytest.mark.parametrize(
    ("assessment", "words"),
    [
        ({"sedation": 4, "breath_alcohol_permille": 0}, "POSS 4"),
        ({"sedation": 1, "breath_alcohol_permille": 0.5}, "Breath alcohol 0.5"),
    ],
)
def test_an_unsafe_assessment_is_422(api_as, on_prescription, afternoon, assessment, words):
    made = on_prescription()

    response = api_as("nurse.oslo").post(
        "/administrations", dose_body(made["patient"], assessment=assessment)
    )

    assert response.status_code == 422
    assert words in response.json()["detail"][0]["message"]
    assert not Administration.objects.filter(day=TODAY).exists()


def test_sedation_three_allows_half_and_refuses_more(api_as, on_prescription, afternoon):
    made = on_prescription()
    sleepy = {"sedation": 3, "breath_alcohol_permille": 0}

    full = api_as("nurse.oslo").post(
        "/administrations", dose_body(made["patient"], assessment=sleepy)
    )
    half = api_as("nurse.oslo").post(
        "/administrations", dose_body(made["patient"], assessment=sleepy, dose_mg=100)
    )

    assert full.status_code == 422
    assert any("POSS 3" in d["message"] for d in full.json()["detail"])
    assert half.status_code == 201
    assert any("POSS 3" in w for w in half.json()["warnings"])


def test_within_the_interval_is_422_in_plain_words(api_as, on_prescription):
    made = on_prescription()
    api = api_as("nurse.oslo")
    with clock.at(local(TODAY, 9)):
        morning = api.post("/administrations", dose_body(made["patient"], slot="morning"))
    with clock.at(local(TODAY, 11, 10)):
        too_soon = api.post("/administrations", dose_body(made["patient"]))

    assert morning.status_code == 201
    assert too_soon.status_code == 422
    assert too_soon.json()["detail"][0]["message"] == (
        "Last dose 2 h 10 min ago; the minimum interval is 3 h."
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"assessment": None}, "assessment.sedation"),
        ({"status": "withheld", "dose_mg": 0}, "withheld_reason"),
        ({"status": "withheld", "dose_mg": 50, "withheld_reason": "x"}, "dose_mg"),
        ({"status": "missed", "dose_mg": 0}, "status"),
        ({"slot": "night"}, "slot"),
        ({"date": "2020-01-01"}, "date"),
        ({"dose_mg": 0}, "dose_mg"),
        ({"medication": "cocaine"}, "medication"),
        ({"medication": "dam_tablet_ir", "route": "oral"}, "medication"),
        ({"route": "oral"}, "route"),
    ],
)
def test_invalid_records_are_422(api_as, on_prescription, afternoon, change, field):
    made = on_prescription()

    response = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"], **change))

    assert response.status_code == 422, response.content
    assert field in {d["field"] for d in response.json()["detail"]}
    assert not Administration.objects.filter(day=TODAY).exists()


def test_a_withheld_dose_is_recorded_with_its_reason(api_as, on_prescription, afternoon):
    made = on_prescription()

    response = api_as("nurse.oslo").post(
        "/administrations",
        dose_body(made["patient"], status="withheld", dose_mg=0, withheld_reason="Ruset på benzo"),
    )

    assert response.status_code == 201
    assert Administration.objects.get(day=TODAY).withheld_reason == "Ruset på benzo"


def test_no_prescription_is_422(api_as, admitted, protocols, afternoon):
    episode = admitted()

    response = api_as("nurse.oslo").post("/administrations", dose_body(episode["patient"]))

    assert response.status_code == 422
    assert "prescription" in response.json()["detail"][0]["message"]


@pytest.mark.parametrize("who", ["psychologist.oslo", "coordinator.oslo", "researcher.oslo"])
def test_only_nurses_doctors_and_the_lead_dose(api_as, on_prescription, afternoon, who):
    made = on_prescription()

    assert api_as(who).post("/administrations", dose_body(made["patient"])).status_code == 403


def test_another_clinic_gets_404_without_guest_authorisation(api_as, on_prescription, afternoon):
    made = on_prescription()

    response = api_as("nurse.bergen").post(
        "/administrations", dose_body(made["patient"], clinic="bergen")
    )

    assert response.status_code == 404


def test_guest_dosing_counts_against_the_daily_maximum_at_both_sites(
    api_as, on_prescription, afternoon, staff
):
    made = on_prescription(daily=400)
    # Bergen's protocol allows 350 mg a day: with 200 mg given in Oslo, 150 mg are left.
    in_force(
        staff,
        "bergen",
        {"dam_max_daily_mg": 350, "dam_max_single_mg": 350},
        reason="Lavere dagsmaksimum",
    )
    authorised = api_as("doctor.oslo").post(
        f"/patients/{made['patient']}/guest-dosing",
        {"clinic": "bergen", "valid_from": str(TODAY), "valid_to": str(TODAY)},
    )
    with clock.at(local(TODAY, 9)):
        api_as("nurse.oslo").post("/administrations", dose_body(made["patient"], slot="morning"))

    too_much = api_as("nurse.bergen").post(
        "/administrations", dose_body(made["patient"], clinic="bergen")
    )
    allowed = api_as("nurse.bergen").post(
        "/administrations", dose_body(made["patient"], clinic="bergen", dose_mg=150)
    )
    home_board = api_as("nurse.oslo").get("/clinics/oslo/board", {"slot": "afternoon"}).json()

    assert authorised.status_code == 201
    assert too_much.status_code == 422
    assert allowed.status_code == 201 and allowed.json()["clinic"] == "bergen"
    [row] = [r for r in home_board["rows"] if r["patient"] == made["patient"]]
    assert (row["state"], row["dosed_elsewhere"]) == ("observing", "HAB Bergen")
    row_log = AccessLog.objects.filter(username="nurse.bergen", what="administration").get()
    assert row_log.basis == "guest"


def test_only_the_home_doctor_authorises_guest_dosing(api_as, on_prescription):
    made = on_prescription()
    body = {"clinic": "bergen", "valid_from": str(TODAY), "valid_to": str(TODAY)}

    assert (
        api_as("nurse.oslo").post(f"/patients/{made['patient']}/guest-dosing", body).status_code
        == 403
    )
    assert (
        api_as("doctor.bergen").post(f"/patients/{made['patient']}/guest-dosing", body).status_code
        == 404
    )


def test_a_correction_keeps_the_original(api_as, on_prescription, afternoon):
    made = on_prescription()
    original = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"])).json()

    no_reason = api_as("nurse.oslo").post(
        f"/administrations/{original['id']}/corrections",
        {"reason": "", "dose_mg": 150, "status": "partial"},
    )
    corrected = api_as("nurse.oslo").post(
        f"/administrations/{original['id']}/corrections",
        {"reason": "Sprøyten lakk; 150 mg gitt", "dose_mg": 150, "status": "partial"},
    )
    stale = api_as("nurse.oslo").post(
        f"/administrations/{original['id']}/corrections",
        {"reason": "igjen", "dose_mg": 100, "status": "partial"},
    )

    assert no_reason.status_code == 422
    assert corrected.status_code == 201 and corrected.json()["corrects"] == original["id"]
    assert stale.status_code == 409
    rows = Administration.objects.filter(day=TODAY).order_by("id")
    assert [(r.status, float(r.dose_mg)) for r in rows] == [("given", 200), ("partial", 150)]


def test_observation_ends_once_with_its_outcome(api_as, on_prescription, afternoon):
    made = on_prescription()
    record = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"])).json()
    api = api_as("nurse.oslo")

    no_note = api.post(f"/administrations/{record['id']}/observation", {"outcome": "overdose"})
    ended = api.post(
        f"/administrations/{record['id']}/observation",
        {"outcome": "overdose", "note": "Pustestans, nalokson 0,4 mg", "naloxone_mg": 0.4},
    )
    again = api.post(f"/administrations/{record['id']}/observation", {"outcome": "no_concern"})

    assert no_note.status_code == 422
    assert ended.status_code == 201
    assert again.status_code == 409
    assert float(Observation.objects.get().naloxone_mg) == 0.4


def test_closing_a_session_writes_missed_for_those_not_seen(api_as, on_prescription, afternoon):
    seen, absent = on_prescription(), on_prescription()
    api_as("nurse.oslo").post("/administrations", dose_body(seen["patient"]))

    # The patient just dosed is still under observation: the close names them.
    closed = api_as("nurse.oslo").post(
        "/clinics/oslo/sessions/close",
        {"date": str(TODAY), "slot": "afternoon", "confirm_observing": [seen["patient"]]},
    )
    again = api_as("nurse.oslo").post(
        "/clinics/oslo/sessions/close", {"date": str(TODAY), "slot": "afternoon"}
    )
    late = api_as("nurse.oslo").post("/administrations", dose_body(absent["patient"]))

    assert closed.json()["missed"] == 1
    assert again.status_code == 409
    missed = Administration.objects.get(patient_id=absent["patient"], day=TODAY)
    assert (missed.status, missed.dose_mg) == ("missed", 0)
    # A late arrival after closing: the missed record is corrected, not doubled.
    assert late.status_code == 409
    corrected = api_as("nurse.oslo").post(
        f"/administrations/{missed.pk}/corrections",
        {
            "reason": "Kom etter stengetid",
            "dose_mg": 200,
            "status": "given",
            "assessment": {"sedation": 1, "breath_alcohol_permille": 0},
        },
    )
    assert corrected.status_code == 201, corrected.content


def test_an_unknown_patient_is_404(api_as, protocols, afternoon):
    response = api_as("nurse.oslo").post("/administrations", dose_body(999999))

    assert response.status_code == 404
