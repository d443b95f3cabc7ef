"""A follow-up interview at HAB Oslo.

The coordinator opens the follow-up list, finds a patient admitted today whose baseline
interview is due, and fills in the interview made from the core instrument. An answer out
of range is refused beside its question and nothing is saved; corrected, the answers are
saved and shown. axe checks each page; the screenshots go to the guides. Expected texts
are computed with nb(): the follow-up strings may not be in the bokmål catalogue yet.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from hab.patients.models import Patient
from hab.research.models import Response
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb
from tests.helpers import days_ago
from tests.research.conftest import ensure_instrument

pytestmark = pytest.mark.e2e


@pytest.fixture
def lena(eligible, api_as, staff) -> Patient:
    """Lena Moe, admitted at HAB Oslo today, with the coordinator as her los."""
    ensure_instrument()
    made = eligible("oslo", given_name="Lena", family_name="Moe")
    response = api_as("clinic_lead.oslo").post(
        "/episodes",
        {
            "patient": made["patient"],
            "clinic": "oslo",
            "admitted_on": str(days_ago(0)),
            "coordinator": "coordinator.oslo",
        },
    )
    assert response.status_code == 201, response.content
    return Patient.objects.get(pk=made["patient"])


ANSWERS = {
    "heroin_days": "45",  # out of range: refused first
    "other_opioid_days": "4",
    "benzodiazepine_days": "2",
    "stimulant_days": "0",
    "alcohol_days": "1",
    "overdose_count": "1",
    "crime_days": "10",
    "physical_health": "4",
    "mental_health": "3",
    "quality_of_life": "3",
    "hospital_days": "0",
}
CHOICES = {
    "injected": "yes",
    "overdose": "yes",
    "arrested": "no",
    "housing": "3",
    "activity": "5",
    "relatives_contact": "yes",
}


def test_a_coordinator_does_the_baseline_interview(live_server, page: Page, lena: Patient):
    login(page, live_server, "coordinator.oslo")
    page.locator("header nav a[href$='/research/']").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(nb("Follow-up interviews"))
    page.get_by_role("link", name=re.compile(re.escape(nb("Only mine (I coordinate)")))).click()
    row = page.locator("table.list tbody tr", has_text=lena.full_name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(nb("Baseline"))
    check_accessibility(page)
    screenshot(page, "followup-list")

    row.get_by_role("link", name=re.compile(re.escape(nb("Interview")))).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(lena.full_name)
    for code, value in ANSWERS.items():
        page.locator(f"#id_{code}").fill(value)
    for code, value in CHOICES.items():
        page.locator(f'input[name="{code}"][value="{value}"]').check()
    page.locator("#id_comment").fill("Ønsket å ta intervjuet etter dosen.")
    page.get_by_role("button", name=nb("Save the answers")).click()

    error = page.locator("#id_heroin_days_error")
    expect(error).to_be_visible()
    expect(page.locator("#id_heroin_days")).to_have_attribute(
        "aria-describedby", re.compile("id_heroin_days_error")
    )
    assert not Response.objects.exists()
    check_accessibility(page)
    screenshot(page, "followup-form")

    page.locator("#id_heroin_days").fill("22")
    page.get_by_role("button", name=nb("Save the answers")).click()

    expect(page).to_have_url(re.compile(r"/research/responses/\d+/$"))
    saved = Response.objects.get()
    answers = {a.item.code: a.value_int for a in saved.answers.select_related("item")}
    assert (answers["heroin_days"], answers["housing"], answers["injected"]) == (22, 3, 1)
    assert saved.recorded_by.username == "coordinator.oslo"
    expect(page.locator("main")).to_contain_text("22")
    check_accessibility(page)
