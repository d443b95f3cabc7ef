"""The clinic lead's settings page (the idle lock of shared tablets, the organisation
number) and each user's own lock-screen PIN."""

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


# A made-up organisation number with a valid check digit (modulus 11), and one without;
# 100000008 has a valid check digit but starts with 1 (only 8 and 9 are used).
ORG_NUMBER = "990000018"
ORG_NUMBER_WRONG_CHECK = "990000017"


def test_the_clinic_lead_sets_the_organisation_number_and_it_is_logged(web_as, clinics):
    client = lead(web_as)
    assert 'name="org_number"' in client.get("/clinic/settings/").content.decode()

    # Typed as on a letter, in groups of three: the digits are kept.
    response = client.post(
        "/clinic/settings/", {"idle_lock_minutes": "2", "org_number": "990 000 018"}
    )

    assert response.status_code == 302
    assert Clinic.objects.get(code="oslo").org_number == ORG_NUMBER
    assert Clinic.objects.get(code="bergen").org_number == ""
    event = SecurityEvent.objects.get(kind="settings_changed")
    assert event.details == {"org_number": {"before": "", "after": ORG_NUMBER}}
    assert f'value="{ORG_NUMBER}"' in client.get("/clinic/settings/").content.decode()


def test_changing_both_settings_logs_both(web_as, clinics):
    lead(web_as).post("/clinic/settings/", {"idle_lock_minutes": "5", "org_number": ORG_NUMBER})

    assert SecurityEvent.objects.get(kind="settings_changed").details == {
        "idle_lock_minutes": {"before": 2, "after": 5},
        "org_number": {"before": "", "after": ORG_NUMBER},
    }


@pytest.mark.parametrize(
    "typed", [ORG_NUMBER_WRONG_CHECK, "99000001", "9900000180", "100000008", "99000001x"]
)
def test_an_organisation_number_that_will_not_do_is_refused_beside_the_field(
    web_as, clinics, typed
):
    Clinic.objects.filter(code="oslo").update(org_number=ORG_NUMBER)

    response = lead(web_as).post(
        "/clinic/settings/", {"idle_lock_minutes": "5", "org_number": typed}
    )

    assert response.status_code == 200
    assert "Not a valid organisation number" in str(response.context["form"].errors["org_number"])
    assert "idle_lock_minutes" not in response.context["form"].errors
    oslo = Clinic.objects.get(code="oslo")
    # Nothing is changed, not even the valid setting sent with it.
    assert (oslo.org_number, oslo.idle_lock_minutes) == (ORG_NUMBER, 2)
    assert SecurityEvent.objects.count() == 0


def test_the_clinic_lead_may_remove_the_organisation_number(web_as, clinics):
    Clinic.objects.filter(code="oslo").update(org_number=ORG_NUMBER)

    lead(web_as).post("/clinic/settings/", {"idle_lock_minutes": "2", "org_number": ""})

    assert Clinic.objects.get(code="oslo").org_number == ""
    assert SecurityEvent.objects.get().details == {
        "org_number": {"before": ORG_NUMBER, "after": ""}
    }


def test_the_service_leaves_a_setting_it_is_not_given(staff, clinics):
    clinic_settings_update(
        by=staff["clinic_lead.oslo"], clinic=clinics["oslo"], org_number=ORG_NUMBER
    )
    clinic_settings_update(
        by=staff["clinic_lead.oslo"], clinic=clinics["oslo"], idle_lock_minutes=4
    )

    oslo = Clinic.objects.get(code="oslo")
    assert (oslo.org_number, oslo.idle_lock_minutes) == (ORG_NUMBER, 4)
    with pytest.raises(Forbidden):
        clinic_settings_update(
            by=staff["clinic_lead.bergen"], clinic=clinics["oslo"], org_number=""
        )
    assert Clinic.objects.get(code="oslo").org_number == ORG_NUMBER


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
