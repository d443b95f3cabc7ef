"""Lock-out after repeated failed logins (django-axes): web page, API, who is affected."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client, override_settings

from hab.core.security import failures_towards_lockout
from tests.conftest import PASSWORD, Api

pytestmark = pytest.mark.django_db

LIMIT = 3
few_failures = override_settings(AXES_FAILURE_LIMIT=LIMIT)


def web_login(client: Client, username: str, password: str, ip: str = "127.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


@few_failures
def test_the_login_page_says_so_after_too_many_wrong_passwords(staff):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(LIMIT - 1):
        page = web_login(client, "nurse.oslo", "wrong")
        assert page.status_code == 200
        assert "Wrong username or password." in page.content.decode()

    locked = web_login(client, "nurse.oslo", "wrong")

    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Too many failed logins. Try again in 15 minutes" in text
    assert "Wrong username or password." not in text
    # Even the right password is refused until the cool-off has passed.
    again = web_login(client, "nurse.oslo", PASSWORD)
    assert again.status_code == 429
    assert client.get("/dosing/").status_code == 302


@few_failures
def test_the_message_is_norwegian_by_default(staff):
    client = Client()
    for _ in range(LIMIT):
        locked = web_login(client, "nurse.oslo", "feil")

    assert locked.status_code == 429
    assert "For mange mislykkede innlogginger" in locked.content.decode()


@few_failures
def test_a_lock_out_binds_the_user_name_at_that_address_only(staff):
    for _ in range(LIMIT):
        web_login(Client(), "nurse.oslo", "wrong", ip="10.0.0.7")

    # A colleague at the same tablet, and the same nurse at another, still log in.
    assert web_login(Client(), "doctor.oslo", PASSWORD, ip="10.0.0.7").status_code == 302
    assert web_login(Client(), "nurse.oslo", PASSWORD, ip="10.0.0.8").status_code == 302
    assert web_login(Client(), "nurse.oslo", PASSWORD, ip="10.0.0.7").status_code == 429


@few_failures
def test_a_successful_login_forgets_earlier_failures(staff):
    for _ in range(LIMIT - 1):
        web_login(Client(), "nurse.oslo", "wrong")
    assert web_login(Client(), "nurse.oslo", PASSWORD).status_code == 302

    for _ in range(LIMIT - 1):
        web_login(Client(), "nurse.oslo", "wrong")

    assert web_login(Client(), "nurse.oslo", PASSWORD).status_code == 302


@few_failures
def test_the_api_answers_429_with_retry_after_when_locked_out(staff):
    wrong = {"username": "nurse.oslo", "password": "wrong"}
    for _ in range(LIMIT - 1):
        assert Api().post("/auth/token", wrong).status_code == 401

    locked = Api().post("/auth/token", wrong)
    right = Api().post("/auth/token", {"username": "nurse.oslo", "password": PASSWORD})

    assert locked.status_code == 429
    assert locked.json()["detail"].startswith("Too many failed logins. Try again in 15 minutes")
    assert locked["Retry-After"] == str(15 * 60)
    assert right.status_code == 429


@few_failures
def test_the_web_and_the_api_count_together(staff):
    for _ in range(LIMIT - 1):
        web_login(Client(), "nurse.oslo", "wrong")

    response = Api().post("/auth/token", {"username": "nurse.oslo", "password": "wrong"})

    assert response.status_code == 429


@few_failures
def test_an_administrator_unlocks_a_user(staff):
    from django.core.management import call_command

    for _ in range(LIMIT):
        web_login(Client(), "nurse.oslo", "wrong")
    assert AccessAttempt.objects.filter(username="nurse.oslo").exists()

    call_command("axes_reset_username", "nurse.oslo")

    assert web_login(Client(), "nurse.oslo", PASSWORD).status_code == 302


@few_failures
def test_a_password_checked_without_a_request_is_no_login_attempt(staff):
    # The witness of a waste confirms with their password inside the service.
    for _ in range(LIMIT + 1):
        assert authenticate(username="nurse.oslo", password="wrong") is None

    assert authenticate(username="nurse.oslo", password=PASSWORD) == staff["nurse.oslo"]
    assert not AccessAttempt.objects.exists()


NAME_LIMIT = 6
name_limit = override_settings(
    AXES_FAILURE_LIMIT=LIMIT, HAB_LOGIN_USERNAME_FAILURE_LIMIT=NAME_LIMIT
)


@name_limit
def test_failures_from_many_addresses_lock_the_user_name_everywhere(staff):
    # Two addresses, each under its own limit: LIMIT - 1 + LIMIT - 1 = 4 failures.
    for ip in ("10.0.0.7", "10.0.0.8"):
        for _ in range(LIMIT - 1):
            assert web_login(Client(), "nurse.oslo", "wrong", ip=ip).status_code == 200
    # A third address brings the user name to NAME_LIMIT - 1: not locked yet.
    assert web_login(Client(), "nurse.oslo", "wrong", ip="10.0.0.9").status_code == 200

    locked = web_login(Client(), "nurse.oslo", "wrong", ip="10.0.0.10")

    assert locked.status_code == 429
    # Now even the right password from a fresh address is refused, on the web and the API.
    assert web_login(Client(), "nurse.oslo", PASSWORD, ip="10.0.0.11").status_code == 429
    right = {"username": "nurse.oslo", "password": PASSWORD}
    api = Client().post(
        "/api/v1/auth/token", right, content_type="application/json", REMOTE_ADDR="10.0.0.12"
    )
    assert api.status_code == 429
    # Only that user name: a colleague still logs in from the same addresses.
    assert web_login(Client(), "doctor.oslo", PASSWORD, ip="10.0.0.7").status_code == 302


@name_limit
def test_one_failure_under_the_name_limit_from_two_addresses_still_logs_in(staff):
    for _ in range(LIMIT - 1):
        web_login(Client(), "nurse.oslo", "wrong", ip="10.0.0.7")
    for _ in range(NAME_LIMIT - LIMIT):
        web_login(Client(), "nurse.oslo", "wrong", ip="10.0.0.8")

    assert web_login(Client(), "nurse.oslo", PASSWORD, ip="10.0.0.9").status_code == 302


@name_limit
def test_the_administrator_unlocks_a_user_name_locked_everywhere(staff):
    for number in range(NAME_LIMIT):
        web_login(Client(), "nurse.oslo", "wrong", ip=f"10.0.1.{number}")
    assert web_login(Client(), "nurse.oslo", PASSWORD, ip="10.0.2.1").status_code == 429

    call_command("axes_reset_username", "nurse.oslo")

    assert web_login(Client(), "nurse.oslo", PASSWORD, ip="10.0.2.1").status_code == 302


@pytest.mark.parametrize(
    ("per_address", "per_name", "counted"),
    [(0, 0, 0), (2, 2, 2), (4, 9, 4), (3, 10, 5), (3, 11, 6), (5, 5, 5)],
)
def test_the_name_count_reaches_the_address_limit_at_the_name_limit(per_address, per_name, counted):
    assert failures_towards_lockout(per_address, per_name, 5, 10) == counted


def test_the_name_limit_cannot_be_below_the_address_limit():
    env = {"HAB_LOGIN_FAILURE_LIMIT": "5", "HAB_LOGIN_USERNAME_FAILURE_LIMIT": "4"}
    result = subprocess.run(
        [sys.executable, "-c", "import hab.settings"],
        env=os.environ | env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "HAB_LOGIN_USERNAME_FAILURE_LIMIT" in result.stderr


@name_limit
def test_a_login_forgives_the_failures_at_its_own_address_only(staff):
    for _ in range(LIMIT - 1):
        web_login(Client(), "nurse.oslo", "wrong", ip="10.0.0.7")
    for _ in range(LIMIT - 1):
        web_login(Client(), "nurse.oslo", "wrong", ip="10.0.0.8")
    assert web_login(Client(), "nurse.oslo", PASSWORD, ip="10.0.0.8").status_code == 302

    # 10.0.0.7's failures still count: one more there locks the name at that address.
    assert web_login(Client(), "nurse.oslo", "wrong", ip="10.0.0.7").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.7"}
