"""A patient with two prescriptions in the afternoon, dosed by taps on the room's tablet.

Siri Lund has her injections (200 mg) and methadone (40 mg, night cover) this afternoon:
the board shows her twice. The nurse taps the methadone row's "Open": the panel is the
methadone's, and the dose is recorded as methadone while the injection's row stays due.
Then the injection's row opens the injection's panel. Landscape 1024x768, taps only.

The suite's clock stands at 15:00 today, inside the afternoon session.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Browser, Locator, expect

from hab.core import clock
from hab.core.access import Actor
from hab.dosing.models import Administration
from hab.intake.models import Episode
from hab.prescribing import services as prescribing
from tests.dosing.helpers import TODAY, local
from tests.e2e.conftest import assert_assets_loaded, watched_page
from tests.e2e.helpers import SET_UP_ON, recorded_nb, row_of
from tests.e2e.tablet import assess, tap_afternoon_board, tap_login

pytestmark = [pytest.mark.e2e, pytest.mark.clock(local(TODAY, 15))]

INJECTED = "Diacetylmorfin, injeksjon"
METHADONE = "Metadon, oralt"


def open_row(row: Locator, medication: str) -> Locator:
    """Taps the row's "Open"; the panel then names the row's medication."""
    row.locator(".act button.primary").tap()
    panel = row.page.locator("#panel")
    expect(panel.locator(":scope > p > strong").first).to_have_text(medication)
    return panel


def test_each_of_two_rows_opens_and_records_its_own_prescription(
    live_server,
    browser: Browser,
    staff,
    patient_on_prescription,
):
    # given: injections 200 + 200 mg and methadone 40 mg this afternoon
    patient = patient_on_prescription("Siri", "Lund", date(1980, 6, 12))
    with clock.at(local(SET_UP_ON, 11)):
        prescribing.prescription_create(
            actor=Actor.system(staff["doctor.oslo"]),
            episode_id=Episode.objects.get(patient=patient).pk,
            medication="methadone_oral",
            route="oral",
            doses_mg={"afternoon": 40},
            daily_max_mg=40,
        )
    options = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}
    with watched_page(browser, **options) as page:
        tap_login(page, live_server, "nurse.oslo")
        tap_afternoon_board(page)
        assert_assets_loaded(page)
        rows = row_of(page, patient)
        expect(rows).to_have_count(2)
        injected = rows.filter(has_text=INJECTED)
        methadone = rows.filter(has_text=METHADONE)

        # when: the methadone row is opened and its dose recorded
        panel = open_row(methadone, METHADONE)
        form = panel.locator("form.dose-form")
        expect(form.locator("input[name=dose_mg]")).to_have_value("40")
        assess(form)
        form.locator(".panel-footer button[type=submit]").tap()

        # then: methadone is recorded; the injection's row is still due
        expect(panel.locator("p.message[role=status]")).to_contain_text(recorded_nb("40"))
        expect(methadone).to_have_class(re.compile(r"\bstate-observing\b"))
        expect(injected).to_have_class(re.compile(r"\bstate-due\b"))
        expect(injected.locator(".mg")).to_have_text("200 mg")

        # when: the injection's row is opened and its dose recorded
        panel = open_row(injected, INJECTED)
        form = panel.locator("form.dose-form")
        expect(form.locator("input[name=dose_mg]")).to_have_value("200")
        assess(form)
        form.locator(".panel-footer button[type=submit]").tap()

        # then: both rows are done, each with its own dose
        expect(panel.locator("p.message[role=status]")).to_contain_text(recorded_nb("200"))
        expect(injected).to_have_class(re.compile(r"\bstate-observing\b"))
        expect(methadone).to_have_class(re.compile(r"\bstate-observing\b"))
        # The methadone row's "Other outcome" opens the methadone record's observation.
        methadone.locator(".act button.link").tap()
        expect(panel.locator(":scope > p > strong").first).to_have_text(METHADONE)
        expect(panel.locator("form.observation")).to_be_visible()

    records = Administration.objects.filter(patient=patient, day=TODAY, slot="afternoon")
    assert sorted(records.values_list("medication", "dose_mg", "prescription__medication")) == [
        ("dam_injectable", 200, "dam_injectable"),
        ("methadone_oral", 40, "methadone_oral"),
    ]
