"""A coordinator registers a patient; the clinic lead reads who touched the record."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from hab.core.models import ACCESS_WHAT_LABELS, AccessLog
from hab.patients.models import Consent, Patient, Relative
from tests.conftest import synthetic_id
from tests.e2e.conftest import NB_READY, check_accessibility, login, screenshot
from tests.e2e.helpers import nb

pytestmark = pytest.mark.e2e


def wrong_check_digit(value: str) -> str:
    """The id with its second check digit changed: right length, right date, wrong sum."""
    return value[:-1] + str((int(value[-1]) + 1) % 10)


def test_coordinator_registers_a_patient_and_the_lead_reads_the_access_log(
    live_server, page: Page, staff
):
    login(page, live_server, "coordinator.oslo")
    page.locator("main a[href$='/patients/new/']").click()
    expect(page).to_have_url(re.compile(r"/patients/new/$"))
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    before = Patient.objects.count()
    valid_id = synthetic_id()

    # A national id with a wrong check digit is refused beside its field.
    page.locator("#id_national_id").fill(wrong_check_digit(valid_id))
    page.locator("#id_given_name").fill("Nora")
    page.locator("#id_family_name").fill("Fjellheim")
    page.locator("#id_phone").fill("+47 912 34 567")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/patients/new/$"))
    field = page.locator(".field", has=page.locator("#id_national_id"))
    expect(field).to_have_class(re.compile(r"\bhas-error\b"))
    error = field.locator(".field-error")
    expect(error).to_have_text(nb("The national id is not valid: the second check digit is wrong."))
    expect(page.locator(".field-error")).to_have_count(1)
    expect(page.locator("#id_national_id")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_given_name")).to_have_value("Nora")
    assert Patient.objects.count() == before, "a patient was created from an invalid id"
    check_accessibility(page)
    screenshot(page, "patient-form-error")

    # With a valid id the patient is registered and the record opens.
    page.locator("#id_national_id").fill(valid_id)
    page.locator("form.form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+/$"))
    assert Patient.objects.count() == before + 1
    patient = Patient.objects.get(national_id=valid_id)
    assert (patient.clinic.code, patient.created_by.username) == ("oslo", "coordinator.oslo")
    assert page.url.endswith(f"/patients/{patient.pk}/")
    expect(page.locator(".messages")).to_contain_text(nb("The patient is registered."))
    expect(page.get_by_role("heading", level=1, name="Nora Fjellheim")).to_be_visible()

    # A relative.
    page.locator(f"main a[href$='/patients/{patient.pk}/relatives/new/']").click()
    page.locator("#id_name").fill("Per Fjellheim")
    page.locator("#id_relation").fill("bror")
    page.locator("#id_phone").fill("+47 987 65 432")
    page.locator("#id_is_next_of_kin").check()
    page.locator("form.form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(nb("The relative is saved."))
    relatives = page.locator("ul.relatives")
    expect(relatives).to_contain_text("Per Fjellheim")
    expect(relatives).to_contain_text("bror")
    expect(relatives).to_contain_text(nb("next of kin"))
    relative = Relative.objects.get(patient=patient)
    assert (relative.name, relative.is_next_of_kin) == ("Per Fjellheim", True)

    # Research consent withdrawn.
    consent_form = page.locator("form.inline-form")
    consent_form.locator("#id_kind").select_option("research")
    consent_form.locator("#id_given").select_option("0")
    consent_form.locator("#id_note").fill("Vil ikke delta i forskning")
    consent_form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(nb("The consent is recorded."))
    research = page.locator("table.list.compact tr", has_text=nb("Research"))
    expect(research.locator(".badge.warn")).to_have_text(nb("Withdrawn"))
    expect(page.locator("details")).to_contain_text("Vil ikke delta i forskning")
    consent = Consent.objects.get(patient=patient)
    assert (consent.kind, consent.given, consent.recorded_by.username) == (
        "research",
        False,
        "coordinator.oslo",
    )
    if NB_READY:
        expect(page.get_by_role("heading", level=2, name="Samtykker")).to_be_visible()
        expect(page.get_by_role("heading", level=2, name="Pårørende")).to_be_visible()
    # The coordinator may not read the access log.
    expect(page.locator("a[href$='/access-log/']")).to_have_count(0)

    # The clinic lead opens the access log from the record.
    page.locator("header form[action$='/logout/'] button").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    login(page, live_server, "clinic_lead.oslo")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    log_button = page.locator(f"a.button[href$='/patients/{patient.pk}/access-log/']")
    if NB_READY:
        expect(log_button).to_have_text("Tilgangslogg")
    log_button.click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/access-log/$"))
    # Every read of the log asks why; the reason goes into the log itself.
    page.locator("#id_reason").fill("Kontroll av tilganger etter registrering")
    page.locator("main form button[type=submit].primary").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nora Fjellheim")
    if NB_READY:
        expect(page.get_by_role("heading", level=1)).to_contain_text("Tilgangslogg")

    rows = page.locator("table.list tbody tr")
    coordinator_rows = rows.filter(has_text="coordinator.oslo")
    logged = AccessLog.objects.filter(patient=patient, username="coordinator.oslo")
    assert logged.count() >= 5  # registered, relative, consent and the record read between
    expect(coordinator_rows).to_have_count(logged.count())
    for what in ("patient", "relative", "consent", "record"):
        what_cell = page.get_by_role("cell", name=nb(ACCESS_WHAT_LABELS[what]), exact=True)
        expect(coordinator_rows.filter(has=what_cell).first).to_be_visible()
    # Newest first: the lead's own reading of the log is on top.
    expect(rows.first).to_contain_text("clinic_lead.oslo")
    expect(rows.first).to_contain_text(nb(ACCESS_WHAT_LABELS["access log"]))
    check_accessibility(page)
    screenshot(page, "access-log")
