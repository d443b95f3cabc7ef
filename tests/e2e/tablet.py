"""The dosing room's tablet: logging in and working the board by touch, shared by the
browser tests that use a touch screen."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_assets_loaded


def tap_login(page: Page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.locator("#id_username").tap()
    page.locator("#id_username").fill(username)
    page.locator("#id_password").tap()
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").tap()
    expect(page).not_to_have_url(re.compile(r"/login/"))
    page.wait_for_load_state()
    assert_assets_loaded(page)


def tap_afternoon_board(page: Page) -> None:
    """From the main menu to the board's afternoon session, by touch."""
    page.locator("header nav a[href$='/dosing/']").tap()
    expect(page).to_have_url(re.compile(r"/dosing/"))
    page.locator("nav.tabs a[href^='?slot=afternoon']").tap()
    expect(page).to_have_url(re.compile(r"/dosing/\?slot=afternoon"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("HAB Oslo")


def type_into(field: Locator, text: str) -> None:
    field.tap()
    field.fill(text)


def assess(form: Locator, *, alcohol: str = "0,00", intoxication: str = "none") -> None:
    """Identity, POSS 1, breath alcohol and intoxication, as the nurse answers them."""
    form.locator("input[name=identity_checked]").tap()
    form.locator("input[name=sedation][value='1']").tap()
    type_into(form.locator("input[name=breath_alcohol_permille]"), alcohol)
    form.locator(f"input[name=intoxication][value={intoxication}]").tap()
