"""Issue 16 in the dosing room, as the people there use it.

The nurse works by touch on the room's tablet, in landscape and in portrait: the
first day's top-up after the first injection, a dose reduced for suspected intoxication,
and a refusal with more than one reason. The doctor, at a desk, reviews a patient the
board stopped after days without a dose, and the board then allows the first-day dose.

Every test runs at 15:00 today, inside the afternoon session, so the doses are neither
late nor early whatever the hour the suite runs at (tests/clock.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from hab.dosing.models import Administration, DoseReview
from hab.patients.models import Patient
from tests.dosing.helpers import TODAY, local
from tests.e2e.conftest import (
    check_accessibility,
    login,
    screenshot,
    watched_page,
)
from tests.e2e.helpers import admit, assert_apart, history_until, nb, reason_nb, recorded_nb, row_of
from tests.e2e.tablet import assess, tap_afternoon_board, tap_login, type_into

AFTERNOON = local(TODAY, 15)

pytestmark = [pytest.mark.e2e, pytest.mark.clock(AFTERNOON)]

# The dosing room's tablet, turned either way.
TABLETS = [
    pytest.param({"width": 1024, "height": 768}, id="landscape"),
    pytest.param({"width": 768, "height": 1024}, id="portrait"),
]


@pytest.fixture(params=TABLETS)
def tablet(browser: Browser, request) -> Iterator[Page]:
    """A touch screen in the room's sizes, watched like the ``page`` fixture."""
    with watched_page(browser, viewport=request.param, has_touch=True) as page:
        yield page


def landscape(page: Page) -> bool:
    return page.viewport_size["width"] > page.viewport_size["height"]


def tap_open(page: Page, patient: Patient) -> Locator:
    row_of(page, patient).locator(".act button.primary").tap()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(patient.full_name)
    return panel


def test_a_nurse_tops_up_the_first_injection_on_the_tablet(
    live_server,
    tablet: Page,
    staff,
    protocol,
):
    # given: a new patient whose injections begin this afternoon, nothing given before
    patient = admit(
        "Ida",
        "Holm",
        date(1991, 4, 17),
        staff,
        doses={"afternoon": 30},
        daily_max=60,
        at=local(TODAY, 10),
    )
    page = tablet
    tap_login(page, live_server, "nurse.oslo")
    tap_afternoon_board(page)
    row = row_of(page, patient)
    expect(row).to_have_class(re.compile(r"\bstate-due\b"))
    expect(row.locator(".badge.warn")).to_have_text(f"{nb('Max now')} 15 mg")

    # when: the first injection, 15 mg
    panel = tap_open(page, patient)
    form = panel.locator("form.dose-form")
    expect(form.locator("input[name=dose_mg]")).to_have_value("15")
    assess(form)
    type_into(form.locator("input[name=dose_mg]"), "15")
    form.locator("button[type=submit].primary.big").tap()

    # then: recorded, and the panel offers the top-up, once
    expect(panel.locator("p.message[role=status]")).to_contain_text(recorded_nb("15"))
    top_up = panel.locator("form.top-up")
    expect(top_up.get_by_role("heading", level=3)).to_have_text(
        nb("Top-up after the first injection")
    )
    expect(top_up.locator("input[name=dose_mg]")).to_have_value("15")
    expect(row).to_have_class(re.compile(r"\bstate-observing\b"))
    # The row's observation time stays readable beside its buttons.
    assert_apart(row.locator(".badge.warn"), row.locator(".act button").first)

    # when: the patient tolerated it; POSS again, and the top-up
    top_up.locator("input[name=sedation][value='1']").tap()
    button = top_up.get_by_role("button", name=nb("Record the top-up"))
    expect(button).to_be_visible()
    if landscape(page):
        check_accessibility(page)
        screenshot(page, "dose-top-up")
    button.tap()

    # then: the top-up is recorded, not offered again, and the board shows the dose
    expect(panel.locator("p.message[role=status]")).to_contain_text(recorded_nb("15"))
    expect(panel.locator("form.top-up")).to_have_count(0)
    expect(panel.get_by_role("heading", name=nb("Top-up after the first injection"))).to_have_count(
        0
    )
    expect(panel.get_by_role("button", name=nb("Record the top-up"))).to_have_count(0)
    expect(row).to_have_class(re.compile(r"\bstate-observing\b"))
    expect(row.locator(".badge.warn")).to_contain_text(nb("Observing until"))
    assert list(
        Administration.objects.filter(patient=patient, day=TODAY)
        .order_by("pk")
        .values_list("dose_mg", "top_up", "nurse__username")
    ) == [(15, False, "nurse.oslo"), (15, True, "nurse.oslo")]

    # and a second look at the patient does not offer it either
    page.reload()
    tap_afternoon_board(page)
    row_of(page, patient).locator(".act button.link").tap()
    expect(panel.get_by_role("heading", level=2)).to_have_text(patient.full_name)
    expect(panel.locator("form.observation")).to_be_visible()
    expect(panel.locator("form.top-up")).to_have_count(0)


def test_suspected_intoxication_halves_the_dose_on_the_tablet(
    live_server,
    tablet: Page,
    patient_on_prescription,
):
    # given: a patient in maintenance, 200 mg this afternoon
    patient = patient_on_prescription("Tor", "Vik", date(1983, 1, 8))
    page = tablet
    tap_login(page, live_server, "nurse.oslo")
    tap_afternoon_board(page)

    # when: suspected intoxication, and the full dose asked for
    panel = tap_open(page, patient)
    form = panel.locator("form.dose-form")
    assess(form, intoxication="suspected")
    expect(form.locator("input[name=dose_mg]")).to_have_value("200")
    form.locator("button[type=submit].primary.big").tap()

    # then: the reduction's reason beside the dose, and nothing recorded
    dose_field = panel.locator(".field", has=page.locator("input[name=dose_mg]"))
    expect(dose_field).to_have_class(re.compile(r"\bhas-error\b"))
    errors = dose_field.locator(".field-error")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text(reason_nb("intoxication_reduce", pct=50))
    expect(errors).to_contain_text("100")
    expect(panel.locator("input[name=intoxication][value=suspected]")).to_be_checked()
    expect(panel.locator("p.message")).to_have_count(0)
    expect(row_of(page, patient)).to_have_class(re.compile(r"\bstate-due\b"))
    assert not Administration.objects.filter(patient=patient, day=TODAY).exists()

    # when: half the dose
    type_into(panel.locator("input[name=dose_mg]"), "100")
    panel.locator("form.dose-form button[type=submit].primary.big").tap()

    # then: recorded, with the assessment
    expect(panel.locator("p.message[role=status]")).to_contain_text(recorded_nb("100"))
    expect(row_of(page, patient)).to_have_class(re.compile(r"\bstate-observing\b"))
    record = Administration.objects.get(patient=patient, day=TODAY)
    assert (record.dose_mg, record.intoxication, record.slot) == (100, "suspected", "afternoon")


def test_a_refusal_on_the_tablet_lists_every_reason(
    live_server,
    tablet: Page,
    patient_on_prescription,
):
    patient = patient_on_prescription("Eva", "Strand", date(1977, 12, 1))
    page = tablet
    tap_login(page, live_server, "nurse.oslo")
    tap_afternoon_board(page)

    # when: breath alcohol over the limit, and obviously intoxicated
    panel = tap_open(page, patient)
    form = panel.locator("form.dose-form")
    assess(form, alcohol="0,5", intoxication="obvious")
    form.locator("button[type=submit].primary.big").tap()

    # then: both reasons, beside the dose, and nothing recorded
    errors = panel.locator(".field", has=page.locator("input[name=dose_mg]")).locator(
        ".field-error p"
    )
    expect(errors).to_have_text(
        [reason_nb("alcohol", value=0.5, max=0.2), reason_nb("intoxication_block")],
        use_inner_text=True,
    )
    expect(errors.last).to_be_visible()
    expect(panel.locator("input[name=intoxication][value=obvious]")).to_be_checked()
    expect(row_of(page, patient)).to_have_class(re.compile(r"\bstate-due\b"))
    assert not Administration.objects.filter(patient=patient, day=TODAY).exists()


def test_a_doctor_reviews_a_patient_the_board_stopped(
    live_server,
    page: Page,
    staff,
    protocol,
):
    # given: the last dose five days ago; the prescription was written the day after it,
    # before the absence reached the block, so it is no review of it
    patient = admit(
        "Ola",
        "Bakke",
        date(1974, 8, 21),
        staff,
        doses={"morning": 200, "afternoon": 200},
        daily_max=450,
        at=local(TODAY - timedelta(days=4), 12),
    )
    history_until(patient, first=10, last=5)
    missed = reason_nb("missed_days", days=4)

    login(page, live_server, "doctor.oslo")
    page.locator("header nav a[href$='/dosing/']").click()
    page.locator("nav.tabs a[href^='?slot=afternoon']").click()
    expect(page).to_have_url(re.compile(r"/dosing/\?slot=afternoon"))
    row = row_of(page, patient)
    expect(row).to_have_class(re.compile(r"\bstate-blocked\b"))
    expect(row.locator(".reasons li")).to_contain_text([missed])

    # when: the doctor opens the patient and follows "Review as the doctor"
    row.locator(".act button").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(patient.full_name)
    expect(panel.locator(".reasons li")).to_contain_text([missed])
    expect(panel.locator("form.dose-form")).to_have_count(0)
    check_accessibility(page)
    panel.get_by_role("link", name=nb("Review as the doctor")).click()

    expect(page).to_have_url(re.compile(rf"/dosing/patients/{patient.pk}/review/\?group=dam$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        nb("Dose review for %(name)s") % {"name": patient.full_name}
    )
    expect(page.get_by_label(nb("Medication"))).to_have_value("dam")
    page.get_by_label(nb("Assessment and plan")).fill(
        "Sett i dag: ikke påvirket, vil fortsette. Ny oppstart etter førstedagsreglene."
    )
    check_accessibility(page)
    screenshot(page, "dose-review")
    page.get_by_role("button", name=nb("Save")).click()

    # then: saved, and the board allows the first-day dose
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(
        nb("Review recorded: the next dose follows the protocol's restart limits.")
    )
    review = DoseReview.objects.get(patient=patient)
    assert (review.group, review.doctor.username) == ("dam", "doctor.oslo")

    page.locator("header nav a[href$='/dosing/']").click()
    page.locator("nav.tabs a[href^='?slot=afternoon']").click()
    expect(row).to_have_class(re.compile(r"\bstate-due\b"))
    expect(row.locator(".badge.warn")).to_have_text(f"{nb('Max now')} 15 mg")
    row.locator(".act button.primary").click()
    expect(panel.locator("form.dose-form input[name=dose_mg]")).to_have_value("15")
    expect(panel.locator(".reasons li")).not_to_contain_text([missed])
    assert not Administration.objects.filter(patient=patient, day=TODAY).exists()
