"""GET /api/v1/evaluation/indicators: who may read it, per clinic and for the programme."""

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from tests.core.test_authorisation import ALLOWED


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_roles_follow_the_policy_table(api_as, role):
    response = api_as(f"{role}.oslo").get(
        "/evaluation/indicators", {"clinic": "oslo", "from": "2025-01-01", "to": "2025-06-30"}
    )
    expected = 200 if role in ALLOWED[Action.EVALUATION_VIEW] else 403
    assert response.status_code == expected, response.content


def test_another_clinic_is_not_found(api_as):
    response = api_as("clinic_lead.oslo").get("/evaluation/indicators", {"clinic": "bergen"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    [{"from": "2025-13-01"}, {"to": "yesterday"}, {"from": "2025-06-01", "to": "2025-01-01"}],
)
def test_bad_dates_are_422_with_the_field(api_as, query):
    response = api_as("researcher.oslo").get("/evaluation/indicators", {"clinic": "oslo"} | query)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] in ("from", "to")


def test_it_returns_every_indicator_for_the_programme(api_as, world):
    response = api_as("programme.oslo").get(
        "/evaluation/indicators", {"from": "2025-01-01", "to": "2025-06-30"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["scope"] == "programme" and data["clinics"] == ["oslo"]
    assert data["patients"]["patient_days"] == 420
    assert data["retention"]["at_months"]["3"] == 0.75
    assert data["dosing"]["attendance"] == 0.4444
    assert data["safety"]["incidents_per_1000_administrations"] == 500.0
    for key in ("intake", "outcomes", "costs", "monthly"):
        assert key in data


def test_unauthenticated_is_401(api_as):
    assert api_as(None).get("/evaluation/indicators").status_code == 401
