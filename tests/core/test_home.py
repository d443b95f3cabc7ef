"""Each role lands where its work is (the start page after login)."""

from __future__ import annotations

import pytest

from hab.core.models import Membership
from hab.core.roles import Role

pytestmark = pytest.mark.django_db

LANDING = {
    "nurse": "/dosing/",
    "doctor": "/dosing/awaiting-review/",
    "researcher": "/research/export/",
    "programme": "/evaluation/",
    "clinic_lead": "/patients/",
    "psychologist": "/patients/",
    "coordinator": "/patients/",
}


@pytest.mark.parametrize(("role", "landing"), LANDING.items())
def test_each_role_lands_where_its_work_is(web_as, role, landing):
    start = web_as(f"{role}.oslo").get("/")

    assert start.status_code == 302
    assert start["Location"] == landing
    # The page it lands on opens for that role.
    assert web_as(f"{role}.oslo").get(landing).status_code == 200


def test_a_nurse_who_is_also_a_doctor_starts_at_the_board(web_as, staff, clinics):
    Membership.objects.create(user=staff["nurse.oslo"], clinic=clinics["oslo"], role=Role.DOCTOR)

    assert web_as("nurse.oslo").get("/")["Location"] == "/dosing/"


def test_the_administrator_gets_the_plain_start_page(web_as):
    start = web_as("admin.oslo").get("/")

    assert start.status_code == 200
    assert "Velkommen til HAB" in start.content.decode()


def test_only_the_page_shown_is_marked_current_in_the_menu(web_as):
    # "Awaiting review" lives under /dosing/ like the board; only it is the current page.
    page = web_as("doctor.oslo").get("/dosing/awaiting-review/")

    current = [item["label"] for item in page.context["menu"] if item["active"]]
    assert [str(label) for label in current] == ["Venter på vurdering"]
    assert page.content.decode().count('aria-current="page"') == 1
