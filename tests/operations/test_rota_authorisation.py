"""Who may read and change the rota, from the one table in tests/core/test_authorisation.py,
through the API and the pages: own clinic as the table says, the other clinic 404."""

from __future__ import annotations

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from hab.operations.models import ClinicSession
from tests.operations.conftest import tomorrow
from tests.permissions import ALLOWED

pytestmark = pytest.mark.django_db

CALLS = [
    (Action.ROTA_VIEW, "get", "/clinics/{clinic}/rota", None),
    (Action.ROTA_VIEW, "get", "/clinics/{clinic}/rota/warnings", None),
    (Action.ROTA_VIEW, "get", "/clinics/{clinic}/rota/rule", None),
    (Action.ROTA_VIEW, "get", "/clinics/{clinic}/calendar/templates", None),
    (Action.ROTA_VIEW, "get", "/clinics/{clinic}/calendar/exceptions", None),
    (
        Action.ROTA_EDIT,
        "post",
        "/clinics/{clinic}/rota/assignments",
        {"slot": "morning", "username": "nurse.{clinic}", "role": "nurse"},
    ),
    (Action.ROTA_EDIT, "post", "/clinics/{clinic}/calendar/generate", {"days": 3}),
    (
        Action.ROTA_EDIT,
        "post",
        "/clinics/{clinic}/calendar/closures",
        {"reason": "Vannlekkasje"},
    ),
    (
        Action.ROTA_EDIT,
        "post",
        "/clinics/{clinic}/rota/rule",
        {"min_nurses": 2, "min_doctors": 1, "reason": "Som før"},
    ),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "method", "path", "body"), CALLS)
@pytest.mark.parametrize("where", ["own", "other"])
def test_api_authorisation(calendar, api_as, role, action, method, path, body, where):
    clinic = "oslo" if where == "own" else "bergen"
    api = api_as(f"{role}.oslo")

    if method == "get":
        response = api.get(path.format(clinic=clinic))
    else:
        data = {k: v.format(clinic=clinic) if isinstance(v, str) else v for k, v in body.items()}
        if path.endswith(("assignments", "closures")):  # the others take no date
            data["date"] = str(tomorrow())
        response = api.post(path.format(clinic=clinic), data)

    if where == "other":
        expected = 404
    elif role not in ALLOWED[action]:
        expected = 403
    else:
        expected = 201 if method == "post" and "generate" not in path else 200
    assert response.status_code == expected, response.content


PAGES = [
    (Action.ROTA_VIEW, "/operations/"),
    (Action.ROTA_VIEW, "/operations/warnings/"),
    (Action.ROTA_VIEW, "/operations/calendar/"),
    (Action.ROTA_EDIT, "/operations/sessions/{session}/assign/"),
    (Action.ROTA_EDIT, "/operations/calendar/template/"),
    (Action.ROTA_EDIT, "/operations/calendar/exception/"),
    (Action.ROTA_EDIT, "/operations/calendar/closure/"),
    (Action.ROTA_EDIT, "/operations/rule/"),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "path"), PAGES)
def test_ui_authorisation(calendar, web_as, role, action, path):
    session = ClinicSession.objects.filter(clinic__code="oslo").first()

    response = web_as(f"{role}.oslo").get(path.format(session=session.pk))

    assert response.status_code == (200 if role in ALLOWED[action] else 403)


@pytest.mark.parametrize("path", ["/operations/sessions/{session}/assign/"])
def test_ui_sessions_of_another_clinic_are_404(calendar, web_as, path):
    session = ClinicSession.objects.filter(clinic__code="bergen").first()

    response = web_as("clinic_lead.oslo").get(path.format(session=session.pk))

    assert response.status_code == 404


@pytest.mark.parametrize("role", Role.values)
def test_the_menu_shows_the_rota_to_those_who_may_read_it(calendar, web_as, role):
    page = web_as(f"{role}.oslo").get("/", follow=True)

    menu = page.content.decode().split('<ul class="menu">')[1].split("</ul>")[0]
    assert ('href="/operations/"' in menu) == (role in ALLOWED[Action.ROTA_VIEW])
