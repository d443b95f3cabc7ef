"""Who may see and record follow-ups, from the authorisation table (tests/core), through
the API and the pages, at their own clinic and at another."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from tests.permissions import ALLOWED, WITH_REASON
from tests.research.conftest import valid_answers

pytestmark = pytest.mark.django_db


def _expected(role: str, action: Action, where: str, ok: int) -> int:
    if where == "other":
        return 404
    if role not in ALLOWED[action]:
        return 403
    if role in WITH_REASON:
        return 403
    return ok


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("where", ["own", "other"])
def test_api_lists(api_as, course, role, where):
    made = course("oslo" if where == "own" else "bergen")
    clinic = "oslo" if where == "own" else "bergen"
    api = api_as(f"{role}.oslo")

    listing = api.get(f"/clinics/{clinic}/follow-ups", {"state": "overdue"})
    patient = api.get(f"/patients/{made['patient']}/follow-ups")

    assert listing.status_code == _expected(role, Action.FOLLOWUP_VIEW, where, 200)
    assert patient.status_code == _expected(role, Action.FOLLOWUP_VIEW, where, 200)


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("where", ["own", "other"])
def test_api_record(api_as, course, role, where):
    made = course("oslo" if where == "own" else "bergen")
    baseline = made["points"]["baseline"]

    response = api_as(f"{role}.oslo").post(
        f"/follow-ups/{baseline.pk}/responses",
        {
            "instrument": "hab_core",
            "answered_on": str(baseline.due_on + timedelta(days=1)),
            "answers": valid_answers(),
        },
    )

    assert response.status_code == _expected(role, Action.FOLLOWUP_RECORD, where, 201)


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("where", ["own", "other"])
def test_pages(web_as, course, role, where):
    made = course("oslo" if where == "own" else "bergen")
    baseline = made["points"]["baseline"]
    client = web_as(f"{role}.oslo")

    patient = client.get(f"/research/patients/{made['patient']}/")
    interview = client.get(f"/research/follow-ups/{baseline.pk}/interview/")

    def expected(action: Action) -> int:
        if where == "other":
            return 404
        if role not in ALLOWED[action]:
            return 403
        if role in WITH_REASON:
            return 302  # to the page that asks for a reason
        return 200

    assert patient.status_code == expected(Action.FOLLOWUP_VIEW)
    assert interview.status_code == expected(Action.FOLLOWUP_RECORD)


@pytest.mark.parametrize("role", Role.values)
def test_the_clinic_list_page_and_the_menu(web_as, staff, role):
    response = web_as(f"{role}.oslo").get("/research/")

    allowed = role in ALLOWED[Action.FOLLOWUP_VIEW]
    assert response.status_code == (200 if allowed else 403)
    home = web_as(f"{role}.oslo").get("/", follow=True)
    assert ('href="/research/"' in home.content.decode()) == allowed


def test_the_instruments_need_a_login(api_as, staff):
    assert api_as(None).get("/research/instruments").status_code == 401
