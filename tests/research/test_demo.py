"""The demo's follow-up: schedules for every course, baselines for most, later time points
that show change, some due or overdue now, a few missed, and research consent withdrawn."""

from __future__ import annotations

import io
from statistics import mean

import pytest
from django.core.management import call_command

from hab.core import clock
from hab.core.models import Clinic
from hab.patients.models import Consent
from hab.research import selectors
from hab.research.models import Answer, FollowUp, Missed, Response

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEMO_PASSWORD = "demo-pass-2026"
    call_command("demo", "--scale", "0.1", stdout=io.StringIO())


def test_the_demo_shows_every_state_of_the_follow_up(demo):
    found = selectors.courses()
    today = clock.today()

    assert FollowUp.objects.values("episode_id").distinct().count() == len(found)
    baselines = Response.objects.filter(follow_up__timepoint="baseline").count()
    assert baselines >= 0.5 * len(found)
    assert Response.objects.filter(follow_up__timepoint="m3").exists()
    assert Response.objects.filter(follow_up__timepoint="m6").exists()
    assert Response.objects.filter(corrects__isnull=False).count() == 1
    assert set(Missed.objects.values_list("reason", flat=True)) <= {"window_closed", "ended"}
    assert Missed.objects.filter(reason="window_closed").exists()
    states: set[str] = set()
    for clinic in Clinic.objects.all():
        listing = selectors.clinic_follow_ups(clinic.pk, state="due", today=today)
        states |= {s for s, n in listing.counts.items() if n}
    assert {"due", "overdue", "missed", "done"} <= states


def test_the_answers_improve_after_admission(demo):
    def average(code: str, timepoint: str) -> float:
        return mean(
            Answer.objects.filter(
                item__code=code, response__follow_up__timepoint=timepoint
            ).values_list("value_int", flat=True)
        )

    assert average("heroin_days", "m6") < average("heroin_days", "baseline") - 5
    assert average("quality_of_life", "m6") > average("quality_of_life", "baseline")


def test_some_patients_have_no_research_consent_and_one_withdrew(demo):
    patients = set(FollowUp.objects.values_list("patient_id", flat=True))
    consented = selectors.research_consented(patients)

    assert patients - consented
    assert Consent.objects.filter(kind="research", given=False).exists()
