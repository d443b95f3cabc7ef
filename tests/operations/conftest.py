"""The rota's fixtures: more nurses and doctors at HAB Oslo than the one per role of the
shared personas, and the calendar of the coming weeks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation

from hab.core import clock
from hab.core import services as core_services
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.core.roles import Role
from hab.operations import services
from hab.operations.models import ClinicSession
from tests.conftest import PASSWORD

# Besides nurse.oslo and doctor.oslo.
EXTRA = {"nurse2.oslo": Role.NURSE, "nurse3.oslo": Role.NURSE, "doctor2.oslo": Role.DOCTOR}


@pytest.fixture
def rota_staff(staff, clinics) -> dict:
    made = {
        username: core_services.staff_create(
            username=username,
            password=PASSWORD,
            first_name=username.split(".")[0].title(),
            last_name="Oslo",
            roles=[(clinics["oslo"], role)],
        )
        for username, role in EXTRA.items()
    }
    return staff | made


def lead(staff, clinic: str = "oslo") -> Actor:
    return Actor.system(staff[f"clinic_lead.{clinic}"])


@pytest.fixture
def calendar(rota_staff, clinics) -> dict[str, Clinic]:
    """Three weeks of sessions at both clinics, from today."""
    for code, clinic in clinics.items():
        services.calendar_generate(actor=lead(rota_staff, code), clinic=clinic, days=21)
    return clinics


def tomorrow() -> date:
    return clock.today() + timedelta(days=1)


def open_sessions(clinic: str, days: int) -> list[ClinicSession]:
    """The sessions of the ``days`` days from today that are not over yet, in order. A
    session that is over keeps its rota, so a test that staffs "every session" staffs
    these: which of today's are left depends on the clock's hour (tests/clock.py)."""
    start = clock.today()
    return list(
        ClinicSession.objects.filter(
            clinic__code=clinic,
            date__range=(start, start + timedelta(days=days - 1)),
            ends_at__gt=clock.now(),
        )
        .select_related("slot")
        .order_by("starts_at")
    )


def session(clinic: str, day: date, slot: str = "morning") -> ClinicSession:
    return ClinicSession.objects.get(clinic__code=clinic, date=day, slot__code=slot)


def staff_session(staff, clinic: str, day: date, slot: str = "morning", people=None) -> None:
    """Puts people on a session: by default two nurses and a doctor, fully staffed."""
    for username, role, duty in people or [
        ("nurse.oslo", "nurse", "on_duty"),
        ("nurse2.oslo", "nurse", "on_duty"),
        ("doctor.oslo", "doctor", "on_call"),
    ]:
        services.assignment_create(
            actor=lead(staff, clinic),
            clinic=Clinic.objects.get(code=clinic),
            day=day,
            slot=slot,
            username=username,
            role=role,
            duty=duty,
        )


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the source strings)."""
    with translation.override("en"):
        yield
