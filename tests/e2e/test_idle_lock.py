"""The shared tablet's lock screen, as the dosing room meets it.

A nurse logs in on the room's tablet (1024x768, touch) as *shared*, opens the board and
leaves it. Past the clinic's two idle minutes the page hides the patients and shows the
lock screen; she taps her PIN on the keypad and is back on the board. No waiting: the
browser's clock (Playwright's ``page.clock``) and the server's (``tests.clock.fixed``)
are moved past the limit together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from hab.core import clock
from hab.core.models import SecurityEvent
from hab.core.services import pin_set
from tests import clock as test_clock
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_assets_loaded, check_accessibility, screenshot, watched_page
from tests.e2e.helpers import nb

pytestmark = pytest.mark.e2e

PIN = "2580"


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    """The dosing room's tablet in landscape, by touch."""
    with watched_page(browser, viewport={"width": 1024, "height": 768}, has_touch=True) as page:
        yield page


def tap_login_as_shared(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").tap()
    page.locator("#id_username").fill(username)
    page.locator("#id_password").tap()
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_kiosk").tap()
    expect(page.locator("#id_kiosk")).to_be_checked()
    page.locator("main form button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/dosing/"))
    page.wait_for_load_state()
    assert_assets_loaded(page)


def test_an_idle_shared_tablet_locks_and_the_nurse_taps_her_pin(
    tablet: Page,
    live_server,
    staff,
    patient_on_prescription,
):
    page = tablet
    patient = patient_on_prescription("Rune", "Amundsen", date(1979, 4, 2))
    pin_set(user=staff["nurse.oslo"], pin=PIN, password=PASSWORD)
    # The page's timers run on a clock the test moves.
    page.clock.install()
    tap_login_as_shared(page, live_server, "nurse.oslo")
    expect(page.locator("main")).to_contain_text(patient.family_name)
    # The board tells its script the clinic's limit: two minutes by default.
    expect(page.locator("body")).to_have_attribute("data-lock-after", "120")
    # The top bar of a shared tablet: the nurse's PIN and a lock at once.
    expect(page.locator("header a[data-lock-now]")).to_be_visible()
    expect(page.locator("header a.my-pin")).to_be_visible()

    # Just under the limit the board stays.
    with test_clock.fixed(clock.now() + timedelta(seconds=110)):
        page.clock.fast_forward("01:50")
        page.wait_for_timeout(300)
        expect(page).to_have_url(re.compile(r"/dosing/"))
        expect(page.locator("main")).to_contain_text(patient.family_name)

    # Past it, the page locks itself: no patient on the screen, only who is logged in.
    with test_clock.fixed(clock.now() + timedelta(seconds=125)):
        page.clock.fast_forward("00:15")
        expect(page).to_have_url(re.compile(r"/lock/\?(reason=idle&)?next=%2Fdosing%2F$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(nb("The screen is locked"))
        expect(page.locator(".lock-who")).to_contain_text(staff["nurse.oslo"].get_full_name())
        assert patient.family_name not in page.content()
        assert patient.given_name not in page.content()
        expect(page.locator("header nav")).to_have_count(0)
        check_accessibility(page)
        screenshot(page, "lock-screen")

        # Her PIN by taps on the keypad, then "Lås opp".
        for digit in PIN:
            page.locator(f"[data-pin-digit='{digit}']").tap()
        page.get_by_role("button", name=nb("Unlock")).tap()

        expect(page).to_have_url(re.compile(r"/dosing/$"))
        expect(page.locator("main")).to_contain_text(patient.family_name)

    kinds = list(SecurityEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["pin_set", "locked", "unlocked"]
    assert SecurityEvent.objects.get(kind="unlocked").details == {"method": "pin"}


def test_a_tablet_not_logged_in_as_shared_has_no_lock(page: Page, live_server, staff):
    from tests.e2e.conftest import login

    login(page, live_server, "nurse.oslo")

    expect(page.locator("body")).not_to_have_attribute("data-lock-after", re.compile(".*"))
    expect(page.locator("header a[data-lock-now]")).to_have_count(0)
