"""Builds the realistic synthetic demo programme.

Each HAB app that has something to show contributes a ``demo.py`` module with a
``contribute(ctx)`` function. They run in INSTALLED_APPS order, so later apps build on
what earlier ones made (clinics, staff, patients, ...). Everything is written through the
apps' own services, the same write path the clinic uses.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass, field
from datetime import date

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import translation

from hab.core import clock
from hab.core.models import Clinic, User


@dataclass
class DemoContext:
    rng: random.Random
    today: date
    password: str
    clinics: dict[str, Clinic] = field(default_factory=dict)
    # Users by name as in the design: "{role}.{clinic}".
    users: dict[str, User] = field(default_factory=dict)
    scale: float = 1.0
    log: list[str] = field(default_factory=list)


# Demo parts that read the rows of apps above their own live in this app (the top layer)
# and run at their own app's turn, so the apps after them draw the same random numbers.
HOSTED = {"hab.stock": "hab.demo.stock"}


def contributors() -> list:
    modules = []
    for config in apps.get_app_configs():
        if not config.name.startswith("hab."):
            continue
        name = HOSTED.get(config.name, f"{config.name}.demo")
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return modules


def demo_exists() -> bool:
    return Clinic.objects.filter(code="oslo").exists()


def build(*, seed: int = 2026, scale: float = 1.0) -> DemoContext:
    ctx = DemoContext(
        rng=random.Random(seed),
        # The clock's day: the real one, or the day a test fixed (tests/clock.py).
        today=clock.today(),
        password=settings.DEMO_PASSWORD,
        scale=scale,
    )
    # Text the services write in the acting user's language (a doctor alert's reasons)
    # is written in bokmål, as at a Norwegian clinic: a management command has no
    # language of its own and would write English.
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        for module in contributors():
            module.contribute(ctx)
    return ctx
