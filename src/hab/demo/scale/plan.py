"""The programme's patient flow, planned day by day before anything is written.

Pure Python (no Django): clinics open, fill over a few months and stay nearly full with
a waitlist; each stay ends by dropping out (about 30 % within two years), a move to LAR
or other treatment, prison, death, or a transfer to another HAB clinic (the course of
treatment continues there). Some who left are referred again and re-admitted later.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from hab.prescribing import taper

# Norwegian cities with a clinic, in the order scales take them: (code, name, health
# region, relative size). The first two are the trial's (the demo logins nurse.oslo, ...).
CLINICS = [
    ("oslo", "HAB Oslo", "helse_sor_ost", 1.0),
    ("bergen", "HAB Bergen", "helse_vest", 0.9),
    ("trondheim", "HAB Trondheim", "helse_midt", 0.85),
    ("stavanger", "HAB Stavanger", "helse_vest", 0.8),
    ("oslo-toyen", "HAB Oslo Tøyen", "helse_sor_ost", 1.0),
    ("kristiansand", "HAB Kristiansand", "helse_sor_ost", 0.6),
    ("tromso", "HAB Tromsø", "helse_nord", 0.55),
    ("drammen", "HAB Drammen", "helse_sor_ost", 0.65),
    ("fredrikstad", "HAB Fredrikstad", "helse_sor_ost", 0.55),
    ("oslo-grorud", "HAB Oslo Grorud", "helse_sor_ost", 0.9),
    ("bodo", "HAB Bodø", "helse_nord", 0.4),
    ("alesund", "HAB Ålesund", "helse_midt", 0.45),
    ("sandnes", "HAB Sandnes", "helse_vest", 0.45),
    ("haugesund", "HAB Haugesund", "helse_vest", 0.4),
    ("skien", "HAB Skien", "helse_sor_ost", 0.5),
    ("hamar", "HAB Hamar", "helse_sor_ost", 0.4),
    ("tonsberg", "HAB Tønsberg", "helse_sor_ost", 0.45),
    ("sarpsborg", "HAB Sarpsborg", "helse_sor_ost", 0.4),
    ("bergen-laksevag", "HAB Bergen Laksevåg", "helse_vest", 0.7),
    ("arendal", "HAB Arendal", "helse_sor_ost", 0.35),
    ("lillehammer", "HAB Lillehammer", "helse_sor_ost", 0.35),
    ("molde", "HAB Molde", "helse_midt", 0.3),
    ("harstad", "HAB Harstad", "helse_nord", 0.3),
    ("gjovik", "HAB Gjøvik", "helse_sor_ost", 0.3),
    ("larvik", "HAB Larvik", "helse_sor_ost", 0.3),
    ("kristiansund", "HAB Kristiansund", "helse_midt", 0.3),
    ("alta", "HAB Alta", "helse_nord", 0.25),
    ("steinkjer", "HAB Steinkjer", "helse_midt", 0.25),
    ("forde", "HAB Førde", "helse_vest", 0.25),
    ("moss", "HAB Moss", "helse_sor_ost", 0.3),
]


@dataclass(frozen=True)
class Scale:
    name: str
    clinics: int
    patients: int  # distinct patients over the years, roughly
    years: float


SCALES = {
    "small": Scale("small", 3, 150, 1.0),
    "regional": Scale("regional", 6, 1_500, 5.0),
    "national": Scale("national", 28, 10_000, 5.0),
}


def scale_for(name: str, *, clinics: int | None = None, years: float | None = None) -> Scale:
    """A named scale, or a number of patients (clinics grow with it)."""
    if name in SCALES:
        base = SCALES[name]
    else:
        patients = int(name)
        if patients < 2:
            raise ValueError("Generate at least 2 patients.")
        base = Scale(str(patients), max(2, min(len(CLINICS), round(patients / 360))), patients, 5)
    return Scale(
        base.name,
        min(len(CLINICS), clinics or base.clinics),
        base.patients,
        years if years is not None else base.years,
    )


# A stay's yearly hazard of ending (about 30 % within two years) and how it ends.
HAZARD = 0.17
END_REASONS = [
    ("dropout", 45),
    ("transfer_lar", 10),
    ("other_treatment", 7),
    ("prison", 9),
    ("moved", 4),
    ("transfer_hab", 10),
    ("discharged", 5),
    ("death", 6),
    ("other", 4),
]
RETURNING = {"dropout": 0.35, "prison": 0.5, "moved": 0.15, "other": 0.2}
MAINTENANCE_DOSES = [150, 180, 200, 220, 250, 280, 300, 350]


@dataclass(eq=False)
class Person:
    id: int
    clinic: int  # index of the clinic where the person is registered (the latest)
    registered_on: date
    sex: str
    research: bool


@dataclass(eq=False)
class Stay:
    """An episode: a stay at one clinic."""

    id: int
    person: Person
    clinic: int
    admitted_on: date
    course: Stay | None = None  # the first episode of the course (None: this one)
    previous: Stay | None = None
    referral: int | None = None  # the referral's index in Plan.referrals
    ended_on: date | None = None
    end_reason: str = ""
    death_on: date | None = None
    fade_from: date | None = None  # a dropout stops coming some weeks before the end
    phases: list = field(default_factory=list)  # (on, old, new)
    target: float = 200
    adjust_on: date | None = None
    adjust_to: float = 0
    # Tapering: the steps down of the dose, (day, mg a session), each a new prescription.
    taper: list = field(default_factory=list)
    methadone: float = 0
    absent_start: float = 0.04  # chance a day begins a run of missed days
    attend_last_days: bool = False  # transferred out: came the last days before
    phase: str = "induction"

    @property
    def root(self) -> Stay:
        return self.course or self


@dataclass(eq=False)
class Referral:
    person: Person
    clinic: int
    received_on: date
    status: str
    assessed_on: date | None = None
    offered_on: date | None = None
    stay: Stay | None = None


@dataclass
class Plan:
    scale: Scale
    start: date
    today: date
    capacities: list[int]
    opens_on: list[date]
    people: list[Person] = field(default_factory=list)
    stays: list[Stay] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)

    def target_on(self, stay: Stay, day: date) -> float:
        """The dose the course has on a day: the maintenance dose, or once tapering has
        begun the last step down."""
        if stay.taper and day >= stay.taper[0][0]:
            return next(mg for on, mg in reversed(stay.taper) if on <= day)
        root = stay.root
        if root.adjust_on is not None and day >= root.adjust_on:
            return root.adjust_to
        return root.target

    def begin_taper(self, stay: Stay, on: date, until: date) -> None:
        """The stay enters tapering on ``on``; its dose steps down up to ``until``."""
        stay.phases.append((on, "maintenance", "tapering"))
        stay.phase = "tapering"
        every, pct = taper.pace(stay.id)
        stay.taper = taper.steps(self.target_on(stay, on), on, until, every=every, pct=pct)


def plan(scale: Scale, today: date, rng: random.Random) -> Plan:
    days = round(scale.years * 365)
    start = today - timedelta(days=days)
    chosen = CLINICS[: scale.clinics]
    weight = sum(c[3] for c in chosen)
    # Distinct patients are about 1.45 times the places over five years (stays end and
    # places are filled again); fewer over a shorter time.
    turnover = 1 + min(1.0, HAZARD * max(0.0, scale.years - 0.5) * 0.6)
    places = scale.patients / turnover
    capacities = [max(4, round(places * c[3] / weight / 0.92)) for c in chosen]
    opens_on = [
        start if i < 2 or scale.years < 2 else start + timedelta(days=rng.randint(0, 240))
        for i in range(len(chosen))
    ]
    result = Plan(scale, start, today, capacities, opens_on)
    _Flow(result, rng).run()
    return result


class _Flow:
    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.p, self.rng = plan, rng
        self.open = [0] * len(plan.capacities)
        self.exits: list[tuple[date, int, Stay]] = []
        self.returning: list[list[tuple[date, Person]]] = [[] for _ in plan.capacities]
        self.regions = [c[2] for c in CLINICS[: len(plan.capacities)]]

    def person(self, clinic: int, day: date) -> Person:
        person = Person(
            id=len(self.p.people),
            clinic=clinic,
            registered_on=day,
            sex="male" if self.rng.random() < 0.75 else "female",
            research=self.rng.random() < 0.85,
        )
        self.p.people.append(person)
        return person

    def referral(self, person: Person, clinic: int, received: date, status: str) -> Referral:
        referral = Referral(person, clinic, received, status)
        self.p.referrals.append(referral)
        return referral

    def stay(self, person: Person, clinic: int, day: date, previous: Stay | None) -> Stay:
        rng = self.rng
        stay = Stay(
            id=len(self.p.stays),
            person=person,
            clinic=clinic,
            admitted_on=day,
            course=previous.root if previous else None,
            previous=previous,
        )
        if previous is None:
            stay.target = rng.choice(MAINTENANCE_DOSES)
            if rng.random() < 0.3:
                stay.adjust_on = day + timedelta(days=rng.randint(40, 400))
                stay.adjust_to = min(400, stay.target + rng.choice([-50, -30, 30, 50]))
            stay.methadone = rng.choice([30, 40, 60, 80]) if rng.random() < 0.15 else 0
        # Attendance of about 88 %: runs of missed days that start on ~4 % of days.
        attendance = min(0.985, max(0.6, rng.gauss(0.88, 0.07)))
        stay.absent_start = (1 - attendance) / (attendance * 2.2)
        stay.phase = "induction" if previous is None else previous.phase
        if previous is None and rng.random() < 0.05:
            stay.phase = "maintenance"  # stabilised elsewhere before
        if stay.phase == "induction":
            stable = day + timedelta(days=rng.randint(3, 8))
            if stable < self.p.today:
                stay.phases.append((stable, "induction", "maintenance"))
                stay.phase = "maintenance"
        self.p.stays.append(stay)
        person.clinic = clinic
        length = max(14, round(rng.expovariate(HAZARD) * 365))
        end = day + timedelta(days=length)
        if end < self.p.today:
            heapq.heappush(self.exits, (end, stay.id, stay))
        else:
            self.open[clinic] += 1
            if stay.phase == "maintenance" and rng.random() < 0.04:
                taper_on = self.p.today - timedelta(days=rng.randint(5, 60))
                if taper_on > day + timedelta(days=30):
                    self.p.begin_taper(stay, taper_on, self.p.today - timedelta(days=1))
            return stay
        self.open[clinic] += 1
        return stay

    def admit(self, clinic: int, day: date) -> None:
        rng = self.rng
        ready = self.returning[clinic]
        if ready and ready[0][0] <= day and rng.random() < 0.5:
            person = heapq.heappop(ready)[2]
        else:
            person = None
        received = day - timedelta(days=rng.randint(25, 120))
        received = max(received, self.p.start - timedelta(days=90))
        if person is None:
            person = self.person(clinic, received)
        referral = self.referral(person, clinic, received, "admitted")
        span = (day - received).days
        referral.assessed_on = received + timedelta(days=rng.randint(3, max(3, span - 8)))
        referral.offered_on = day - timedelta(days=rng.randint(0, min(7, span - 1)))
        referral.offered_on = max(referral.offered_on, referral.assessed_on)
        stay = self.stay(person, clinic, day, None)
        stay.referral = len(self.p.referrals) - 1
        referral.stay = stay

    def end(self, stay: Stay, day: date) -> None:
        rng = self.rng
        reasons, weights = zip(*END_REASONS, strict=True)
        reason = rng.choices(reasons, weights)[0]
        self.open[stay.clinic] -= 1
        if reason == "transfer_hab":
            target = self.transfer_target(stay, day)
            if target is None or (day - stay.admitted_on).days < 30:
                reason = "moved"
            else:
                stay.ended_on, stay.end_reason = day, reason
                stay.attend_last_days = True
                self.stay(stay.person, target, day, stay)
                return
        stay.ended_on, stay.end_reason = day, reason
        if reason == "death":
            stay.death_on = max(stay.admitted_on, day - timedelta(days=rng.randint(0, 3)))
            stay.fade_from = stay.death_on
        if reason == "dropout":
            fade = day - timedelta(days=rng.randint(14, 30))
            if fade > stay.admitted_on + timedelta(days=7):
                stay.fade_from = fade
        if reason in ("transfer_lar", "other_treatment", "discharged") and rng.random() < 0.5:
            taper_on = day - timedelta(days=rng.randint(30, 90))
            if stay.phase == "maintenance" and taper_on > stay.admitted_on + timedelta(days=20):
                self.p.begin_taper(stay, taper_on, day - timedelta(days=1))
        back = RETURNING.get(reason, 0)
        if rng.random() < back:
            ready = day + timedelta(days=rng.randint(60, 500))
            heapq.heappush(self.returning[stay.clinic], (ready, stay.person.id, stay.person))

    def transfer_target(self, stay: Stay, day: date) -> int | None:
        region = self.regions[stay.clinic]
        options = [
            i
            for i in range(len(self.open))
            if i != stay.clinic
            and self.p.opens_on[i] <= day
            and self.open[i] < self.p.capacities[i]
        ]
        same = [i for i in options if self.regions[i] == region]
        pool = same or options
        return self.rng.choice(pool) if pool else None

    def run(self) -> None:
        p = self.p
        day = p.start
        while day < p.today:
            while self.exits and self.exits[0][0] <= day:
                _end, _id, stay = heapq.heappop(self.exits)
                self.end(stay, day)
            if day.weekday() < 5:
                for clinic, capacity in enumerate(p.capacities):
                    if p.opens_on[clinic] > day:
                        continue
                    room = math.floor(capacity * 0.93) - self.open[clinic]
                    for _ in range(max(0, min(room, math.ceil(capacity / 45)))):
                        self.admit(clinic, day)
            day += timedelta(days=1)
        self.pending()

    def pending(self) -> None:
        """Referrals that did not lead to an admission: found not eligible or withdrawn
        over the years, and today's waitlist and those being assessed."""
        p, rng = self.p, self.rng
        admitted = len(p.referrals)
        for clinic, capacity in enumerate(p.capacities):
            opened = (p.today - p.opens_on[clinic]).days
            share = len([r for r in p.referrals[:admitted] if r.clinic == clinic])
            for status, count in (
                ("not_eligible", round(share * 0.08)),
                ("withdrawn", round(share * 0.04)),
            ):
                for _ in range(count):
                    received = p.opens_on[clinic] + timedelta(
                        days=rng.randint(0, max(0, opened - 10))
                    )
                    referral = self.referral(
                        self.person(clinic, received), clinic, received, status
                    )
                    referral.assessed_on = received + timedelta(days=rng.randint(3, 9))
            waiting = max(1, round(capacity * 0.06))
            for index in range(waiting + 3):
                received = p.today - timedelta(days=rng.randint(2, 150 if index < waiting else 12))
                status = (
                    "waitlisted"
                    if index < waiting
                    else ("received", "assessing", "eligible")[index - waiting]
                )
                referral = self.referral(self.person(clinic, received), clinic, received, status)
                if status in ("waitlisted", "eligible"):
                    referral.assessed_on = min(
                        p.today - timedelta(days=1), received + timedelta(days=rng.randint(3, 20))
                    )
                    if referral.assessed_on < received:
                        referral.assessed_on = received
