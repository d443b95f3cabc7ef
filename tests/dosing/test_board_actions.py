"""The board answers every action (issue 17): finding a patient, the observation's
outcome saved, a second nurse's conflict, and the session's close confirmed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from hab.core import clock
from hab.core import services as core_services
from hab.core.models import Clinic, Role
from hab.dosing.models import Administration, Observation, SessionClose
from hab.patients.models import Patient
from tests.conftest import PASSWORD
from tests.dosing.helpers import TODAY, dose_body, local

pytestmark = pytest.mark.django_db

DOSE = {
    "identity_checked": "on",
    "sedation": "1",
    "breath_alcohol_permille": "0.00",
    "status": "given",
    "dose_mg": "200",
    "slot": "afternoon",
    "date": str(TODAY),
}
HTMX = {"HTTP_HX_REQUEST": "true"}


def named(made: dict, given: str, family: str, born: date) -> int:
    Patient.objects.filter(pk=made["patient"]).update(
        given_name=given, family_name=family, birth_date=born
    )
    return made["patient"]


@pytest.fixture
def second_nurse(staff):
    """Another nurse at HAB Oslo, on the room's second tablet."""
    return core_services.staff_create(
        username="nurse2.oslo",
        password=PASSWORD,
        first_name="Kari",
        last_name="Nordmann",
        roles=[(Clinic.objects.get(code="oslo"), Role.NURSE)],
    )


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


# --- finding a patient ----------------------------------------------------------------


@pytest.fixture
def three(on_prescription):
    return {
        "rune": named(on_prescription(), "Rune", "Amundsen", date(1979, 3, 14)),
        "aase": named(on_prescription(), "Åse", "Ødegård", date(1985, 7, 2)),
        "rita": named(on_prescription(), "Rita", "Andersen", date(1990, 11, 23)),
    }


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("Amundsen, Rune", {"rune"}),  # as the list shows the name
        ("Rune Amundsen", {"rune"}),
        ("amund", {"rune"}),
        ("140379", {"rune"}),  # ddmmyy
        ("14.03.1979", {"rune"}),
        ("14031979", {"rune"}),
        ("RA", {"rune", "rita"}),  # the initials on the photo, and Rita's first name
        ("ødegård", {"aase"}),
        ("ODEGARD", {"aase"}),
        ("ÅØ", {"aase"}),
        ("an", {"rita"}),  # two letters: the start of a name only
        ("", {"rune", "aase", "rita"}),
        ("Hansen", set()),
    ],
)
def test_the_board_finds_a_patient_as_the_nurse_types_them(web_as, three, afternoon, typed, found):
    response = web_as("nurse.oslo").get(
        "/dosing/", {"slot": "afternoon", "q": typed, "part": "rows"}, **HTMX
    )

    assert {row.patient.pk for row in response.context["rows"]} == {three[k] for k in found}
    shown = response.content.decode()
    for key, pk in three.items():
        assert (f'id="row-{pk}' in shown) == (key in found)


def test_a_search_that_finds_nobody_says_so_and_keeps_what_was_typed(web_as, three, afternoon):
    client = english(web_as("nurse.oslo"))

    rows = client.get("/dosing/", {"slot": "afternoon", "q": "Hansen", "part": "rows"}, **HTMX)
    page = client.get("/dosing/", {"slot": "afternoon", "q": "Amundsen, Rune"})

    assert "Nobody on the list matches “Hansen”" in rows.content.decode()
    assert 'value="Amundsen, Rune"' in page.content.decode()
    assert 'aria-keyshortcuts="/ Control+K"' in page.content.decode()


# --- every action answers visibly -------------------------------------------------------


def test_saving_the_outcome_shows_it_in_the_panel_and_refreshes_the_row(
    web_as, on_prescription, afternoon
):
    patient = named(on_prescription(), "Rune", "Amundsen", date(1979, 3, 14))
    client = english(web_as("nurse.oslo"))
    client.post(f"/dosing/patients/{patient}/", DOSE)
    record = Administration.objects.get(day=TODAY)

    with clock.at(local(TODAY, 15, 21)):  # after the protocol's 20 minutes
        response = client.post(
            f"/dosing/records/{record.pk}/observation/", {"outcome": "no_concern"}, **HTMX
        )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "board-changed"
    assert "Observation ended: Rune Amundsen, no concern, at 15:21." in response.content.decode()
    assert 'class="observation"' not in response.content.decode()  # the form is gone
    assert Observation.objects.get().outcome == "no_concern"


def test_ending_observation_early_without_a_note_says_why_beside_the_note(
    web_as, on_prescription, afternoon
):
    patient = on_prescription()["patient"]
    client = english(web_as("nurse.oslo"))
    client.post(f"/dosing/patients/{patient}/", DOSE)
    record = Administration.objects.get(day=TODAY)

    with clock.at(local(TODAY, 15, 19)):  # one minute of the 20 left
        response = client.post(
            f"/dosing/records/{record.pk}/observation/", {"outcome": "no_concern"}, **HTMX
        )

    page = response.content.decode()
    assert response.status_code == 200
    assert not response.has_header("HX-Trigger")
    assert "1 minute of observation is left: write why it ends now." in page
    assert 'id="id_note_error"' in page
    assert '<option value="no_concern" selected>' in page  # as chosen
    assert not Observation.objects.exists()


def test_ending_an_observation_already_ended_says_so(web_as, on_prescription, afternoon):
    patient = on_prescription()["patient"]
    client = english(web_as("nurse.oslo"))
    client.post(f"/dosing/patients/{patient}/", DOSE)
    record = Administration.objects.get(day=TODAY)
    with clock.at(local(TODAY, 15, 25)):
        client.post(f"/dosing/records/{record.pk}/observation/", {"outcome": "no_concern"})

        again = client.post(
            f"/dosing/records/{record.pk}/observation/", {"outcome": "no_concern"}, **HTMX
        )

    assert 'role="alert">The observation has already ended.<' in again.content.decode()
    assert Observation.objects.count() == 1


def test_a_refused_dose_shows_its_reason_in_the_panel(web_as, on_prescription, afternoon):
    patient = on_prescription()["patient"]
    client = english(web_as("nurse.oslo"))

    refused = client.post(f"/dosing/patients/{patient}/", DOSE | {"sedation": "4"}, **HTMX)
    unchecked = client.post(f"/dosing/patients/{patient}/", DOSE | {"identity_checked": ""}, **HTMX)

    assert "POSS 4" in refused.content.decode()
    assert 'id="id_dose_mg_error"' in refused.content.decode()
    assert 'id="id_identity_checked_error"' in unchecked.content.decode()
    assert not refused.has_header("HX-Trigger")
    assert not Administration.objects.filter(day=TODAY).exists()


# --- two nurses, one patient ------------------------------------------------------------


def test_the_second_nurse_is_told_who_recorded_the_dose_and_when(
    web_as, staff, second_nurse, on_prescription, afternoon
):
    patient = on_prescription()["patient"]
    first, second = english(web_as("nurse.oslo")), english(Client())
    second.force_login(second_nurse)
    # Both tablets have the panel open.
    assert first.get(f"/dosing/patients/{patient}/", {"slot": "afternoon"}).status_code == 200
    assert second.get(f"/dosing/patients/{patient}/", {"slot": "afternoon"}).status_code == 200

    first.post(f"/dosing/patients/{patient}/", DOSE, **HTMX)
    with clock.at(local(TODAY, 15, 2)):
        late = second.post(f"/dosing/patients/{patient}/", DOSE | {"dose_mg": "180"}, **HTMX)

    name = staff["nurse.oslo"].get_full_name()
    page = late.content.decode()
    assert f'role="alert">Already recorded by {name} at 15:00.<' in page
    assert late["HX-Trigger"] == "board-changed"
    assert 'class="dose-form' not in page  # the record as it stands, not a form to resend
    [record] = Administration.objects.filter(day=TODAY)
    assert (record.nurse, record.dose_mg) == (staff["nurse.oslo"], 200)


def test_the_api_names_who_recorded_the_dose_and_when(
    api_as, second_nurse, on_prescription, afternoon
):
    patient = on_prescription()["patient"]
    first = api_as("nurse.oslo").post("/administrations", dose_body(patient))

    with clock.at(local(TODAY, 15, 3)):
        second = api_as("nurse2.oslo").post("/administrations", dose_body(patient))

    assert first.status_code == 201
    assert second.status_code == 409
    who = Administration.objects.get(day=TODAY).nurse.get_full_name()
    assert second.json()["detail"] == f"Already recorded by {who} at 15:00."
    assert Administration.objects.filter(day=TODAY).count() == 1


def test_a_dose_recorded_at_the_other_clinic_names_it(api_as, on_prescription, afternoon):
    patient = on_prescription()["patient"]
    api_as("doctor.oslo").post(
        f"/patients/{patient}/guest-dosing",
        {"clinic": "bergen", "valid_from": str(TODAY), "valid_to": str(TODAY)},
    )
    api_as("nurse.bergen").post("/administrations", dose_body(patient, clinic="bergen"))

    at_home = api_as("nurse.oslo").post("/administrations", dose_body(patient))

    who = Administration.objects.get(day=TODAY).nurse.get_full_name()
    assert at_home.status_code == 409
    assert at_home.json()["detail"] == f"Already recorded by {who} at 15:00 at HAB Bergen."


# --- closing the session ------------------------------------------------------------------


@pytest.fixture
def session(on_prescription, api_as, afternoon):
    """Oslo's afternoon: Rune dosed at 15:00 (in observation), Åse and Per not seen."""
    made = {
        "rune": named(on_prescription(), "Rune", "Amundsen", date(1979, 3, 14)),
        "aase": named(on_prescription(), "Åse", "Ødegård", date(1985, 7, 2)),
        "per": named(on_prescription(), "Per", "Dahl", date(1990, 11, 23)),
    }
    response = api_as("nurse.oslo").post("/administrations", dose_body(made["rune"]))
    assert response.status_code == 201, response.content
    return made


def test_the_close_confirmation_names_the_missed_and_those_in_observation(
    web_as, session, afternoon
):
    client = english(web_as("nurse.oslo"))

    page = client.get("/dosing/close/", {"slot": "afternoon", "date": str(TODAY)})

    shown = page.content.decode()
    missed = shown.split('class="close-missed"')[1].split("</ul>")[0]
    observing = shown.split('class="close-observing"')[1].split("</ul>")[0]
    assert "2 patients will be recorded as not attended" in shown
    assert "Dahl, Per" in missed and "Ødegård, Åse" in missed
    assert "Amundsen" not in missed
    assert "Amundsen, Rune" in observing
    assert f'name="observing" value="{session["rune"]}"' in shown
    assert not SessionClose.objects.exists()  # looking closes nothing


def test_only_who_may_close_sees_the_close_confirmation(web_as, session, afternoon):
    page = web_as("coordinator.oslo").get("/dosing/close/", {"slot": "afternoon"})
    closed = web_as("coordinator.oslo").post("/dosing/close/", {"slot": "afternoon"})

    assert page.status_code == 403
    assert closed.status_code == 403
    assert not SessionClose.objects.exists()


def test_the_close_refuses_over_an_observation_it_was_not_told_of(web_as, session, afternoon):
    client = english(web_as("nurse.oslo"))

    unticked = client.post(
        "/dosing/close/",
        {"slot": "afternoon", "date": str(TODAY), "observing": [session["rune"]]},
    )

    assert unticked.status_code == 200
    assert "Still under observation: Rune Amundsen." in unticked.content.decode()
    assert not SessionClose.objects.exists()
    assert not Administration.objects.filter(status="missed").exists()


def test_the_confirmed_close_records_the_missed_by_name_and_says_what_it_did(
    web_as, session, afternoon
):
    client = english(web_as("nurse.oslo"))
    shown = client.get("/dosing/close/", {"slot": "afternoon", "date": str(TODAY)})

    closed = client.post(
        "/dosing/close/",
        {
            "slot": "afternoon",
            "date": str(TODAY),
            "observing": [session["rune"]],
            "confirm_observing": "1",
        },
        follow=True,
    )

    page = closed.content.decode()
    assert "The session is closed; 2 missed doses recorded." in page
    assert "Still under observation: end their observation on the board." in page
    missed = Administration.objects.filter(status="missed", day=TODAY)
    names = {f"{r.patient.family_name}, {r.patient.given_name}" for r in missed}
    assert names == {"Dahl, Per", "Ødegård, Åse"}
    assert all(name in shown.content.decode() for name in names)
    assert SessionClose.objects.get().missed == 2


def test_a_patient_dosed_after_the_confirmation_was_shown_is_not_closed_over(
    web_as, api_as, session, afternoon
):
    client = english(web_as("nurse.oslo"))
    # The confirmation named Rune; then Per came in and was dosed.
    api_as("nurse.oslo").post("/administrations", dose_body(session["per"]))

    refused = client.post(
        "/dosing/close/",
        {
            "slot": "afternoon",
            "date": str(TODAY),
            "observing": [session["rune"]],
            "confirm_observing": "1",
        },
    )

    assert "Still under observation: Per Dahl." in refused.content.decode()
    assert not SessionClose.objects.exists()


@pytest.mark.parametrize(
    ("confirmed", "status"),
    [((), 422), (("rune",), 201), (("rune", "aase"), 201)],
)
def test_the_service_closes_over_an_observation_only_when_named(
    api_as, session, afternoon, confirmed, status
):
    response = api_as("nurse.oslo").post(
        "/clinics/oslo/sessions/close",
        {
            "date": str(TODAY),
            "slot": "afternoon",
            "confirm_observing": [session[k] for k in confirmed],
        },
    )

    assert response.status_code == status, response.content
    if status == 422:
        assert response.json()["detail"] == [
            {
                "field": "observing_confirmed",
                "message": "Still under observation: Rune Amundsen. Confirm that the session "
                "closes while this patient is observed.",
            }
        ]
        assert not SessionClose.objects.exists()
    else:
        assert response.json()["missed"] == 2


def test_an_ended_observation_no_longer_stops_the_close(api_as, session, afternoon):
    record = Administration.objects.get(patient_id=session["rune"], day=TODAY)
    with clock.at(local(TODAY, 15, 20)):  # the protocol's 20 minutes: no note needed
        ended = api_as("nurse.oslo").post(
            f"/administrations/{record.pk}/observation", {"outcome": "no_concern"}
        )
        closed = api_as("nurse.oslo").post(
            "/clinics/oslo/sessions/close", {"date": str(TODAY), "slot": "afternoon"}
        )

    assert ended.status_code == 201, ended.content
    assert closed.status_code == 201, closed.content
    assert closed.json()["missed"] == 2


def test_a_corrected_dose_still_in_observation_stops_the_close(api_as, session, afternoon):
    record = Administration.objects.get(patient_id=session["rune"], day=TODAY)
    corrected = api_as("nurse.oslo").post(
        f"/administrations/{record.pk}/corrections",
        {"reason": "Lekkasje", "dose_mg": 150, "status": "partial"},
    )

    closed = api_as("nurse.oslo").post(
        "/clinics/oslo/sessions/close", {"date": str(TODAY), "slot": "afternoon"}
    )

    assert corrected.status_code == 201, corrected.content
    assert closed.status_code == 422
    assert "Rune Amundsen" in closed.json()["detail"][0]["message"]


def test_a_withheld_dose_is_not_in_observation(api_as, session, afternoon):
    per = api_as("nurse.oslo").post(
        "/administrations",
        dose_body(session["per"], status="withheld", dose_mg=0, withheld_reason="Ruset"),
    )

    closed = api_as("nurse.oslo").post(
        "/clinics/oslo/sessions/close",
        {"date": str(TODAY), "slot": "afternoon", "confirm_observing": [session["rune"]]},
    )

    assert per.status_code == 201, per.content
    assert closed.status_code == 201
    assert closed.json()["missed"] == 1  # Åse; Per's withheld dose is his record


def test_the_day_after_a_closed_session_the_confirmation_says_it_is_closed(
    web_as, session, api_as, afternoon
):
    api_as("nurse.oslo").post(
        "/clinics/oslo/sessions/close",
        {"date": str(TODAY), "slot": "afternoon", "confirm_observing": [session["rune"]]},
    )
    client = english(web_as("nurse.oslo"))

    with clock.at(local(TODAY + timedelta(days=1), 9)):
        page = client.get("/dosing/close/", {"slot": "afternoon", "date": str(TODAY)}, follow=True)

    assert "The session is already closed." in page.content.decode()
