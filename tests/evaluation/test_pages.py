"""The dashboard page: who sees it, and what it shows."""

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from tests.core.test_authorisation import ALLOWED


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_the_dashboard_follows_the_policy_table(web_as, role):
    response = web_as(f"{role}.oslo").get("/evaluation/", {"clinic": "oslo"})
    assert response.status_code == (200 if role in ALLOWED[Action.EVALUATION_VIEW] else 403)


def test_another_clinic_is_404(web_as):
    assert web_as("clinic_lead.oslo").get("/evaluation/", {"clinic": "bergen"}).status_code == 404


def test_it_shows_retention_and_attendance(web_as, world):
    response = web_as("clinic_lead.oslo").get(
        "/evaluation/", {"from": "2025-01-01", "to": "2025-06-30"}
    )
    assert response.status_code == 200
    assert response.context["d"]["retention"]["at_months"]["3"] == 0.75
    assert response.context["d"]["dosing"]["attendance"] == 0.4444
    assert b"1 / 2" in response.content  # positive exits of all exits


def test_a_bad_period_is_explained_and_the_default_shown(web_as):
    response = web_as("researcher.oslo").get(
        "/evaluation/", {"from": "2025-06-01", "to": "2025-01-01"}
    )
    assert response.status_code == 200
    assert response.context["error"]


def test_the_programme_owner_sees_small_numbers_as_under_five(web_as, world):
    response = web_as("programme.oslo").get(
        "/evaluation/", {"from": "2025-01-01", "to": "2025-06-30"}, HTTP_ACCEPT_LANGUAGE="nb"
    )
    html = response.content.decode()
    d = response.context["d"]
    assert d["patients"]["active"] == "< 5"  # four patients, never shown as 0 or 4
    assert d["retention"]["at_months"]["3"] == "skjermet"  # would give the four back
    assert '<span class="value">&lt; 5</span>' in html
    assert "Tall under 5 vises som" in html
    assert "0,75" not in html and "1 / 2" not in html


def test_the_clinic_lead_sees_no_note_on_small_numbers(web_as, world):
    response = web_as("clinic_lead.oslo").get(
        "/evaluation/", {"clinic": "oslo", "from": "2025-01-01", "to": "2025-06-30"}
    )
    assert response.context["threshold"] is None
    assert response.context["d"]["patients"]["active"] == 4
