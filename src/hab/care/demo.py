"""Demo part of the individual plan: plans for most patients in treatment, imported as a
clinic would import the plans it kept on paper when it starts with HAB (one bulk insert
per table, with the times they were written): goals in the patient's own words, actions
(some done, some overdue), reviews every three months with some overdue, housing and
activity at admission and since, notes at each visibility level and, where the patient
consents, a relative in the responsibility group. The patients admitted last are left
without goals. Then, today, through the services like any other day: a note from the
psychologist and a status record at each clinic.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from hab.care import rules, services
from hab.care.models import (
    CareNote,
    Goal,
    Involvement,
    OwnerKind,
    PlanAction,
    Review,
    StatusRecord,
)
from hab.core import clock, policy
from hab.core.access import Actor
from hab.intake.models import Episode
from hab.patients.models import Consent, ConsentKind, Relative

WITHOUT_PLAN = 0.12

# The patient's own words, per domain.
GOALS = {
    "housing": [
        "Få min egen leilighet før jul",
        "Slippe å bo på hospits, ha et sted med egen dør",
        "Beholde leiligheten og betale husleia hver måned",
        "Komme inn i en bolig med oppfølging",
        "Ha et sted der datteren min kan komme på besøk",
    ],
    "activity": [
        "Komme i gang med jobb på Fretex",
        "Ha noe å stå opp til om morgenen",
        "Fullføre kurset på voksenopplæringen",
        "Begynne på arbeidstrening gjennom NAV",
        "Være med på turgruppa hver onsdag",
    ],
    "physical_health": [
        "Få fikset tennene",
        "Bli kvitt sårene på beina",
        "Gå tur hver dag og få bedre kondis",
        "Bli ferdig behandlet for hepatitt C",
        "Sove bedre og spise frokost",
    ],
    "mental_health": [
        "Klare å være blant folk uten å få panikk",
        "Snakke med noen om det som skjedde da jeg var liten",
        "Få mindre angst om kvelden",
        "Ha færre dårlige dager",
    ],
    "network": [
        "Få kontakt med sønnen min igjen",
        "Ha venner som ikke ruser seg",
        "At mamma skal slippe å bekymre seg hele tiden",
        "Treffe barna mine annenhver helg",
    ],
    "finances": [
        "Få oversikt over gjelda mi",
        "Slippe å låne penger på slutten av måneden",
        "Få orden på søknaden om uføretrygd",
        "Betale ned inkassosakene",
    ],
    "legal": [
        "Bli ferdig med den gamle saken i tingretten",
        "Få tilbake førerkortet",
        "Sone med fotlenke i stedet for i fengsel",
    ],
}
# Actions per domain: (text, who does it: a role at the clinic, "patient" or "relative").
ACTIONS = {
    "housing": [
        ("Søke kommunal bolig sammen med NAV", "coordinator"),
        ("Ringe boligkontoret i bydelen", "patient"),
        ("Søke bostøtte fra Husbanken", "coordinator"),
    ],
    "activity": [
        ("Avtale møte med NAV-veileder om arbeidstrening", "coordinator"),
        ("Ta kontakt med Fretex om arbeidspraksis", "patient"),
        ("Melde seg på turgruppa", "patient"),
    ],
    "physical_health": [
        ("Bestille time hos tannlegen (TOO-ordningen)", "nurse"),
        ("Sårstell hos sykepleier to ganger i uka", "nurse"),
        ("Henvise til infeksjonsmedisinsk poliklinikk for hepatitt C-behandling", "doctor"),
    ],
    "mental_health": [
        ("Samtaler med psykolog annenhver uke", "psychologist"),
        ("Prøve ut en plan for bedre søvn", "patient"),
        ("Henvise til DPS for utredning", "doctor"),
    ],
    "network": [
        ("Skrive brev til sønnen sammen med koordinator", "coordinator"),
        ("Ringe mor hver søndag", "patient"),
        ("Være med på neste møte i ansvarsgruppen", "relative"),
    ],
    "finances": [
        ("Møte gjeldsrådgiver i NAV", "coordinator"),
        ("Søke om frivillig forvaltning av trygden", "patient"),
        ("Sette opp et budsjett sammen med koordinator", "coordinator"),
    ],
    "legal": [
        ("Kontakte forsvarer om saken", "patient"),
        ("Søke om soning med fotlenke", "coordinator"),
        ("Bestille time på trafikkstasjonen", "patient"),
    ],
}
OTHERS = ["", "NAV-veileder", "Boligkontoret i bydelen", "Fastlege", "NAV-veileder, fastlege"]
REVIEW_NOTES = [
    "Planen gjennomgått. Boligsøknad sendt; venter på svar fra bydelen.",
    "Går bedre med søvnen. Ny avtale med NAV om arbeidstrening.",
    "Pasienten vil prioritere tannbehandling før jobb. Målene beholdes.",
    "Stabil på dosen. Ønsker å trappe ned på sikt; tas opp med lege.",
    "Mål om egen bolig nådd. Nytt mål om aktivitet på dagtid.",
]
NOTES = {
    "team": [
        ("coordinator", "Møtte til avtalt tid og var i godt humør. Snakket om boligsøknaden."),
        ("coordinator", "Har fått plass på turgruppa fra neste uke. Trenger påminnelse på SMS."),
        ("nurse", "Sår på venstre legg tilsett; renses og skiftes to ganger i uka."),
    ],
    "clinical": [
        ("doctor", "Noe sedert ved morgendosen to dager på rad; vurderer dosen ved neste samtale."),
        ("psychologist", "Tegn på depresjon; anbefaler kartlegging med lege."),
    ],
    "psychology": [
        (
            "psychologist",
            "Samtale om opplevelser fra oppveksten. Ønsker å fortsette annenhver uke.",
        ),
        ("psychologist", "Arbeider med mestring av angst på kveldstid; pusteøvelser avtalt."),
    ],
}
# Housing and activity at admission, and later (weights).
HOUSING_IN = [("homeless", 2), ("hostel", 4), ("supported_housing", 2), ("own_flat", 2)]
HOUSING_LATER = [("hostel", 2), ("supported_housing", 4), ("own_flat", 4)]
ACTIVITY_IN = [("none", 7), ("day_programme", 2), ("other", 1)]
ACTIVITY_LATER = [("none", 3), ("day_programme", 4), ("work", 2), ("education", 1)]


def _at(day: datetime.date, rng) -> datetime.datetime:
    moment = datetime.datetime.combine(day, datetime.time(rng.randint(9, 15), rng.randint(0, 59)))
    return timezone.make_aware(moment)


def _pick(rng, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([code for code, _w in weighted], [w for _c, w in weighted])[0]


def contribute(ctx) -> None:
    plans = _Plans(ctx)
    for code, clinic in ctx.clinics.items():
        plans.clinic(code, clinic)
    plans.save()
    plans.today_at_each_clinic()
    ctx.log.append(
        f"Care plans: {plans.made} plans with goals, actions, reviews, status and notes; "
        f"{plans.overdue} reviews overdue."
    )


class _Plans:
    def __init__(self, ctx) -> None:
        self.ctx, self.rng = ctx, ctx.rng
        self.today = clock.today()
        self.rows: dict[type, list] = defaultdict(list)
        # New versions: (row, index of the row it replaces in self.rows).
        self.later: dict[type, list] = defaultdict(list)
        self.made = self.overdue = 0
        self.overdue_at: set[str] = set()
        latest: dict[int, bool] = {}
        for patient_id, given in (
            Consent.objects.filter(kind=ConsentKind.RELATIVES)
            .order_by("at", "id")
            .values_list("patient_id", "given")
        ):
            latest[patient_id] = given
        self.consenting = {pid for pid, given in latest.items() if given}
        self.relatives: dict[int, list[int]] = defaultdict(list)
        for patient_id, pk in Relative.objects.filter(removed_at__isnull=True).values_list(
            "patient_id", "pk"
        ):
            self.relatives[patient_id].append(pk)

    def user(self, role: str, code: str):
        return self.ctx.users[f"{role}.{code}"]

    def clinic(self, code: str, clinic) -> None:
        self.roles = {
            role: ",".join(sorted(policy.roles_at(self.user(role, code), clinic)))
            for role in ("coordinator", "doctor", "psychologist", "nurse")
        }
        episodes = list(
            Episode.objects.filter(clinic=clinic, ended_on__isnull=True)
            .select_related("coordinator")
            .order_by("admitted_on", "pk")
        )
        # The newest admissions have no plan yet; a few others neither.
        keep = int(len(episodes) * (1 - WITHOUT_PLAN))
        for index, episode in enumerate(episodes):
            if index >= keep or (self.today - episode.admitted_on).days < 14:
                continue
            self.plan(code, episode)

    def add(self, row):
        self.rows[type(row)].append(row)
        return len(self.rows[type(row)]) - 1

    def plan(self, code: str, episode: Episode) -> None:
        rng, patient_id = self.rng, episode.patient_id
        coordinator = episode.coordinator or self.user("coordinator", code)
        start = episode.admitted_on + timedelta(days=rng.randint(3, 10))
        base = {"patient_id": patient_id, "episode": episode}
        self.made += 1
        consent = patient_id in self.consenting and bool(self.relatives[patient_id])
        housing = _pick(rng, HOUSING_IN)
        domains = rng.sample(list(GOALS), rng.randint(2, 4))
        if "housing" not in domains and rng.random() < 0.6:
            domains[0] = "housing"
        for domain in domains:
            at = _at(start, rng)
            index = self.add(
                Goal(
                    **base,
                    domain=domain,
                    text=self.goal_text(domain, housing),
                    status="active",
                    at=at,
                    by=coordinator,
                )
            )
            if rng.random() < 0.15 and (self.today - start).days > 60:
                old = self.rows[Goal][index]
                later = start + timedelta(days=rng.randint(30, (self.today - start).days))
                status = rng.choice(["achieved", "active"])
                text = old.text if status == "achieved" else old.text + ", og klare det selv"
                new = Goal(**base, domain=domain, text=text, status=status, at=_at(later, rng))
                new.by = coordinator
                self.later[Goal].append((new, index))
            for text, owner in rng.sample(ACTIONS[domain], rng.randint(1, 2)):
                if owner == "relative" and not consent:
                    owner = "patient"
                owner_user = None
                if owner not in (OwnerKind.PATIENT, OwnerKind.RELATIVE):
                    owner_user = coordinator if owner == "coordinator" else self.user(owner, code)
                due = self.today + timedelta(days=rng.randint(-20, 60))
                status = "done" if due < self.today and rng.random() < 0.6 else "open"
                self.add(
                    PlanAction(
                        **base,
                        domain=domain,
                        text=text,
                        owner_kind=OwnerKind.STAFF if owner_user else owner,
                        owner_user=owner_user,
                        due_on=max(due, start),
                        status=status,
                        at=_at(start, rng),
                        by=coordinator,
                    )
                )
        self.reviews(code, episode, coordinator, base)
        self.status(episode, coordinator, base, housing)
        self.notes(code, episode, base)
        if consent and rng.random() < 0.5:
            self.add(
                Involvement(
                    **base,
                    relative_id=rng.choice(self.relatives[patient_id]),
                    kind=rng.choice(["responsibility_group", "responsibility_group", "meetings"]),
                    note=rng.choice(["", "Ønsker å bli holdt orientert om boligsaken"]),
                    active=True,
                    at=_at(start, rng),
                    by=coordinator,
                )
            )

    def reviews(self, code: str, episode: Episode, coordinator, base: dict) -> None:
        rng = self.rng
        due = rules.add_months(episode.admitted_on, rules.REVIEW_MONTHS)
        while due <= self.today:
            # Now and then a review that should have been held has not been.
            # (at least one at each clinic).
            if due > self.today - timedelta(days=45) and (
                rng.random() < 0.3 or code not in self.overdue_at
            ):
                break
            held = min(due + timedelta(days=rng.randint(-7, 10)), self.today)
            other = rng.choice(["doctor", "nurse"])
            next_on = rules.default_next_review(held)
            self.add(
                Review(
                    **base,
                    held_on=held,
                    patient_attended=rng.random() < 0.9,
                    staff_attended=sorted({coordinator.username, self.user(other, code).username}),
                    others_attended=rng.choice(OTHERS),
                    notes=rng.choice(REVIEW_NOTES),
                    next_on=next_on,
                    at=_at(held, rng),
                    by=coordinator,
                )
            )
            due = next_on
        if due < self.today:
            self.overdue += 1
            self.overdue_at.add(code)

    def goal_text(self, domain: str, housing: str) -> str:
        if domain == "housing" and housing in ("own_flat", "supported_housing"):
            return GOALS["housing"][2]  # keeping the flat
        if domain == "housing":
            return self.rng.choice([g for i, g in enumerate(GOALS["housing"]) if i != 2])
        return self.rng.choice(GOALS[domain])

    def status(self, episode: Episode, coordinator, base: dict, housing: str) -> None:
        rng = self.rng
        day = episode.admitted_on
        self.add(
            StatusRecord(
                **base,
                on=day,
                housing=housing,
                activity=_pick(rng, ACTIVITY_IN),
                note="Ved innskriving",
                at=_at(day, rng),
                by=coordinator,
            )
        )
        if (self.today - day).days > 90:
            later = day + timedelta(days=rng.randint(60, (self.today - day).days))
            self.add(
                StatusRecord(
                    **base,
                    on=later,
                    housing=_pick(rng, HOUSING_LATER),
                    activity=_pick(rng, ACTIVITY_LATER),
                    at=_at(later, rng),
                    by=coordinator,
                )
            )

    def notes(self, code: str, episode: Episode, base: dict) -> None:
        rng = self.rng
        span = max(1, (self.today - episode.admitted_on).days)
        for level, texts in NOTES.items():
            if rng.random() < 0.5:
                continue
            role, text = rng.choice(texts)
            day = episode.admitted_on + timedelta(days=rng.randint(1, span))
            self.add(
                CareNote(
                    **base,
                    visibility=level,
                    text=text,
                    roles=self.roles[role],
                    at=_at(min(day, self.today - timedelta(days=1)), rng),
                    by=self.user(role, code),
                )
            )

    def save(self) -> None:
        for model, rows in self.rows.items():
            self.rows[model] = model.objects.bulk_create(rows, batch_size=500)
        for model, versions in self.later.items():
            for row, index in versions:
                row.replaces = self.rows[model][index]
            model.objects.bulk_create([row for row, _index in versions], batch_size=500)

    def today_at_each_clinic(self) -> None:
        """A day's work through the services: the psychologist's note after a session and
        a status record by the coordinator, each with its access-log row."""
        for code in self.ctx.clinics:
            goal = (
                Goal.objects.filter(patient__clinic__code=code, replaced_by__isnull=True)
                .order_by("-at")
                .first()
            )
            if goal is None:
                continue
            services.note_write(
                actor=Actor.system(self.user("psychologist", code)),
                patient_id=goal.patient_id,
                text="Samtale i dag. Pasienten er motivert for boligmålet, men redd for å "
                "bo alene; vi øver på en plan for kveldene.",
                visibility="psychology",
            )
            services.status_record(
                actor=Actor.system(self.user("coordinator", code)),
                patient_id=goal.patient_id,
                housing="supported_housing",
                activity="day_programme",
                note="Flyttet inn i bolig med oppfølging denne uka",
            )
