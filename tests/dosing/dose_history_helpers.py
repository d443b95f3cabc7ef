"""A hand-built four weeks of one patient's dosing, for the dose history and its chart:
each kind of session the doctor must tell apart, on known days."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from hab.dosing.models import Administration, Observation
from hab.intake.models import Episode
from hab.prescribing.models import Prescription
from tests.dosing.helpers import TODAY, local


def ago(days: int) -> datetime.date:
    return TODAY - timedelta(days=days)


@dataclass
class Built:
    patient_id: int
    prescriptions: dict[str, Prescription]


def build(patient_id: int) -> Built:
    """Three prescriptions of injected diacetylmorphine in one chain, with a day between
    the first and the second that none was in force, and the sessions:

    - 25 days ago: both given (200 mg), the morning observed without concern;
    - 24 days ago: morning partly given (137.5 mg), afternoon missed;
    - 23 days ago: morning withheld at POSS 3, afternoon refused;
    - 22 days ago: morning given 200 mg, corrected to 180 mg; sedated under observation;
    - 21 days ago: morning 15 mg and a 15 mg top-up; afternoon 30 mg, an overdose
      reversed with 0.4 mg naloxone;
    - 19 days ago: no prescription in force, no record;
    - 3 days ago: morning given 250 mg; nothing recorded in the afternoon;
    - 28 days ago (the day before the window): a dose, which the history leaves out;
    - 25 days ago also a dose of methadone (its own group).
    """
    episode = Episode.objects.get(patient_id=patient_id, ended_on__isnull=True)
    doctor = episode.created_by

    def prescribe(doses, valid_from, valid_to=None, supersedes=None, medication="dam_injectable"):
        return Prescription.objects.create(
            patient_id=patient_id,
            episode=episode,
            medication=medication,
            route="oral" if medication == "methadone_oral" else "iv",
            doses_mg=doses,
            daily_max_mg=600,
            valid_from=valid_from,
            valid_to=valid_to,
            supersedes=supersedes,
            created_at=local(valid_from, 8),
            created_by=doctor,
        )

    first = prescribe({"morning": 200, "afternoon": 200}, ago(40), valid_to=ago(20))
    second = prescribe({"morning": 250, "afternoon": 200}, ago(18), supersedes=first)
    third = prescribe({"morning": 250, "afternoon": 220}, ago(5), supersedes=second)
    methadone = prescribe({"afternoon": 60}, ago(26), valid_to=ago(25), medication="methadone_oral")

    def record(day, slot, status, mg=0, prescribed=200, **extra):
        return Administration.objects.create(
            patient_id=patient_id,
            episode=episode,
            prescription=extra.pop("prescription", first),
            clinic=episode.clinic,
            day=day,
            slot=slot,
            medication=extra.pop("medication", "dam_injectable"),
            group=extra.pop("group", "dam"),
            route=extra.pop("route", "iv"),
            status=status,
            dose_mg=Decimal(str(mg)),
            prescribed_mg=Decimal(str(prescribed)),
            sedation=extra.pop("sedation", 1 if status != "missed" else None),
            given_at=local(day, 9 if slot == "morning" else 15, extra.pop("minute", 0)),
            nurse=doctor,
            **extra,
        )

    def observe(administration, outcome, naloxone=None, note=""):
        Observation.objects.create(
            administration=administration,
            ended_at=administration.given_at + timedelta(minutes=20),
            outcome=outcome,
            naloxone_mg=naloxone,
            note=note,
            by=doctor,
        )

    record(ago(28), "morning", "given", 200)
    observe(record(ago(25), "morning", "given", 200), "no_concern")
    # Recorded before HAB kept the prescribed figure: the prescription in force says it.
    record(ago(25), "afternoon", "given", 200, prescribed=0)
    record(
        ago(25),
        "afternoon",
        "given",
        60,
        prescribed=60,
        medication="methadone_oral",
        group="methadone",
        route="oral",
        prescription=methadone,
        minute=30,
    )
    record(ago(24), "morning", "partial", 137.5)
    record(ago(24), "afternoon", "missed")
    record(ago(23), "morning", "withheld", sedation=3, withheld_reason="POSS 3")
    record(ago(23), "afternoon", "refused")
    corrected = record(ago(22), "morning", "given", 200)
    observe(corrected, "sedated")
    record(
        ago(22),
        "morning",
        "given",
        180,
        corrects=corrected,
        original=corrected,
        correction_reason="Feil tastet: 180 mg gitt",
    )
    record(ago(22), "afternoon", "given", 200)
    record(ago(21), "morning", "given", 15)
    record(ago(21), "morning", "given", 15, top_up=True, minute=5, sedation=2)
    overdose = record(ago(21), "afternoon", "given", 30)
    observe(overdose, "overdose", naloxone=Decimal("0.4"), note="Respirasjon 6, nalokson gitt")
    record(ago(3), "morning", "given", 250, prescribed=250, prescription=third)
    return Built(
        patient_id,
        {"first": first, "second": second, "third": third, "methadone": methadone},
    )
