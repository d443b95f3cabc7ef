"""An incident reported from the dosing board, and the clinic lead's follow-up.

The nurse opens a patient on the afternoon board, reports an incident from the dose panel
and comes back to the board; the incident is on the list. The clinic lead closes it with
a note and reads the month's summary. Expected texts are computed with nb().
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from hab.incidents.models import Incident, IncidentEvent
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb, open_afternoon_board, open_panel

pytestmark = pytest.mark.e2e


def nb_status(word: str) -> str:
    from django.utils import translation

    with translation.override("nb"):
        return translation.pgettext("incident status", word)


def test_an_incident_is_reported_from_the_board_and_followed_up(
    live_server,
    page: Page,
    staff,
    patient_on_prescription,
):
    patient = patient_on_prescription("Anne", "Berg", date(1979, 3, 14))

    login(page, live_server, "nurse.oslo")
    open_afternoon_board(page)
    panel = open_panel(page, patient)
    panel.get_by_role("link", name=nb("Report an incident")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(nb("Report an incident"))
    expect(page.locator("main")).to_contain_text(patient.full_name)
    page.locator("#id_kind").select_option("violence")
    page.locator("#id_severity").select_option("moderate")
    page.locator("#id_description").fill("Truet ansatt i venterommet etter beskjed om ventetid.")
    page.locator("#id_immediate_actions").fill("Skjermet, vekter tilkalt, rolig etter 10 min.")
    page.locator("#id_owner").select_option("clinic_lead.oslo")
    check_accessibility(page)
    screenshot(page, "incident-report")
    page.get_by_role("button", name=nb("Report")).click()

    expect(page).to_have_url(re.compile(r"/dosing/\?slot=afternoon"))
    incident = Incident.objects.get()
    assert (incident.kind, incident.patient_id, incident.reported_by.username) == (
        "violence",
        patient.pk,
        "nurse.oslo",
    )

    page.locator("header nav a[href$='/incidents/']").click()
    row = page.locator("table.list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(patient.full_name)
    expect(row).to_contain_text(nb_status("Open"))
    check_accessibility(page)
    screenshot(page, "incidents-list")

    page.context.clear_cookies()
    login(page, live_server, "clinic_lead.oslo")
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    page.locator("#id_status").select_option("closed")
    page.get_by_role("button", name=nb("Save follow-up")).click()
    expect(page.locator(".field-error")).to_contain_text(nb("Write what was done before closing."))
    assert IncidentEvent.objects.count() == 1

    page.locator("#id_status").select_option("closed")
    page.locator("#id_note").fill("Samtale med pasienten og kontaktperson; avtale om oppførsel.")
    page.get_by_role("button", name=nb("Save follow-up")).click()
    expect(page.locator(".page-head .badge")).to_have_text(nb_status("Closed"))
    check_accessibility(page)
    screenshot(page, "incident-detail")

    page.goto(f"{live_server.url}/incidents/summary/")
    expect(page.locator(".stats")).to_contain_text("1")
    check_accessibility(page)
    screenshot(page, "incidents-summary")
