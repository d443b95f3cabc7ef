"""The clinic lead's settings page (the idle lock of shared tablets) and each user's
own lock-screen PIN."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password

from hab.core.errors import Forbidden, Invalid
from hab.core.models import Clinic, SecurityEvent
from hab.core.roles import Role
from hab.core.services import clinic_settings_update
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def lead(web_as):
    client = web_as("clinic_lead.oslo")
    client.cookies["django_language"] = "en"
    return client


def test_the_clinic_lead_sees_the_idle_lock_with_its_default(web_as, clinics):
    page = lead(web_as).get("/clinic/settings/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Clinic settings: HAB Oslo" in html
    assert 'name="idle_lock_minutes" value="2"' in html
    assert 'href="/clinic/settings/"' in html  # in the lead's menu


def test_the_clinic_lead_changes_it_and_the_change_is_logged(web_as, clinics, staff):
    response = lead(web_as).post("/clinic/settings/", {"idle_lock_minutes": "5"})

    assert response.status_code == 302
    assert Clinic.objects.get(code="oslo").idle_lock_minutes == 5
    assert Clinic.objects.get(code="bergen").idle_lock_minutes == 2
    event = SecurityEvent.objects.get(kind="settings_changed")
    assert (event.username, event.clinic.code) == ("clinic_lead.oslo", "oslo")
    assert event.details == {"idle_lock_minutes": {"before": 2, "after": 5}}


@pytest.mark.parametrize(
    ("typed", "saved"),
    [("0", False), ("1", True), ("30", True), ("31", False), ("2,5", False), ("", False)],
)
def test_the_setting_is_1_to_30_whole_minutes(web_as, clinics, typed, saved):
    response = lead(web_as).post("/clinic/settings/", {"idle_lock_minutes": typed})

    stored = Clinic.objects.get(code="oslo").idle_lock_minutes
    if saved:
        assert response.status_code == 302
        assert stored == int(typed)
    else:
        assert response.status_code == 200
        assert 'class="field-error"' in response.content.decode()
        assert stored == 2


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.CLINIC_LEAD])
def test_no_one_else_changes_the_clinic_settings(web_as, clinics, role):
    client = web_as(f"{role}.oslo")

    assert client.get("/clinic/settings/").status_code in (403, 404)
    assert client.post("/clinic/settings/", {"idle_lock_minutes": "30"}).status_code in (403, 404)
    assert 'href="/clinic/settings/"' not in client.get("/", follow=True).content.decode()
    assert Clinic.objects.get(code="oslo").idle_lock_minutes == 2


def test_the_service_refuses_the_lead_of_another_clinic_and_a_value_out_of_range(staff, clinics):
    with pytest.raises(Forbidden):
        clinic_settings_update(
            by=staff["clinic_lead.bergen"], clinic=clinics["oslo"], idle_lock_minutes=5
        )
    with pytest.raises(Invalid):
        clinic_settings_update(
            by=staff["clinic_lead.oslo"], clinic=clinics["oslo"], idle_lock_minutes=31
        )
    assert SecurityEvent.objects.count() == 0


def test_the_database_refuses_a_value_out_of_range(clinics):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Clinic.objects.filter(code="oslo").update(idle_lock_minutes=0)


def pin_page(web_as, **data):
    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"
    return client, client.post("/me/pin/", {"password": PASSWORD, **data})


def test_a_nurse_sets_her_pin(web_as, staff):
    _client, response = pin_page(web_as, pin="2580", pin_again="2580", action="set")

    assert response.status_code == 302
    staff["nurse.oslo"].refresh_from_db()
    assert check_password("2580", staff["nurse.oslo"].lock_pin)
    assert SecurityEvent.objects.get().kind == "pin_set"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"pin": "2580", "pin_again": "2581"}, "pin_again", "not the same"),
        ({"pin": "1234", "pin_again": "1234"}, "pin", "harder to guess"),
        ({"pin": "258", "pin_again": "258"}, "pin", "4 to 8 digits"),
        ({"pin": "25a0", "pin_again": "25a0"}, "pin", "digits only"),
        ({"pin": "2580", "pin_again": "2580", "password": "wrong"}, "password", "not right"),
    ],
)
def test_a_pin_that_will_not_do_is_refused_beside_the_field(web_as, staff, data, field, words):
    _client, response = pin_page(web_as, **data)

    assert response.status_code == 200
    assert words in str(response.context["form"].errors[field])
    staff["nurse.oslo"].refresh_from_db()
    assert staff["nurse.oslo"].lock_pin == ""


def test_a_nurse_removes_her_pin(web_as, staff):
    client, _response = pin_page(web_as, pin="2580", pin_again="2580", action="set")

    response = client.post("/me/pin/", {"password": PASSWORD, "action": "remove"})

    assert response.status_code == 302
    staff["nurse.oslo"].refresh_from_db()
    assert staff["nurse.oslo"].lock_pin == ""
    assert list(SecurityEvent.objects.order_by("id").values_list("kind", flat=True)) == [
        "pin_set",
        "pin_removed",
    ]
