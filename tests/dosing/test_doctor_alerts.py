""" "Varsle lege" on a blocked row, the doctor's "awaiting review" start page, and the
stop-dose hold ("Stopp dosering"), through the API and the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hab.core import clock
from hab.core.models import AccessAction, AccessLog
from hab.dosing.models import Administration, DoctorAlert, DoseHold, DoseHoldLift
from tests.dosing.helpers import TODAY, dose_body, history, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked(on_prescription):
    """A patient prescribed nine days ago whose last dose was five days ago: four days
    without a dose block the medication until a doctor reviews."""

    def make(clinic: str = "oslo") -> int:
        with clock.at(local(TODAY - timedelta(days=9), 12)):
            made = on_prescription(clinic, days=0)
        gone = frozenset(
            (TODAY - timedelta(days=back), slot)
            for back in range(1, 5)
            for slot in ("morning", "afternoon")
        )
        history(made["patient"], 9, skip=gone)
        return made["patient"]

    return make


def hhmm() -> str:
    """The time of day now (09:30 in most runs; the suite also runs at other instants)."""
    return timezone.localtime(clock.now()).strftime("%H:%M")


def alert(api_as, patient: int, who: str = "nurse.oslo", **body):
    return api_as(who).post(f"/patients/{patient}/doctor-alerts", body)


def detail(response) -> list[tuple[str, str]]:
    return [(d["field"], d["message"]) for d in response.json()["detail"]]


# --- Varsle lege ----------------------------------------------------------------------


def test_a_nurse_alerts_the_doctor_with_what_blocks_the_dose(api_as, blocked, staff):
    patient = blocked()

    response = alert(api_as, patient)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["group"] == "dam" and body["raised_by"] == "nurse.oslo"
    assert "No dose for 4 days: a doctor must review and set the dose." in body["reason"]
    assert AccessLog.objects.filter(
        user=staff["nurse.oslo"],
        patient_id=patient,
        action=AccessAction.CREATE,
        what="doctor alert",
    ).exists()


def test_the_doctor_lists_open_alerts_newest_first(api_as, blocked):
    first, second = blocked(), blocked()
    alert(api_as, first)
    with clock.at(clock.now() + timedelta(minutes=5)):
        alert(api_as, second)

        listed = api_as("doctor.oslo").get("/clinics/oslo/doctor-alerts")

    assert listed.status_code == 200
    assert [a["patient"] for a in listed.json()] == [second, first]


def test_an_unblocked_patient_needs_a_note_saying_why(api_as, on_prescription):
    patient = on_prescription()["patient"]

    without = alert(api_as, patient)
    with_note = alert(api_as, patient, note="Virker forvirret, ønsker legevurdering.")

    assert without.status_code == 422
    assert [field for field, _ in detail(without)] == ["note"]
    assert with_note.status_code == 201
    assert with_note.json()["reason"] == "Virker forvirret, ønsker legevurdering."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"group": "cannabis"}, "group"),
        ({"slot": "night"}, "slot"),
        ({"note": "x" * 301}, "note"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(api_as, blocked, body, field):
    patient = blocked()

    response = alert(api_as, patient, **body)

    assert response.status_code == 422
    assert field in str(response.json()["detail"])
    assert not DoctorAlert.objects.exists()


def test_a_note_of_300_characters_is_taken(api_as, blocked):
    assert alert(api_as, blocked(), note="x" * 300).status_code == 201


def test_a_second_alert_while_the_first_is_open_says_when_the_doctor_was_told(api_as, blocked):
    patient = blocked()
    alert(api_as, patient)

    again = alert(api_as, patient, who="clinic_lead.oslo")

    assert again.status_code == 409
    assert f"already alerted at {hhmm()}" in again.json()["detail"]
    assert DoctorAlert.objects.count() == 1


@pytest.mark.parametrize("who", ["psychologist.oslo", "coordinator.oslo", "researcher.oslo"])
def test_roles_outside_the_dosing_room_cannot_alert(api_as, blocked, who):
    response = alert(api_as, blocked(), who=who)

    assert response.status_code == 403
    assert not DoctorAlert.objects.exists()


def test_another_clinics_nurse_gets_no_such_patient(api_as, blocked):
    response = alert(api_as, blocked(), who="nurse.bergen")

    assert response.status_code == 404
    assert not DoctorAlert.objects.exists()


@pytest.mark.parametrize("who", ["nurse.oslo", "psychologist.oslo", "doctor.bergen"])
def test_only_the_clinics_doctors_read_the_list(api_as, who):
    response = api_as(who).get("/clinics/oslo/doctor-alerts")

    assert response.status_code == (404 if who == "doctor.bergen" else 403)


def test_the_doctors_review_answers_the_alert(api_as, blocked):
    patient = blocked()
    alert(api_as, patient)

    with clock.at(clock.now() + timedelta(minutes=1)):
        reviewed = api_as("doctor.oslo").post(
            f"/patients/{patient}/dose-reviews", {"group": "dam", "note": "Sett, starter igjen."}
        )
        listed = api_as("doctor.oslo").get("/clinics/oslo/doctor-alerts")

    assert reviewed.status_code == 201
    assert listed.json() == []
    # The alert itself is kept as it was.
    assert DoctorAlert.objects.filter(patient_id=patient).count() == 1


def test_a_review_of_another_medication_leaves_the_alert_open(api_as, blocked):
    patient = blocked()
    alert(api_as, patient)

    with clock.at(clock.now() + timedelta(minutes=1)):
        api_as("doctor.oslo").post(
            f"/patients/{patient}/dose-reviews", {"group": "methadone", "note": "Metadon sett."}
        )
        listed = api_as("doctor.oslo").get("/clinics/oslo/doctor-alerts")

    assert [a["patient"] for a in listed.json()] == [patient]


def test_a_new_prescription_answers_the_alert(api_as, blocked):
    from hab.intake.models import Episode

    patient = blocked()
    alert(api_as, patient)
    episode = Episode.objects.get(patient_id=patient, ended_on__isnull=True)

    with clock.at(clock.now() + timedelta(minutes=1)):
        written = api_as("doctor.oslo").post(
            "/prescriptions",
            {
                "episode": episode.pk,
                "medication": "dam_injectable",
                "route": "iv",
                "doses_mg": {"morning": 100, "afternoon": 100},
                "daily_max_mg": 250,
            },
        )
        listed = api_as("doctor.oslo").get("/clinics/oslo/doctor-alerts")

    assert written.status_code == 201, written.content
    assert listed.json() == []


def test_the_alert_table_is_append_only(api_as, blocked):
    from django.db import DatabaseError, transaction

    alert(api_as, blocked())
    with pytest.raises(DatabaseError), transaction.atomic():
        DoctorAlert.objects.update(reason="changed")


# --- the board and the doctor's start page ----------------------------------------------


def test_the_nurse_taps_varsle_lege_on_the_blocked_row_and_sees_the_answer(web_as, blocked):
    patient = blocked()
    client = web_as("nurse.oslo")

    board = client.get("/dosing/", {"slot": "morning"})
    assert f'hx-post="/dosing/patients/{patient}/alert/"' in board.content.decode()

    answer = client.post(
        f"/dosing/patients/{patient}/alert/",
        {"group": "dam", "slot": "morning"},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert f"Legen er varslet kl. {hhmm()}." in answer.content.decode()
    again = client.get("/dosing/", {"slot": "morning"}).content.decode()
    assert f"Legen er varslet kl. {hhmm()}. Venter på lege." in again
    assert f'hx-post="/dosing/patients/{patient}/alert/"' not in again


def test_a_doctor_lands_on_awaiting_review_and_the_list_is_logged(web_as, api_as, blocked, staff):
    patient = blocked()
    alert(api_as, patient)
    client = web_as("doctor.oslo")

    home = client.get("/")
    page = client.get(home.url)

    assert home.url == "/dosing/awaiting-review/"
    text = page.content.decode()
    assert "Venter på vurdering" in text
    # The reason as the nurse's screen said it (raised through the API in English here).
    assert "No dose for 4 days: a doctor must review and set the dose." in text
    assert f'href="/dosing/patients/{patient}/review/?group=dam&amp;from=alerts"' in text
    assert AccessLog.objects.filter(
        user=staff["doctor.oslo"],
        patient_id=patient,
        action=AccessAction.LIST,
        details__list="awaiting review",
    ).exists()


def test_saving_the_review_from_the_start_page_goes_back_there_without_the_alert(
    web_as, api_as, blocked
):
    patient = blocked()
    alert(api_as, patient)
    client = web_as("doctor.oslo")

    with clock.at(clock.now() + timedelta(minutes=2)):
        saved = client.post(
            f"/dosing/patients/{patient}/review/?group=dam&from=alerts",
            {"group": "dam", "note": "Sett i dag, starter igjen."},
        )
        page = client.get("/dosing/awaiting-review/").content.decode()

    assert saved.status_code == 302 and saved.url == "/dosing/awaiting-review/"
    assert "Ingen pasienter venter på lege." in page


def test_a_nurse_has_no_awaiting_review_page(web_as):
    assert web_as("nurse.oslo").get("/dosing/awaiting-review/").status_code == 403


# --- the stop-dose hold -------------------------------------------------------------------


def hold(api_as, patient: int, who: str = "nurse.oslo", reason: str = "Innlagt på sykehus"):
    return api_as(who).post(f"/patients/{patient}/dose-holds", {"reason": reason})


def lift(api_as, patient: int, who: str = "doctor.oslo", note: str = "Utskrevet, fortsetter"):
    return api_as(who).post(f"/patients/{patient}/dose-holds/lift", {"note": note})


def test_a_nurse_stops_dosing_and_the_dose_is_refused_with_the_reason(
    api_as, on_prescription, afternoon
):
    patient = on_prescription()["patient"]

    placed = hold(api_as, patient)
    board = api_as("nurse.oslo").get("/clinics/oslo/board?slot=afternoon").json()
    refused = api_as("nurse.oslo").post("/administrations", dose_body(patient))

    assert placed.status_code == 201 and placed.json()["placed_by"] == "nurse.oslo"
    row = next(r for r in board["rows"] if r["patient"] == patient)
    assert row["blocked"] and row["max_allowed_mg"] == 0
    assert any("Dosing stopped: Innlagt på sykehus" in r for r in row["reasons"])
    assert refused.status_code == 422
    assert any("Dosing stopped: Innlagt på sykehus" in m for _, m in detail(refused))
    assert not Administration.objects.filter(patient_id=patient, day=TODAY).exists()


def test_a_nurse_cannot_lift_the_stop_and_is_told_why(api_as, on_prescription):
    patient = on_prescription()["patient"]
    hold(api_as, patient)

    refused = lift(api_as, patient, who="nurse.oslo")

    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only a doctor can lift a stop-dose hold."
    assert not DoseHoldLift.objects.exists()


def test_the_doctor_lifts_the_stop_and_the_dose_is_allowed_again(
    api_as, on_prescription, afternoon
):
    patient = on_prescription()["patient"]
    hold(api_as, patient)

    lifted = lift(api_as, patient)
    given = api_as("nurse.oslo").post("/administrations", dose_body(patient))

    assert lifted.status_code == 201 and lifted.json()["lifted_by"] == "doctor.oslo"
    assert given.status_code == 201, given.content
    # Both rows are kept: the stop and its lifting.
    assert DoseHold.objects.filter(patient_id=patient).count() == 1
    assert DoseHoldLift.objects.filter(hold__patient_id=patient).count() == 1


@pytest.mark.parametrize(
    ("reason", "status"), [("", 422), ("   ", 422), ("x", 201), ("x" * 500, 201), ("x" * 501, 422)]
)
def test_the_reason_is_required_and_at_most_500_characters(api_as, on_prescription, reason, status):
    patient = on_prescription()["patient"]

    assert hold(api_as, patient, reason=reason).status_code == status


def test_stopping_twice_or_lifting_nothing_is_a_conflict(api_as, on_prescription):
    patient = on_prescription()["patient"]

    assert lift(api_as, patient).status_code == 409
    assert hold(api_as, patient).status_code == 201
    assert hold(api_as, patient, who="doctor.oslo").status_code == 409
    assert lift(api_as, patient, note="").status_code == 422
    assert lift(api_as, patient).status_code == 201
    assert lift(api_as, patient).status_code == 409


@pytest.mark.parametrize(
    ("who", "status"),
    [("psychologist.oslo", 403), ("coordinator.oslo", 403), ("nurse.bergen", 404)],
)
def test_only_the_clinics_dosing_staff_stop_dosing(api_as, on_prescription, who, status):
    patient = on_prescription()["patient"]

    assert hold(api_as, patient, who=who).status_code == status
    assert not DoseHold.objects.exists()


def test_the_hold_shows_on_the_board_and_the_record(web_as, api_as, on_prescription, afternoon):
    patient = on_prescription()["patient"]
    hold(api_as, patient, reason="Mistanke om overdose i går")
    nurse, doctor = web_as("nurse.oslo"), web_as("doctor.oslo")

    board = nurse.get("/dosing/", {"slot": "afternoon"}).content.decode()
    record = nurse.get(f"/patients/{patient}/").content.decode()
    doctors_record = doctor.get(f"/patients/{patient}/").content.decode()

    assert "Dosering stoppet: Mistanke om overdose i går" in board
    assert "Dosering stoppet" in record and "Mistanke om overdose i går" in record
    assert f"/dosing/patients/{patient}/hold/lift/" not in record
    assert f"/dosing/patients/{patient}/hold/lift/" in doctors_record


def test_the_nurses_lift_page_refuses_with_the_reason(web_as, api_as, on_prescription):
    patient = on_prescription()["patient"]
    hold(api_as, patient)

    page = web_as("nurse.oslo").get(f"/dosing/patients/{patient}/hold/lift/")

    assert page.status_code == 403
    assert "Bare en lege kan oppheve stopp i dosering." in page.content.decode()


def test_stop_and_lift_through_the_pages(web_as, on_prescription, afternoon):
    patient = on_prescription()["patient"]

    placed = web_as("nurse.oslo").post(
        f"/dosing/patients/{patient}/hold/?from=board", {"reason": "Truende atferd"}
    )
    lifted = web_as("doctor.oslo").post(
        f"/dosing/patients/{patient}/hold/lift/", {"note": "Samtale holdt, fortsetter."}
    )

    assert placed.status_code == 302 and placed.url == "/dosing/"
    assert lifted.status_code == 302 and lifted.url == f"/patients/{patient}/"
    assert DoseHoldLift.objects.get().hold.reason == "Truende atferd"


def test_a_session_already_recorded_is_not_a_block_to_alert_about(
    api_as, on_prescription, afternoon
):
    patient = on_prescription()["patient"]
    assert api_as("nurse.oslo").post("/administrations", dose_body(patient)).status_code == 201

    without = alert(api_as, patient, slot="afternoon")
    with_note = alert(api_as, patient, slot="afternoon", note="Uvel etter dosen.")

    assert without.status_code == 422
    assert with_note.status_code == 201
    assert with_note.json()["reason"] == "Uvel etter dosen."
