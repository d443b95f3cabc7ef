"""The doctor, on a desktop, changes a prescription with the last four weeks in view: the
chart of prescribed against given above the form, and the same figures as a table."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from hab.core.models import AccessLog
from hab.dosing import charts, history
from hab.patients.models import Patient
from tests.dosing.dose_history_helpers import ago, build
from tests.e2e.conftest import check_accessibility, login, screenshot

pytestmark = pytest.mark.e2e


def nb(text: str) -> str:
    with translation.override("nb"):
        return translation.gettext(text)


def test_the_doctor_sees_four_weeks_of_doses_where_the_dose_is_changed(
    live_server, page: Page, admitted
):
    built = build(admitted()["patient"])
    patient = Patient.objects.get(pk=built.patient_id)
    with translation.override("nb"):
        summary = charts.summary(history.dose_history(patient), "dam")

    login(page, live_server, "doctor.oslo")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.locator(f"main a[href$='/prescribing/patients/{patient.pk}/new/']").click()
    expect(page).to_have_url(re.compile(rf"/prescribing/patients/{patient.pk}/new/$"))

    card = page.locator("section.dose-history")
    expect(card.get_by_role("heading", level=2)).to_have_text(
        nb("Doses in the last %(days)s days") % {"days": 28}
    )
    chart = card.locator("figure.dose-chart img").first
    expect(chart).to_have_attribute("alt", summary)
    expect(chart).to_be_visible()
    # The image was drawn and has its size: an SVG the browser could read.
    assert chart.evaluate("img => img.complete && img.naturalWidth") > 500
    box = chart.bounding_box()
    assert box is not None and box["width"] >= 800  # wide enough to read at 1280 px
    # The chart comes before the form, the form is still there to change the dose.
    expect(page.locator("form.form #id_dose_morning")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "dose-history")

    table_toggle = card.locator("details.dose-table summary").first
    table_toggle.click()
    table = card.locator("details.dose-table table").first
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(28)
    missed = table.locator("tbody tr", has=page.locator(f"time[datetime='{ago(24)}']"))
    expect(missed).to_contain_text(nb("Missed"))
    expect(missed).to_contain_text("137,5")
    withheld = table.locator("tbody tr", has=page.locator(f"time[datetime='{ago(23)}']"))
    expect(withheld).to_contain_text(nb("Withheld"))
    check_accessibility(page)

    # Opening the prescribing (the history on it) is logged as a read of the prescriptions.
    assert AccessLog.objects.filter(
        patient=patient, username="doctor.oslo", what="prescriptions"
    ).exists()
