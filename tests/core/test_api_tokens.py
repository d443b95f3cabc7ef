"""API tokens: 12 hours by default, revoked when the trust they rest on changes, and
listed and revoked by their holder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core import services
from hab.core.models import ApiToken, SecurityEvent, User
from tests import clock as test_clock
from tests.conftest import PASSWORD, Api

pytestmark = pytest.mark.django_db


def new_token(username: str) -> str:
    token = services.token_create(username=username, password=PASSWORD)
    assert token
    return token


@pytest.mark.parametrize(
    ("after", "works"),
    [
        (timedelta(hours=12) - timedelta(seconds=1), True),
        (timedelta(hours=12), False),
        (timedelta(hours=12, seconds=1), False),
    ],
)
def test_a_token_lasts_twelve_hours(staff, fixed_clock, after, works):
    token = new_token("nurse.oslo")

    with test_clock.fixed(fixed_clock + after):
        response = Api(token).get("/me")

    assert response.status_code == (200 if works else 401)


def test_the_lifetime_is_set_in_hours(staff, fixed_clock, monkeypatch):
    monkeypatch.setenv("HAB_API_TOKEN_HOURS", "2")

    new_token("nurse.oslo")

    token = ApiToken.objects.get()
    assert (token.created_at, token.expires_at) == (fixed_clock, fixed_clock + timedelta(hours=2))


def test_a_password_change_revokes_the_users_tokens(staff):
    token = new_token("nurse.oslo")
    other = new_token("doctor.oslo")
    user = User.objects.get(username="nurse.oslo")

    user.set_password("a-new-password-2027")
    user.save()

    assert Api(token).get("/me").status_code == 401
    assert Api(other).get("/me").status_code == 200
    event = SecurityEvent.objects.get(kind="token_revoked")
    assert (event.username, event.details["why"]) == ("nurse.oslo", "password changed")


def test_deactivating_a_user_revokes_their_tokens(staff):
    new_token("nurse.oslo")
    user = User.objects.get(username="nurse.oslo")

    user.is_active = False
    user.save()

    assert ApiToken.objects.get().revoked_at is not None
    assert SecurityEvent.objects.get(kind="token_revoked").details["why"] == "deactivated"


def test_other_changes_to_a_user_keep_their_tokens(staff):
    token = new_token("nurse.oslo")
    user = User.objects.get(username="nurse.oslo")

    user.first_name = "Kari"
    user.save()

    assert Api(token).get("/me").status_code == 200
    assert not SecurityEvent.objects.filter(kind="token_revoked").exists()


def test_a_user_lists_and_revokes_their_own_tokens(staff):
    first, second = new_token("nurse.oslo"), new_token("nurse.oslo")
    someone_elses = new_token("doctor.oslo")
    api = Api(first)

    listed = api.get("/me/tokens").json()
    assert sorted(t["prefix"] for t in listed) == sorted([first[:12], second[:12]])
    second_id = next(t["id"] for t in listed if t["prefix"] == second[:12])
    doctors = ApiToken.objects.get(user__username="doctor.oslo").pk

    assert api.delete(f"/me/tokens/{doctors}").status_code == 404
    assert api.delete(f"/me/tokens/{second_id}").status_code == 204
    assert Api(second).get("/me").status_code == 401
    assert Api(someone_elses).get("/me").status_code == 200
    assert [t["prefix"] for t in api.get("/me/tokens").json()] == [first[:12]]
    assert SecurityEvent.objects.get(kind="token_revoked").details["why"] == "revoked by holder"


def test_logging_out_of_the_api_is_in_the_security_log(staff):
    token = new_token("nurse.oslo")

    assert Api(token).delete("/auth/token").status_code == 204

    assert Api(token).get("/me").status_code == 401
    assert SecurityEvent.objects.get(kind="token_revoked").details["why"] == "logout"


def test_the_token_page_lists_and_revokes(staff, web_as):
    token = new_token("nurse.oslo")
    client = web_as("nurse.oslo")

    page = client.get("/me/tokens/")
    assert page.status_code == 200 and token[:12] in page.content.decode()

    revoked = client.post("/me/tokens/", {"token": ApiToken.objects.get().pk})

    assert revoked.status_code == 302
    assert Api(token).get("/me").status_code == 401
    assert token[:12] not in client.get("/me/tokens/").content.decode()


def test_the_token_page_revokes_no_one_elses_token(staff, web_as):
    token = new_token("doctor.oslo")

    response = web_as("nurse.oslo").post("/me/tokens/", {"token": ApiToken.objects.get().pk})

    assert response.status_code == 404
    assert Api(token).get("/me").status_code == 200
