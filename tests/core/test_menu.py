"""The menu's link to the report to Legemiddelregisteret: shown to whom the policy lets
make it, and marked as the current page there."""

from __future__ import annotations

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from tests.permissions import ALLOWED

pytestmark = pytest.mark.django_db

LINK = 'href="/interop/lmdi/"'


@pytest.mark.parametrize("role", Role.values)
def test_the_report_is_in_the_menu_of_those_who_may_make_it(web_as, role):
    client = web_as(f"{role}.oslo")

    menu = client.get("/", follow=True).context["menu"]

    shown = any(item["url"] == "/interop/lmdi/" for item in menu)
    assert shown == (role in ALLOWED[Action.LMDI_REPORT])
    # The link is shown where the page opens, and only there.
    assert client.get("/interop/lmdi/").status_code == (200 if shown else 403)


def test_the_report_is_the_current_item_on_its_page(web_as):
    page = web_as("clinic_lead.oslo").get("/interop/lmdi/")

    current = [str(item["label"]) for item in page.context["menu"] if item["active"]]
    assert current == ["Legemiddelregisteret"]
    html = page.content.decode()
    assert f'{LINK} aria-current="page"' in html
    assert html.count('aria-current="page"') == 1
