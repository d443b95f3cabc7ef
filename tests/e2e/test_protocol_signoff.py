"""In the browser: the clinic lead proposes a new protocol version and the doctor named in
it confirms it with their password; until then the clinic doses by the version before."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hab.core.models import Clinic
from hab.prescribing.selectors import active_protocol
from tests.conftest import PASSWORD
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.prescribing.helpers import in_force

pytestmark = pytest.mark.e2e


def test_the_lead_proposes_a_version_and_the_doctor_confirms_it(live_server, page: Page, staff):
    in_force(staff, "oslo", demo_values=True)
    oslo = Clinic.objects.get(code="oslo")

    # The clinic lead asks for 4 h between doses, names the doctor and saves.
    login(page, live_server, "clinic_lead.oslo")
    page.goto(f"{live_server.url}/prescribing/protocol/")
    page.locator("#id_doctor").select_option("doctor.oslo")
    page.locator("#id_reason").fill("Lengre intervall etter to hendelser")
    page.locator("#id_min_interval_minutes").fill("240")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("#pending")).to_be_visible()
    expect(page.locator("#pending form")).to_have_count(0)  # the lead cannot confirm
    assert active_protocol(oslo.pk).version == 1

    # The doctor sees what changes, and confirms with their own password.
    page.context.clear_cookies()
    login(page, live_server, "doctor.oslo")
    page.goto(f"{live_server.url}/prescribing/protocol/")
    diff = page.locator("#protocol-diff tbody tr")
    expect(diff).to_have_count(1)
    expect(diff.locator("td")).to_have_text(["180", "240"])
    check_accessibility(page)
    screenshot(page, "protocol-confirm")
    page.locator("#id_password").fill("not-my-password")
    page.locator("#pending form button[type=submit]").click()
    expect(page.locator("#id_password_error")).to_be_visible()
    assert active_protocol(oslo.pk).version == 1
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#pending form button[type=submit]").click()

    expect(page.locator("#pending")).to_have_count(0)
    assert active_protocol(oslo.pk).version == 2
    assert active_protocol(oslo.pk).min_interval_minutes == 240
