"""A patient asks what HAB holds about them: the clinic lead opens the patient, reads the
right-of-access page and downloads the ZIP to hand over."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import Page, expect

from hab.core.models import AccessLog
from tests.e2e.conftest import check_accessibility, login, screenshot

pytestmark = pytest.mark.e2e


def test_the_clinic_lead_reads_and_downloads_everything_held(
    page: Page,
    live_server,
    on_prescription,
    api_as,
):
    # given a patient in treatment with a day of doses, a consent and a relative
    patient = on_prescription(days=1)["patient"]
    lead = api_as("clinic_lead.oslo")
    lead.post(f"/patients/{patient}/consents", {"kind": "research", "given": True})
    lead.post(f"/patients/{patient}/relatives", {"name": "Anne Lie", "relation": "mor"})

    # when the clinic lead opens the patient and the right-of-access page
    login(page, live_server, "clinic_lead.oslo")
    page.goto(f"{live_server.url}/patients/{patient}/")
    page.locator(f"a[href='/patients/{patient}/access-report/']").click()

    # then every kind of record is there, the doses among them
    expect(page.locator("h1")).to_contain_text("Kari Testesen")
    expect(page.locator("section[id='dosing.administration'] tbody tr")).to_have_count(2)
    expect(page.locator("section[id='patients.relative']")).to_contain_text("Anne Lie")
    check_accessibility(page)
    screenshot(page, "right-of-access")

    # and the download holds the PDF, the JSON and is logged
    with page.expect_download() as download:
        page.locator(f"a[href='/patients/{patient}/access-report/zip/']").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        names = archive.namelist()
        assert sorted(name.rsplit(".", 1)[-1] for name in names) == ["json", "pdf"]
        data = json.loads(archive.read(next(n for n in names if n.endswith(".json"))))
    assert data["patient"] == patient
    formats = set(
        AccessLog.objects.filter(patient_id=patient, what="access report").values_list(
            "details__format", flat=True
        )
    )
    assert formats == {"page", "zip"}


def test_the_clinic_lead_is_told_of_notes_held_back(page: Page, live_server, admitted, api_as):
    # given a patient with a care note at each level, written by the psychologist
    patient = admitted("oslo", coordinator="coordinator.oslo")["patient"]
    for level in ("team", "clinical", "psychology"):
        api_as("psychologist.oslo").post(
            f"/patients/{patient}/care-plan/notes",
            {"text": f"Notat for {level}", "visibility": level},
        )

    # when the clinic lead opens the right-of-access page
    login(page, live_server, "clinic_lead.oslo")
    page.goto(f"{live_server.url}/patients/{patient}/")
    page.locator(f"a[href='/patients/{patient}/access-report/']").click()

    # then the team note is there, the others are counted and not shown
    notes = page.locator("section[id='care.carenote']")
    expect(notes).to_contain_text("Notat for team")
    expect(page.locator("main")).not_to_contain_text("Notat for psychology")
    expect(page.locator("main")).not_to_contain_text("Notat for clinical")
    expect(page.locator("#withheld")).to_contain_text("2 rader er ikke med i denne rapporten")
    check_accessibility(page)
