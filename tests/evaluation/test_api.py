"""GET /api/v1/evaluation/indicators: who may read it, per clinic and for the programme."""

import datetime

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from hab.evaluation import disclosure
from tests.permissions import ALLOWED


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
    # the clinic lead is care staff at Oslo, the programme's one clinic here: exact counts
    response = api_as("clinic_lead.oslo").get(
        "/evaluation/indicators", {"from": "2025-01-01", "to": "2025-06-30"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["scope"] == "programme" and data["clinics"] == ["oslo"]
    assert data["patients"]["patient_days"] == 420
    assert data["patients"]["active"] == 4
    assert data["retention"]["at_months"]["3"] == 0.75
    assert data["dosing"]["attendance"] == 0.4444
    assert data["safety"]["incidents_per_1000_administrations"] == 500.0
    assert data["suppressed"] == {} and data["suppression_threshold"] is None
    for key in ("intake", "outcomes", "costs", "monthly"):
        assert key in data


def _counts(data: dict) -> list[tuple[str, object]]:
    return [
        (".".join(map(str, path)), _at(data, path))
        for pattern in disclosure.COUNTS
        for path, _stars in disclosure._paths(data, tuple(pattern.split(".")))
    ]


def _at(data, path):
    for key in path:
        data = data[key]
    return data


@pytest.mark.parametrize("role", ["programme", "researcher"])
def test_roles_outside_the_care_staff_see_small_numbers_withheld(api_as, world, role):
    response = api_as(f"{role}.oslo").get(
        "/evaluation/indicators", {"clinic": "oslo", "from": "2025-01-01", "to": "2025-06-30"}
    )
    data = response.json()
    assert data["suppression_threshold"] == 5
    # four patients: withheld, shown as null and named with the reason
    assert data["patients"]["active"] is None
    assert data["suppressed"]["patients.active"] == "below"
    # and what they would give back: retention of four courses, places used of capacity
    assert data["retention"]["at_months"]["3"] is None
    assert data["suppressed"]["retention.at_months.3"] == "hidden"
    assert data["patients"]["places_used_share"] is None
    # large figures stay
    assert data["patients"]["patient_days"] == 420 and data["patients"]["capacity"] == 200
    for path, value in _counts(data):
        assert value is None or not 0 < value < 5, path
        assert (value is None) == (path in data["suppressed"]) or value is None, path


def test_one_day_shows_no_count_from_one_to_four_to_the_programme(api_as, world):
    for day in ("2025-01-01", "2025-01-12", "2025-03-01", "2025-04-01"):
        data = (
            api_as("programme.oslo").get("/evaluation/indicators", {"from": day, "to": day}).json()
        )
        for path, value in _counts(data):
            assert value is None or not 0 < value < 5, (day, path, value)


@pytest.mark.parametrize(("threshold", "shown"), [(4, True), (5, False), (6, False)])
def test_the_threshold_is_a_setting(api_as, world, settings, threshold, shown):
    settings.HAB_SMALL_NUMBER_THRESHOLD = threshold
    data = (
        api_as("programme.oslo")
        .get("/evaluation/indicators", {"clinic": "oslo", "from": "2025-01-01", "to": "2025-06-30"})
        .json()
    )
    assert data["suppression_threshold"] == threshold
    assert data["patients"]["active"] == (4 if shown else None)  # four patients at Oslo


def test_the_lead_of_one_clinic_sees_the_other_clinic_withheld(api_as, world, staff, clinics):
    # given the Oslo lead is also the programme owner at Bergen
    from hab.core.models import Membership

    lead = staff["clinic_lead.oslo"]
    Membership.objects.create(user=lead, clinic=clinics["bergen"], role="programme")
    client = api_as("clinic_lead.oslo")
    period = {"from": "2025-01-01", "to": "2025-06-30"}
    own = client.get("/evaluation/indicators", {"clinic": "oslo"} | period).json()
    other = client.get("/evaluation/indicators", {"clinic": "bergen"} | period).json()
    both = client.get("/evaluation/indicators", period).json()
    assert own["suppression_threshold"] is None and own["patients"]["active"] == 4
    assert other["suppression_threshold"] == 5 and other["patients"]["active"] is None
    assert both["suppression_threshold"] == 5 and both["clinics"] == ["bergen", "oslo"]


def test_unauthenticated_is_401(api_as):
    assert api_as(None).get("/evaluation/indicators").status_code == 401


def test_a_period_past_today_is_reported_to_today(api_as):
    from hab.core import clock

    today = clock.today()
    response = api_as("clinic_lead.oslo").get(
        "/evaluation/indicators", {"from": f"{today.year}-01-01", "to": f"{today.year}-12-31"}
    )

    data = response.json()
    assert (data["from"], data["to"]) == (f"{today.year}-01-01", today.isoformat())
    assert data["until_today"] is True
    asked_to_today = api_as("clinic_lead.oslo").get(
        "/evaluation/indicators", {"from": f"{today.year}-01-01", "to": today.isoformat()}
    )
    assert asked_to_today.json()["until_today"] is False
    assert asked_to_today.json()["retention"] == data["retention"]


def test_a_period_that_begins_after_today_is_422(api_as):
    from hab.core import clock

    tomorrow = clock.today() + datetime.timedelta(1)
    response = api_as("clinic_lead.oslo").get(
        "/evaluation/indicators", {"from": tomorrow.isoformat(), "to": tomorrow.isoformat()}
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "from", "message": "The period cannot begin after today."}
    ]


@pytest.mark.parametrize("outcomes", ["some", "1"])
def test_an_unknown_outcome_population_is_422(api_as, outcomes):
    response = api_as("clinic_lead.oslo").get("/evaluation/indicators", {"outcomes": outcomes})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "outcomes"


def test_the_outcome_population_is_said_in_the_answer(api_as):
    answer = api_as("clinic_lead.oslo").get("/evaluation/indicators", {"outcomes": "consented"})

    assert answer.status_code == 200
    assert answer.json()["outcomes_population"] == "consented"


def test_a_period_of_today_alone_is_answered(api_as):
    from hab.core import clock

    today = clock.today().isoformat()
    response = api_as("clinic_lead.oslo").get(
        "/evaluation/indicators", {"from": today, "to": today}
    )

    assert response.status_code == 200
    assert (response.json()["from"], response.json()["to"]) == (today, today)
    assert response.json()["until_today"] is False
