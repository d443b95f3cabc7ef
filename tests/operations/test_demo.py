"""The demo's calendar and rota: what scripts/run-demo shows the clinic lead."""

from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from hab.core import clock
from hab.core.models import Clinic, User
from hab.operations import selectors
from hab.operations.models import Assignment, ClinicSession, SessionTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEMO_PASSWORD = "demo-pass-2026"
    call_command("demo", "--scale", "0.1", stdout=io.StringIO())


def test_the_demo_has_opening_times_and_seven_weeks_of_calendar(demo):
    monday = clock.today() - timedelta(days=clock.today().weekday())
    for clinic in Clinic.objects.all():
        sessions = ClinicSession.objects.filter(clinic=clinic)
        assert sessions.count() == 7 * 7 * 2
        assert min(s.date for s in sessions) == monday
        assert SessionTemplate.objects.filter(clinic=clinic).count() == 14
        saturday = sessions.get(date=monday + timedelta(days=5), slot__code="afternoon")
        local = timezone.localtime(saturday.starts_at), timezone.localtime(saturday.ends_at)
        assert (local[0].time(), local[1].time()) == (time(15), time(17))


def test_the_demo_rota_is_fully_staffed_but_for_one_session_at_oslo(demo):
    oslo, bergen = Clinic.objects.get(code="oslo"), Clinic.objects.get(code="bergen")

    warned = selectors.warnings(oslo)

    assert selectors.warnings(bergen).count == 0
    assert warned.count == 1
    [row] = warned.understaffed
    assert row.session.date == clock.today() + timedelta(days=3)
    assert row.shortfall_texts == ["Missing 1 nurse"]
    removed = Assignment.objects.get(removed_at__isnull=False)
    assert removed.removal_reason.startswith("Syk")
    later = selectors.rota(
        oslo, clock.today() + timedelta(days=14), clock.today() + timedelta(days=30)
    )
    assert later and not any(r.understaffed for r in later)


def test_the_demo_has_more_nurses_and_doctors_without_renaming_anyone(demo):
    for clinic in ("oslo", "bergen"):
        for username in ("nurse", "nurse2", "nurse3", "nurse4", "doctor", "doctor2"):
            assert User.objects.filter(username=f"{username}.{clinic}").exists()
