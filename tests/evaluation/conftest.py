"""A small hand-built programme for the indicator tests (dates in 2025).

Oslo (capacity 200), period 2025-01-01 … 2025-06-30 (181 days):
  P1 admitted 01-01, still in treatment (phase induction → maintenance on 01-12)
  P2 admitted 01-01, dropped out 03-02 (day 60)
  P3 admitted 01-01, transferred to LAR 05-01 (day 120, a positive exit)
  P4 admitted 02-01, moved to HAB Bergen 04-01 (the course continues there)
Bergen: P5 admitted 01-01, died 01-31 (day 30).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from hab.dosing.models import Administration
from hab.incidents.models import Incident
from hab.intake.models import Episode, EpisodeEvent

D = datetime.date


def aware(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def world(make_patient, staff, clinics):
    lead = staff["clinic_lead.oslo"]
    oslo, bergen = clinics["oslo"], clinics["bergen"]

    def episode(patient, clinic, admitted, ended=None, reason="", previous=None, phase="induction"):
        return Episode.objects.create(
            patient=patient,
            clinic=clinic,
            admitted_on=admitted,
            ended_on=ended,
            end_reason=reason,
            death_on=ended if reason == "death" else None,
            previous=previous,
            phase=phase,
            created_by=lead,
        )

    p = [make_patient("oslo") for _ in range(4)] + [make_patient("bergen")]
    e1 = episode(p[0], oslo, D(2025, 1, 1), phase="maintenance")
    e2 = episode(p[1], oslo, D(2025, 1, 1), D(2025, 3, 2), "dropout")
    e3 = episode(p[2], oslo, D(2025, 1, 1), D(2025, 5, 1), "transfer_lar")
    e4 = episode(p[3], oslo, D(2025, 2, 1), D(2025, 4, 1), "transfer_hab")
    e5 = episode(p[3], bergen, D(2025, 4, 1), previous=e4)
    e6 = episode(p[4], bergen, D(2025, 1, 1), D(2025, 1, 31), "death")
    EpisodeEvent.objects.create(
        episode=e1,
        at=aware(D(2025, 1, 12)),
        on=D(2025, 1, 12),
        by=lead,
        kind="phase",
        details={"old": "induction", "new": "maintenance"},
    )
    nurse = staff["nurse.oslo"]

    def dose(patient, ep, day, slot, status, mg=0, reason="", corrects=None):
        return Administration.objects.create(
            patient=patient,
            episode=ep,
            clinic=ep.clinic,
            day=day,
            slot=slot,
            medication="dam_injectable",
            group="dam",
            route="iv",
            status=status,
            dose_mg=Decimal(mg),
            withheld_reason=reason,
            given_at=aware(day, 9 if slot == "morning" else 15),
            nurse=nurse,
            corrects=corrects,
            original=corrects,
            correction_reason="wrong dose typed" if corrects else "",
        )

    dose(p[0], e1, D(2025, 1, 10), "morning", "given", 100)
    dose(p[0], e1, D(2025, 1, 10), "afternoon", "given", 150)
    dose(p[0], e1, D(2025, 1, 11), "morning", "withheld", reason="sedation")
    dose(p[0], e1, D(2025, 1, 11), "afternoon", "missed")
    dose(p[0], e1, D(2025, 1, 12), "morning", "partial", 50)
    wrong = dose(p[0], e1, D(2025, 1, 12), "afternoon", "given", 120)
    dose(p[0], e1, D(2025, 1, 12), "afternoon", "given", 80, corrects=wrong)
    dose(p[1], e2, D(2025, 1, 10), "morning", "refused")
    dose(p[1], e2, D(2025, 1, 10), "afternoon", "withheld", reason="sedation")
    dose(p[1], e2, D(2025, 1, 11), "morning", "withheld", reason="intoxicated")

    for when, kind in [
        (aware(D(2025, 1, 10), 10), "overdose"),
        (aware(D(2025, 1, 11), 16), "violence"),
        (aware(D(2024, 12, 31), 16), "overdose"),  # before the period
    ]:
        Incident.objects.create(
            clinic=oslo,
            kind=kind,
            severity="moderate",
            occurred_at=when,
            patient=p[0],
            description="x",
            reported_at=when,
            reported_by=nurse,
        )
    return {"patients": p, "episodes": [e1, e2, e3, e4, e5, e6]}
