"""In the browser: a doctor sets up two-factor login and logs in with the code; the main
pages run under the Content-Security-Policy without a single violation."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from hab.core.models import Membership
from hab.core.roles import Role
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb
from tests.helpers import code_for

pytestmark = pytest.mark.e2e

# Collects what the browser reports about the CSP, before any page script runs.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def watch_csp(page: Page) -> list[str]:
    reported: list[str] = []
    page.add_init_script(_WATCH_CSP)
    page.on(
        "console",
        lambda m: reported.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return reported


def violations(page: Page, console: list[str]) -> list[str]:
    return console + page.evaluate("window.__cspViolations || []")


def test_a_doctor_sets_up_two_factor_login_and_logs_in_with_the_code(
    live_server, page: Page, staff, settings
):
    settings.HAB_REQUIRE_2FA = True
    console = watch_csp(page)

    # The password first: the doctor is sent to set up the app before anything else.
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("doctor.oslo")
    page.locator("#id_password").fill("test-pass-2026")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login/enrol/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(nb("Set up two-factor login"))
    expect(page.locator(".qr-code svg")).to_be_visible()
    secret = page.locator("code.secret").inner_text()
    assert len(secret.replace(" ", "")) == 32
    check_accessibility(page)
    screenshot(page, "two-factor-enrol")

    # A wrong code first, then the app's code.
    page.locator("#id_code").fill("000000")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#code-error")).to_be_visible()
    device = TOTPDevice.objects.get(user=staff["doctor.oslo"])
    device.throttle_reset()
    page.locator("#id_code").fill(code_for(device))
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))
    assert TOTPDevice.objects.get(user=staff["doctor.oslo"]).confirmed

    # Next time: password, then the code.
    page.locator("header form[action='/logout/'] button").click()
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").fill("doctor.oslo")
    page.locator("#id_password").fill("test-pass-2026")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login/code/$"))
    check_accessibility(page)
    screenshot(page, "two-factor-code")
    device.refresh_from_db()
    page.locator("#id_code").fill(code_for(device, steps_ahead=1))
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))

    assert violations(page, console) == []


PAGES = {
    "nurse.oslo": ["/dosing/", "/patients/", "/stock/", "/incidents/", "/operations/"],
    "clinic_lead.oslo": ["/intake/capacity/", "/care/", "/evaluation/", "/prescribing/protocol/"],
    "researcher.oslo": ["/research/export/"],
}


@pytest.mark.parametrize("username", list(PAGES))
def test_the_main_pages_break_no_content_security_rule(live_server, page: Page, staff, username):
    console = watch_csp(page)
    login(page, live_server, username)

    for path in PAGES[username]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert violations(page, console) == [], path


def test_the_clinic_switcher_works_without_inline_script(live_server, page: Page, staff, clinics):
    # A nurse who works at both clinics switches with the select alone (hab.js).
    Membership.objects.create(user=staff["nurse.oslo"], clinic=clinics["bergen"], role=Role.NURSE)
    console = watch_csp(page)
    login(page, live_server, "nurse.oslo")
    switch = page.locator(".clinic-switch select")
    other = "oslo" if switch.input_value() == "bergen" else "bergen"

    switch.select_option(other)

    expect(page.locator(".clinic-switch select")).to_have_value(other)
    expect(page.locator(".clinic-switch option[selected]")).to_have_attribute("value", other)
    assert violations(page, console) == []
