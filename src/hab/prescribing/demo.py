"""Demo part of prescribing: each clinic's protocol (demo values, labelled so) and a
prescription for everyone in treatment, written on the days a doctor would have."""

from __future__ import annotations

import datetime
from datetime import timedelta

from django.utils import timezone

from hab.core import clock
from hab.core.access import Actor
from hab.intake.models import Episode, EpisodeEvent, Phase
from hab.prescribing import services, taper

# Values without a published source are set here as demo values (protocol-defaults.md).
DEMO_VALUES = {
    "dam_max_single_mg": 400,
    "breath_alcohol_max_permille": 0.2,
    "respiratory_rate_min": 10,
    "missed_days_reduce": 2,
    "missed_reduce_pct": 25,
}
MAINTENANCE_DOSES = [150, 180, 200, 220, 250, 280, 300, 350]


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def contribute(ctx) -> None:
    rng = ctx.rng
    today = clock.today()
    start = today - timedelta(days=4 * 365)
    for code, clinic in ctx.clinics.items():
        with clock.at(_at(start, 9)):
            protocol = services.protocol_create(
                actor=Actor.system(ctx.users[f"clinic_lead.{code}"]),
                clinic=clinic,
                doctor=f"doctor.{code}",
                # In bokmål, as a clinic lead here would write it.
                reason="Demoverdier, ikke en klinisk anbefaling (protocol-defaults.md).",
                values=DEMO_VALUES,
                demo_values=True,
            )
        # The named doctor confirms it with their own password, as in the clinic.
        with clock.at(_at(start, 10)):
            services.protocol_confirm(
                actor=Actor.system(ctx.users[f"doctor.{code}"]),
                clinic=clinic,
                version=protocol.version,
                password=ctx.password,
            )
    ctx.maintenance = {}
    episodes = Episode.objects.filter(ended_on__isnull=True).select_related("clinic")
    for episode in episodes.order_by("id"):
        doctor = Actor.system(ctx.users[f"doctor.{episode.clinic.code}"])
        target = rng.choice(MAINTENANCE_DOSES)
        first_day = max(episode.admitted_on, today - timedelta(days=60))
        recent = (today - episode.admitted_on).days < 10
        with clock.at(_at(first_day, 8)):
            services.prescription_create(
                actor=doctor,
                episode_id=episode.pk,
                medication="dam_injectable",
                route="iv",
                doses_mg={"morning": target, "afternoon": target},
                daily_max_mg=min(1000, target * 2 + 50),
                valid_from=first_day,
                reason="Oppstart: titrering etter protokoll" if recent else "Vedlikeholdsdose",
                titration={"start_mg": 15, "step_mg": 30, "target_mg": target} if recent else None,
            )
        ctx.maintenance[episode.patient_id] = target
        if rng.random() < 0.15:
            with clock.at(_at(first_day, 8)):
                services.prescription_create(
                    actor=doctor,
                    episode_id=episode.pk,
                    medication="methadone_oral",
                    route="oral",
                    doses_mg={"afternoon": rng.choice([30, 40, 60, 80])},
                    daily_max_mg=80,
                    valid_from=first_day,
                    reason="Nattdekning",
                )
        if episode.phase == Phase.TAPERING:
            # Stepped down up to yesterday: today's step would be written later today.
            _taper(episode, doctor, target, tapering_since(episode), today - timedelta(days=1))
    ctx.log.append(
        f"Prescribing: protocols for {len(ctx.clinics)} clinics, "
        f"prescriptions for {len(ctx.maintenance)} patients."
    )


def tapering_since(episode: Episode) -> datetime.date:
    """The day the episode's latest move into tapering took effect."""
    return (
        EpisodeEvent.objects.filter(episode=episode, kind="phase", details__new=Phase.TAPERING)
        .order_by("-on", "-at", "-id")
        .values_list("on", flat=True)
        .first()
    )


def _taper(episode, doctor, target: float, since: datetime.date, until: datetime.date) -> None:
    """A tapering patient's dose stepped down by new prescriptions, as the doctor writes
    them (hab.prescribing.taper)."""
    every, pct = taper.pace(episode.pk)
    for day, mg in taper.steps(target, since, until, every=every, pct=pct):
        with clock.at(_at(day, 7)):
            services.prescription_create(
                actor=doctor,
                episode_id=episode.pk,
                medication="dam_injectable",
                route="iv",
                doses_mg={"morning": mg, "afternoon": mg},
                daily_max_mg=mg * 2 + 50,
                valid_from=day,
                reason=taper.reason(every, pct),
            )
