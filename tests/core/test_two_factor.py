"""Two-factor login (TOTP): who needs it, enrolment, the code at login, the API's otp."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from hab.core import two_factor
from hab.core.models import ApiToken
from hab.core.policy import POLICY
from hab.core.roles import Role
from tests.conftest import PASSWORD, Api
from tests.helpers import code_for

pytestmark = pytest.mark.django_db

require_2fa = override_settings(HAB_REQUIRE_2FA=True)


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="HAB", confirmed=True)


def password_step(client: Client, username: str, **extra):
    return client.post(
        "/login/", {"username": username, "password": PASSWORD, **extra}, follow=False
    )


def test_the_roles_needing_a_second_factor_come_from_the_policy_table():
    # Prescribing, research exports and the protocol: doctor, researcher, clinic lead.
    assert {Role.DOCTOR, Role.RESEARCHER, Role.CLINIC_LEAD} == two_factor.ROLES_NEEDING_2FA
    for role in two_factor.ROLES_NEEDING_2FA:
        assert POLICY[role] & two_factor.SECOND_FACTOR_ACTIONS


@require_2fa
@pytest.mark.parametrize(
    ("username", "needs"),
    [
        ("doctor.oslo", True),
        ("clinic_lead.bergen", True),
        ("researcher.oslo", True),
        ("admin.oslo", True),  # grants roles in the admin
        ("nurse.oslo", False),
        ("coordinator.oslo", False),
        ("psychologist.bergen", False),
        ("programme.oslo", False),
    ],
)
def test_who_must_use_a_second_factor(staff, username, needs):
    assert two_factor.needs_second_factor(staff[username]) is needs


def test_nobody_needs_it_when_the_requirement_is_off_unless_they_enrolled(staff, settings):
    settings.HAB_REQUIRE_2FA = False
    assert not two_factor.needs_second_factor(staff["doctor.oslo"])
    confirmed_device(staff["nurse.oslo"])
    assert two_factor.needs_second_factor(staff["nurse.oslo"])


@require_2fa
def test_a_doctor_without_a_device_is_sent_to_enrol_and_is_not_logged_in_yet(staff):
    client = Client()

    response = password_step(client, "doctor.oslo")

    assert response.status_code == 302
    assert response["Location"] == "/login/enrol/"
    # Nothing else opens before the second factor.
    assert client.get("/patients/")["Location"].startswith("/login/")


@require_2fa
def test_enrolment_shows_a_qr_code_and_the_key_and_logs_in_with_the_apps_code(staff):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    password_step(client, "doctor.oslo")

    page = client.get("/login/enrol/")

    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg width="' in html and "<title>QR code for the authenticator app</title>" in html
    device = TOTPDevice.objects.get(user=staff["doctor.oslo"], confirmed=False)
    assert two_factor.secret_text(device).replace(" ", "") in html.replace(" ", "")
    # The QR code is an image for the app; the page carries no inline style or script.
    assert "style=" not in html and "<script>" not in html

    done = client.post("/login/enrol/", {"code": code_for(device)})

    assert done.status_code == 302 and done["Location"] == "/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/patients/").status_code == 200


@require_2fa
def test_a_wrong_enrolment_code_confirms_nothing(staff):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    password_step(client, "doctor.oslo")
    client.get("/login/enrol/")

    page = client.post("/login/enrol/", {"code": "000000"})

    assert page.status_code == 200
    assert "The code is not right" in page.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert client.get("/patients/")["Location"].startswith("/login/")


@require_2fa
def test_with_a_device_login_asks_for_the_code(staff):
    device = confirmed_device(staff["doctor.oslo"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    assert password_step(client, "doctor.oslo")["Location"] == "/login/code/"
    wrong = client.post("/login/code/", {"code": "123 45"})
    assert "The code is not right" in wrong.content.decode()
    assert client.get("/patients/")["Location"].startswith("/login/")

    device.refresh_from_db()
    device.throttle_reset()  # django-otp waits a second after a wrong code
    done = client.post("/login/code/", {"code": code_for(device)})

    assert done["Location"] == "/"
    assert client.get("/patients/").status_code == 200


@require_2fa
def test_the_next_page_survives_the_second_factor(staff):
    device = confirmed_device(staff["doctor.oslo"])
    client = Client()
    password_step(client, "doctor.oslo", next="/patients/")

    done = client.post("/login/code/", {"code": code_for(device)})

    assert done["Location"] == "/patients/"


@require_2fa
def test_a_code_is_not_taken_twice(staff):
    device = confirmed_device(staff["doctor.oslo"])
    code = code_for(device)
    first, second = Client(), Client()
    password_step(first, "doctor.oslo")
    password_step(second, "doctor.oslo")

    assert first.post("/login/code/", {"code": code})["Location"] == "/"
    assert second.post("/login/code/", {"code": code}).status_code == 200  # asked again


def test_a_voluntarily_enrolled_nurse_is_asked_even_when_not_required(staff, settings):
    settings.HAB_REQUIRE_2FA = False
    confirmed_device(staff["nurse.oslo"])

    assert password_step(Client(), "nurse.oslo")["Location"] == "/login/code/"


@require_2fa
def test_a_nurse_logs_in_with_the_password_alone(staff):
    client = Client()

    assert password_step(client, "nurse.oslo")["Location"] == "/"
    assert client.get("/dosing/").status_code == 200


@require_2fa
def test_the_code_page_without_a_password_first_goes_back_to_login(staff):
    assert Client().get("/login/code/")["Location"] == "/login/"
    assert Client().get("/login/enrol/")["Location"] == "/login/"


@require_2fa
def test_a_session_without_the_second_factor_is_logged_out(staff):
    # e.g. logged in before the requirement was turned on
    client = Client()
    client.force_login(staff["clinic_lead.oslo"])

    response = client.get("/patients/")

    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/login/").status_code == 200  # the session is gone


@require_2fa
def test_the_admin_login_form_is_hab_login(staff):
    response = Client().get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/"


def test_resetting_the_device_sends_the_user_to_enrol_again(staff, settings):
    settings.HAB_REQUIRE_2FA = True
    confirmed_device(staff["doctor.oslo"])

    assert two_factor.device_reset(user=staff["doctor.oslo"]) == 1

    assert password_step(Client(), "doctor.oslo")["Location"] == "/login/enrol/"


# --- the API: POST /auth/token takes otp --------------------------------------------


@require_2fa
def test_the_api_wants_the_code_of_a_user_with_a_device(staff):
    device = confirmed_device(staff["doctor.oslo"])
    credentials = {"username": "doctor.oslo", "password": PASSWORD}

    missing = Api().post("/auth/token", credentials)
    wrong = Api().post("/auth/token", credentials | {"otp": "000000"})
    device.refresh_from_db()
    device.throttle_reset()
    right = Api().post("/auth/token", credentials | {"otp": code_for(device)})

    assert missing.status_code == 401
    assert missing.json() == {"detail": "Second factor required."}
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "The two-factor code is not right."}
    assert right.status_code == 200
    assert ApiToken.objects.count() == 1
    assert Api(right.json()["token"]).get("/me").status_code == 200


@require_2fa
@pytest.mark.parametrize("otp", [None, "", "  "])
def test_a_token_request_without_the_code_is_not_a_failed_login(staff, otp):
    confirmed_device(staff["doctor.oslo"])
    credentials = {"username": "doctor.oslo", "password": PASSWORD}
    if otp is not None:
        credentials["otp"] = otp

    asked = [Api().post("/auth/token", credentials) for _ in range(6)]

    assert {(r.status_code, r.json()["detail"]) for r in asked} == {
        (401, "Second factor required.")
    }
    assert not AccessAttempt.objects.filter(username="doctor.oslo").exists()


@require_2fa
def test_a_wrong_code_counts_as_a_failed_login(staff):
    confirmed_device(staff["doctor.oslo"])

    Api().post("/auth/token", {"username": "doctor.oslo", "password": PASSWORD, "otp": "000000"})

    assert AccessAttempt.objects.filter(username="doctor.oslo").exists()


@require_2fa
def test_the_api_sends_a_doctor_without_a_device_to_the_web_to_enrol(staff):
    response = Api().post("/auth/token", {"username": "doctor.oslo", "password": PASSWORD})

    assert response.status_code == 401
    assert re.search(r"log in on the web once", response.json()["detail"])
    assert not ApiToken.objects.exists()


@require_2fa
def test_the_api_contract_is_unchanged_for_a_nurse(staff):
    response = Api().post("/auth/token", {"username": "nurse.oslo", "password": PASSWORD})

    assert response.status_code == 200 and response.json()["token"].startswith("hab_")


@require_2fa
def test_a_wrong_password_with_a_right_code_is_still_wrong(staff):
    device = confirmed_device(staff["doctor.oslo"])

    response = Api().post(
        "/auth/token", {"username": "doctor.oslo", "password": "nope", "otp": code_for(device)}
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Wrong username or password."}


def test_the_reset_command_removes_the_device(staff, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.HAB_REQUIRE_2FA = True
    confirmed_device(staff["doctor.oslo"])
    out = StringIO()

    call_command("reset_2fa", "doctor.oslo", stdout=out)

    assert "1 two-factor device(s) removed" in out.getvalue()
    assert password_step(Client(), "doctor.oslo")["Location"] == "/login/enrol/"


@require_2fa
@pytest.mark.django_db(transaction=True)
def test_the_code_is_checked_outside_a_test_transaction_too(staff):
    """As served: no transaction around the request (django-otp locks the device while it
    checks the code; PostgreSQL refuses such a lock outside a transaction)."""
    device = confirmed_device(staff["doctor.oslo"])
    credentials = {"username": "doctor.oslo", "password": PASSWORD}

    right = Api().post("/auth/token", credentials | {"otp": code_for(device)})

    assert right.status_code == 200
