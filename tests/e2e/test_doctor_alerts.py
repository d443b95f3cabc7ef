"""Issue 17: "Varsle lege" from the tablet, the doctor's "awaiting review" start page,
and the stop-dose hold that only a doctor lifts.

The nurse works by touch on the room's tablet in landscape (1024x768); the doctor at a
desk. Every test runs at 15:00 today, inside the afternoon session (tests/clock.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from hab.dosing.models import Administration, DoctorAlert, DoseHold, DoseHoldLift, DoseReview
from hab.patients.models import Patient
from tests.dosing.helpers import TODAY, local
from tests.e2e.conftest import check_accessibility, login, screenshot, watched_page
from tests.e2e.helpers import admit, history_until, nb, reason_nb, row_of
from tests.e2e.tablet import tap_afternoon_board, tap_login

AFTERNOON = local(TODAY, 15)

pytestmark = [pytest.mark.e2e, pytest.mark.clock(AFTERNOON)]


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    """The dosing room's touch tablet in landscape."""
    with watched_page(browser, viewport={"width": 1024, "height": 768}, has_touch=True) as page:
        yield page


@pytest.fixture
def desk(browser: Browser) -> Iterator[Page]:
    """The doctor's desk: a second browser, logged in separately."""
    with watched_page(browser, viewport={"width": 1280, "height": 800}) as page:
        yield page


def stayed_away(staff) -> Patient:
    """Last dosed five days ago, prescribed before the absence reached the block: the
    board stops the dose until a doctor reviews."""
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
    return patient


def test_the_nurse_notifies_the_doctor_who_reviews_from_the_start_page(
    live_server,
    tablet: Page,
    desk: Page,
    staff,
    protocol,
):
    patient = stayed_away(staff)
    nurse_name = staff["nurse.oslo"].get_full_name()

    # given: the nurse on the tablet sees the blocked row
    tap_login(tablet, live_server, "nurse.oslo")
    tap_afternoon_board(tablet)
    row = row_of(tablet, patient)
    expect(row).to_have_class(re.compile(r"\bstate-blocked\b"))
    expect(row.locator(".reasons li")).to_contain_text([reason_nb("missed_days", days=4)])

    # when: she taps "Varsle lege"
    button = row.get_by_role("button", name=re.compile(nb("Notify the doctor")))
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44
    button.tap()

    # then: the answer is on the row, and the doctor has the alert
    answer = nb("The doctor was alerted at %(time)s.") % {"time": "15:00"}
    expect(row.locator(".alerted")).to_have_text(f"{answer} {nb('Awaiting the doctor.')}")
    expect(row.get_by_role("button", name=re.compile(nb("Notify the doctor")))).to_have_count(0)
    alert = DoctorAlert.objects.get(patient=patient)
    assert (alert.raised_by.username, alert.group) == ("nurse.oslo", "dam")
    # The board's next refresh still says so.
    tablet.reload()
    expect(row_of(tablet, patient).locator(".alerted")).to_contain_text(answer)

    # when: the doctor logs in at the desk
    login(desk, live_server, "doctor.oslo")

    # then: the start page is "awaiting review", with the patient, why, who and when
    expect(desk).to_have_url(re.compile(r"/dosing/awaiting-review/$"))
    expect(desk.get_by_role("heading", level=1)).to_have_text(nb("Awaiting review"))
    line = desk.locator(f"#alert-{alert.pk}")
    expect(line).to_contain_text("Bakke, Ola")
    expect(line).to_contain_text(reason_nb("missed_days", days=4))
    expect(line).to_contain_text(nurse_name)
    expect(line).to_contain_text(f"{TODAY:%d.%m.%Y} 15:00")
    check_accessibility(desk)
    screenshot(desk, "doctor-awaiting-review")

    # when: the doctor opens the review from the line and saves it
    line.get_by_role("link", name=re.compile(nb("Review the doses"))).click()
    expect(desk).to_have_url(re.compile(rf"/dosing/patients/{patient.pk}/review/\?group=dam"))
    desk.get_by_label(nb("Assessment and plan")).fill("Sett i dag, starter igjen forsiktig.")
    desk.get_by_role("button", name=nb("Save")).click()

    # then: back on the start page, the alert is answered and gone
    expect(desk).to_have_url(re.compile(r"/dosing/awaiting-review/$"))
    expect(desk.locator(f"#alert-{alert.pk}")).to_have_count(0)
    expect(desk.locator("main")).to_contain_text(nb("No patient is waiting for a doctor."))
    assert DoseReview.objects.filter(patient=patient, doctor__username="doctor.oslo").exists()


def test_a_nurse_stops_dosing_and_only_the_doctor_lifts_it(
    live_server,
    tablet: Page,
    desk: Page,
    staff,
    patient_on_prescription,
):
    patient = patient_on_prescription("Kari", "Lund", date(1981, 5, 2))
    reason = "Innlagt på sykehus i natt, avventer epikrise"

    # when: the nurse opens the patient on the tablet and stops dosing
    tap_login(tablet, live_server, "nurse.oslo")
    tap_afternoon_board(tablet)
    row_of(tablet, patient).locator(".act button.primary").tap()
    panel = tablet.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(patient.full_name)
    panel.get_by_role("link", name=nb("Stop dosing")).tap()
    expect(tablet.get_by_role("heading", level=1)).to_have_text(
        nb("Stop dosing for %(name)s") % {"name": patient.full_name}
    )
    tablet.get_by_label(nb("Why is dosing stopped?")).tap()
    tablet.get_by_label(nb("Why is dosing stopped?")).fill(reason)
    tablet.get_by_role("button", name=nb("Save")).tap()

    # then: the board shows the row blocked with the reason; nothing can be dosed
    expect(tablet).to_have_url(re.compile(r"/dosing/"))
    expect(tablet.locator(".messages")).to_contain_text(
        nb("Dosing is stopped for %(name)s. Only a doctor can lift the stop.")
        % {"name": patient.full_name}
    )
    tap_afternoon_board(tablet)
    row = row_of(tablet, patient)
    expect(row).to_have_class(re.compile(r"\bstate-blocked\b"))
    expect(row.locator(".reasons li")).to_contain_text([reason_nb("hold", reason=reason)])
    expect(row.locator(".act button.primary")).to_have_count(0)

    # and the record says so, without a way for the nurse to lift it
    tablet.goto(f"{live_server.url}/patients/{patient.pk}/")
    card = tablet.locator("section.hold")
    expect(card.get_by_role("heading", level=2)).to_have_text(nb("Dosing stopped"))
    expect(card).to_contain_text(reason)
    expect(card.get_by_role("link", name=nb("Lift the stop"))).to_have_count(0)
    check_accessibility(tablet)
    tablet.goto(f"{live_server.url}/dosing/patients/{patient.pk}/hold/lift/")
    expect(tablet.get_by_role("alert")).to_have_text(nb("Only a doctor can lift a stop-dose hold."))
    assert not DoseHoldLift.objects.exists()

    # when: the doctor lifts it from the record
    login(desk, live_server, "doctor.oslo")
    expect(desk.locator(f"#hold-{DoseHold.objects.get(patient=patient).pk}")).to_contain_text(
        reason
    )
    desk.goto(f"{live_server.url}/patients/{patient.pk}/")
    desk.locator("section.hold").get_by_role("link", name=nb("Lift the stop")).click()
    desk.get_by_label(nb("Assessment: why dosing may go on")).fill("Utskrevet, epikrise lest.")
    desk.get_by_role("button", name=nb("Save")).click()

    # then: the record has no stop, and the board lets the nurse dose again
    expect(desk).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(desk.locator("section.hold")).to_have_count(0)
    tap_afternoon_board(tablet)
    expect(row_of(tablet, patient)).to_have_class(re.compile(r"\bstate-due\b"))
    assert not Administration.objects.filter(patient=patient, day=TODAY).exists()
