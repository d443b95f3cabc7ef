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

from hab.core.models import AccessLog
from hab.dosing.models import Administration
from hab.patients.models import Patient
from tests.dosing.conftest import on_prescription, protocols  # noqa: F401
from tests.patients.test_patient_pages import PNG

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
    on_prescription,  # noqa: F811
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


def test_the_page_is_logged_and_shows_each_kind_of_record(web_as, on_prescription):  # noqa: F811
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
