"""The dosing room's pages, the prescription and protocol pages."""

from __future__ import annotations

import pytest

from hab.core import clock
from hab.dosing.models import Administration, Observation, SessionClose
from hab.prescribing.models import DosingProtocol, Prescription
from tests.dosing.helpers import TODAY, local

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


def test_the_board_lists_who_is_due_with_the_reasons(web_as, on_prescription, afternoon):
    due = on_prescription()
    away = on_prescription(days=0)

    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"

    page = client.get("/dosing/", {"slot": "afternoon"})

    rows = {row.patient.pk: row for row in page.context["rows"]}
    assert rows[due["patient"]].state == "due"
    assert rows[away["patient"]].decision.max_mg == 15  # first day: 15 mg
    assert "First day of injections" in " ".join(rows[away["patient"]].reasons)


def test_a_nurse_lands_on_the_board(web_as, staff):
    assert web_as("nurse.oslo").get("/")["Location"] == "/dosing/"


def test_dosing_from_the_panel(web_as, on_prescription, afternoon):
    made = on_prescription()
    client = web_as("nurse.oslo")

    panel = client.get(f"/dosing/patients/{made['patient']}/", {"slot": "afternoon"})
    recorded = client.post(f"/dosing/patients/{made['patient']}/", DOSE)

    assert panel.context["form"].initial["dose_mg"] == 200
    assert recorded.status_code == 200
    assert recorded["HX-Trigger"] == "board-changed"
    assert Administration.objects.get(day=TODAY).dose_mg == 200


def test_the_panel_refuses_without_the_identity_check(web_as, on_prescription, afternoon):
    made = on_prescription()

    response = web_as("nurse.oslo").post(
        f"/dosing/patients/{made['patient']}/", DOSE | {"identity_checked": ""}
    )

    assert "identity_checked" in response.context["form"].errors
    assert not Administration.objects.filter(day=TODAY).exists()


def test_the_panel_shows_the_reasons_of_a_refused_dose(web_as, on_prescription, afternoon):
    made = on_prescription()

    response = web_as("nurse.oslo").post(
        f"/dosing/patients/{made['patient']}/", DOSE | {"sedation": "4"}
    )

    assert "POSS 4" in response.content.decode()
    assert not Administration.objects.filter(day=TODAY).exists()


def test_ending_observation_and_closing_the_session(web_as, on_prescription, afternoon):
    seen, absent = on_prescription(), on_prescription()
    client = web_as("nurse.oslo")
    client.post(f"/dosing/patients/{seen['patient']}/", DOSE)
    record = Administration.objects.get(day=TODAY)

    client.post(
        f"/dosing/records/{record.pk}/observation/",
        {"outcome": "no_concern", "note": "Left early, felt well."},
    )
    client.post("/dosing/close/", {"slot": "afternoon", "date": str(TODAY)})

    assert Observation.objects.get().outcome == "no_concern"
    assert SessionClose.objects.get().missed == 1
    assert Administration.objects.get(patient_id=absent["patient"], day=TODAY).status == "missed"


def test_a_correction_from_the_board(web_as, on_prescription, afternoon):
    made = on_prescription()
    client = web_as("nurse.oslo")
    client.post(f"/dosing/patients/{made['patient']}/", DOSE)
    record = Administration.objects.get(day=TODAY)

    client.post(
        f"/dosing/records/{record.pk}/correct/",
        {"status": "partial", "dose_mg": "150", "reason": "Lekkasje"},
    )

    assert [float(r.dose_mg) for r in Administration.objects.filter(day=TODAY).order_by("id")] == [
        200,
        150,
    ]


@pytest.mark.parametrize(
    ("language", "link", "title"),
    [
        ("nb", "Rett registreringen", "Rett registreringen for Kari Testesen"),
        ("en", "Correct the record", "Correct the record of Kari Testesen"),
    ],
)
def test_the_correction_link_and_page_say_what_they_do(
    web_as, on_prescription, afternoon, language, link, title
):
    made = on_prescription()
    client = web_as("nurse.oslo")
    client.cookies["django_language"] = language
    client.post(f"/dosing/patients/{made['patient']}/", DOSE)
    record = Administration.objects.get(day=TODAY)
    with clock.at(local(TODAY, 15, 30)):  # after the observation time
        client.post(f"/dosing/records/{record.pk}/observation/", {"outcome": "no_concern"})

        board = client.get("/dosing/", {"slot": "afternoon"}).content.decode()
        page = client.get(f"/dosing/records/{record.pk}/correct/").content.decode()

    assert f'<a href="/dosing/records/{record.pk}/correct/">{link}<' in board
    # The session by the clinic's name for it, not its code.
    assert f"{title}, {TODAY:%d.%m.%Y} Ettermiddag" in page
    assert "afternoon" not in page.split("<h1", 1)[1].split("</h1>", 1)[0]


def test_a_doctor_changes_a_prescription_and_the_old_one_stays(web_as, on_prescription):
    made = on_prescription()
    client = web_as("doctor.oslo")

    form = client.get(f"/prescribing/patients/{made['patient']}/new/")
    client.post(
        f"/prescribing/patients/{made['patient']}/new/",
        {
            "medication": "dam_injectable",
            "route": "iv",
            "dose_morning": "200",
            "dose_afternoon": "250",
            "daily_max_mg": "500",
            "valid_from": str(TODAY),
            "reason": "Abstinent om kvelden",
        },
    )

    assert form.context["form"].initial["daily_max_mg"] == 450
    new, old = Prescription.objects.filter(patient_id=made["patient"]).order_by("-id")
    assert new.supersedes == old and new.doses_mg == {"morning": 200.0, "afternoon": 250.0}


def test_a_prescription_above_the_protocol_is_refused_beside_the_field(web_as, on_prescription):
    made = on_prescription()

    response = web_as("doctor.oslo").post(
        f"/prescribing/patients/{made['patient']}/new/",
        {
            "medication": "dam_injectable",
            "route": "iv",
            "dose_morning": "450",
            "daily_max_mg": "900",
            "valid_from": str(TODAY),
        },
    )

    assert response.status_code == 200
    assert "400" in response.context["form"].errors["dose_morning"][0]
    assert Prescription.objects.filter(patient_id=made["patient"]).count() == 1


def test_the_clinic_lead_makes_a_new_protocol_version(web_as, protocols):
    client = web_as("clinic_lead.oslo")
    page = client.get("/prescribing/protocol/")
    values = {
        name: "" if value is None else value
        for name, value in page.context["form"].initial.items()
        if name in page.context["form"].fields
    }

    client.post(
        "/prescribing/protocol/",
        values
        | {
            "doctor": "doctor.oslo",
            "reason": "Lavere promillegrense",
            "breath_alcohol_max_permille": "0.10",
        },
    )

    latest = DosingProtocol.objects.filter(clinic__code="oslo").order_by("-version").first()
    assert (latest.version, float(latest.breath_alcohol_max_permille)) == (2, 0.1)
    assert latest.doctor.username == "doctor.oslo"


@pytest.mark.parametrize("who", ["nurse.oslo", "doctor.oslo"])
def test_only_the_clinic_lead_sees_the_protocol_form(web_as, protocols, who):
    assert web_as(who).get("/prescribing/protocol/").context["form"] is None


def test_norwegian_decimal_commas_are_understood(web_as, on_prescription, afternoon):
    made = on_prescription()

    web_as("nurse.oslo").post(
        f"/dosing/patients/{made['patient']}/",
        DOSE | {"breath_alcohol_permille": "0,10", "dose_mg": "187,5"},
    )

    record = Administration.objects.get(day=TODAY)
    assert (float(record.breath_alcohol_permille), float(record.dose_mg)) == (0.1, 187.5)


def test_a_patient_back_after_weeks_away_restarts_with_first_day_limits(
    web_as, on_prescription, afternoon
):
    """The doses before the board's window of recent days still count: a patient last
    dosed three weeks ago restarts (after the doctor's review) instead of being treated
    as never dosed or as dosed yesterday."""
    from datetime import timedelta

    from tests.dosing.helpers import history

    away = on_prescription(days=0)
    gone = frozenset(
        (TODAY - timedelta(days=back), slot)
        for back in range(1, 22)
        for slot in ("morning", "afternoon")
    )
    history(away["patient"], 40, skip=gone)

    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"
    page = client.get("/dosing/", {"slot": "afternoon"})

    row = {row.patient.pk: row for row in page.context["rows"]}[away["patient"]]
    assert "Restart after 21 days without a dose" in " ".join(row.reasons)
    assert row.decision.max_mg == 15  # first-day limits
