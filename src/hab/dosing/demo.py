"""Demo part of the dosing room: sixty days of supervised doses, so the board shows real
warnings today, and this morning's session when the demo is loaded after it.

The history is written as one import of past records (as when a clinic moves its records
from an earlier system): the rows are made to follow the protocol (titration on the first
days, the occasional missed or withheld dose) and bulk-inserted, with one access-log row
per patient. Today's doses go through the dosing service like any other.
"""

from __future__ import annotations

import datetime
import random
from datetime import timedelta

from django.utils import timezone

from hab.core import clock
from hab.core.access import Actor, access_log_listed
from hab.core.errors import DomainError
from hab.core.models import AccessBasis
from hab.dosing import services, summaries
from hab.dosing.models import Administration, DoseReview, Observation
from hab.dosing.rules import TAKEN
from hab.intake.models import Episode
from hab.prescribing.models import Prescription

HISTORY_DAYS = 60
SLOTS = (("morning", 8), ("afternoon", 14))


def _at(day: datetime.date, hour: int, minute: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def contribute(ctx) -> None:
    rng = ctx.rng
    today = clock.today()
    episodes = list(
        Episode.objects.filter(ended_on__isnull=True).select_related("clinic", "patient")
    )
    prescriptions = {
        (p.patient_id, p.medication): p
        for p in Prescription.objects.filter(superseded_by__isnull=True, stopped_on__isnull=True)
    }
    # Some patients stay away: three days (blocked until a doctor reviews) or two (reduced).
    away_three = {e.patient_id for e in rng.sample(episodes, k=max(1, len(episodes) // 40))}
    away_two = {
        e.patient_id for e in rng.sample(episodes, k=max(1, len(episodes) // 40))
    } - away_three
    # A tapering patient's dose steps down: each day's doses follow the DAM prescription
    # in force that day.
    dam_chains: dict[int, list[Prescription]] = {}
    for p in Prescription.objects.filter(
        medication="dam_injectable", stopped_on__isnull=True
    ).order_by("valid_from", "created_at", "id"):
        dam_chains.setdefault(p.patient_id, []).append(p)
    rows: list[Administration] = []
    for episode in episodes:
        if prescriptions.get((episode.patient_id, "dam_injectable")) is None:
            continue
        chain = dam_chains[episode.patient_id]
        adjunct = prescriptions.get((episode.patient_id, "methadone_oral"))
        first = max(episode.admitted_on, today - timedelta(days=HISTORY_DAYS))
        stop = today - timedelta(
            days=3
            if episode.patient_id in away_three
            else 2
            if episode.patient_id in away_two
            else 0
        )
        day, last_mg, run_day = first, 0.0, 0
        while day < stop:
            run_day = (day - episode.admitted_on).days + 1
            rx = next((p for p in reversed(chain) if p.valid_from <= day), chain[0])
            target = rx.dose_for("morning")
            for slot, hour in SLOTS:
                minute = rng.randint(0, 150)
                when = _at(day, hour, minute % 60) + timedelta(minutes=60 * (minute // 60))
                roll = rng.random()
                status, mg, reason = "given", target, ""
                if run_day == 1:
                    mg = 15 if slot == "morning" else 30
                elif run_day <= 3:
                    mg = min(target, last_mg * 1.5)
                if roll < 0.03:
                    status, mg = "missed", 0
                elif roll < 0.04:
                    status, mg, reason = (
                        "withheld",
                        0,
                        rng.choice(
                            [
                                "Sedert (POSS 3) ved ankomst",
                                "Promille over grensen",
                                "Påvirket av benzodiazepiner",
                            ]
                        ),
                    )
                elif roll < 0.05 and run_day > 3:
                    status, mg = "partial", round(target * 0.7)
                rows.append(_row(episode, rx, day, slot, when, status, mg, reason, target))
                if mg:
                    last_mg = mg
            if adjunct is not None and rng.random() > 0.05:
                rows.append(
                    _row(
                        episode,
                        adjunct,
                        day,
                        "afternoon",
                        _at(day, 15, 30),
                        "given",
                        adjunct.dose_for("afternoon"),
                        "",
                        adjunct.dose_for("afternoon"),
                    )
                )
            day += timedelta(days=1)
    _assessed(rows)
    Administration.objects.bulk_create(rows, batch_size=2000)
    _observed(rows)
    by_clinic: dict[str, list] = {}
    for episode in episodes:
        by_clinic.setdefault(episode.clinic.code, []).append(episode.patient)
    for code, patients in by_clinic.items():
        access_log_listed(
            actor=Actor.system(ctx.users[f"nurse.{code}"]),
            patients=patients,
            details={"import": "administration history", "days": HISTORY_DAYS},
            basis=AccessBasis.CARE,
        )
    _this_morning(ctx, episodes, away_three | away_two, prescriptions)
    _reviewed(ctx, [e for e in episodes if e.patient_id in away_three])
    _alerts_and_holds(ctx, episodes, away_three)
    # The history was imported around the services: its day summaries are added up once.
    summaries.rebuild()
    ctx.log.append(f"Dosing: {len(rows)} past administrations over {HISTORY_DAYS} days.")


def _row(episode, rx, day, slot, when, status, mg, reason, prescribed) -> Administration:
    return Administration(
        patient_id=episode.patient_id,
        episode=episode,
        prescription=rx,
        clinic=episode.clinic,
        day=day,
        slot=slot,
        medication=rx.medication,
        group="methadone" if rx.medication == "methadone_oral" else "dam",
        route=rx.route,
        status=status,
        dose_mg=mg if status in TAKEN else 0,
        prescribed_mg=prescribed,
        max_allowed_mg=prescribed,
        withheld_reason=reason,
        sedation=1 if status != "missed" else None,
        breath_alcohol_permille=0 if status != "missed" else None,
        given_at=when,
        nurse=episode.created_by,
        observe_until=when + timedelta(minutes=20) if mg else None,
    )


def _assessed(rows: list[Administration]) -> None:
    """POSS scores as nurses record them: 1 nearly always, now and then 2, and 3 where a
    dose was withheld for sedation. A random source of its own: the rest of the demo
    draws the same numbers as before."""
    rng = random.Random(20261204)
    for row in rows:
        if row.withheld_reason.startswith("Sedert"):
            row.sedation = 3
        elif row.status in TAKEN and rng.random() < 0.04:
            row.sedation = 2


def _observed(rows: list[Administration]) -> None:
    """The end of each past dose's observation: without concern, but for the odd patient
    who was drowsy and was watched until awake (an overdose would have an incident
    report; the demo's incidents have their own)."""
    rng = random.Random(20261205)
    ended = []
    for row in rows:
        if row.status not in TAKEN or row.observe_until is None:
            continue
        drowsy = rng.random() < 0.01
        ended.append(
            Observation(
                administration_id=row.pk,
                ended_at=row.observe_until,
                outcome="sedated" if drowsy else "no_concern",
                note="Døsig etter dosen; fulgt til våken." if drowsy else "",
                by_id=row.nurse_id,
            )
        )
    Observation.objects.bulk_create(ended, batch_size=2000)


def _this_morning(ctx, episodes, away, prescriptions) -> None:
    """When the demo is loaded after the morning session began, most have had their dose."""
    today = clock.today()
    for episode in episodes:
        slot = next((s for s in episode.clinic.slots.all() if s.code == "morning"), None)
        if slot is None or timezone.localtime(clock.now()).time() < slot.starts_at:
            return
        if episode.patient_id in away or ctx.rng.random() < 0.25:
            continue
        rx = prescriptions.get((episode.patient_id, "dam_injectable"))
        if rx is None:
            continue
        moment = timezone.make_aware(datetime.datetime.combine(today, slot.starts_at)) + timedelta(
            minutes=ctx.rng.randint(0, 150)
        )
        with clock.at(min(moment, clock.now())):
            try:
                recorded = services.administration_record(
                    actor=Actor.system(ctx.users[f"nurse.{episode.clinic.code}"]),
                    clinic=episode.clinic,
                    patient_id=episode.patient_id,
                    day=today,
                    slot="morning",
                    medication="dam_injectable",
                    dose_mg=rx.dose_for("morning"),
                    route="iv",
                    status="given",
                    assessment={"sedation": 1, "breath_alcohol_permille": 0},
                )
            except DomainError:
                # Not safe this morning (titration step, reduction after missed days):
                # the nurse gives what the board allows instead.
                continue
        # Observation ended after 20 minutes, unless the dose was given just now.
        ended = moment + timedelta(minutes=20)
        if ended < clock.now():
            with clock.at(ended):
                services.observation_end(
                    actor=Actor.system(ctx.users[f"nurse.{episode.clinic.code}"]),
                    administration_id=recorded.administration.pk,
                    outcome="no_concern",
                )


def _reviewed(ctx, away: list) -> None:
    """One patient a clinic back after days away has been seen by the doctor this morning:
    the board lets them restart under the first-day limits; the others still wait."""
    seen: set[str] = set()
    for episode in sorted(away, key=lambda e: e.patient_id):
        code = episode.clinic.code
        if code in seen:
            continue
        seen.add(code)
        with clock.at(clock.now() - timedelta(minutes=30)):
            services.dose_review(
                actor=Actor.system(ctx.users[f"doctor.{code}"]),
                patient_id=episode.patient_id,
                group="dam",
                note="Samtale i dag: ingen tegn til rus, vil starte igjen. Oppstart etter "
                "første-dags-grensene.",
            )


def _alerts_and_holds(ctx, episodes: list, away: set[int]) -> None:
    """What waits for the doctor this morning: the nurses have alerted the doctor about
    two patients a clinic (those still blocked after days away first), and stopped one
    patient's dosing, so the doctor's start page and the board show both."""
    reviewed = set(DoseReview.objects.values_list("patient_id", flat=True))
    notes = [
        "Virker ruset og forvirret ved oppmøte, ønsker legevurdering.",
        "Klager over brystsmerter etter forrige dose.",
    ]
    for code in sorted({e.clinic.code for e in episodes}):
        here = sorted((e for e in episodes if e.clinic.code == code), key=lambda e: e.patient_id)
        nurse = Actor.system(ctx.users[f"nurse.{code}"])
        blocked = [e for e in here if e.patient_id in away and e.patient_id not in reviewed]
        others = [e for e in here if e.patient_id not in away]
        chosen = (blocked + others)[:2]
        for minutes, episode in zip((50, 15), chosen, strict=False):
            with clock.at(clock.now() - timedelta(minutes=minutes)):
                try:
                    services.doctor_alert_raise(
                        actor=nurse,
                        patient_id=episode.patient_id,
                        note="" if episode.patient_id in away else notes[minutes % 2],
                    )
                except DomainError:
                    continue
        held = next((e for e in reversed(others) if e not in chosen), None)
        if held is not None:
            with clock.at(clock.now() - timedelta(minutes=40)):
                services.dose_hold_place(
                    actor=nurse,
                    patient_id=held.patient_id,
                    reason="Innlagt på sykehus i går kveld, avventer epikrise.",
                )
