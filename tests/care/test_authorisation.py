"""Who may do what with the individual plan, from the one table in
tests/core/test_authorisation.py, through the API and the pages: own clinic as the table
says, the other clinic always 404."""

from __future__ import annotations

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from tests.helpers import days_ago
from tests.permissions import ALLOWED

pytestmark = pytest.mark.django_db

CALLS = [
    (Action.CARE_VIEW, "get", "", None),
    (Action.CARE_EDIT, "post", "/goals", {"domain": "housing", "text": "Egen bolig"}),
    (
        Action.CARE_EDIT,
        "post",
        "/actions",
        {"domain": "housing", "text": "Søke bolig", "owner": "patient"},
    ),
    (Action.CARE_EDIT, "post", "/reviews", {"held_on": str(days_ago(0))}),
    (Action.CARE_EDIT, "post", "/status", {"housing": "own_flat", "activity": "work"}),
    (Action.CARE_NOTE_WRITE, "post", "/notes", {"text": "Notat", "visibility": "team"}),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "method", "part", "body"), CALLS)
@pytest.mark.parametrize("where", ["own", "other"])
def test_api_authorisation(api_as, in_treatment, role, action, method, part, body, where):
    patient = in_treatment("oslo" if where == "own" else "bergen")
    api = api_as(f"{role}.oslo")
    path = f"/patients/{patient.pk}/care-plan{part}"

    response = api.get(path) if method == "get" else api.post(path, body)

    if where == "other":
        expected = 404
    elif role not in ALLOWED[action]:
        expected = 403
    else:
        expected = 201 if method == "post" else 200
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("where", ["own", "other"])
def test_api_clinic_list(api_as, role, where, staff):
    response = api_as(f"{role}.oslo").get(
        f"/clinics/{'oslo' if where == 'own' else 'bergen'}/care-plans"
    )

    allowed = role in ALLOWED[Action.CARE_EDIT]
    expected = 404 if where == "other" else (200 if allowed else 403)
    assert response.status_code == expected, response.content


PAGES = [
    (Action.CARE_VIEW, ""),
    (Action.CARE_EDIT, "goals/new/"),
    (Action.CARE_EDIT, "actions/new/"),
    (Action.CARE_EDIT, "reviews/new/"),
    (Action.CARE_EDIT, "status/new/"),
    (Action.CARE_NOTE_WRITE, "notes/new/"),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "page"), PAGES)
@pytest.mark.parametrize("where", ["own", "other"])
def test_ui_authorisation(web_as, in_treatment, role, action, page, where):
    patient = in_treatment("oslo" if where == "own" else "bergen")

    response = web_as(f"{role}.oslo").get(f"/care/patients/{patient.pk}/{page}")

    if where == "other":
        assert response.status_code == 404
    elif role not in ALLOWED[action]:
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", Role.values)
def test_ui_clinic_page(web_as, role):
    response = web_as(f"{role}.oslo").get("/care/")

    assert response.status_code == (200 if role in ALLOWED[Action.CARE_EDIT] else 403)


def test_pages_need_login(client, patient):
    for path in ["/care/", f"/care/patients/{patient.pk}/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
