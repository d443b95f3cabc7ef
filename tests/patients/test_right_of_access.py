"""A patient's right of access: everything HAB holds about them, for the clinic lead to
hand over, found from the model registry so no table is forgotten; reading it is logged."""

from __future__ import annotations

import io
import json
import zipfile

import pypdfium2
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hab.core import services as core_services
from hab.core.models import AccessLog, Clinic, User
from hab.core.roles import Role
from hab.dosing.models import Administration
from hab.patients.models import Patient
from tests.conftest import PASSWORD
from tests.patients.helpers import PNG

pytestmark = pytest.mark.django_db


def sections(report: dict) -> dict[str, dict]:
    return {section["model"]: section for section in report["sections"]}


def test_every_model_with_a_foreign_key_to_a_patient_is_in_the_report(api_as, make_patient):
    patient = make_patient()
    holding = {
        model._meta.label_lower
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is Patient
    }

    report = api_as("clinic_lead.oslo").get(f"/patients/{patient.pk}/access-report").json()

    assert holding <= set(sections(report))
    # and the rows that hang from those: a dose's observation, a follow-up's answers
    assert {"dosing.observation", "research.answer", "intake.episodeevent"} <= set(sections(report))


def test_the_report_holds_the_patients_data_and_no_one_elses(
    api_as,
    on_prescription,
    web_as,
):
    # given two patients with doses, a consent and a relative
    mine = on_prescription(days=2)["patient"]
    other = on_prescription(days=2)["patient"]
    lead = api_as("clinic_lead.oslo")
    lead.post(f"/patients/{mine}/consents", {"kind": "research", "given": True})
    lead.post(f"/patients/{mine}/relatives", {"name": "Anne Lie", "relation": "mor"})
    web_as("nurse.oslo").get(f"/patients/{mine}/")

    # when the clinic lead reads the report
    report = sections(lead.get(f"/patients/{mine}/access-report").json())

    # then it has the patient's identity, doses, prescription, consent and relative
    (person,) = report["patients.patient"]["rows"]
    assert person["national_id"] == Patient.objects.get(pk=mine).national_id
    doses = {row["id"] for row in report["dosing.administration"]["rows"]}
    assert doses == set(Administration.objects.filter(patient=mine).values_list("pk", flat=True))
    assert report["dosing.administration"]["count"] == 4
    assert report["prescribing.prescription"]["rows"][0]["daily_max_mg"] == "450.0"
    assert report["patients.consent"]["rows"][0]["kind"] == "research"
    assert report["patients.relative"]["rows"][0]["name"] == "Anne Lie"
    assert report["intake.referral"]["count"] == 1
    assert report["intake.episode"]["rows"][0]["clinic"] == "oslo"
    # and who read the record, this reading included
    readings = {(row["username"], row["what"]) for row in report["core.accesslog"]["rows"]}
    assert ("nurse.oslo", "record") in readings
    assert ("clinic_lead.oslo", "access report") in readings
    # and nothing of the other patient
    other_doses = set(Administration.objects.filter(patient=other).values_list("pk", flat=True))
    assert not doses & other_doses


def test_the_page_is_logged_and_shows_each_kind_of_record(web_as, on_prescription):
    patient = on_prescription(days=1)["patient"]
    client = web_as("clinic_lead.oslo")

    response = client.get(f"/patients/{patient}/access-report/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Everything HAB holds about the patient" in page
    assert 'id="dosing.administration"' in page
    row = AccessLog.objects.filter(patient_id=patient, what="access report").get()
    assert (row.username, row.details) == ("clinic_lead.oslo", {"format": "page"})


def test_the_download_has_a_pdf_the_json_and_the_photo(web_as, make_patient):
    # given a patient with a photo
    coordinator = web_as("coordinator.oslo")
    patient = make_patient(given_name="Sigrid", family_name="Aas")
    coordinator.post(
        f"/patients/{patient.pk}/edit/",
        {
            "given_name": "Sigrid",
            "family_name": "Aas",
            "phone": "",
            "address": "",
            "photo": SimpleUploadedFile("face.png", PNG, content_type="image/png"),
        },
    )

    # when the clinic lead downloads the report
    response = web_as("clinic_lead.oslo").get(f"/patients/{patient.pk}/access-report/zip/")

    # then it is a ZIP of a readable PDF, the JSON and the photo
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="innsyn-{patient.pk}-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = {name.rsplit(".", 1)[-1]: name for name in archive.namelist()}
    assert set(names) == {"pdf", "json", "png"}
    assert archive.read(names["png"]) == PNG
    data = json.loads(archive.read(names["json"]))
    assert sections(data)["patients.patient"]["rows"][0]["given_name"] == "Sigrid"
    pdf = pypdfium2.PdfDocument(archive.read(names["pdf"]))
    text = " ".join(page.get_textpage().get_text_range() for page in pdf)
    assert "Sigrid Aas" in text
    assert patient.national_id in text
    # and the download is logged
    assert AccessLog.objects.filter(
        patient=patient, what="access report", details={"format": "zip"}
    ).exists()


@pytest.mark.parametrize(
    ("username", "status"),
    [("nurse.oslo", 403), ("doctor.oslo", 403), ("admin.oslo", 403), ("clinic_lead.bergen", 404)],
)
def test_only_the_clinic_lead_of_the_patients_clinic_downloads_it(
    web_as, make_patient, username, status
):
    patient = make_patient()

    response = web_as(username).get(f"/patients/{patient.pk}/access-report/json/")

    assert response.status_code == status
    assert not AccessLog.objects.filter(patient=patient, what="access report").exists()


def test_the_patient_page_links_to_it_for_the_clinic_lead_only(web_as, make_patient):
    patient = make_patient()
    link = f"/patients/{patient.pk}/access-report/"

    assert link in web_as("clinic_lead.oslo").get(f"/patients/{patient.pk}/").content.decode()
    assert link not in web_as("nurse.oslo").get(f"/patients/{patient.pk}/").content.decode()


# --- care notes: the report holds back what the care plan holds back ------------------------

NOTE_LEVELS = ("team", "clinical", "psychology")


@pytest.fixture
def noted(admitted, api_as):
    """A patient in treatment with one care note at each level, written by the
    psychologist (who reads them all)."""
    episode = admitted("oslo", coordinator="coordinator.oslo")
    patient = Patient.objects.get(pk=episode["patient"])
    for level in NOTE_LEVELS:
        response = api_as("psychologist.oslo").post(
            f"/patients/{patient.pk}/care-plan/notes",
            {"text": f"Hemmelig {level}-notat", "visibility": level},
        )
        assert response.status_code == 201, response.content
    return patient


def _lead(username: str, *also: Role) -> str:
    """A clinic lead at Oslo who holds ``also`` there as well: the report's readers."""
    clinic = Clinic.objects.get(code="oslo")
    core_services.staff_create(
        username=username,
        password=PASSWORD,
        first_name="Leder",
        last_name="Test",
        roles=[(clinic, Role.CLINIC_LEAD), *[(clinic, role) for role in also]],
    )
    return username


# (roles besides clinic lead, the levels their report shows): the care plan's own rule.
READERS = [
    ((), {"team"}),
    ((Role.DOCTOR,), {"team", "clinical"}),
    ((Role.PSYCHOLOGIST,), {"team", "clinical", "psychology"}),
]


@pytest.mark.parametrize(("also", "levels"), READERS)
def test_the_api_report_shows_the_notes_the_reader_may_read_on_the_plan(
    api_as, noted, also, levels
):
    reader = _lead("lead." + ".".join(role.value for role in also), *also)

    report = sections(api_as(reader).get(f"/patients/{noted.pk}/access-report").json())
    plan = api_as(reader).get(f"/patients/{noted.pk}/care-plan").json()

    notes = report["care.carenote"]
    assert {row["visibility"] for row in notes["rows"]} == levels
    assert {row["text"] for row in notes["rows"]} == {f"Hemmelig {v}-notat" for v in levels}
    assert (notes["count"], notes["withheld"]) == (len(levels), 3 - len(levels))
    # the same notes as the care plan shows the same reader
    assert {n["visibility"] for n in plan["notes"]} == levels


def test_the_clinic_lead_reads_no_psychology_note_on_the_page_pdf_or_zip(web_as, noted):
    client = web_as("clinic_lead.oslo")

    page = client.get(f"/patients/{noted.pk}/access-report/", HTTP_ACCEPT_LANGUAGE="en")
    pdf = client.get(f"/patients/{noted.pk}/access-report/pdf/")
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/patients/{noted.pk}/access-report/zip/").content)
    )
    pdf_text = " ".join(
        p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(pdf.content)
    )
    (json_name,) = [n for n in archive.namelist() if n.endswith(".json")]
    zipped = archive.read(json_name).decode()

    html = page.content.decode()
    for text in (html, pdf_text, zipped):
        assert "Hemmelig team-notat" in text
        assert "Hemmelig clinical-notat" not in text
        assert "Hemmelig psychology-notat" not in text
    # and the reader is told that notes are held back, in the page and the PDF
    assert "2 rows are not in this report" in html
    assert "ikke med i denne rapporten" in " ".join(pdf_text.split())


def test_a_clinic_lead_who_is_also_the_psychologist_reads_every_note_in_the_pdf(noted):
    client = Client()
    client.force_login(User.objects.get(username=_lead("lead.psy", Role.PSYCHOLOGIST)))

    pdf = client.get(f"/patients/{noted.pk}/access-report/pdf/")

    text = " ".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(pdf.content))
    assert "Hemmelig psychology-notat" in text
    assert "ikke med i denne rapporten" not in " ".join(text.split())
