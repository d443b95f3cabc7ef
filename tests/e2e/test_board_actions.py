"""Issue 17: the board answers every action, on the room's tablet.

The nurse works by touch on a 1024x768 tablet in landscape (with a keyboard for the
search box): she finds a patient as the list writes the name, by birth date and by the
initials on the photo; a second tablet's nurse who records a patient already dosed is
told who recorded the dose and when; an observation's outcome is confirmed in the panel;
and closing the session first lists who will be recorded as not attended and who is
still under observation.

Every test runs at 15:00 today, inside the afternoon session (tests/clock.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from django.utils import translation
from playwright.sync_api import Browser, Locator, Page, expect

from hab.core import services as core_services
from hab.core.access import Actor
from hab.core.models import Clinic, Role, User
from hab.dosing import services as dosing
from hab.dosing.models import Administration, Observation, SessionClose, Status
from hab.patients.models import Patient
from tests import clock as test_clock
from tests.conftest import PASSWORD
from tests.dosing.helpers import TODAY, local
from tests.e2e.conftest import check_accessibility, screenshot, watched_page
from tests.e2e.helpers import nb
from tests.e2e.tablet import tap_login

AFTERNOON = local(TODAY, 15)

pytestmark = [pytest.mark.e2e, pytest.mark.clock(AFTERNOON)]

TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    """The dosing room's touch tablet, in landscape."""
    with watched_page(browser, **TABLET) as page:
        yield page


@pytest.fixture
def second_tablet(browser: Browser) -> Iterator[Page]:
    """The other tablet in the room: its own browser, its own nurse."""
    with watched_page(browser, **TABLET) as page:
        yield page


@pytest.fixture
def kari(staff) -> User:
    """A second nurse at HAB Oslo."""
    return core_services.staff_create(
        username="kari.nordmann",
        password=PASSWORD,
        first_name="Kari",
        last_name="Nordmann",
        roles=[(Clinic.objects.get(code="oslo"), Role.NURSE)],
    )


def nb_plural(singular: str, plural: str, n: int) -> str:
    with translation.override("nb"):
        return translation.ngettext(singular, plural, n)


def tap_afternoon_board(page: Page) -> None:
    page.locator("header nav a[href$='/dosing/']").tap()
    expect(page).to_have_url(re.compile(r"/dosing/"))
    page.locator("nav.tabs a[href^='?slot=afternoon']").tap()
    expect(page).to_have_url(re.compile(r"/dosing/\?slot=afternoon"))


def row(page: Page, patient: Patient) -> Locator:
    """The patient's row, by the name as the list writes it."""
    return page.locator(
        "#rows li.board-row", has_text=f"{patient.family_name}, {patient.given_name}"
    )


def tap_open(page: Page, patient: Patient) -> Locator:
    row(page, patient).locator(".act button.primary").tap()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(patient.full_name)
    return panel


def type_into(field: Locator, text: str) -> None:
    field.tap()
    field.fill(text)


def assess(form: Locator) -> None:
    """Identity checked, POSS 1, breath alcohol 0,00 measured."""
    form.locator("input[name=identity_checked]").tap()
    form.locator("input[name=sedation][value='1']").tap()
    type_into(form.locator("input[name=breath_alcohol_permille]"), "0,00")


def dose(patient: Patient, nurse: User) -> Administration:
    """A dose recorded as the tablet would, at the test's instant."""
    return dosing.administration_record(
        actor=Actor.system(nurse),
        clinic=Clinic.objects.get(code="oslo"),
        patient_id=patient.pk,
        day=TODAY,
        slot="afternoon",
        medication="dam_injectable",
        route="iv",
        dose_mg=200,
        status="given",
        assessment={"sedation": 1, "breath_alcohol_permille": 0, "respiratory_rate": 14},
    ).administration


def search(page: Page, typed: str) -> None:
    type_into(page.locator("#board-q"), typed)


def test_the_nurse_finds_a_patient_as_the_list_and_the_photo_show_them(
    live_server, tablet: Page, patient_on_prescription
):
    rune = patient_on_prescription("Rune", "Amundsen", date(1979, 3, 14))
    rita = patient_on_prescription("Rita", "Andersen", date(1990, 11, 23))
    aase = patient_on_prescription("Åse", "Ødegård", date(1985, 7, 2))
    page = tablet
    tap_login(page, live_server, "nurse.oslo")
    tap_afternoon_board(page)
    rows = page.locator("#rows li.board-row")
    expect(rows).to_have_count(3)
    box = page.locator("#board-q")
    expect(box).to_have_attribute("placeholder", nb("Name, birth date (ddmmyy) or initials"))

    # The name as the list writes it, then as it is spoken.
    search(page, "Amundsen, Rune")
    expect(rows).to_have_count(1)
    expect(row(page, rune)).to_be_visible()
    search(page, "rune amundsen")
    expect(rows).to_have_count(1)
    # The birth date as the patient says it, and as it is written.
    search(page, "140379")
    expect(rows).to_have_count(1)
    expect(row(page, rune)).to_be_visible()
    search(page, "02.07.1985")
    expect(rows).to_have_count(1)
    expect(row(page, aase)).to_be_visible()
    # The initials on the photo placeholder (and Rita, whose name starts so).
    search(page, "RA")
    expect(rows).to_have_count(2)
    expect(row(page, rune)).to_be_visible()
    expect(row(page, rita)).to_be_visible()
    # Without Norwegian letters on the keyboard.
    search(page, "odegard")
    expect(rows).to_have_count(1)
    expect(row(page, aase)).to_be_visible()
    search(page, "Hansen")
    expect(rows).to_have_count(0)
    expect(page.locator("#rows p.empty")).to_contain_text("Hansen")

    # The tablet's keyboard: "/" from anywhere outside a text field, and Ctrl+K.
    page.get_by_role("heading", level=1).tap()
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("Rune")
    expect(rows).to_have_count(1)
    page.get_by_role("heading", level=1).tap()
    page.keyboard.press("Control+k")
    expect(box).to_be_focused()


def test_the_second_tablet_is_told_who_recorded_the_dose_and_when(
    live_server, tablet: Page, second_tablet: Page, staff, kari, patient_on_prescription
):
    rune = patient_on_prescription("Rune", "Amundsen", date(1979, 3, 14))
    first, second = tablet, second_tablet
    tap_login(first, live_server, "nurse.oslo")
    tap_login(second, live_server, "kari.nordmann")
    tap_afternoon_board(first)
    tap_afternoon_board(second)
    # Both nurses open Rune and assess him.
    first_form = tap_open(first, rune).locator("form.dose-form")
    second_panel = tap_open(second, rune)
    second_form = second_panel.locator("form.dose-form")
    assess(first_form)
    assess(second_form)

    first_form.locator("button[type=submit].primary.big").tap()
    expect(first.locator("#panel p.message[role=status]")).to_be_visible()
    second_form.locator("button[type=submit].primary.big").tap()

    who = staff["nurse.oslo"].get_full_name()
    told = nb("Already recorded by %(name)s at %(time)s.") % {"name": who, "time": "15:00"}
    alert = second_panel.locator(".error[role=alert]")
    expect(alert).to_have_text(told)
    expect(second_panel.locator("form.dose-form")).to_have_count(0)
    # The row on the second tablet refreshes: Rune is dosed.
    expect(row(second, rune)).to_have_class(re.compile(r"\bstate-observing\b"))
    check_accessibility(second)
    screenshot(second, "dose-conflict")
    [record] = Administration.objects.filter(patient=rune, day=TODAY)
    assert record.nurse == staff["nurse.oslo"]


def test_the_observation_outcome_is_confirmed_in_the_panel(
    live_server, tablet: Page, staff, patient_on_prescription
):
    rune = patient_on_prescription("Rune", "Amundsen", date(1979, 3, 14))
    record = dose(rune, staff["nurse.oslo"])
    page = tablet
    tap_login(page, live_server, "nurse.oslo")
    tap_afternoon_board(page)
    end = row(page, rune).locator(".act form button[type=submit]")
    panel = page.locator("#panel")

    # Ten minutes in, one tap on "End: no concern": the panel says a note is needed.
    with test_clock.fixed(AFTERNOON + timedelta(minutes=10)):
        end.tap()
        note = panel.locator("form.observation textarea[name=note]")
        expect(panel.locator("form.observation .field-error")).to_contain_text(
            nb_plural(
                "%(left)s minute of observation is left: write why it ends now.",
                "%(left)s minutes of observation are left: write why it ends now.",
                10,
            )
            % {"left": 10}
        )
        assert not Observation.objects.exists()

        # The note, and the outcome is saved.
        type_into(note, "Gikk tidlig, våken og klar.")
        panel.locator("form.observation button[type=submit]").tap()
        saved = nb("Observation ended: %(name)s, %(outcome)s, at %(time)s.") % {
            "name": rune.full_name,
            "outcome": nb("No concern").lower(),
            "time": "15:10",
        }
        expect(panel.locator("p.message[role=status]")).to_have_text(saved)
        expect(panel.locator("form.observation")).to_have_count(0)
        expect(row(page, rune)).to_have_class(re.compile(r"\bstate-given\b"))
    check_accessibility(page)
    observation = Observation.objects.get()
    assert (observation.administration_id, observation.outcome) == (record.pk, "no_concern")
    assert observation.note == "Gikk tidlig, våken og klar."


def test_closing_the_session_lists_the_missed_and_the_observed_first(
    live_server, tablet: Page, staff, patient_on_prescription
):
    rune = patient_on_prescription("Rune", "Amundsen", date(1979, 3, 14))
    aase = patient_on_prescription("Åse", "Ødegård", date(1985, 7, 2))
    per = patient_on_prescription("Per", "Dahl", date(1990, 11, 23))
    dose(rune, staff["nurse.oslo"])
    page = tablet
    tap_login(page, live_server, "nurse.oslo")
    tap_afternoon_board(page)

    page.locator(".close-session button[type=submit]").tap()

    expect(page).to_have_url(re.compile(r"/dosing/close/\?"))
    expect(page.locator("ul.close-missed li")).to_have_count(2)
    expect(page.locator("ul.close-missed")).to_contain_text("Dahl, Per")
    expect(page.locator("ul.close-missed")).to_contain_text("Ødegård, Åse")
    expect(page.locator("ul.close-observing li")).to_have_text(["Amundsen, Rune"])
    check_accessibility(page)
    screenshot(page, "session-close-confirm")
    assert not SessionClose.objects.exists()

    # Closing without saying that Rune is still observed: refused, naming him.
    close = page.get_by_role("button", name=nb("Close the session"))
    close.tap()
    expect(page.locator(".error[role=alert]")).to_contain_text(rune.full_name)
    assert not SessionClose.objects.exists()

    page.locator("#confirm-observing").tap()
    page.get_by_role("button", name=nb("Close the session")).tap()

    expect(page).to_have_url(re.compile(r"/dosing/\?slot=afternoon"))
    done = nb_plural(
        "The session is closed; %(n)s missed dose recorded.",
        "The session is closed; %(n)s missed doses recorded.",
        2,
    )
    expect(page.locator(".messages")).to_contain_text(done % {"n": 2})
    expect(row(page, rune)).to_have_class(re.compile(r"\bstate-observing\b"))
    missed = Administration.objects.filter(day=TODAY, status=Status.MISSED)
    assert {r.patient_id for r in missed} == {aase.pk, per.pk}
    assert SessionClose.objects.get().missed == 2
