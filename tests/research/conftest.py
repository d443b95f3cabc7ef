"""A patient in treatment with a follow-up schedule, the core instrument, valid answers,
a way to live on a given day (the services read hab.core.clock), and a trial to export
(a test instrument, consented patients and their answers)."""

from __future__ import annotations

import contextlib
import datetime
import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from hab.core import clock
from hab.research.models import Answer, FollowUp, Instrument, Item, Option, Response
from tests.research.helpers import consent


def ensure_instrument() -> None:
    """The core instrument from its data migration, put back after a transactional test
    emptied the database."""
    if not Instrument.objects.filter(code="hab_core").exists():
        module = importlib.import_module("hab.research.migrations.0003_hab_core_instrument")
        module.forwards(django_apps, None)


@pytest.fixture(autouse=True)
def _instrument(request):
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        ensure_instrument()


@contextlib.contextmanager
def on(day: datetime.date):
    """Runs the block as if today were ``day`` (midday in Oslo)."""
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    with clock.at(moment):
        yield


def valid_answers(**changes) -> dict:
    return {
        "heroin_days": 12,
        "other_opioid_days": 2,
        "benzodiazepine_days": 0,
        "stimulant_days": 1,
        "alcohol_days": 0,
        "injected": True,
        "overdose": False,
        "overdose_count": 0,
        "crime_days": 3,
        "arrested": False,
        "housing": 2,
        "activity": 4,
        "physical_health": 5,
        "mental_health": 4,
        "quality_of_life": 6,
        "relatives_contact": True,
        "hospital_days": 0,
        "comment": "",
    } | changes


@pytest.fixture
def course(admitted):
    """An Oslo patient admitted 10 days ago (coordinator.oslo): episode and time points."""

    def make(clinic: str = "oslo", **fields) -> dict:
        episode = admitted(clinic, **({"coordinator": f"coordinator.{clinic}"} | fields))
        points = {f.timepoint: f for f in FollowUp.objects.filter(episode_id=episode["id"])}
        return {"episode": episode["id"], "patient": episode["patient"], "points": points}

    return make


@pytest.fixture
def baseline(course):
    made = course()
    return made["points"]["baseline"]


# --- a trial to export: a test instrument, consented patients and their answers ---------


@pytest.fixture
def instrument(db):
    made = Instrument.objects.create(
        code="test_core",
        version=1,
        name_nb="Test",
        name_en="Test",
        created_at=clock.now(),
    )
    days = Item.objects.create(
        instrument=made,
        code="test_heroin_days",
        order=1,
        text_nb="Dager med gateheroin",
        text_en="Days of street heroin",
        type="integer",
        min_value=0,
        max_value=30,
    )
    housing = Item.objects.create(
        instrument=made,
        code="test_housing",
        order=2,
        text_nb="Bolig",
        text_en="Housing",
        type="choice",
    )
    Option.objects.create(item=housing, code=1, label_nb="Egen bolig", label_en="Own flat")
    Option.objects.create(item=housing, code=4, label_nb="Bostedsløs", label_en="Homeless")
    return made, days, housing


@pytest.fixture
def trial(on_prescription, staff, instrument, api_as):
    """Three Oslo patients: two consented (one answered baseline, corrected once), one who
    withdrew; and one without any consent. An incident for the first."""
    made, days, housing = instrument
    patients = [on_prescription(days=3)["patient"] for _ in range(4)]
    consent(staff, patients[0], True)
    consent(staff, patients[1], True)
    consent(staff, patients[2], True)
    consent(staff, patients[2], False)
    from hab.intake.models import Episode

    episode = Episode.objects.get(patient_id=patients[0], ended_on__isnull=True)
    follow_up, _made = FollowUp.objects.get_or_create(
        episode=episode,
        timepoint="baseline",
        defaults={
            "patient_id": patients[0],
            "due_on": episode.admitted_on,
            "window_from": episode.admitted_on - timedelta(days=30),
            "window_to": episode.admitted_on + timedelta(days=30),
        },
    )
    first = Response.objects.create(
        follow_up=follow_up,
        instrument=made,
        answered_on=episode.admitted_on + timedelta(days=2),
        recorded_at=clock.now(),
        recorded_by=staff["coordinator.oslo"],
    )
    Answer.objects.create(response=first, item=days, value_int=25)
    Answer.objects.create(response=first, item=housing, value_int=4)
    fixed = Response.objects.create(
        follow_up=follow_up,
        instrument=made,
        answered_on=episode.admitted_on + timedelta(days=2),
        recorded_at=clock.now(),
        recorded_by=staff["coordinator.oslo"],
        corrects=first,
        correction_reason="Feil tall ført",
    )
    Answer.objects.create(response=fixed, item=days, value_int=20)
    Answer.objects.create(response=fixed, item=housing, value_int=4)
    api_as("nurse.oslo").post(
        "/incidents",
        {
            "clinic": "oslo",
            "kind": "overdose",
            "severity": "serious",
            "occurred_at": (clock.now() - timedelta(hours=2)).isoformat(),
            "description": "Overdose",
            "patient": patients[0],
            "naloxone_mg": 0.4,
        },
    )
    return {"patients": patients, "episode": episode}
