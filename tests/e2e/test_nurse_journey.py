"""A nurse at HAB Oslo finds a patient, opens the record and switches the language."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import NB_READY, check_accessibility, login, screenshot

pytestmark = pytest.mark.e2e


def test_nurse_finds_and_opens_a_patient_record(live_server, page: Page, make_patient):
    kari = make_patient("oslo", given_name="Kari", family_name="Nordmann")
    make_patient("oslo", given_name="Ola", family_name="Hansen")

    # The login page, in Norwegian by default.
    page.goto(f"{live_server.url}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    if NB_READY:
        expect(page.locator("h1")).to_contain_text("Logg inn")
        expect(page.locator("main button[type=submit]")).to_have_text("Logg inn")
    check_accessibility(page)
    screenshot(page, "login")

    # Logging in lands a nurse on the dosing board; the patient list is one click away.
    login(page, live_server, "nurse.oslo")
    expect(page).to_have_url(re.compile(r"/dosing/$"))
    page.locator("nav a[href='/patients/']").click()
    expect(page).to_have_url(re.compile(r"/patients/$"))
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.locator("h1")).to_contain_text("HAB Oslo")
    if NB_READY:
        expect(page.locator("h1")).to_contain_text("Pasienter")
        expect(page.get_by_role("link", name="Pasienter")).to_have_attribute("aria-current", "page")
        expect(page.locator("form.search button[type=submit]")).to_have_text("Søk")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Nordmann, Kari")).to_be_visible()
    expect(results.get_by_role("link", name="Hansen, Ola")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "patient-list")

    # Live search: htmx swaps #results in place, the page itself is not reloaded.
    page.evaluate("window.habNoReload = true")
    with page.expect_response(
        lambda r: "/patients/" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.locator("#q").press_sequentially("Nordm")
    expect(results.get_by_role("link", name="Hansen, Ola")).to_have_count(0)
    expect(results.get_by_role("link", name="Nordmann, Kari")).to_be_visible()
    assert page.evaluate("window.habNoReload") is True, "the search reloaded the whole page"
    expect(page).to_have_url(re.compile(r"[?&]q=Nordm"))

    # The record.
    results.get_by_role("link", name="Nordmann, Kari").click()
    expect(page).to_have_url(re.compile(rf"/patients/{kari.pk}/$"))
    expect(page.get_by_role("heading", level=1, name="Kari Nordmann")).to_be_visible()
    consents = page.locator("section.card").filter(has=page.locator("table.list.compact"))
    expect(consents.get_by_role("heading", level=2)).to_be_visible()
    expect(consents.locator("tbody tr")).to_have_count(3)
    if NB_READY:
        expect(page.get_by_role("heading", level=2, name="Samtykker")).to_be_visible()
        expect(page.get_by_role("heading", level=2, name="Pårørende")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "patient-record")

    # English, from the header button; the choice sticks to later pages.
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(rf"/patients/{kari.pk}/$"))
    expect(page.get_by_role("heading", level=1, name="Kari Nordmann")).to_be_visible()
    expect(page.get_by_role("link", name="Patients", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Consents")).to_be_visible()
    expect(page.get_by_role("button", name="Norsk")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "patient-record-en")

    page.get_by_role("link", name="Patients", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Patients")


def test_nurse_does_not_see_another_clinics_patients(live_server, page: Page, make_patient):
    make_patient("oslo", given_name="Kari", family_name="Nordmann")
    bergen = make_patient("bergen", given_name="Berit", family_name="Vestland")

    login(page, live_server, "nurse.oslo")
    page.goto(f"{live_server.url}/patients/")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Nordmann, Kari")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Vestland")

    # Searching for her does not find her either.
    page.goto(f"{live_server.url}/patients/?q=Vestland")
    expect(results.locator("table")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text("Berit")

    # Her record is "not found", exactly like a record that does not exist.
    response = page.goto(f"{live_server.url}/patients/{bergen.pk}/")
    assert response is not None and response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.locator("main")).not_to_contain_text("Vestland")
    other_clinic_page = page.locator("main").inner_text()
    check_accessibility(page)

    missing = page.goto(f"{live_server.url}/patients/{bergen.pk + 1000}/")
    assert missing is not None and missing.status == 404
    assert page.locator("main").inner_text() == other_clinic_page
