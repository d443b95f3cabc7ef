"""The dose panel says what is true and asks only for what was measured.

Breath alcohol is never prefilled: "0,00 målt" fills it in one tap, and with routine
measurement an empty field is refused beside the field. A clinic whose protocol measures
alcohol only on suspicion (a protocol switch, signed off like every setting) doses with
the field empty, recorded as not measured. A patient without a photo says so in words.
Every row of the board has an id of its own, also a patient's two prescriptions.
"""

from __future__ import annotations

import re

import pytest

from hab.dosing.models import Administration
from hab.patients.models import Patient
from tests.dosing.helpers import TODAY, dose_body
from tests.prescribing.helpers import confirm, propose

pytestmark = pytest.mark.django_db

DOSE = {
    "identity_checked": "on",
    "sedation": "1",
    "status": "given",
    "dose_mg": "200",
    "slot": "afternoon",
    "date": str(TODAY),
}


def on_suspicion_only(staff) -> None:
    """A new version of Oslo's protocol that measures alcohol only on suspicion, in force."""
    confirm(
        staff,
        propose(
            staff,
            values={"breath_alcohol_on_suspicion_only": True},
            reason="Alkotest bare ved mistanke",
        ),
    )


def test_breath_alcohol_is_empty_with_a_one_tap_measured_zero(web_as, on_prescription, afternoon):
    made = on_prescription()

    page = web_as("nurse.oslo").get(f"/dosing/patients/{made['patient']}/", {"slot": "afternoon"})

    html = page.content.decode()
    field = re.search(r"<input[^>]*name=\"breath_alcohol_permille\"[^>]*>", html).group(0)
    assert "value=" not in field
    assert 'data-fill="id_breath_alcohol_permille" data-value="0,00">0,00 målt</button>' in html
    assert "breath_alcohol_permille" not in page.context["form"].initial


def test_routine_measurement_refuses_an_empty_field_beside_it(web_as, on_prescription, afternoon):
    made = on_prescription()

    response = web_as("nurse.oslo").post(f"/dosing/patients/{made['patient']}/", DOSE)

    errors = response.context["form"].errors
    assert list(errors) == ["breath_alcohol_permille"]
    assert errors["breath_alcohol_permille"] == [
        "Mål promillen i utåndingsluft og skriv den inn, eller trykk «0,00 målt»."
    ]
    assert 'id="id_breath_alcohol_permille_error"' in response.content.decode()
    assert not Administration.objects.filter(day=TODAY).exists()


def test_the_measured_zero_is_recorded(web_as, on_prescription, afternoon):
    made = on_prescription()

    web_as("nurse.oslo").post(
        f"/dosing/patients/{made['patient']}/", DOSE | {"breath_alcohol_permille": "0,00"}
    )

    assert Administration.objects.get(day=TODAY).breath_alcohol_permille == 0


def test_measured_on_suspicion_an_empty_field_is_not_measured(
    web_as, staff, on_prescription, afternoon
):
    made = on_prescription()
    on_suspicion_only(staff)
    client = web_as("nurse.oslo")

    page = client.get(f"/dosing/patients/{made['patient']}/", {"slot": "afternoon"})
    response = client.post(f"/dosing/patients/{made['patient']}/", DOSE)

    assert "La feltet stå tomt når det ikke er målt" in page.content.decode()
    assert response.context["form"].errors == {}
    record = Administration.objects.get(day=TODAY)
    assert (record.dose_mg, record.breath_alcohol_permille) == (200, None)


def test_measured_on_suspicion_a_measurement_over_the_limit_still_stops_the_dose(
    web_as, staff, on_prescription, afternoon
):
    made = on_prescription()
    on_suspicion_only(staff)

    response = web_as("nurse.oslo").post(
        f"/dosing/patients/{made['patient']}/", DOSE | {"breath_alcohol_permille": "0,3"}
    )

    assert response.context["form"].errors["dose_mg"]
    assert not Administration.objects.filter(day=TODAY).exists()


@pytest.mark.parametrize(("switch", "status"), [(False, 422), (True, 201)])
def test_the_api_follows_the_protocol(api_as, staff, on_prescription, afternoon, switch, status):
    made = on_prescription()
    if switch:
        on_suspicion_only(staff)
    body = dose_body(made["patient"], assessment={"sedation": 1, "respiratory_rate": 14})

    response = api_as("nurse.oslo").post("/administrations", body)

    assert response.status_code == status, response.content
    if not switch:
        assert "assessment.breath_alcohol_permille" in response.content.decode()


def test_the_switch_is_signed_off_like_every_setting(api_as, staff, protocols):
    propose(staff, values={"breath_alcohol_on_suspicion_only": True}, reason="Ved mistanke")

    proposed = api_as("doctor.oslo").get("/clinics/oslo/protocols/2").json()

    assert proposed["changes"] == [
        {"setting": "breath_alcohol_on_suspicion_only", "in_force": False, "proposed": True}
    ]
    assert proposed["values"]["breath_alcohol_on_suspicion_only"] is True
    in_force = api_as("nurse.oslo").get("/clinics/oslo/protocol").json()
    assert in_force["values"]["breath_alcohol_on_suspicion_only"] is False


def test_the_protocol_page_shows_the_switch_in_words(web_as, staff, protocols):
    propose(staff, values={"breath_alcohol_on_suspicion_only": True}, reason="Ved mistanke")

    html = web_as("doctor.oslo").get("/prescribing/protocol/").content.decode()

    diff = html[html.index('id="protocol-diff"') :]
    assert "Promille i utåndingsluft måles bare ved mistanke" in diff
    assert "<td>nei</td><td><strong>ja</strong></td>" in diff
    assert "True" not in html and "False" not in html


@pytest.mark.parametrize("photo", [False, True])
def test_a_patient_without_a_photo_says_so_in_the_panel(web_as, on_prescription, afternoon, photo):
    made = on_prescription()
    if photo:
        Patient.objects.filter(pk=made["patient"]).update(photo="photos/2026/x.jpg")

    html = (
        web_as("nurse.oslo")
        .get(f"/dosing/patients/{made['patient']}/", {"slot": "afternoon"})
        .content.decode()
    )

    assert ("Ingen bilde – kontroller legitimasjon" in html) is not photo
    assert ('class="photo"' in html) is photo


def test_every_board_row_has_an_id_of_its_own(web_as, api_as, on_prescription, afternoon):
    made = on_prescription()
    other = on_prescription()
    # Methadone beside the injections: the patient has two rows this afternoon.
    response = api_as("doctor.oslo").post(
        "/prescriptions",
        {
            "episode": made["episode"],
            "medication": "methadone_oral",
            "route": "oral",
            "doses_mg": {"afternoon": 40},
            "daily_max_mg": 40,
        },
    )
    assert response.status_code == 201, response.content

    html = web_as("nurse.oslo").get("/dosing/", {"slot": "afternoon"}).content.decode()

    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    rows = re.findall(r'<li class="board-row[^"]*" id="(row-[^"]+)" data-patient="(\d+)"', html)
    assert sorted(p for _id, p in rows) == sorted(
        [str(made["patient"])] * 2 + [str(other["patient"])]
    )
