"""API tokens: log in, use, revoke; tokens are stored hashed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core import clock
from hab.core.models import ApiToken
from tests.conftest import PASSWORD, Api

pytestmark = pytest.mark.django_db


def test_a_token_is_issued_for_the_right_password_and_works(staff):
    response = Api().post("/auth/token", {"username": "nurse.oslo", "password": PASSWORD})

    assert response.status_code == 200
    token = response.json()["token"]
    me = Api(token).get("/me")
    assert me.status_code == 200
    assert me.json()["username"] == "nurse.oslo"
    assert me.json()["clinics"][0]["code"] == "oslo"
    assert me.json()["clinics"][0]["roles"] == ["nurse"]
    assert [s["code"] for s in me.json()["clinics"][0]["slots"]] == ["morning", "afternoon"]


def test_the_token_is_stored_only_as_a_hash(staff):
    token = (
        Api().post("/auth/token", {"username": "nurse.oslo", "password": PASSWORD}).json()["token"]
    )

    stored = ApiToken.objects.get()
    assert token not in stored.key_hash
    assert stored.prefix == token[:12]
    assert len(stored.key_hash) == 64


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "nurse.oslo", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_wrong_credentials_are_401(staff, credentials):
    response = Api().post("/auth/token", credentials)

    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password."}
    assert not ApiToken.objects.exists()


def test_a_deactivated_user_gets_no_token(staff):
    staff["nurse.oslo"].is_active = False
    staff["nurse.oslo"].save()

    response = Api().post("/auth/token", {"username": "nurse.oslo", "password": PASSWORD})

    assert response.status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer hab_unknown", "Basic abc"])
def test_requests_without_a_live_token_are_401(staff, make_patient, header):
    patient = make_patient()
    api = Api(headers={"Authorization": header} if header else {})

    response = api.get(f"/patients/{patient.pk}")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_stops_working(api_as):
    api = api_as("nurse.oslo")
    assert api.get("/me").status_code == 200

    assert api.delete("/auth/token").status_code == 204

    assert api.get("/me").status_code == 401
    assert ApiToken.objects.get().revoked_at is not None


def test_an_expired_token_stops_working(api_as):
    api = api_as("nurse.oslo")
    ApiToken.objects.update(expires_at=clock.now() - timedelta(seconds=1))

    assert api.get("/me").status_code == 401


def test_a_token_of_a_deactivated_user_stops_working(api_as, staff):
    api = api_as("nurse.oslo")
    staff["nurse.oslo"].is_active = False
    staff["nurse.oslo"].save()

    assert api.get("/me").status_code == 401


def test_the_openapi_schema_is_public_and_lists_the_contract(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/auth/token",
        "/api/v1/patients",
        "/api/v1/patients/{patient_id}",
        "/api/v1/patients/{patient_id}/access-log",
    ]:
        assert path in paths
