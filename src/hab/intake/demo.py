"""Demo part of intake: four years of referrals, assessments, admissions and discharges.

Every step goes through the intake services with the clock set to the day it happened,
so the records, their events and the access log carry realistic times. Oslo ends with a
waitlist and a few free places; Bergen ends near capacity. Every referral status and
every reason for discharge is present at both clinics.
"""

from __future__ import annotations

import datetime
from datetime import date, timedelta

from django.utils import timezone

from hab.core import clock
from hab.core.access import Actor
from hab.intake import services
from hab.intake.models import EndReason, Episode, Phase, ReferralSource
from hab.intake.selectors import active_criteria_set
from hab.patients.demo import enrich, new_person

# Per clinic: open episodes at the end, past discharges, and referrals still in each state.
PLAN = {
    "oslo": {
        "open": 188,
        "discharged": 30,
        "received": 4,
        "assessing": 3,
        "eligible": 2,
        "not_eligible": 4,
        "waitlisted": 12,
        "withdrawn": 3,
    },
    "bergen": {
        "open": 94,
        "discharged": 16,
        "received": 2,
        "assessing": 1,
        "eligible": 1,
        "not_eligible": 2,
        "waitlisted": 4,
        "withdrawn": 1,
    },
}
TRANSFERS_OSLO_TO_BERGEN = 2
# Tapering patients began tapering within this many weeks of today.
TAPER_WEEKS = 8
SOURCES = [
    (ReferralSource.LAR, 45),
    (ReferralSource.LOW_THRESHOLD, 20),
    (ReferralSource.USER_ORGANISATION, 8),
    (ReferralSource.GP, 7),
    (ReferralSource.SPECIALIST, 8),
    (ReferralSource.PRISON_HEALTH, 6),
    (ReferralSource.SELF, 4),
    (ReferralSource.OTHER, 2),
]
ORGANISATIONS = {
    ReferralSource.LAR: ["LAR Oslo universitetssykehus", "LAR Helse Bergen", "LAR Vestre Viken"],
    ReferralSource.LOW_THRESHOLD: ["Sprøyterommet", "Feltpleien", "Prindsen mottakssenter"],
    ReferralSource.USER_ORGANISATION: ["proLAR Nett", "Rusmisbrukernes interesseorganisasjon"],
    ReferralSource.GP: ["Legesenteret Grønland", "Nygård legekontor"],
    ReferralSource.SPECIALIST: ["Avdeling for rusbehandling", "Psykiatrisk poliklinikk"],
    ReferralSource.PRISON_HEALTH: ["Helsetjenesten Oslo fengsel", "Bergen fengsel helseavdeling"],
    ReferralSource.SELF: ["Selvhenvisning"],
    ReferralSource.OTHER: ["NAV sosialtjeneste", "Uteseksjonen"],
}
DEATH_NOTES = [
    "Død utenfor klinikken; sannsynlig overdose, melding fra politiet.",
    "Død på sykehus etter lungebetennelse; pårørende informert.",
]


def _at(day: date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def contribute(ctx) -> None:
    demo = _IntakeDemo(ctx)
    for code in PLAN:
        demo.clinic(code)
    demo.transfers()
    ctx.log.append(
        "Intake: "
        + ", ".join(f"{code} {n} open episodes" for code, n in demo.open_counts().items())
        + "."
    )


class _IntakeDemo:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.rng = ctx.rng
        self.today = clock.today()
        self.start = self.today - timedelta(days=4 * 365)
        self.codes = [c.code for c in active_criteria_set().criteria.all()]
        self.open_episodes: dict[str, list] = {code: [] for code in PLAN}

    def n(self, count: int) -> int:
        return max(1, round(count * self.ctx.scale))

    def actor(self, role: str, code: str) -> Actor:
        return Actor.system(self.ctx.users[f"{role}.{code}"])

    def day(self, earliest: date, latest: date) -> date:
        latest = max(earliest, min(latest, self.today))
        return earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))

    def source(self):
        return self.rng.choices([s for s, _w in SOURCES], [w for _s, w in SOURCES])[0]

    # --- steps --------------------------------------------------------------------------

    def refer(self, code: str, received: date, patient=None):
        source = self.source()
        with clock.at(_at(received, 9)):
            referral = services.referral_create(
                actor=self.actor("coordinator", code),
                clinic=self.ctx.clinics[code],
                source=source,
                referring_organisation=self.rng.choice(ORGANISATIONS[source]),
                referring_contact=self.rng.choice(["", "Saksbehandler, tlf 22 00 00 00"]),
                received_on=received,
                documents=self.rng.choice(
                    [
                        "Henvisningsbrev",
                        "Henvisningsbrev, epikrise LAR",
                        "Henvisning, legemiddelliste",
                    ]
                ),
                patient_id=patient.pk if patient else None,
                new_patient=None if patient else new_person(self.ctx, code),
            )
            if patient is None:
                enrich(self.ctx, code, referral.patient)
        return referral

    def assess(self, code: str, referral, on: date, eligible: bool = True):
        answers = dict.fromkeys(self.codes, True)
        notes = ""
        if not eligible:
            answers[
                self.rng.choice(["previous_oat", "dependence_duration", "treatment_attempts"])
            ] = False
            notes = "Ikke forsøkt LAR tilstrekkelig; anbefaler ny LAR-utprøving."
        with clock.at(_at(on, 13)):
            services.referral_assess(
                actor=self.actor("doctor", code),
                referral_id=referral.pk,
                answers=answers,
                eligible=eligible,
                notes=notes,
                criterion_notes={"previous_oat": "Metadon og buprenorfin uten stabilisering"},
                assessed_on=on,
            )

    def waitlist(self, code: str, referral, on: date) -> None:
        with clock.at(_at(on, 14)):
            services.referral_waitlist(
                actor=self.actor("coordinator", code), referral_id=referral.pk
            )

    def admit(self, code: str, referral, on: date, coordinator: bool = True):
        phase = Phase.MAINTENANCE if self.rng.random() < 0.05 else Phase.INDUCTION
        with clock.at(_at(on, 8)):
            episode = services.episode_admit(
                actor=self.actor("clinic_lead", code),
                patient_id=referral.patient_id,
                clinic=self.ctx.clinics[code],
                admitted_on=on,
                coordinator=self.rng.choice(
                    [f"coordinator.{code}", f"nurse.{code}", f"psychologist.{code}"]
                )
                if coordinator
                else None,
                phase=phase,
                referral_id=referral.pk,
            )
        if phase == Phase.INDUCTION and (self.today - on).days > 10:
            stable = on + timedelta(days=self.rng.randint(3, 8))
            with clock.at(_at(stable, 12)):
                services.episode_set_phase(
                    actor=self.actor("doctor", code),
                    episode_id=episode.pk,
                    phase=Phase.MAINTENANCE,
                    on=stable,
                )
        return episode

    def through_to_admission(self, code: str, admitted: date, patient=None, coordinator=True):
        received = admitted - timedelta(days=self.rng.randint(25, 120))
        received = max(received, self.start)
        assessed = self.day(received + timedelta(days=3), admitted - timedelta(days=8))
        referral = self.refer(code, received, patient)
        self.assess(code, referral, assessed)
        self.waitlist(code, referral, assessed)
        offered = self.day(max(assessed, admitted - timedelta(days=7)), admitted)
        with clock.at(_at(offered, 15)):
            services.referral_offer(
                actor=self.actor("clinic_lead", code), referral_id=referral.pk, offered_on=offered
            )
        return self.admit(code, referral, admitted, coordinator)

    # --- a clinic -----------------------------------------------------------------------

    def clinic(self, code: str) -> None:
        plan = PLAN[code]
        rng = self.rng
        # Past discharges, each reason at least once.
        reasons = [r for r in EndReason.values if r != EndReason.TRANSFER_HAB]
        discharged = []
        for index in range(max(len(reasons), self.n(plan["discharged"]))):
            reason = (
                reasons[index]
                if index < len(reasons)
                else rng.choice(
                    ["dropout", "dropout", "transfer_lar", "other_treatment", "prison", "moved"]
                )
            )
            admitted = self.day(self.start + timedelta(days=120), self.today - timedelta(days=200))
            episode = self.through_to_admission(code, admitted)
            ended = self.day(admitted + timedelta(days=30), admitted + timedelta(days=600))
            ended = min(ended, self.today - timedelta(days=14))
            with clock.at(_at(ended, 15)):
                services.episode_discharge(
                    actor=self.actor("doctor", code),
                    episode_id=episode.pk,
                    ended_on=ended,
                    reason=reason,
                    note=rng.choice(DEATH_NOTES) if reason == EndReason.DEATH else "",
                    death_on=ended - timedelta(days=rng.randint(0, 3))
                    if reason == EndReason.DEATH
                    else None,
                )
            if reason != EndReason.DEATH:
                discharged.append(episode.patient)

        # Open episodes: most stable in maintenance, a few tapering, the newest in induction.
        opened, tapering = [], []
        for index in range(self.n(plan["open"])):
            recent = index < 4
            if recent:
                admitted = self.today - timedelta(days=[2, 5, 9, 12][index])
            else:
                admitted = self.day(
                    self.start + timedelta(days=60), self.today - timedelta(days=20)
                )
            # Two recent admissions still without a coordinator, one of them overdue.
            episode = self.through_to_admission(
                code, admitted, coordinator=not (recent and index in (1, 2))
            )
            # Tapering began three to eight weeks ago (within the dosing history, so the
            # charts show the steps down), after at least four months in treatment; the
            # first long stay at each clinic tapers, so every demo has a tapering patient.
            chance = rng.random() if not recent else 1.0
            settled = admitted <= self.today - timedelta(days=TAPER_WEEKS * 7 + 120)
            if settled and (chance < 0.06 or not tapering):
                tapering.append(episode)
                taper = self.day(
                    self.today - timedelta(days=TAPER_WEEKS * 7), self.today - timedelta(days=21)
                )
                with clock.at(_at(taper, 11)):
                    services.episode_set_phase(
                        actor=self.actor("doctor", code),
                        episode_id=episode.pk,
                        phase=Phase.TAPERING,
                        on=taper,
                    )
            opened.append(episode)
        self.open_episodes[code] = opened

        # Referrals still in progress; some are people discharged earlier, referred again.
        again = iter(discharged[:3])
        recent_start = self.today - timedelta(days=60)
        for _ in range(self.n(plan["received"])):
            self.refer(
                code, self.day(self.today - timedelta(days=10), self.today), next(again, None)
            )
        for _ in range(self.n(plan["assessing"])):
            referral = self.refer(code, self.day(recent_start, self.today - timedelta(days=5)))
            with clock.at(_at(self.day(referral.received_on, self.today), 11)):
                services.referral_set_status(
                    actor=self.actor("doctor", code), referral_id=referral.pk, status="assessing"
                )
        for _ in range(self.n(plan["eligible"])):
            referral = self.refer(code, self.day(recent_start, self.today - timedelta(days=7)))
            self.assess(code, referral, self.day(referral.received_on, self.today))
        for _ in range(self.n(plan["not_eligible"])):
            referral = self.refer(code, self.day(self.start, self.today - timedelta(days=7)))
            self.assess(code, referral, self.day(referral.received_on, self.today), eligible=False)
        for index in range(self.n(plan["waitlisted"])):
            referral = self.refer(
                code, self.day(self.today - timedelta(days=150), self.today - timedelta(days=20))
            )
            assessed = self.day(
                referral.received_on + timedelta(days=3), self.today - timedelta(days=2)
            )
            self.assess(code, referral, assessed)
            self.waitlist(code, referral, assessed)
            if index < 2:
                with clock.at(_at(assessed, 15)):
                    services.referral_set_urgent(
                        actor=self.actor("doctor", code),
                        referral_id=referral.pk,
                        urgent=True,
                        reason="Flere overdoser siste måned; bor på gata.",
                    )
            elif index < 5:
                with clock.at(_at(self.today, 9)):
                    services.referral_offer(
                        actor=self.actor("clinic_lead", code), referral_id=referral.pk
                    )
        for _ in range(self.n(plan["withdrawn"])):
            referral = self.refer(code, self.day(self.start, self.today - timedelta(days=20)))
            with clock.at(_at(self.day(referral.received_on, self.today), 12)):
                services.referral_set_status(
                    actor=self.actor("coordinator", code),
                    referral_id=referral.pk,
                    status="withdrawn",
                    note=self.rng.choice(
                        ["Ønsker ikke HAB likevel", "Flyttet fra byen", "Ikke mulig å nå"]
                    ),
                )

    def transfers(self) -> None:
        """A couple of patients moved from Oslo to Bergen and continue there."""
        movers = [e for e in self.open_episodes["oslo"] if e.coordinator_id][
            :TRANSFERS_OSLO_TO_BERGEN
        ]
        for episode in movers:
            on = self.today - timedelta(days=self.rng.randint(15, 40))
            on = max(on, episode.admitted_on)
            with clock.at(_at(on, 10)):
                following = services.episode_transfer(
                    actor=self.actor("clinic_lead", "oslo"),
                    episode_id=episode.pk,
                    to_clinic="bergen",
                    on=on,
                    note="Flytter til Bergen",
                )
            with clock.at(_at(on + timedelta(days=1), 10)):
                services.episode_set_coordinator(
                    actor=self.actor("coordinator", "bergen"),
                    episode_id=following.pk,
                    coordinator="coordinator.bergen",
                )

    def open_counts(self) -> dict[str, int]:
        return {
            code: Episode.objects.filter(clinic__code=code, ended_on__isnull=True).count()
            for code in PLAN
        }
