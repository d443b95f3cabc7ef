"""A protocol version is in force only once the doctor named in it has confirmed it with
their own password (and second factor where required): a two-person sign-off, shown
with what it changes against the version in force."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from hab.core import clock
from hab.core import services as core_services
from hab.core.access import Actor
from hab.core.errors import Forbidden, Invalid
from hab.core.models import Clinic
from hab.core.roles import Role
from hab.dosing.selectors import protocol_rules
from hab.prescribing import services
from hab.prescribing.models import DosingProtocol, Prescription, ProtocolSignoff
from hab.prescribing.selectors import active_protocol, protocol_in_force
from tests.conftest import PASSWORD
from tests.helpers import code_for
from tests.prescribing.helpers import DEMO, in_force, propose

pytestmark = pytest.mark.django_db


def confirm_body(**extra) -> dict:
    return {"password": PASSWORD} | extra


def oslo_id() -> int:
    return Clinic.objects.get(code="oslo").pk


def test_a_proposed_version_is_not_in_force_until_the_doctor_confirms_it(api_as, staff):
    # given version 1 in force and version 2 proposed with a shorter observation
    in_force(staff)
    propose(staff, values={"observation_minutes": 15})

    # then the clinic still doses by version 1, and the API says 2 is pending
    assert active_protocol(oslo_id()).version == 1
    assert protocol_rules(active_protocol(oslo_id())).observation_minutes == 20
    now = api_as("nurse.oslo").get("/clinics/oslo/protocol").json()
    assert (now["version"], now["in_force"], now["pending"]) == (1, True, 2)

    # when the named doctor confirms it with their password
    response = api_as("doctor.oslo").post("/clinics/oslo/protocols/2/confirm", confirm_body())

    # then version 2 is in force, and the confirmation is recorded
    assert response.status_code == 201, response.content
    assert response.json()["in_force"] is True
    assert protocol_rules(active_protocol(oslo_id())).observation_minutes == 15
    signoff = ProtocolSignoff.objects.get(protocol__version=2)
    assert (signoff.doctor.username, signoff.channel, signoff.second_factor) == (
        "doctor.oslo",
        "api",
        False,
    )
    after = api_as("nurse.oslo").get("/clinics/oslo/protocol").json()
    assert (after["version"], after["pending"]) == (2, None)


def test_the_first_version_is_not_in_force_before_it_is_confirmed(staff):
    first = propose(staff)

    assert active_protocol(oslo_id()) is None
    assert protocol_in_force(oslo_id()) is None

    in_force_now = services.protocol_confirm(
        actor=Actor.system(staff["doctor.oslo"]),
        clinic=first.clinic,
        version=1,
        password=PASSWORD,
    )
    assert in_force_now.protocol == active_protocol(oslo_id())


def test_prescriptions_are_checked_against_the_version_in_force(api_as, admitted, staff):
    # given version 1 (single dose at most 400 mg) in force, and 2 (at most 100 mg) proposed
    in_force(staff)
    propose(staff, values={"dam_max_single_mg": 100})
    episode = admitted("oslo")
    body = {
        "episode": episode["id"],
        "medication": "dam_injectable",
        "route": "iv",
        "doses_mg": {"morning": 200},
        "daily_max_mg": 400,
    }

    before = api_as("doctor.oslo").post("/prescriptions", body)
    api_as("doctor.oslo").post("/clinics/oslo/protocols/2/confirm", confirm_body())
    after = api_as("doctor.oslo").post("/prescriptions", body)

    assert before.status_code == 201
    assert after.status_code == 422
    assert Prescription.objects.count() == 1


def test_a_wrong_password_confirms_nothing(api_as, staff):
    in_force(staff)
    propose(staff, values={"titration_days": 5})

    response = api_as("doctor.oslo").post(
        "/clinics/oslo/protocols/2/confirm", {"password": "not-the-password"}
    )
    empty = api_as("doctor.oslo").post("/clinics/oslo/protocols/2/confirm", {"password": ""})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "password", "message": "The password is not right."}
    ]
    assert empty.status_code == 422
    assert ProtocolSignoff.objects.count() == 1
    assert active_protocol(oslo_id()).version == 1


def test_another_doctor_cannot_confirm_a_version_that_names_someone_else(api_as, staff):
    core_services.staff_create(
        username="doctor2.oslo",
        password=PASSWORD,
        first_name="Annen",
        last_name="Lege",
        roles=[(Clinic.objects.get(code="oslo"), Role.DOCTOR)],
    )
    in_force(staff)
    propose(staff, values={"titration_days": 5})

    response = api_as("doctor2.oslo").post("/clinics/oslo/protocols/2/confirm", confirm_body())
    elsewhere = api_as("doctor.bergen").post("/clinics/oslo/protocols/2/confirm", confirm_body())

    assert response.status_code == 403
    assert "named" in response.json()["detail"]
    assert elsewhere.status_code == 404
    assert active_protocol(oslo_id()).version == 1


@pytest.mark.parametrize("who", ["clinic_lead.oslo", "nurse.oslo", "coordinator.oslo"])
def test_only_a_doctor_can_confirm(api_as, staff, who):
    in_force(staff)
    propose(staff, values={"titration_days": 5})

    response = api_as(who).post("/clinics/oslo/protocols/2/confirm", confirm_body())

    assert response.status_code == 403
    assert ProtocolSignoff.objects.count() == 1


def test_a_lead_who_is_also_a_doctor_cannot_sign_off_their_own_version(staff):
    oslo = Clinic.objects.get(code="oslo")
    both = core_services.staff_create(
        username="leder.lege.oslo",
        password=PASSWORD,
        first_name="Leder",
        last_name="Lege",
        roles=[(oslo, Role.CLINIC_LEAD), (oslo, Role.DOCTOR)],
    )

    # naming oneself is refused when the version is proposed
    with pytest.raises(Invalid) as refused:
        services.protocol_create(
            actor=Actor.system(both), clinic=oslo, doctor=both.username, reason="x", values=DEMO
        )
    assert [e.field for e in refused.value.errors] == ["doctor"]

    # and a version one proposed cannot be confirmed by oneself either (a row written
    # past the service, as an import might)
    version = DosingProtocol.objects.create(
        clinic=oslo,
        version=1,
        created_at=clock.now(),
        created_by=both,
        doctor=both,
        reason="Import",
        **DEMO,
    )
    with pytest.raises(Forbidden):
        services.protocol_confirm(
            actor=Actor.system(both), clinic=oslo, version=version.version, password=PASSWORD
        )


def test_only_the_newest_version_can_be_confirmed_and_only_once(api_as, staff):
    in_force(staff)
    propose(staff, values={"titration_days": 4})
    propose(staff, values={"titration_days": 5})
    doctor = api_as("doctor.oslo")

    replaced = doctor.post("/clinics/oslo/protocols/2/confirm", confirm_body())
    newest = doctor.post("/clinics/oslo/protocols/3/confirm", confirm_body())
    again = doctor.post("/clinics/oslo/protocols/3/confirm", confirm_body())
    unknown = doctor.post("/clinics/oslo/protocols/9/confirm", confirm_body())

    assert replaced.status_code == 409
    assert newest.status_code == 201
    assert again.status_code == 409
    assert unknown.status_code == 404
    # version 3 started from version 2's values: both changes are in force
    assert protocol_rules(active_protocol(oslo_id())).titration_days == 5


def test_an_incomplete_version_cannot_be_put_in_force(api_as, staff):
    propose(staff, values={})

    response = api_as("doctor.oslo").post("/clinics/oslo/protocols/1/confirm", confirm_body())

    assert response.status_code == 409
    assert "single-dose maximum" in response.json()["detail"]
    assert not ProtocolSignoff.objects.exists()


def test_the_confirmation_shows_what_changes_against_the_version_in_force(api_as, staff):
    in_force(staff)
    propose(
        staff,
        values={"min_interval_minutes": 240, "breath_alcohol_max_permille": 0.1},
        reason="Lengre intervall, lavere promille",
    )

    proposed = api_as("doctor.oslo").get("/clinics/oslo/protocols/2").json()

    assert proposed["in_force"] is False
    assert proposed["changes"] == [
        {"setting": "min_interval_minutes", "in_force": 180.0, "proposed": 240.0},
        {"setting": "breath_alcohol_max_permille", "in_force": 0.2, "proposed": 0.1},
    ]


def test_with_no_version_in_force_every_value_set_is_a_change(api_as, staff):
    propose(staff)

    changes = api_as("doctor.oslo").get("/clinics/oslo/protocols/1").json()["changes"]

    settings = {c["setting"]: c for c in changes}
    assert settings["dam_max_single_mg"] == {
        "setting": "dam_max_single_mg",
        "in_force": None,
        "proposed": 400.0,
    }
    assert settings["min_interval_minutes"]["proposed"] == 180.0
    assert "respiratory_rate_min" not in settings  # left empty


@override_settings(HAB_REQUIRE_2FA=True)
def test_where_two_factor_is_required_the_doctor_also_gives_the_code(staff):
    oslo = Clinic.objects.get(code="oslo")
    doctor = Actor.system(staff["doctor.oslo"])
    proposed = propose(staff)

    # a doctor who has not set up the app is told to
    with pytest.raises(Invalid) as no_device:
        services.protocol_confirm(actor=doctor, clinic=oslo, version=1, password=PASSWORD)
    device = TOTPDevice.objects.create(user=staff["doctor.oslo"], name="HAB", confirmed=True)
    # the password alone, or a wrong code, is not enough
    with pytest.raises(Invalid) as no_code:
        services.protocol_confirm(actor=doctor, clinic=oslo, version=1, password=PASSWORD)
    with pytest.raises(Invalid) as wrong_code:
        services.protocol_confirm(
            actor=doctor, clinic=oslo, version=1, password=PASSWORD, otp="000000"
        )
    assert active_protocol(oslo.pk) is None

    signoff = services.protocol_confirm(
        actor=doctor, clinic=oslo, version=1, password=PASSWORD, otp=code_for(device)
    )

    assert [e.field for e in no_device.value.errors] == ["otp"]
    assert [e.field for e in no_code.value.errors] == ["otp"]
    assert [e.field for e in wrong_code.value.errors] == ["otp"]
    assert signoff.second_factor is True
    assert active_protocol(oslo.pk) == proposed


def test_the_doctor_sees_the_pending_version_with_its_changes_and_confirms_it(web_as, staff):
    in_force(staff)
    propose(staff, values={"observation_minutes": 30}, reason="Lengre observasjon")
    doctor = web_as("doctor.oslo")

    page = doctor.get("/prescribing/protocol/")
    wrong = doctor.post("/prescribing/protocol/2/confirm/", {"password": "feil"})
    right = doctor.post("/prescribing/protocol/2/confirm/", {"password": PASSWORD})

    text = page.content.decode()
    assert 'id="protocol-diff"' in text and "Lengre observasjon" in text
    assert [(c.setting, c.in_force, c.proposed) for c in page.context["changes"]] == [
        ("observation_minutes", 20, 30)
    ]
    assert page.context["confirm_form"] is not None
    assert wrong.status_code == 200
    assert 'id="id_password_error"' in wrong.content.decode()
    assert right.status_code == 302
    assert active_protocol(oslo_id()).version == 2


@pytest.mark.parametrize("who", ["nurse.oslo", "clinic_lead.oslo"])
def test_others_see_the_pending_version_but_no_confirmation_form(web_as, staff, who):
    in_force(staff)
    propose(staff, values={"observation_minutes": 30})

    page = web_as(who).get("/prescribing/protocol/")

    assert page.context["pending"].version == 2
    assert page.context["confirm_form"] is None
    assert page.context["current"].version == 1


def test_a_confirmation_row_cannot_be_changed(staff):
    from django.db import DatabaseError, transaction

    in_force(staff)

    with pytest.raises(DatabaseError), transaction.atomic():
        ProtocolSignoff.objects.update(second_factor=True)
