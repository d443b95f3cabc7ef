"""The demo programme: what scripts/run-demo shows."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from hab.core.models import AccessLog, Clinic, RoleChangeProposal, User
from hab.core.roles import Role
from hab.intake.models import EndReason, Episode, Referral, ReferralStatus
from hab.patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEMO_PASSWORD = "demo-pass-2026"
    call_command("demo", "--scale", "0.1", stdout=io.StringIO())


def test_it_creates_both_clinics_with_their_slots(demo):
    oslo, bergen = Clinic.objects.get(code="oslo"), Clinic.objects.get(code="bergen")

    assert (oslo.name, oslo.health_region, oslo.capacity) == ("HAB Oslo", "helse_sor_ost", 200)
    assert (bergen.name, bergen.health_region, bergen.capacity) == ("HAB Bergen", "helse_vest", 100)
    for clinic in (oslo, bergen):
        assert [s.code for s in clinic.slots.all()] == ["morning", "afternoon"]


def test_every_role_can_log_in_at_each_clinic(demo):
    for clinic in ("oslo", "bergen"):
        for role in Role.values:
            user = authenticate(username=f"{role}.{clinic}", password="demo-pass-2026")
            assert user is not None, f"{role}.{clinic}"
            assert list(user.memberships.values_list("clinic__code", "role")) == [(clinic, role)]


def test_patients_are_synthetic_and_registered_through_the_services(demo):
    patients = Patient.objects.all()

    assert patients.filter(clinic__code="oslo").exists()
    assert patients.filter(clinic__code="bergen").exists()
    assert all(p.synthetic_id for p in patients)
    # The write path leaves its access-log row for every registration.
    assert AccessLog.objects.filter(action="create", what="patient").count() == patients.count()


def test_running_it_again_changes_nothing(demo):
    before = (User.objects.count(), Patient.objects.count())

    call_command("demo", stdout=io.StringIO())

    assert (User.objects.count(), Patient.objects.count()) == before


def test_it_refuses_without_synthetic_ids(settings):
    from django.core.management.base import CommandError

    settings.ALLOW_SYNTHETIC_IDS = False

    with pytest.raises(CommandError, match="HAB_ALLOW_SYNTHETIC_IDS"):
        call_command("demo")


@pytest.mark.parametrize("clinic", ["oslo", "bergen"])
def test_every_referral_status_and_discharge_reason_is_shown(demo, clinic):
    statuses = set(Referral.objects.filter(clinic__code=clinic).values_list("status", flat=True))
    reasons = set(
        Episode.objects.filter(clinic__code=clinic)
        .exclude(end_reason="")
        .values_list("end_reason", flat=True)
    )

    assert statuses == set(ReferralStatus.values)
    assert reasons >= set(EndReason.values) - {"transfer_hab"}


def test_the_history_carries_the_days_it_happened(demo):
    referral = Referral.objects.order_by("received_on").first()
    received = referral.events.get(kind="received")

    assert received.at.date() == referral.received_on
    assert referral.patient.access_log.order_by("at").first().at.date() == referral.received_on


def test_at_full_scale_oslo_has_a_waitlist_and_bergen_is_near_capacity(settings):
    settings.DEMO_PASSWORD = "demo-pass-2026"
    call_command("demo", stdout=io.StringIO())

    open_at = {
        code: Episode.objects.filter(clinic__code=code, ended_on__isnull=True).count()
        for code in ("oslo", "bergen")
    }
    assert Referral.objects.filter(clinic__code="oslo", status="waitlisted").count() >= 10
    assert 180 <= open_at["oslo"] <= 200
    assert 95 <= open_at["bergen"] <= 100


def test_the_doctors_start_page_has_alerts_and_a_stopped_patient(demo, client):
    from hab.core.models import User as Staff
    from hab.dosing import selectors
    from hab.dosing.models import DoseHold

    client.force_login(Staff.objects.get(username="doctor.oslo"))
    page = client.get("/dosing/awaiting-review/")

    assert page.status_code == 200
    found = page.context["found"]
    assert len(found.alerts) == 2
    assert len(found.holds) == 1
    assert DoseHold.objects.filter(lift__isnull=True).count() == 2  # one a clinic
    assert selectors.open_alerts(clinic_ids=[found.clinic.pk]) == found.alerts


def test_the_nurses_unlock_a_shared_tablet_with_the_pin_the_demo_prints(settings):
    from django.contrib.auth.hashers import check_password

    from hab.core.demo import NURSE_PIN

    settings.DEMO_PASSWORD = "demo-pass-2026"
    out = io.StringIO()
    call_command("demo", "--scale", "0.1", stdout=out)

    assert f"lock-screen PIN: {NURSE_PIN}" in out.getvalue()
    for clinic in ("oslo", "bergen"):
        assert check_password(NURSE_PIN, User.objects.get(username=f"nurse.{clinic}").lock_pin)
        assert Clinic.objects.get(code=clinic).idle_lock_minutes == 2
    assert User.objects.get(username="doctor.oslo").lock_pin == ""


def test_each_clinic_has_a_role_change_waiting_for_a_second_person(demo):
    waiting = RoleChangeProposal.objects.filter(decision__isnull=True)

    assert sorted(p.clinic.code for p in waiting) == ["bergen", "oslo"]
    assert all(p.proposed_by.username.startswith("admin.") for p in waiting)
    # Nobody is a superuser; the administrators are staff for /admin/.
    assert not User.objects.filter(is_superuser=True).exists()
    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) == {
        "admin.oslo",
        "admin.bergen",
    }
