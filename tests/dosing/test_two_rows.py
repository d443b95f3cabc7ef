"""A patient with two prescriptions in one session has two rows, and each row is its own.

Injectable diacetylmorphine and methadone (night cover) both dose this afternoon: the
board shows two rows for the patient. Each row's "Open" opens the panel of its own
prescription, the dose recorded there is recorded against that prescription, and the
other row stays due. A second record from one row's panel is refused with the first
record of that row's medication, not of the other's.
"""

from __future__ import annotations

import re

import pytest

from hab.dosing.models import Administration
from tests.dosing.helpers import TODAY

pytestmark = pytest.mark.django_db

ASSESSED = {
    "identity_checked": "on",
    "sedation": "1",
    "breath_alcohol_permille": "0,00",
    "status": "given",
    "slot": "afternoon",
    "date": str(TODAY),
}


@pytest.fixture
def two_rows(api_as, on_prescription, afternoon) -> int:
    """A patient on injections (200 mg) with methadone 40 mg beside them this afternoon."""
    made = on_prescription()
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
    return made["patient"]


def open_urls(html: str, patient: int) -> dict[str, str]:
    """Each of the patient's rows on the board: its medication, the URL its "Open" gets."""
    found = {}
    for row in re.findall(
        rf'<li class="board-row[^"]*" id="row-{patient}-\d+" data-patient="{patient}">(.*?)</li>',
        html,
        re.S,
    ):
        medication = re.search(r'<div class="hint">[^<]*· ([^<]+)</div>', row).group(1)
        found[medication] = re.search(r'hx-get="([^"]+)"', row).group(1).replace("&amp;", "&")
    return found


def hidden_fields(html: str) -> dict[str, str]:
    form = html[html.index('class="dose-form"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def test_each_row_opens_the_panel_of_its_own_prescription(web_as, two_rows):
    client = web_as("nurse.oslo")
    board = client.get("/dosing/", {"slot": "afternoon"}).content.decode()

    urls = open_urls(board, two_rows)

    assert sorted(urls) == ["Diacetylmorfin, injeksjon", "Metadon, oralt"]
    injected = client.get(urls["Diacetylmorfin, injeksjon"]).context
    methadone = client.get(urls["Metadon, oralt"]).context
    assert injected["row"].prescription.medication == "dam_injectable"
    assert methadone["row"].prescription.medication == "methadone_oral"
    assert methadone["form"].initial["dose_mg"] == 40


def test_the_dose_is_recorded_against_the_rows_prescription(web_as, two_rows):
    client = web_as("nurse.oslo")
    urls = open_urls(client.get("/dosing/", {"slot": "afternoon"}).content.decode(), two_rows)
    panel = client.get(urls["Metadon, oralt"]).content.decode()

    response = client.post(
        f"/dosing/patients/{two_rows}/", hidden_fields(panel) | ASSESSED | {"dose_mg": "40"}
    )

    assert response.context["form"].errors == {}
    record = Administration.objects.get(day=TODAY, slot="afternoon")
    assert (record.medication, record.group, record.dose_mg) == ("methadone_oral", "methadone", 40)
    assert record.prescription.medication == "methadone_oral"
    assert response.context["row"].prescription.medication == "methadone_oral"
    assert response["HX-Trigger"] == "board-changed"
    # The board, read again: the methadone row is done, the injection still due.
    board = client.get(
        "/dosing/", {"slot": "afternoon", "part": "rows"}, HTTP_HX_REQUEST="true"
    ).context
    states = {
        row.prescription.medication: row.state
        for row in board["rows"]
        if row.patient.pk == two_rows
    }
    assert states == {"dam_injectable": "due", "methadone_oral": "observing"}


def test_each_row_records_once_and_is_refused_with_its_own_record(web_as, staff, two_rows):
    client = web_as("nurse.oslo")
    urls = open_urls(client.get("/dosing/", {"slot": "afternoon"}).content.decode(), two_rows)
    fields = {
        medication: hidden_fields(client.get(url).content.decode())
        for medication, url in urls.items()
    }
    staff["nurse.oslo"].first_name, staff["nurse.oslo"].last_name = "Nora", "Sykepleier"
    staff["nurse.oslo"].save()

    client.post(
        f"/dosing/patients/{two_rows}/",
        fields["Diacetylmorfin, injeksjon"] | ASSESSED | {"dose_mg": "200"},
    )
    client.post(
        f"/dosing/patients/{two_rows}/", fields["Metadon, oralt"] | ASSESSED | {"dose_mg": "40"}
    )
    again = client.post(
        f"/dosing/patients/{two_rows}/", fields["Metadon, oralt"] | ASSESSED | {"dose_mg": "40"}
    )

    records = Administration.objects.filter(day=TODAY, slot="afternoon")
    assert sorted(records.values_list("medication", "dose_mg")) == [
        ("dam_injectable", 200),
        ("methadone_oral", 40),
    ]
    assert again.context["conflict"].startswith("Allerede registrert av Nora Sykepleier")
    assert again.context["row"].prescription.medication == "methadone_oral"
    assert again.context["row"].record.pk == records.get(medication="methadone_oral").pk


def test_a_panel_without_a_medication_is_the_patients_first_row(web_as, two_rows):
    """Links made before the rows were told apart still open a panel (the first row)."""
    page = web_as("nurse.oslo").get(f"/dosing/patients/{two_rows}/", {"slot": "afternoon"})

    assert page.context["row"].prescription.medication == "dam_injectable"


def test_a_medication_the_patient_has_no_row_for_opens_no_dose(web_as, two_rows):
    page = web_as("nurse.oslo").get(
        f"/dosing/patients/{two_rows}/", {"slot": "afternoon", "medication": "morphine_sr_oral"}
    )

    assert page.context["row"] is None
    assert "Pasienten skal ikke ha dose i denne økten." in page.content.decode()
    assert 'class="dose-form"' not in page.content.decode()
