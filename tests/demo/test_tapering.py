"""The demo's tapering patients taper: after the move into tapering the doctor steps the
dose down with new prescriptions, a few per cent every week or two, so that tapering
patient-days have a clearly lower mean daily dose than maintenance ones, in the demo
programme (``hab demo``) and in the bulk generator (``hab generate``) alike."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from hab.core import clock
from hab.core.models import Clinic
from hab.dosing.models import Administration
from hab.evaluation import indicators
from hab.intake.models import EpisodeEvent
from hab.prescribing import taper
from hab.prescribing.models import Prescription
from tests.demo.conftest import generated

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEMO_PASSWORD = "demo-pass-2026"
    call_command("demo", "--scale", "0.1", stdout=io.StringIO())


@pytest.fixture
def programme():
    # Large and long enough for a few stays to taper (the tiny one of test_scale has none).
    return generated("100", clinics=2, years=0.5, seed=13)


def _tapers() -> list[tuple[int, date]]:
    """(episode, the day it moved into tapering) for every move into tapering."""
    return list(
        EpisodeEvent.objects.filter(kind="phase", details__new="tapering").values_list(
            "episode_id", "on"
        )
    )


def _check_stepped_down(episode_id: int, since: date) -> None:
    """The episode's injected DAM after ``since``: prescriptions that each step the dose
    of the one before down by 5-10 % (rounded to 5 mg), ending lower than at the change."""
    chain = list(
        Prescription.objects.filter(
            episode_id=episode_id, medication="dam_injectable", stopped_on__isnull=True
        ).order_by("valid_from", "created_at", "id")
    )
    at_change = [p for p in chain if p.valid_from <= since][-1]
    steps = [p for p in chain if p.valid_from > since]
    assert steps, f"episode {episode_id} tapers without a new prescription"
    assert steps[-1].dose_for("morning") < at_change.dose_for("morning")
    before = at_change.dose_for("morning")
    for step in steps:
        dose = step.dose_for("morning")
        if step.reason.startswith("Nedtrapping"):
            assert 5 <= before - dose <= max(5, before * 0.10 + 2.5)
            assert dose >= taper.TAPER_FLOOR_MG
        else:  # reviewed after days away: restarted at the dose of the taper that day
            assert dose <= before
        assert dose == step.dose_for("afternoon")
        assert float(step.daily_max_mg) >= 2 * dose
        before = dose


def _means(period: indicators.Period) -> dict[str, float]:
    clinic_ids = list(Clinic.objects.values_list("pk", flat=True))
    return indicators.dosing(clinic_ids, period)["mean_daily_dose_mg_by_phase"]


def test_the_steps_of_a_taper():
    since = date(2026, 3, 1)
    found = taper.steps(200, since, since + timedelta(days=21), every=7, pct=10)

    # The day after the change, then weekly: 10 % of the dose in force, to 5 mg.
    assert found == [
        (date(2026, 3, 2), 180.0),
        (date(2026, 3, 9), 160.0),
        (date(2026, 3, 16), 145.0),
    ]
    # Never below the floor, and no step once there; nothing on or before the change.
    low = taper.steps(60, since, since + timedelta(days=100), every=7, pct=10)
    assert low == [(date(2026, 3, 2), 55.0), (date(2026, 3, 9), 50.0)]
    assert taper.steps(200, since, since, every=7, pct=10) == []


def test_the_demos_tapering_patients_are_stepped_down(demo):
    tapers = _tapers()
    clinics = EpisodeEvent.objects.filter(episode_id__in=[e for e, _on in tapers])
    assert set(clinics.values_list("episode__clinic__code", flat=True)) == {"oslo", "bergen"}
    for episode_id, since in tapers:
        _check_stepped_down(episode_id, since)
    # Each day's doses follow the prescription in force that day.
    for episode_id, since in tapers:
        for record in Administration.objects.filter(
            episode_id=episode_id, medication="dam_injectable", status="given", day__gt=since
        ).select_related("prescription"):
            assert record.prescription.valid_from <= record.day
            assert record.dose_mg <= record.prescription.dose_for(record.slot)

    today = clock.today()
    means = _means(indicators.Period(today - timedelta(days=60), today))
    # At a tenth of the demo few patients taper, and the time of day the suite runs at
    # moves their last steps: below maintenance, with no margin asked of so few.
    assert means["tapering"] < means["maintenance"]


def test_the_generated_programmes_tapering_patients_are_stepped_down(programme):
    tapers = _tapers()
    assert len(tapers) >= 3
    for episode_id, since in tapers:
        _check_stepped_down(episode_id, since)
    # Doses given while tapering are those of the tapering prescriptions.
    for episode_id, since in tapers:
        given = Administration.objects.filter(
            episode_id=episode_id,
            medication="dam_injectable",
            status="given",
            day__gt=since + timedelta(days=1),
        ).select_related("prescription")
        for record in given:
            assert record.dose_mg <= record.prescription.dose_for(record.slot)

    today = clock.today()
    means = _means(indicators.Period(today - timedelta(days=365), today))
    assert means["tapering"] < 0.9 * means["maintenance"]
