"""Helpers the browser tests share: texts as the server shows them in bokmål, a patient
admitted and prescribed at HAB Oslo, and the dosing board worked from a PC.

Plain functions and constants only; the fixtures built on them are in conftest.py, and
the board worked by touch on the dosing room's tablet is in tablet.py.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from hab.core import clock
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.dosing import messages
from hab.dosing.models import Administration, Status
from hab.dosing.rules import Reason, Severity
from hab.intake import services as intake
from hab.intake.models import Episode
from hab.intake.selectors import active_criteria_set
from hab.patients.models import Patient
from hab.prescribing import services as prescribing
from tests.conftest import synthetic_id
from tests.dosing.helpers import TODAY, local

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


def recorded_nb(mg: str) -> str:
    return nb("Recorded: %(status)s, %(dose)s mg.") % {"status": nb(Status.GIVEN.label), "dose": mg}


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


def assert_apart(first: Locator, second: Locator) -> None:
    """Neither covers the other on the screen: both can be read and tapped."""
    a, b = first.bounding_box(), second.bounding_box()
    assert a and b, "not on the screen"
    overlap_x = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    overlap_y = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    assert overlap_x <= 0 or overlap_y <= 0, f"{a} overlaps {b}"
