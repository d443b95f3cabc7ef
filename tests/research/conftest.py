"""A patient in treatment with a follow-up schedule, the core instrument, valid answers,
and a way to live on a given day (the services read hab.core.clock)."""

from __future__ import annotations

import contextlib
import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from hab.core import clock
from hab.research.models import FollowUp, Instrument


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
