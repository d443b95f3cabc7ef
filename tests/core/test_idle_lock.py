"""A tablet logged in as shared locks after the clinic's idle minutes: the server hides
patient data behind the lock screen until the PIN or password is given."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from hab.core import clock
from hab.core.models import SecurityEvent
from hab.core.security import BACKGROUND_HEADER
from hab.core.services import pin_set
from tests.clock import NOW
from tests.conftest import PASSWORD
from tests.prescribing.helpers import in_force

pytestmark = pytest.mark.django_db

PIN = "2580"


def logged_in(*, shared: bool = True, username: str = "nurse.oslo") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    data = {"username": username, "password": PASSWORD}
    if shared:
        data["kiosk"] = "on"
    assert client.post("/login/", data).status_code == 302
    return client


def later(seconds: float):
    """The clock ``seconds`` after the login (the suite's fixed instant)."""
    return clock.at(NOW + timedelta(seconds=seconds))


def events(username: str = "nurse.oslo") -> list[str]:
    return list(
        SecurityEvent.objects.filter(username=username)
        .order_by("id")
        .values_list("kind", flat=True)
    )


@pytest.fixture
def patient_on_board(staff, admitted, api_as):
    """A patient with a prescription at HAB Oslo: on the board, with a record."""
    in_force(staff, "oslo", demo_values=True)
    episode = admitted("oslo")
    response = api_as("doctor.oslo").post(
        "/prescriptions",
        {
            "episode": episode["id"],
            "medication": "dam_injectable",
            "route": "iv",
            "doses_mg": {"morning": 200, "afternoon": 200},
            "daily_max_mg": 450,
        },
    )
    assert response.status_code == 201, response.content
    from hab.patients.models import Patient

    return Patient.objects.get(pk=episode["patient"])


@pytest.mark.parametrize(("idle", "locked"), [(119, False), (120, False), (121, True)])
def test_a_shared_tablet_locks_just_over_the_clinics_two_minutes(staff, idle, locked):
    client = logged_in()

    with later(idle):
        response = client.get("/dosing/")

    if locked:
        assert response.status_code == 302
        assert response["Location"] == "/lock/?next=%2Fdosing%2F"
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(
    ("idle", "locked"), [(5 * 60 - 1, False), (5 * 60, False), (5 * 60 + 1, True)]
)
def test_the_clinic_lead_s_setting_is_the_limit(staff, clinics, idle, locked):
    clinics["oslo"].idle_lock_minutes = 5
    clinics["oslo"].save()
    client = logged_in()

    with later(idle):
        assert (client.get("/dosing/").status_code == 302) is locked


def test_a_locked_tablet_shows_no_patient_data(staff, patient_on_board):
    client = logged_in()
    name = patient_on_board.family_name
    board = client.get("/dosing/")
    assert name in board.content.decode()  # the board shows the patient while unlocked

    with later(121):
        board = client.get("/dosing/")
        record = client.get(f"/patients/{patient_on_board.pk}/")
        panel = client.get(
            f"/dosing/patients/{patient_on_board.pk}/",
            headers={
                "HX-Request": "true",
                "HX-Current-URL": "http://testserver/dosing/?slot=morning",
            },
        )
        poll = client.get(
            "/dosing/?part=rows", headers={"HX-Request": "true", BACKGROUND_HEADER: "1"}
        )
        lock_screen = client.get("/lock/?next=/dosing/")

    for response in (board, record, panel, poll):
        assert name not in response.content.decode()
        assert response.status_code in (204, 302)
    assert record["Location"] == f"/lock/?next=%2Fpatients%2F{patient_on_board.pk}%2F"
    # htmx leaves the page for the lock screen, back to the page that was open.
    assert panel.status_code == 204
    assert panel["HX-Redirect"] == "/lock/?next=%2Fdosing%2F%3Fslot%3Dmorning"
    assert poll["HX-Redirect"].startswith("/lock/?next=")
    page = lock_screen.content.decode()
    assert lock_screen.status_code == 200
    assert name not in page
    assert "The screen is locked" in page
    # who is logged in
    assert f"<strong>{staff['nurse.oslo'].get_full_name()}</strong> (nurse.oslo)" in page
    assert "Not you?" in page
    assert 'aria-label="Main menu"' not in page  # no menu behind the lock


def test_a_form_sent_from_a_locked_tablet_changes_nothing(staff, patient_on_board):
    client = logged_in()

    with later(121):
        response = client.post(
            f"/dosing/patients/{patient_on_board.pk}/",
            {"dose_mg": "200"},
            headers={"Referer": "http://testserver/dosing/?slot=morning"},
        )

    assert response.status_code == 302
    assert response["Location"] == "/lock/?next=%2Fdosing%2F%3Fslot%3Dmorning"


def test_the_board_refreshing_itself_does_not_keep_the_tablet_unlocked(staff):
    client = logged_in()
    with later(100):
        poll = client.get(
            "/dosing/?part=rows", headers={"HX-Request": "true", BACKGROUND_HEADER: "1"}
        )
        assert poll.status_code == 200

    with later(121):
        assert client.get("/dosing/").status_code == 302


def test_a_tap_keeps_the_tablet_unlocked(staff):
    client = logged_in()
    with later(100):
        assert client.post("/lock/alive/").status_code == 204

    with later(219):
        assert client.get("/dosing/").status_code == 200
    with later(219 + 121):
        assert client.get("/dosing/").status_code == 302


def test_the_pin_unlocks_and_goes_back_to_the_page(staff):
    pin_set(user=staff["nurse.oslo"], pin=PIN, password=PASSWORD)
    client = logged_in()

    with later(121):
        assert client.get("/dosing/").status_code == 302
        unlocked = client.post("/lock/", {"secret": PIN, "next": "/dosing/?slot=afternoon"})
        board = client.get("/dosing/")

    assert unlocked.status_code == 302
    assert unlocked["Location"] == "/dosing/?slot=afternoon"
    assert board.status_code == 200
    assert events() == ["pin_set", "locked", "unlocked"]
    unlock = SecurityEvent.objects.get(kind="unlocked")
    assert unlock.details == {"method": "pin"}
    assert unlock.clinic.code == "oslo"
    assert SecurityEvent.objects.get(kind="locked").details == {
        "reason": "idle",
        "idle_seconds": 121,
    }


def test_the_password_unlocks_too(staff):
    client = logged_in()

    with later(121):
        client.get("/dosing/")
        unlocked = client.post("/lock/", {"secret": PASSWORD, "next": "/dosing/"})
        assert client.get("/dosing/").status_code == 200

    assert unlocked["Location"] == "/dosing/"
    assert SecurityEvent.objects.get(kind="unlocked").details == {"method": "password"}


def test_a_wrong_pin_keeps_the_lock_and_says_how_many_tries_are_left(staff):
    pin_set(user=staff["nurse.oslo"], pin=PIN, password=PASSWORD)
    client = logged_in()

    with later(121):
        client.get("/dosing/")
        wrong = client.post("/lock/", {"secret": "2581", "next": "/dosing/"})
        still = client.get("/dosing/")

    assert wrong.status_code == 200
    assert "Wrong PIN or password. 4 tries left" in wrong.content.decode()
    assert still.status_code == 302
    assert events()[-1] == "unlock_failed"


def test_four_wrong_tries_then_the_right_pin_unlocks(staff):
    pin_set(user=staff["nurse.oslo"], pin=PIN, password=PASSWORD)
    client = logged_in()

    with later(121):
        client.get("/dosing/")
        for _ in range(4):
            assert client.post("/lock/", {"secret": "1357"}).status_code == 200
        assert client.post("/lock/", {"secret": PIN}).status_code == 302
        assert client.get("/dosing/").status_code == 200


def test_five_wrong_tries_log_the_tablet_out(staff):
    pin_set(user=staff["nurse.oslo"], pin=PIN, password=PASSWORD)
    client = logged_in()

    with later(121):
        client.get("/dosing/")
        for _ in range(4):
            client.post("/lock/", {"secret": "1357"})
        fifth = client.post("/lock/", {"secret": "1357"}, follow=True)
        after = client.get("/dosing/")

    assert fifth.redirect_chain[0] == ("/login/", 302)
    assert "Too many wrong PINs or passwords" in fifth.content.decode()
    assert after["Location"].startswith("/login/")  # logged out, not just locked
    assert events().count("unlock_failed") == 5
    assert events()[-1] == "unlock_logout"
    # The next person logs in on the same tablet and finds it unlocked.
    assert logged_in().get("/dosing/").status_code == 200


def test_the_pin_is_stored_hashed(staff):
    pin_set(user=staff["nurse.oslo"], pin=PIN, password=PASSWORD)
    staff["nurse.oslo"].refresh_from_db()

    assert PIN not in staff["nurse.oslo"].lock_pin
    assert check_password(PIN, staff["nurse.oslo"].lock_pin)


def test_the_pin_is_not_a_password_for_the_login(staff):
    pin_set(user=staff["nurse.oslo"], pin=PIN, password=PASSWORD)

    response = Client().post("/login/", {"username": "nurse.oslo", "password": PIN})

    assert response.status_code == 200  # the login form again


def test_the_lock_button_locks_at_once(staff):
    client = logged_in()

    page = client.get("/lock/?next=/dosing/")

    assert page.status_code == 200
    assert client.get("/dosing/").status_code == 302
    assert SecurityEvent.objects.get(kind="locked").details["reason"] == "manual"


def test_the_page_tells_its_script_when_to_lock(staff, clinics):
    clinics["oslo"].idle_lock_minutes = 3
    clinics["oslo"].save()

    board = logged_in().get("/dosing/").content.decode()

    assert 'data-lock-after="180"' in board
    assert 'data-lock-url="/lock/"' in board
    assert "hab/js/lock.js" in board
    # On the shared tablet: its PIN and a lock at once, in the top bar.
    assert 'href="/me/pin/"' in board
    assert 'href="/lock/?next=/dosing/" data-lock-now' in board


def test_a_page_of_a_shared_tablet_is_not_kept_by_the_browser(staff):
    assert "no-store" in logged_in().get("/dosing/")["Cache-Control"]


def test_a_session_not_logged_in_as_shared_never_locks(staff):
    client = logged_in(shared=False)

    with later(29 * 60):
        board = client.get("/dosing/")
        lock_page = client.get("/lock/?next=/dosing/")

    assert board.status_code == 200
    assert "data-lock-after" not in board.content.decode()
    assert "hab/js/lock.js" not in board.content.decode()
    assert 'href="/me/pin/"' not in board.content.decode()
    # Nothing to lock: straight back.
    assert lock_page["Location"] == "/dosing/"
    assert events() == []


def test_the_lock_screen_goes_back_only_within_the_site(staff):
    client = logged_in()
    with later(121):
        client.get("/dosing/")
        unlocked = client.post("/lock/", {"secret": PASSWORD, "next": "https://evil.example/"})

    assert unlocked["Location"] == "/"


def test_api_tokens_are_not_the_locked_session(staff, api_as):
    client = logged_in()
    with later(121):
        client.get("/dosing/")
        assert api_as("nurse.oslo").get("/me").status_code == 200
