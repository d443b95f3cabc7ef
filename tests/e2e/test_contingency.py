"""The contingency routine in the browser: the nurse downloads the paper list from the
board, and after downtime types yesterday's paper line in."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from hab.core import clock
from hab.dosing.models import Administration
from tests.dosing.helpers import TODAY, history, local
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb

pytestmark = pytest.mark.e2e


def test_the_paper_list_is_downloaded_and_typed_in_afterwards(
    live_server,
    page: Page,
    staff,
    patient_on_prescription,
):
    patient = patient_on_prescription("Anne", "Berg", date(1979, 3, 14), history_days=0)
    yesterday = TODAY - timedelta(days=1)
    # Yesterday morning's dose was given from the paper list while HAB was down.
    history(patient.pk, 10, skip=frozenset({(yesterday, "morning")}))

    login(page, live_server, "nurse.oslo")
    page.locator("header nav a[href$='/dosing/']").click()
    page.get_by_role("link", name=nb("Contingency dosing list")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(nb("Contingency dosing list"))
    check_accessibility(page)
    screenshot(page, "contingency-list")
    with page.expect_download() as download:
        page.get_by_role("button", name=nb("Download the PDF")).click()
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    page.goto(f"{live_server.url}/dosing/back-entry/?date={yesterday:%Y-%m-%d}&slot=morning")
    entry = page.locator(f"#entry-{patient.pk}")
    expect(entry).to_contain_text(patient.full_name)
    prefix = f"#id_p{patient.pk}-"
    entry.locator(prefix + "status").select_option("given")
    entry.locator(prefix + "dose_mg").fill("200")
    entry.locator(prefix + "time").fill("09:12")
    entry.locator(prefix + "given_by").select_option("nurse.oslo")
    entry.locator(prefix + "sedation").select_option("1")
    entry.locator(prefix + "breath_alcohol_permille").fill("0")
    check_accessibility(page)
    screenshot(page, "back-entry")
    entry.get_by_role("button", name=nb("Save")).click()

    expect(page.locator(".messages")).to_contain_text(patient.full_name)
    expect(page.locator(f"#entry-{patient.pk}")).to_have_count(0)
    record = Administration.objects.get(patient=patient, day=yesterday, slot="morning")
    assert record.back_entered_by == staff["nurse.oslo"]
    assert record.given_at == local(yesterday, 9, 12)
    assert clock.now() >= record.back_entered_at
    assert re.search(r"/dosing/back-entry/", page.url)
