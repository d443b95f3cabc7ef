"""Sessions end after inactivity; a shared tablet (kiosk) sooner; the board's own
refresh is not activity."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from hab.core.security import BACKGROUND_HEADER, KIOSK_COOKIE, SESSION_LAST_ACTIVE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(kiosk: bool = False, username: str = "nurse.oslo") -> Client:
    client = Client()
    data = {"username": username, "password": PASSWORD}
    if kiosk:
        data["kiosk"] = "on"
    assert client.post("/login/", data).status_code == 302
    return client


def idle_for(client: Client, minutes: float) -> None:
    session = client.session
    session[SESSION_LAST_ACTIVE] = int(time.time() - minutes * 60)
    session.save()


def test_a_session_ends_after_the_idle_limit(staff, settings):
    settings.HAB_SESSION_IDLE_MINUTES = 60
    client = logged_in()
    idle_for(client, 59)
    assert client.get("/patients/").status_code == 200

    idle_for(client, 61)
    response = client.get("/patients/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?idle=1&next=%2Fpatients%2F"
    assert client.get("/patients/")["Location"].startswith("/login/")  # really logged out


def test_the_login_page_says_why(staff):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/?idle=1")

    assert "You were logged out after a while without activity." in page.content.decode()


def test_a_kiosk_session_ends_sooner_and_with_the_browser(staff, settings):
    settings.HAB_SESSION_IDLE_MINUTES = 60
    settings.HAB_KIOSK_IDLE_MINUTES = 30
    client = logged_in(kiosk=True)
    assert client.cookies["sessionid"]["max-age"] == ""  # a browser-session cookie

    idle_for(client, 31)

    assert client.get("/patients/")["Location"].startswith("/login/?idle=1")


def test_the_tablet_remembers_that_it_is_shared(staff):
    client = logged_in(kiosk=True)
    assert client.cookies[KIOSK_COOKIE].value == "1"
    client.post("/logout/")

    page = client.get("/login/")

    assert 'id="id_kiosk" name="kiosk" type="checkbox" aria-describedby="kiosk-hint" checked' in (
        page.content.decode()
    )
    # Unticked at the next login, the device forgets it.
    logged_in_again = client.post("/login/", {"username": "nurse.oslo", "password": PASSWORD})
    assert logged_in_again.cookies[KIOSK_COOKIE].value == ""


def test_the_board_refreshing_itself_does_not_keep_a_session_alive(staff, settings):
    settings.HAB_KIOSK_IDLE_MINUTES = 30
    client = logged_in(kiosk=True)
    idle_for(client, 20)
    before = client.session[SESSION_LAST_ACTIVE]

    poll = client.get("/dosing/?part=rows", headers={"HX-Request": "true", BACKGROUND_HEADER: "1"})

    assert poll.status_code == 200
    assert client.session[SESSION_LAST_ACTIVE] == before
    # A tap by the nurse is activity.
    client.get("/dosing/", headers={"HX-Request": "true"})
    assert client.session[SESSION_LAST_ACTIVE] > before


def test_an_expired_board_refresh_sends_the_tablet_to_the_login_page(staff, settings):
    settings.HAB_KIOSK_IDLE_MINUTES = 30
    client = logged_in(kiosk=True)
    idle_for(client, 31)

    poll = client.get("/dosing/?part=rows", headers={"HX-Request": "true", BACKGROUND_HEADER: "1"})

    assert poll.status_code == 204
    assert poll["HX-Redirect"] == "/login/?idle=1"


def test_api_tokens_are_not_sessions(api_as, settings):
    settings.HAB_SESSION_IDLE_MINUTES = 0

    assert api_as("nurse.oslo").get("/me").status_code == 200
