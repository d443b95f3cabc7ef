"""What the national-scale generator's tests share."""

from __future__ import annotations

import importlib

from django.apps import apps as django_apps

from hab.demo.scale import generate, scale_for
from tests.conftest import ensure_migration_data


def generated(patients: str, *, clinics: int, years: float, seed: int):
    """A generated programme on the test database, with the data its migrations load
    (the core instrument among them) in place first."""
    ensure_migration_data()
    from hab.research.models import Instrument

    if not Instrument.objects.filter(code="hab_core").exists():
        module = importlib.import_module("hab.research.migrations.0003_hab_core_instrument")
        module.forwards(django_apps, None)
    return generate(scale_for(patients, clinics=clinics, years=years), seed=seed, workers=1)
