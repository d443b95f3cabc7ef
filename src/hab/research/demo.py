"""Demo part of the follow-up: the schedule of every course of treatment and the
interviews done so far, imported as a clinic imports the interviews it kept on paper when
it starts with HAB (one bulk insert per table, with the dates they were done). Most
patients have a baseline; later time points show the change HAT trials report (less
street heroin and crime, better health and housing), with a few missed. The interviews
now due or overdue are left for the staff. Then, today, through the service: one
interview at each clinic, and one correction.
"""

from __future__ import annotations

import datetime
from datetime import timedelta

from django.utils import timezone

from hab.core import clock
from hab.core.access import Actor
from hab.patients import services as patient_services
from hab.patients.models import Consent, ConsentKind
from hab.research import instruments, rules, selectors, services
from hab.research.models import Answer, FollowUp, ItemType, Missed, Response
from hab.research.selectors import Course

# Share of time points with a closed window that were done (the rest are missed).
DONE_SHARE = 0.86
# Share of patients without research consent who still take part in the interviews.
COMMENTS = [
    "Pasienten ønsket å ta intervjuet i to deler.",
    "Usikker på antall dager med benzodiazepiner.",
    "Har nylig fått tilbud om bolig med oppfølging.",
    "Intervjuet gjort etter formiddagsdosen.",
]


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def contribute(ctx) -> None:
    demo = _FollowUpDemo(ctx)
    demo.withdrawal()
    demo.schedules()
    demo.history()
    demo.today_at_each_clinic()
    ctx.log.append(
        f"Follow-up: {demo.scheduled} time points, {demo.done} interviews, "
        f"{demo.missed} missed; now due {demo.due_now}, overdue {demo.overdue_now}."
    )


class _Person:
    """One patient's starting point and how much HAT helps them."""

    def __init__(self, rng) -> None:
        self.heroin = rng.randint(18, 30)
        self.opioids = rng.randint(0, 15)
        self.benzo = rng.choice([0, 0, 2, 5, 10, 20])
        self.stimulant = rng.choice([0, 0, 1, 4, 8, 15])
        self.alcohol = rng.choice([0, 0, 0, 2, 5, 10])
        self.crime = rng.randint(3, 25)
        self.housing = rng.choices([1, 2, 3, 4, 5, 6, 7], [25, 20, 25, 15, 5, 3, 7])[0]
        self.physical = rng.randint(2, 6)
        self.mental = rng.randint(2, 6)
        self.life = rng.randint(1, 5)
        self.relatives = rng.random() < 0.5
        self.response = rng.uniform(0.25, 1.0)


class _FollowUpDemo:
    def __init__(self, ctx) -> None:
        self.ctx, self.rng = ctx, ctx.rng
        self.today = clock.today()
        self.instrument = instruments.instrument_by_code(instruments.CORE)
        self.items = list(self.instrument.items.all())
        self.scheduled = self.done = self.missed = self.due_now = self.overdue_now = 0
        self.people: dict[int, _Person] = {}
        self.clinic_codes = {c.pk: code for code, c in ctx.clinics.items()}

    def user(self, role: str, clinic_id: int):
        return self.ctx.users[f"{role}.{self.clinic_codes[clinic_id]}"]

    def withdrawal(self) -> None:
        """At least one patient who consented to research and later withdrew."""
        latest: dict[int, bool] = {}
        for pid, given in (
            Consent.objects.filter(kind=ConsentKind.RESEARCH)
            .order_by("at", "id")
            .values_list("patient_id", "given")
        ):
            if pid in latest and latest[pid] and not given:
                return
            latest[pid] = given
        consenting = sorted(pid for pid, given in latest.items() if given)
        if not consenting:
            return
        patient_id = consenting[len(consenting) // 2]
        code = next(iter(self.ctx.clinics))
        patient_services.consent_record(
            actor=Actor.system(self.ctx.users[f"coordinator.{code}"]),
            patient_id=patient_id,
            kind=ConsentKind.RESEARCH,
            given=False,
            note="Trakk samtykket til forskning; vil fortsatt ha behandling.",
        )

    def schedules(self) -> None:
        self.courses: dict[int, Course] = selectors.courses()
        services.follow_ups_ensure(self.courses.values())
        self.scheduled = FollowUp.objects.count()

    def history(self) -> None:
        consented = selectors.research_consented({c.patient_id for c in self.courses.values()})
        responses: list[Response] = []
        values: list[dict] = []
        missed: list[Missed] = []
        follow_ups = FollowUp.objects.filter(episode_id__in=list(self.courses)).order_by(
            "episode_id", "due_on"
        )
        for follow_up in follow_ups:
            course = self.courses[follow_up.episode_id]
            slot = selectors.slot_of(follow_up)
            person = self.people.setdefault(course.patient_id, _Person(self.rng))
            reason = rules.missed_reason(slot, self.today, course.ended_on, answered=False)
            if reason == rules.ENDED:
                missed.append(self._missed(follow_up, course.ended_on, reason))
                continue
            if follow_up.window_from > self.today:
                continue
            # Patients without research consent take part less often (clinic follow-up).
            share = DONE_SHARE if course.patient_id in consented else 0.5
            if reason == rules.WINDOW_CLOSED:
                if self.rng.random() < share:
                    day = self._day(slot, course)
                    responses.append(self._response(follow_up, course, day))
                    values.append(self._values(person, slot.months))
                else:
                    missed.append(self._missed(follow_up, follow_up.window_to, reason))
                continue
            # The window is open now: a baseline of those admitted days ago was done at
            # once; later time points are partly done, the rest are due or overdue.
            done = (slot.months == 0 and self.rng.random() < 0.6) or (
                self.today > slot.due_on and self.rng.random() < 0.35
            )
            if done:
                day = self._day(slot, course, latest=self.today - timedelta(days=1))
                if day >= slot.window_from:
                    responses.append(self._response(follow_up, course, day))
                    values.append(self._values(person, slot.months))
                    continue
            if self.today <= slot.due_on:
                self.due_now += 1
            else:
                self.overdue_now += 1
        made = Response.objects.bulk_create(responses, batch_size=500)
        Answer.objects.bulk_create(
            (
                answer
                for response, answers in zip(made, values, strict=True)
                for answer in self._answers(response, answers)
            ),
            batch_size=1000,
        )
        Missed.objects.bulk_create(missed, batch_size=500)
        self.done, self.missed = len(made), len(missed)

    def _day(self, slot, course, latest: datetime.date | None = None) -> datetime.date:
        """The interview date: around the due date, never before admission."""
        earliest = max(slot.window_from, course.admitted_on)
        latest = min(latest or slot.window_to, slot.window_to, self.today - timedelta(days=1))
        around = slot.due_on + timedelta(days=round(self.rng.gauss(4, 8)))
        return min(max(around, earliest), max(latest, earliest))

    def _response(self, follow_up, course, day) -> Response:
        role = self.rng.choice(["coordinator", "coordinator", "psychologist", "nurse"])
        recorded = day + timedelta(days=self.rng.choice([0, 0, 1, 2]))
        return Response(
            follow_up=follow_up,
            instrument=self.instrument,
            answered_on=day,
            recorded_at=_at(min(recorded, self.today - timedelta(days=1)), 15),
            recorded_by=self.user(role, course.clinic_id),
        )

    def _missed(self, follow_up, day, reason) -> Missed:
        return Missed(
            follow_up=follow_up,
            recorded_at=_at(min(day + timedelta(days=1), self.today), 2),
            reason=reason,
        )

    def _values(self, p: _Person, months: int) -> dict:
        rng = self.rng
        # How far along the change is: most of it within the first six months.
        f = min(1.0, months / 6) * p.response

        def days(start: int, drop: float, top: int = 30) -> int:
            return max(0, min(top, round(start * (1 - drop * f) + rng.gauss(0, 2))))

        def scale(start: int, gain: float) -> int:
            return max(0, min(10, round(start + gain * f + rng.gauss(0, 1))))

        overdose = rng.random() < 0.35 * (1 - 0.7 * f)
        housing = p.housing
        if housing in (3, 4, 6, 7) and rng.random() < 0.6 * f:
            housing = rng.choice([1, 2, 2])
        activity = rng.choices([1, 2, 3, 4, 5, 6], [3, 5 + 15 * f, 2, 10 + 25 * f, 75, 5])[0]
        return {
            "heroin_days": days(p.heroin, 0.85),
            "other_opioid_days": days(p.opioids, 0.7),
            "benzodiazepine_days": days(p.benzo, 0.4),
            "stimulant_days": days(p.stimulant, 0.3),
            "alcohol_days": days(p.alcohol, 0.2),
            "injected": int(rng.random() < 0.9 * (1 - 0.75 * f)),
            "overdose": int(overdose),
            "overdose_count": rng.choice([1, 1, 1, 2, 3]) if overdose else 0,
            "crime_days": days(p.crime, 0.8),
            "arrested": int(rng.random() < 0.4 * (1 - 0.7 * f)),
            "housing": housing,
            "activity": activity,
            "physical_health": scale(p.physical, 2),
            "mental_health": scale(p.mental, 1.5),
            "quality_of_life": scale(p.life, 2.5),
            "relatives_contact": int(rng.random() < (0.7 if p.relatives else 0.3) + 0.15 * f),
            "hospital_days": rng.choice([0] * 8 + [1, 3, 7])
            if f > 0.5
            else rng.choice([0] * 5 + [2, 5, 12]),
            "comment": rng.choice(COMMENTS) if rng.random() < 0.1 else "",
        }

    def _answers(self, response: Response, values: dict) -> list[Answer]:
        rows = []
        for item in self.items:
            value = values.get(item.code)
            if value is None or value == "":
                continue
            if item.type == ItemType.TEXT:
                rows.append(Answer(response=response, item=item, value_text=value))
            else:
                rows.append(Answer(response=response, item=item, value_int=value))
        return rows

    def today_at_each_clinic(self) -> None:
        """A day's work through the service: one due interview at each clinic, and one
        correction of a date typed wrong."""
        for code, clinic in self.ctx.clinics.items():
            listing = selectors.clinic_follow_ups(clinic.pk, state="overdue", today=self.today)
            if not listing.rows:
                continue
            row = listing.rows[0]
            person = self.people.setdefault(row.follow_up.patient_id, _Person(self.rng))
            slot = selectors.slot_of(row.follow_up)
            services.response_record(
                actor=Actor.system(self.ctx.users[f"coordinator.{code}"]),
                follow_up_id=row.follow_up.pk,
                instrument=self.instrument.code,
                answered_on=self.today,
                answers=self._values(person, slot.months),
            )
            self.done += 1
            self.overdue_now -= 1
        first = Response.objects.order_by("answered_on", "id").select_related("follow_up").first()
        if first is None:
            return
        course = self.courses[first.follow_up.episode_id]
        stored = {a.item.code: a for a in first.answers.select_related("item")}
        answers = {
            code: (a.value_text if a.item.type == ItemType.TEXT else a.value_int)
            for code, a in stored.items()
        }
        answers["crime_days"] = max(0, (answers.get("crime_days") or 0) - 5)
        services.response_record(
            actor=Actor.system(self.user("coordinator", course.clinic_id)),
            follow_up_id=first.follow_up_id,
            instrument=self.instrument.code,
            answered_on=first.answered_on,
            answers=answers,
            corrects=first.pk,
            correction_reason="Feil i antall dager med kriminalitet; rettet etter papirskjemaet.",
        )
