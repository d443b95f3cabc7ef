"""A name pasted with an invisible character is refused beside its field, in bokmål."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from hab.patients.models import Patient
from tests.conftest import synthetic_id
from tests.e2e.conftest import check_accessibility, login

pytestmark = pytest.mark.e2e


def test_an_invisible_or_letterless_name_is_refused_beside_the_field(
    live_server, page: Page, staff
):
    login(page, live_server, "coordinator.oslo")
    page.goto(f"{live_server.url}/patients/new/")
    page.locator("#id_national_id").fill(synthetic_id())
    # As pasted from a message that reverses the writing direction.
    page.locator("#id_given_name").fill("\u202earoN")
    page.locator("#id_family_name").fill("--")
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()

    expect(page).to_have_url(re.compile(r"/patients/new/$"))
    given = page.locator(".field", has=page.locator("#id_given_name"))
    family = page.locator(".field", has=page.locator("#id_family_name"))
    expect(given.locator(".field-error")).to_contain_text("usynlig tegn")
    expect(given.locator(".field-error")).to_contain_text("U+202E")
    expect(family.locator(".field-error")).to_have_text("Et navn må inneholde minst én bokstav.")
    expect(page.locator("#id_given_name")).to_have_attribute("aria-invalid", "true")
    assert not Patient.objects.exists()
    check_accessibility(page)

    # Typed again, with "Å" as A and a combining ring: stored as the one letter.
    page.locator("#id_given_name").fill("Nora")
    page.locator("#id_family_name").fill("A\u030asheim")
    page.locator("form.form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/patients/\d+/$"))
    assert Patient.objects.get().family_name == "\u00c5sheim"
