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
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from hab.core import clock
from hab.core.models import User
from hab.dosing.models import Administration, Observation, Status
from hab.prescribing.models import Prescription
from tests import clock as test_clock
from tests.dosing.helpers import TODAY
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import history_until, nb, open_afternoon_board, open_panel, reason_nb, row_of

pytestmark = pytest.mark.e2e


def doses_today():
    return Administration.objects.filter(day__gte=TODAY)


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


def test_a_nurse_doses_three_patients_and_sees_why_one_is_blocked(
    live_server, page: Page, staff, patient_on_prescription
):
    dosed = [
        patient_on_prescription("Anne", "Berg", date(1979, 3, 14)),
        patient_on_prescription("Per", "Dahl", date(1985, 7, 2)),
        patient_on_prescription("Lise", "Eide", date(1990, 11, 23)),
    ]
    away = patient_on_prescription("Jon", "Aas", date(1982, 5, 9), history_days=0)
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


def test_a_refused_dose_shows_every_reason(live_server, page: Page, patient_on_prescription):
    patient = patient_on_prescription("Mona", "Lund", date(1988, 2, 29))

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


def test_a_doctor_changes_a_prescription(live_server, page: Page, staff, patient_on_prescription):
    patient = patient_on_prescription("Siri", "Moen", date(1976, 9, 30), history_days=0)
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
