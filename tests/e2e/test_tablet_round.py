"""A round in the dosing room on the room's tablet, by taps alone (issue 17).

Ninety patients are expected this afternoon, a long list like the demo's. At 1024x768 (a
tablet in landscape), 768x1024 (in portrait) and 1280x800 (a PC) a nurse doses ten of
them, from the top, the middle and the bottom of the list, with her fingers: each
ordinary dose is at most five taps from the board (open, identity checked, POSS, breath
alcohol "0,00 målt", record). The record button is on the screen and nothing lies over
it when she taps it: the list is never scrolled by script (a tap brings the tapped row
into view, as her swipe would), the panel keeps its button in view wherever the list is.
The rows in observation keep their time readable beside their buttons, rows never lie
over each other, and every touch target is at least 44 px.

The suite's clock stands at 15:00 today, inside the afternoon session.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from hab.dosing.models import Administration, Status
from hab.intake.models import Episode
from hab.patients.models import Patient
from hab.prescribing.models import Prescription
from tests.conftest import synthetic_id
from tests.dosing.helpers import TODAY, history, local
from tests.e2e.conftest import (
    assert_assets_loaded,
    check_accessibility,
    screenshot,
    watched_page,
)
from tests.e2e.helpers import DOSES, SET_UP_ON, admit, assert_apart, nb, row_of
from tests.e2e.tablet import tap_afternoon_board, tap_login

pytestmark = [pytest.mark.e2e, pytest.mark.clock(local(TODAY, 15))]

PATIENTS = 90
FAMILIES = [
    "Aasen", "Berg", "Dahl", "Eide", "Foss", "Gran", "Haug", "Lie", "Moe", "Nilsen",
    "Olsen", "Roed", "Strand", "Toft", "Vik",
]  # fmt: skip
GIVEN = ["Anne", "Bjorn", "Eva", "Jon", "Kari", "Lars"]
SIZES = [
    # (name, viewport, a touch tablet)
    ("landscape", {"width": 1024, "height": 768}, True),
    ("portrait", {"width": 768, "height": 1024}, True),
    ("desktop", {"width": 1280, "height": 800}, False),
]
# Where a touch target must be at least 44 px in both directions.
TARGETS = (
    "#rows .act button, #rows .act a, #panel button, #panel a, "
    "#panel fieldset.radios label, #panel .field.checkbox label, nav.tabs a"
)


@pytest.fixture
def ninety(staff, protocol) -> list[Patient]:
    """Ninety patients in maintenance on 200 + 200 mg, in the board's order (by name).

    The first is admitted and prescribed through the services, as a clinic does; the
    others are rows copied from it (admitting ninety through the services took a minute
    and a half of the run)."""
    template = admit(
        GIVEN[0], FAMILIES[0], date(1970, 1, 1), staff, doses=DOSES, daily_max=450,
        at=local(SET_UP_ON, 10),
    )  # fmt: skip
    episode = Episode.objects.get(patient=template)
    prescription = Prescription.objects.get(patient=template)
    made = [template]
    for index in range(1, PATIENTS):
        born = date(1970 + index % 30, 1 + index % 12, 1 + index % 28)
        patient = Patient.objects.get(pk=template.pk)
        patient.pk = None
        patient.national_id = synthetic_id(born)
        patient.birth_date = born
        patient.research_id = f"tablet{index:010d}"
        patient.family_name = FAMILIES[index % len(FAMILIES)]
        patient.given_name = GIVEN[index // len(FAMILIES)]
        patient.save()
        copy = Episode.objects.get(pk=episode.pk)
        copy.pk, copy.patient, copy.referral = None, patient, None
        copy.save()
        rx = Prescription.objects.get(pk=prescription.pk)
        rx.pk, rx.patient, rx.episode = None, patient, copy
        rx.save()
        made.append(patient)
    for patient in made:
        history(patient.pk, 4)
    return sorted(made, key=lambda p: (p.family_name, p.given_name, p.pk))


def picks(patients: list[Patient], k: int) -> list[Patient]:
    """Ten patients for the k-th screen size: three from the top of the list, three from
    its middle and four from its bottom, none dosed at another size."""
    last = len(patients) - 1
    places = [k, k + 3, k + 6, 40 + k, 43 + k, 46 + k, last - k, last - 3 - k, last - 6 - k]
    places.append(last - 9 - k)
    return [patients[i] for i in places]


def count_taps(page: Page) -> None:
    """Counts the nurse's taps and keystrokes from now on (window.habTaps): touches, not
    clicks, since a tap on a label clicks its checkbox as well."""
    page.evaluate(
        """() => {
            window.habTaps = 0;
            const count = (event) => { if (event.isTrusted) window.habTaps += 1; };
            document.addEventListener("touchstart", count, true);
            document.addEventListener("keydown", count, true);
        }"""
    )


def assert_on_screen_and_uncovered(page: Page, target: Locator) -> None:
    """The element lies wholly inside the viewport, and at its centre and near each corner
    the element the screen shows is the element itself (nothing lies over it)."""
    box = target.bounding_box()
    view = page.viewport_size
    assert box, "not on the screen"
    assert box["x"] >= 0 and box["y"] >= 0, f"{box} is off the screen's top or left"
    assert box["x"] + box["width"] <= view["width"], f"{box} is off the screen's right"
    assert box["y"] + box["height"] <= view["height"], f"{box} is below the screen ({view})"
    covered = target.evaluate(
        """(element) => {
            const r = element.getBoundingClientRect();
            const points = [[r.left + r.width / 2, r.top + r.height / 2],
                [r.left + 3, r.top + 3], [r.right - 3, r.top + 3],
                [r.left + 3, r.bottom - 3], [r.right - 3, r.bottom - 3]];
            return points.filter(([x, y]) => !element.contains(document.elementFromPoint(x, y)));
        }"""
    )
    assert covered == [], f"something lies over the button at {covered}"


def assert_touch_targets(page: Page) -> None:
    small = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
            .map((e) => [e, e.getBoundingClientRect()])
            .filter(([e, r]) => r.width > 0 && r.height > 0 && !e.closest("[hidden]"))
            .filter(([e, r]) => r.height < 44 || r.width < 44)
            .map(([e, r]) => `${e.tagName} "${e.textContent.trim().slice(0, 30)}" ` +
                 `${Math.round(r.width)}x${Math.round(r.height)}`)""",
        TARGETS,
    )
    assert small == [], f"touch targets under 44 px: {small}"


def assert_rows_apart(page: Page, rows: list[Locator]) -> None:
    """No two rows on the screen overlap, and in each row the observation time and the
    buttons lie apart."""
    for row in rows:
        badge = row.locator(".badge.warn")
        for button in row.locator(".act button").all():
            assert_apart(badge, button)
    boxes = [r.bounding_box() for r in page.locator("#rows li.board-row").all()[:40]]
    for upper, lower in pairwise(boxes):
        assert upper["y"] + upper["height"] <= lower["y"], f"{upper} overlaps {lower}"


def dose_by_taps(page: Page, patient: Patient, portrait: bool, first: bool, name: str) -> int:
    """One ordinary dose by taps; returns the number of taps it took."""
    before = page.evaluate("window.habTaps")
    row = row_of(page, patient)
    expect(row).to_have_class(re.compile(r"\bstate-due\b"))
    row.locator(".act button.primary").tap()  # 1: open (the tap brings the row into view)

    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(patient.full_name)
    form = panel.locator("form.dose-form")
    expect(panel.locator(".no-photo")).to_have_text(nb("No photo – check ID"))
    alcohol = form.locator("input[name=breath_alcohol_permille]")
    expect(alcohol).to_have_value("")
    expect(form.locator("input[name=dose_mg]")).to_have_value("200")
    form.locator("label[for=id_identity_checked]").tap()  # 2: identity checked
    form.locator("input[name=sedation][value='1']").tap()  # 3: POSS 1
    form.locator("button.quick[data-fill]").tap()  # 4: breath alcohol, a measured 0,00
    expect(form.locator("input[name=identity_checked]")).to_be_checked()
    expect(alcohol).to_have_value("0,00")

    record = form.locator(".panel-footer button[type=submit]")
    assert_on_screen_and_uncovered(page, record)
    if first:
        assert_touch_targets(page)
        if name != "desktop":
            check_accessibility(page)
            # The nurse guide's pictures of the panel, at the tablet's size.
            screenshot(page, "dose-panel" if name == "landscape" else f"dose-panel-{name}")
    record.tap()  # 5: record

    recorded = nb("Recorded: %(status)s, %(dose)s mg.") % {
        "status": nb(Status.GIVEN.label),
        "dose": "200",
    }
    if portrait:
        # The panel closes itself: the confirmation is at the top of the list.
        expect(panel.locator(".panel-identity")).to_have_count(0)
        expect(page.locator("#board-status")).to_contain_text(patient.full_name)
        expect(page.locator("#board-status")).to_contain_text(recorded)
    else:
        expect(panel.locator("p.message[role=status]")).to_contain_text(recorded)
    expect(row).to_have_class(re.compile(r"\bstate-observing\b"))
    return page.evaluate("window.habTaps") - before


def test_a_round_of_ten_by_taps_at_three_screen_sizes(live_server, browser: Browser, ninety):
    for k, (name, viewport, touch) in enumerate(SIZES):
        options = {"viewport": viewport, "has_touch": True, "is_mobile": touch}
        with watched_page(browser, **options) as page:
            tap_login(page, live_server, "nurse.oslo")
            tap_afternoon_board(page)
            assert_assets_loaded(page)
            expect(page.locator("#rows li.board-row")).to_have_count(PATIENTS)
            portrait = viewport["width"] < viewport["height"]
            count_taps(page)
            round_ = picks(ninety, k)
            for number, patient in enumerate(round_):
                taps = dose_by_taps(page, patient, portrait, number == 0, name)
                assert taps <= 5, f"{name}: {patient.full_name}'s dose took {taps} taps"

            dosed = [row_of(page, p) for p in round_]
            assert_rows_apart(page, dosed)
            assert_touch_targets(page)
            if name == "landscape":
                screenshot(page, "dosing-board")
        assert Administration.objects.filter(day=TODAY, slot="afternoon").count() == 10 * (k + 1)

    given = Administration.objects.filter(day=TODAY)
    assert set(given.values_list("patient_id", flat=True)) == {
        p.pk for k in range(len(SIZES)) for p in picks(ninety, k)
    }
    for record in given:
        assert (record.status, record.dose_mg, record.sedation) == (Status.GIVEN, 200, 1)
        assert record.breath_alcohol_permille == 0
