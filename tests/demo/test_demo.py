"""The demo programme: what scripts/run-demo shows."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from hab.core.models import AccessLog, Clinic, User
from hab.core.roles import Role
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

    assert patients.filter(clinic__code="oslo").count() == 19
    assert patients.filter(clinic__code="bergen").count() == 10
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
