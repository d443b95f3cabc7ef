"""In the browser, on a tablet by touch: the administrator proposes a role, cannot approve
it herself, and the clinic lead approves it on the role page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from hab.core import services
from hab.core.models import Membership
from tests.conftest import PASSWORD
from tests.e2e.conftest import check_accessibility, screenshot, watched_page
from tests.e2e.helpers import nb
from tests.e2e.tablet import tap_login

pytestmark = pytest.mark.e2e


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    with watched_page(browser, viewport={"width": 1024, "height": 768}, has_touch=True) as page:
        yield page


def tap_logout(page: Page) -> None:
    page.locator("header form[action$='/logout/'] button").tap()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_a_role_is_proposed_by_one_and_approved_by_a_second_person(
    live_server, tablet: Page, staff
):
    page = tablet
    # The administrator proposes that the nurse also works as coordinator.
    tap_login(page, live_server, "admin.oslo")
    page.locator("header nav a[href$='/clinic/roles/']").tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text(nb("Roles"))
    page.locator("#id_username").tap()
    page.locator("#id_username").fill("nurse.oslo")
    page.locator("label[for='id_kind_0']").tap()
    page.locator("#id_role").select_option("coordinator")
    page.locator("#id_reason").tap()
    page.locator("#id_reason").fill("Dekker koordinatorvakter i januar")
    page.get_by_role("button", name=nb("Propose"), exact=True).tap()
    expect(page.locator(".message.success")).to_be_visible()
    pending = page.locator("section[aria-labelledby='pending-h'] tbody tr")
    expect(pending).to_have_count(1)
    # Her own proposal: no approve button for her.
    expect(pending.get_by_text(nb("Your proposal: a second person decides."))).to_be_visible()
    expect(pending.get_by_role("button")).to_have_count(0)
    assert not Membership.objects.filter(user=staff["nurse.oslo"], role="coordinator").exists()
    tap_logout(page)

    # The clinic lead sees it waiting, and approves.
    tap_login(page, live_server, "clinic_lead.oslo")
    page.locator("header nav a[href$='/clinic/roles/']").tap()
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("Dekker koordinatorvakter i januar")
    check_accessibility(page)
    screenshot(page, "roles")
    pending.locator("input[name=note]").tap()
    pending.locator("input[name=note]").fill("Avtalt i ledermøtet")
    pending.get_by_role("button", name=re.compile("^" + nb("Approve"))).tap()

    expect(page.locator(".message.success")).to_have_text(nb("Approved: the role is changed."))
    expect(page.locator("section[aria-labelledby='pending-h']")).to_contain_text(
        nb("No proposals are waiting.")
    )
    history = page.locator("section[aria-labelledby='history-h'] tbody tr")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("Avtalt i ledermøtet")
    staff_row = page.locator("section[aria-labelledby='staff-h'] tr", has_text="nurse.oslo")
    expect(staff_row).to_contain_text(nb("Coordinator"))
    assert Membership.objects.filter(user=staff["nurse.oslo"], role="coordinator").exists()


def test_a_user_sees_and_revokes_their_api_tokens(live_server, tablet: Page, staff):
    token = services.token_create(username="doctor.oslo", password=PASSWORD)
    page = tablet
    tap_login(page, live_server, "doctor.oslo")

    page.locator("header a.my-tokens").tap()
    row = page.locator("main table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(token[:12])
    check_accessibility(page)
    screenshot(page, "my-tokens")
    row.get_by_role("button").tap()

    expect(page.locator(".message.success")).to_have_text(nb("The token is revoked."))
    expect(page.locator("main table")).to_have_count(0)
    assert services.token_user(token) is None
