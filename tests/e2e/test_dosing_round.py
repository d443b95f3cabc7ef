"""The afternoon round in the dosing room, and a doctor changing a dose.

The nurse works the board at HAB Oslo: the blocked patient's row says why, the others are
opened, checked and dosed in a few clicks each, and the observation that follows is ended
from the row. A dose the pre-dose assessment rules out is refused with its reason and
nothing is written. The doctor replaces a prescription; the old one stays in the history.

The live server reads the real clock, so the data is safe at any time of day: every
patient's last dose was yesterday afternoon or earlier (more than the 3 h interval ago),
and the afternoon session is chosen explicitly (outside its hours a dose is only noted).
Expected texts are computed with nb(): the dosing strings may not be translated yet.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from hab.core import clock
from hab.core.access import Actor
from hab.core.models import Clinic, User
from hab.dosing import messages
from hab.dosing.models import Administration, Observation, Status
from hab.dosing.rules import Reason, Severity
from hab.intake import services as intake
from hab.intake.models import Episode
from hab.intake.selectors import active_criteria_set
from hab.patients.models import Patient
from hab.prescribing import services as prescribing
from hab.prescribing.models import Prescription
from tests import clock as test_clock
from tests.conftest import synthetic_id
from tests.dosing.helpers import TODAY, history, local
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.prescribing.helpers import in_force

pytestmark = pytest.mark.e2e

# Admitted and prescribed two weeks ago, before the ten days of history begin: a
# prescription issued after the last dose would count as the doctor's review.
SET_UP_ON = TODAY - timedelta(days=14)
DOSES = {"morning": 200, "afternoon": 200}


def nb(message) -> str:
    """The message as the server shows it in bokmål (the English source until translated)."""
    with translation.override("nb"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def reason_nb(code: str, **params) -> str:
    with translation.override("nb"):
        return messages.text(Reason(code, Severity.BLOCK, params))


def admit(
    given: str, family: str, born: date, staff, *, doses: dict, daily_max: int, at: datetime
) -> Patient:
    """A patient admitted at HAB Oslo and prescribed injectable diacetylmorphine at ``at``."""
    oslo = Clinic.objects.get(code="oslo")
    with clock.at(at):
        referral = intake.referral_create(
            actor=Actor.system(staff["coordinator.oslo"]),
            clinic=oslo,
            source="lar",
            referring_organisation="LAR Oslo øst",
            new_patient={
                "national_id": synthetic_id(born),
                "given_name": given,
                "family_name": family,
            },
        )
        intake.referral_assess(
            actor=Actor.system(staff["doctor.oslo"]),
            referral_id=referral.pk,
            answers=dict.fromkeys(
                active_criteria_set().criteria.values_list("code", flat=True), True
            ),
            eligible=True,
        )
        episode = intake.episode_admit(
            actor=Actor.system(staff["clinic_lead.oslo"]),
            patient_id=referral.patient_id,
            clinic=oslo,
            referral_id=referral.pk,
        )
        prescribing.prescription_create(
            actor=Actor.system(staff["doctor.oslo"]),
            episode_id=episode.pk,
            medication="dam_injectable",
            route="iv",
            doses_mg=doses,
            daily_max_mg=daily_max,
        )
    return episode.patient


@pytest.fixture
def protocol(staff):
    """Oslo's dosing protocol, as the dosing tests' ``protocols`` fixture makes it."""
    return in_force(staff, "oslo", demo_values=True)


@pytest.fixture
def on_prescription(staff, protocol):
    """A patient admitted at HAB Oslo with injectable diacetylmorphine 200 + 200 mg."""

    def make(given: str, family: str, born: date, *, history_days: int = 10) -> Patient:
        patient = admit(
            given, family, born, staff, doses=DOSES, daily_max=450, at=local(SET_UP_ON, 10)
        )
        if history_days:
            history(patient.pk, history_days)
        return patient

    return make


def history_until(patient: Patient, first: int, last: int) -> None:
    """Two doses a day from ``first`` to ``last`` days ago, like history() but ending
    earlier: the patient then stayed away."""
    episode = Episode.objects.get(patient=patient, ended_on__isnull=True)
    rows = []
    for back in range(first, last - 1, -1):
        day = TODAY - timedelta(days=back)
        for slot, hour in (("morning", 9), ("afternoon", 15)):
            rows.append(
                Administration(
                    patient=patient,
                    episode=episode,
                    clinic=episode.clinic,
                    day=day,
                    slot=slot,
                    medication="dam_injectable",
                    group="dam",
                    route="iv",
                    status=Status.GIVEN,
                    dose_mg=200,
                    given_at=local(day, hour),
                    nurse=episode.created_by,
                )
            )
    Administration.objects.bulk_create(rows)


def doses_today():
    return Administration.objects.filter(day__gte=TODAY)


def open_afternoon_board(page: Page) -> None:
    """From the main menu to the board, then the afternoon session's tab."""
    page.locator("header nav a[href$='/dosing/']").click()
    expect(page).to_have_url(re.compile(r"/dosing/"))
    page.locator("nav.tabs a[href^='?slot=afternoon']").click()
    expect(page).to_have_url(re.compile(r"/dosing/\?slot=afternoon"))
    expect(page.locator("nav.tabs a[aria-current='page']")).to_have_attribute(
        "href", re.compile(r"^\?slot=afternoon")
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("HAB Oslo")


def count_inputs(page: Page) -> None:
    """Counts the person's clicks and keystrokes from now on (window.habInputs)."""
    page.evaluate(
        """() => {
            window.habInputs = 0;
            const count = (event) => { if (event.isTrusted) window.habInputs += 1; };
            document.addEventListener("click", count, true);
            document.addEventListener("keydown", count, true);
        }"""
    )


def row_of(page: Page, patient: Patient) -> Locator:
    """The patient's row on the board (ids are row-<patient>-<prescription>: one a row)."""
    return page.locator(f"#rows li.board-row[data-patient='{patient.pk}']")


def open_panel(page: Page, patient: Patient) -> Locator:
    row_of(page, patient).locator(".act button.primary").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(patient.full_name)
    expect(panel).to_contain_text(patient.birth_date.strftime("%d.%m.%Y"))
    expect(panel.locator("form.dose-form")).to_be_visible()
    return panel


def test_a_nurse_doses_three_patients_and_sees_why_one_is_blocked(
    live_server, page: Page, staff, on_prescription
):
    dosed = [
        on_prescription("Anne", "Berg", date(1979, 3, 14)),
        on_prescription("Per", "Dahl", date(1985, 7, 2)),
        on_prescription("Lise", "Eide", date(1990, 11, 23)),
    ]
    away = on_prescription("Jon", "Aas", date(1982, 5, 9), history_days=0)
    history_until(away, first=10, last=4)  # the last dose four days ago: three days missed

    login(page, live_server, "nurse.oslo")
    open_afternoon_board(page)
    rows = page.locator("#rows li.board-row")
    expect(rows).to_have_count(4)

    # The blocked patient: the reason, and nothing to open.
    blocked = row_of(page, away)
    expect(blocked).to_have_class(re.compile(r"\bstate-blocked\b"))
    expect(blocked).to_contain_text("Aas, Jon")
    expect(blocked.locator(".reasons li")).to_have_text([reason_nb("missed_days", days=3)])
    expect(blocked.locator(".badge.bad")).to_have_text(nb("Blocked"))
    # Nothing to open: the one thing the nurse can do is call the doctor.
    expect(blocked.get_by_role("button")).to_have_text([re.compile(nb("Notify the doctor"))])
    expect(page.locator("#rows .counts")).to_contain_text(f"{nb('Blocked')}: 1")
    expect(page.locator("#rows .counts")).to_contain_text(f"{nb('Due')}: 3")

    recorded = nb("Recorded: %(status)s, %(dose)s mg.") % {
        "status": nb(Status.GIVEN.label),
        "dose": "200",
    }
    count_inputs(page)
    for number, patient in enumerate(dosed, start=1):
        row = row_of(page, patient)
        expect(row).to_have_class(re.compile(r"\bstate-due\b"))
        expect(row.locator(".mg")).to_have_text("200 mg")
        before = page.evaluate("window.habInputs")

        panel = open_panel(page, patient)
        form = panel.locator("form.dose-form")
        # Prefilled: outcome given, the prescribed dose. Breath alcohol is measured, never
        # prefilled: one tap on "0,00 målt" enters a measured zero.
        alcohol = form.locator("input[name=breath_alcohol_permille]")
        expect(alcohol).to_have_value("")
        expect(form.locator("input[name=status][value=given]")).to_be_checked()
        expect(form.locator("input[name=dose_mg]")).to_have_value("200")
        form.locator("input[name=identity_checked]").check()
        form.locator("input[name=sedation][value='1']").check()
        form.locator("button.quick[data-fill]").click()
        expect(alcohol).to_have_value(re.compile(r"^0[.,]00$"))
        if number == 1:
            check_accessibility(page)
        form.locator("button[type=submit].primary.big").click()

        expect(panel.locator("p.message[role=status]")).to_contain_text(recorded)
        expect(row).to_have_class(re.compile(r"\bstate-observing\b"))
        expect(row.locator(".badge.warn")).to_contain_text(nb("Observing until"))
        inputs = page.evaluate("window.habInputs") - before
        assert inputs <= 5, f"an ordinary dose took {inputs} clicks or keystrokes"

    expect(page.locator("#rows .counts")).to_contain_text(f"{nb('In observation')}: 3")

    # The protocol's 20 minutes later, the first patient's observation ends without
    # concern, from the row (earlier it needs a note, in the panel).
    first = row_of(page, dosed[0])
    with test_clock.fixed(clock.now() + timedelta(minutes=21)):
        first.locator("form button[type=submit]").click()
        expect(first).to_have_class(re.compile(r"\bstate-given\b"))
    expect(first.locator(".badge.ok")).to_have_text(f"{nb(Status.GIVEN.label)} 200 mg")
    expect(page.locator("#rows .counts")).to_contain_text(f"{nb('In observation')}: 2")
    expect(blocked).to_have_class(re.compile(r"\bstate-blocked\b"))
    check_accessibility(page)

    given = doses_today()
    assert given.count() == 3
    assert set(given.values_list("patient_id", flat=True)) == {p.pk for p in dosed}
    for record in given:
        assert (record.status, record.dose_mg, record.slot) == (Status.GIVEN, 200, "afternoon")
        assert (record.sedation, record.breath_alcohol_permille) == (1, 0)
        assert record.nurse == staff["nurse.oslo"]
    assert not doses_today().filter(patient=away).exists()
    observation = Observation.objects.get()
    assert observation.administration.patient_id == dosed[0].pk
    assert observation.outcome == "no_concern"


def test_a_refused_dose_shows_every_reason(live_server, page: Page, on_prescription):
    patient = on_prescription("Mona", "Lund", date(1988, 2, 29))

    login(page, live_server, "nurse.oslo")
    open_afternoon_board(page)
    panel = open_panel(page, patient)
    form = panel.locator("form.dose-form")
    form.locator("input[name=identity_checked]").check()
    form.locator("input[name=sedation][value='4']").check()
    form.locator("button.quick[data-fill]").click()  # breath alcohol: a measured 0,00
    form.locator("button[type=submit].primary.big").click()

    # Refused: the reason beside the dose, the answers kept, the patient still due.
    dose_field = panel.locator(".field", has=page.locator("input[name=dose_mg]"))
    expect(dose_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(dose_field.locator(".field-error")).to_have_text(reason_nb("sedation_block", level=4))
    expect(panel.locator("p.message")).to_have_count(0)
    expect(panel.locator("input[name=sedation][value='4']")).to_be_checked()
    expect(panel.locator("input[name=identity_checked]")).to_be_checked()
    expect(row_of(page, patient)).to_have_class(re.compile(r"\bstate-due\b"))
    check_accessibility(page)
    screenshot(page, "dose-refused")
    assert doses_today().count() == 0


def test_a_doctor_changes_a_prescription(live_server, page: Page, staff, on_prescription):
    patient = on_prescription("Siri", "Moen", date(1976, 9, 30), history_days=0)
    old = Prescription.objects.get(patient=patient)

    login(page, live_server, "doctor.oslo")
    page.locator("header nav a[href$='/patients/']").click()
    page.locator(f"main a[href$='/patients/{patient.pk}/']").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    prescriptions = page.locator("section.card.episode table.list")
    expect(prescriptions.locator("tbody tr")).to_have_count(1)
    expect(prescriptions).to_contain_text("200 mg")

    page.locator(f"main a[href$='/prescribing/patients/{patient.pk}/new/']").click()
    expect(page).to_have_url(re.compile(rf"/prescribing/patients/{patient.pk}/new/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        nb("Prescribe for %(name)s") % {"name": patient.full_name}
    )
    # The current prescription is the starting point.
    expect(page.locator("#id_medication")).to_have_value("dam_injectable")
    expect(page.locator("#id_route")).to_have_value("iv")
    expect(page.locator("#id_dose_morning")).to_have_value(re.compile(r"^200([.,]0)?$"))
    expect(page.locator("#id_dose_afternoon")).to_have_value(re.compile(r"^200([.,]0)?$"))
    expect(page.locator("#id_daily_max_mg")).to_have_value(re.compile(r"^450([.,]0)?$"))
    page.locator("#id_dose_afternoon").fill("250")
    page.locator("#id_daily_max_mg").fill("500")
    page.locator("#id_reason").fill("Abstinent om kvelden")
    check_accessibility(page)
    screenshot(page, "prescription")
    page.locator("form.form button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/patients/{patient.pk}/$"))
    expect(page.locator(".messages")).to_contain_text(
        nb("The prescription is saved; the previous one is kept.")
    )
    expect(prescriptions.locator("tbody tr")).to_have_count(1)
    expect(prescriptions).to_contain_text("250 mg")
    expect(prescriptions).to_contain_text("500 mg")
    summary = page.locator("details summary", has_text=nb("Prescription history"))
    summary.click()
    entries = summary.locator("xpath=..").locator("ul.history li")
    expect(entries).to_have_count(2)
    expect(entries.first).to_contain_text("250 mg")
    expect(entries.first).to_contain_text("Abstinent om kvelden")
    expect(entries.last).not_to_contain_text("250 mg")

    new = Prescription.objects.exclude(pk=old.pk).get(patient=patient)
    assert new.supersedes_id == old.pk
    assert new.doses_mg == {"morning": 200, "afternoon": 250}
    assert new.daily_max_mg == 500
    assert new.created_by == User.objects.get(username="doctor.oslo")
