"""A patient's record as a FHIR document, and the clinic's doses reported to
Legemiddelregisteret, in the browser on a desktop.

The doctor downloads the record from the button on it, for a patient who moves to LAR or
another service; a nurse has no such button. The clinic lead gives the clinic its
organisation number in the clinic settings, opens the report from the menu, picks a
period and downloads the zip of LMDI Bundles; a period that ends after today is refused
beside its field. Expected texts are computed with nb().
"""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from hab.core.demo import demo_org_number
from hab.core.models import AccessLog, Clinic
from hab.interop import codes
from tests.dosing.helpers import TODAY
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb

pytestmark = pytest.mark.e2e

FNR = "urn:oid:2.16.578.1.12.4.1.4.1"  # fødselsnummer, as the receiving systems know it


def fhir_button(page: Page):
    return page.get_by_role("link", name=nb("FHIR document (handover)"))


def test_a_doctor_downloads_the_record_as_a_fhir_document(
    live_server,
    page: Page,
    patient_on_prescription,
):
    patient = patient_on_prescription("Kari", "Nordmann", date(1981, 6, 2))

    login(page, live_server, "doctor.oslo")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_role("heading", level=1, name="Kari Nordmann")).to_be_visible()
    expect(fhir_button(page)).to_be_visible()
    check_accessibility(page)
    screenshot(page, "patient-record-fhir")

    with page.expect_download() as download:
        fhir_button(page).click()
    assert download.value.suggested_filename == f"hab-patient-{patient.pk}-fhir.json"
    with open(download.value.path(), "rb") as data:
        bundle = json.loads(data.read())

    assert bundle["resourceType"] == "Bundle"
    patients = [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Patient"
    ]
    assert len(patients) == 1
    assert {"system": FNR, "value": patient.national_id} in patients[0]["identifier"]
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"MedicationRequest", "MedicationAdministration"} <= kinds
    # The download is in the patient's access log, under the doctor's name.
    assert AccessLog.objects.filter(
        patient=patient, username="doctor.oslo", what="fhir document"
    ).exists()


def test_a_nurse_has_no_fhir_button(
    live_server,
    page: Page,
    patient_on_prescription,
):
    patient = patient_on_prescription("Kari", "Nordmann", date(1981, 6, 2), history_days=0)

    login(page, live_server, "nurse.oslo")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_role("heading", level=1, name="Kari Nordmann")).to_be_visible()
    expect(fhir_button(page)).to_have_count(0)
    expect(page.locator(f"a[href='/patients/{patient.pk}/fhir/']")).to_have_count(0)


def test_the_clinic_lead_reports_the_doses_to_legemiddelregisteret(
    live_server,
    page: Page,
    patient_on_prescription,
):
    # Ten days of doses, two a day, up to yesterday.
    kari = patient_on_prescription("Kari", "Nordmann", date(1981, 6, 2))
    ola = patient_on_prescription("Ola", "Hansen", date(1975, 2, 14))
    org_number = demo_org_number(0)

    login(page, live_server, "clinic_lead.oslo")
    # The clinic gets its organisation number on the settings page first.
    page.locator("header nav a[href='/clinic/settings/']").click()
    page.locator("#id_org_number").fill(org_number)
    page.get_by_role("button", name=nb("Save")).click()
    expect(page.locator(".messages")).to_contain_text(nb("The clinic settings are saved."))
    assert Clinic.objects.get(code="oslo").org_number == org_number

    # The report, from the menu: the current item there.
    page.locator("header nav a[href='/interop/lmdi/']").click()
    expect(page).to_have_url(re.compile(r"/interop/lmdi/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(nb("Report to Legemiddelregisteret"))
    expect(page.locator("header nav a[href='/interop/lmdi/']")).to_have_attribute(
        "aria-current", "page"
    )
    start, end = TODAY - timedelta(days=3), TODAY - timedelta(days=1)
    page.locator("#id_date_from").fill(start.isoformat())
    page.locator("#id_date_to").fill(end.isoformat())
    page.locator("#id_date_to").blur()  # the guide's picture without a half-typed field
    check_accessibility(page)
    screenshot(page, "lmdi-report")

    with page.expect_download() as download:
        page.get_by_role("button", name=nb("Download the report")).click()
    assert download.value.suggested_filename == f"lmdi-oslo-{start}-{end}.zip"
    with zipfile.ZipFile(download.value.path()) as archive:
        names = archive.namelist()
        bundles = [json.loads(archive.read(name)) for name in names]

    assert names and all(name.endswith(".json") for name in names)
    for bundle in bundles:
        assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "transaction")
    resources = [entry["resource"] for bundle in bundles for entry in bundle["entry"]]
    doses = [r for r in resources if r["resourceType"] == "MedicationAdministration"]
    assert len(doses) == 2 * 3 * 2  # two patients, three days, two doses a day
    assert {dose["status"] for dose in doses} == {"completed"}
    organisations = [r for r in resources if r["resourceType"] == "Organization"]
    assert {"system": codes.ENH, "value": org_number} in organisations[0]["identifier"]
    # Each patient in the report is logged as disclosed, once.
    for patient in (kari, ola):
        assert (
            AccessLog.objects.filter(
                patient=patient, action="disclose", what="register report"
            ).count()
            == 1
        )

    # A period that ends after today is refused beside its field, and nothing is logged.
    page.locator("#id_date_to").fill((TODAY + timedelta(days=1)).isoformat())
    page.get_by_role("button", name=nb("Download the report")).click()
    expect(page.locator("#id_date_to_error")).to_have_text(nb("The period cannot end after today."))
    expect(page.locator("#id_date_to")).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)
    assert AccessLog.objects.filter(action="disclose").count() == 2
