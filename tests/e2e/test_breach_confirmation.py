"""A correction that breaks the day's limits, in the browser on a tablet: the page lists
every breach, asks for the confirmation with a reason, and the confirmed correction opens
an incident (issue 16, finding 3)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from hab.dosing.models import Administration
from hab.incidents.models import Incident
from tests.dosing.helpers import TODAY
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb

pytestmark = pytest.mark.e2e


def test_a_nurse_confirms_a_correction_over_the_daily_maximum(
    live_server,
    page: Page,
    patient_on_prescription,
):
    patient = patient_on_prescription("Kari", "Nordmann", date(1981, 6, 2))
    # Yesterday's afternoon dose was recorded as 200 mg; 900 mg was given.
    record = Administration.objects.get(
        patient=patient, day=TODAY - timedelta(days=1), slot="afternoon"
    )
    page.set_viewport_size({"width": 1024, "height": 768})  # the dosing room's tablet

    login(page, live_server, "nurse.oslo")
    page.goto(f"{live_server.url}/dosing/records/{record.pk}/correct/")
    expect(page.locator("#id_confirm_breach")).to_have_count(0)
    page.locator("#id_dose_mg").fill("900")
    page.locator("#id_reason").fill("Journalført feil: 900 mg ble gitt")
    page.get_by_role("button", name=nb("Save")).click()

    # Nothing is saved yet: every breach is listed, and the confirmation asked for.
    errors = page.locator(".field-error")
    expect(errors.first).to_be_visible()
    # Bokmål groups thousands with a (no-break) space: "1 100 mg".
    expect(page.locator("main")).to_contain_text(re.compile(r"1\s100 mg"))
    expect(page.locator("main")).to_contain_text("450 mg")
    assert Administration.objects.filter(corrects=record).count() == 0
    page.locator("#id_confirm_breach").check()
    page.locator("#id_breach_reason").fill("Dobbel dose trukket opp ved en feil")
    check_accessibility(page)
    screenshot(page, "correction-breach")
    page.get_by_role("button", name=nb("Save")).click()

    expect(page).to_have_url(re.compile(r"/dosing/"))
    notice = nb(
        "Breach confirmed: an incident is opened, and the patient's next dose of this "
        "medication waits for a doctor's review."
    )
    expect(page.locator(".messages")).to_contain_text(notice)
    corrected = Administration.objects.get(corrects=record)
    assert (float(corrected.dose_mg), corrected.breach_reason) == (
        900,
        "Dobbel dose trukket opp ved en feil",
    )
    assert Incident.objects.get().administration == corrected
