"""Helpers for the dosing tests."""

from __future__ import annotations

import datetime
from datetime import timedelta

from django.utils import timezone

from hab.dosing.models import Administration
from hab.intake.models import Episode
from tests.clock import TODAY


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def history(
    patient_id: int,
    days: int,
    mg: float = 200,
    medication: str = "dam_injectable",
    skip: frozenset[tuple[datetime.date, str]] = frozenset(),
):
    """Past doses, two a day, written as the clinic would have recorded them; ``skip``
    leaves sessions (day, slot) without a record."""
    episode = Episode.objects.get(patient_id=patient_id, ended_on__isnull=True)
    rows = []
    for back in range(days, 0, -1):
        day = TODAY - timedelta(days=back)
        for slot, hour in (("morning", 9), ("afternoon", 15)):
            if (day, slot) in skip:
                continue
            rows.append(
                Administration(
                    patient_id=patient_id,
                    episode=episode,
                    clinic=episode.clinic,
                    day=day,
                    slot=slot,
                    medication=medication,
                    group="dam",
                    route="iv",
                    status="given",
                    dose_mg=mg,
                    given_at=local(day, hour),
                    nurse=episode.created_by,
                )
            )
    Administration.objects.bulk_create(rows)


def dose_body(patient: int, **extra) -> dict:
    return {
        "patient": patient,
        "date": str(TODAY),
        "slot": "afternoon",
        "medication": "dam_injectable",
        "dose_mg": 200,
        "route": "iv",
        "status": "given",
        "assessment": {"sedation": 1, "breath_alcohol_permille": 0.0, "respiratory_rate": 14},
    } | extra
