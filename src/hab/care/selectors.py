"""Reads of the individual plan. Opening a plan writes its access-log row; the clinic's
list logs everyone shown. Notes above the reader's level are never read from the
database, only counted; nothing about relatives is read without the patient's consent.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hab.care import rules
from hab.care.models import (
    CareNote,
    Goal,
    GoalStatus,
    Involvement,
    OwnerKind,
    PlanAction,
    Review,
    StatusRecord,
)
from hab.core import clock, policy
from hab.core.access import Actor, access_log_listed, access_log_write
from hab.core.models import AccessAction, Clinic, User
from hab.core.policy import Action, clinic_for_action
from hab.intake.models import Episode
from hab.patients.models import ConsentKind, Patient, Relative
from hab.patients.selectors import patient_for_user

WHAT = "care plan"


def relatives_consent(patient: Patient) -> bool:
    """Whether the consent to sharing with relatives is given now (its latest record)."""
    latest = (
        patient.consents.filter(kind=ConsentKind.RELATIVES)
        .order_by("-at", "-id")
        .values_list("given", flat=True)
        .first()
    )
    return bool(latest)


def note_levels(user: User, clinic: Clinic | int) -> frozenset[rules.Visibility]:
    return rules.readable_levels(
        team=policy.can(user, Action.CARE_VIEW, clinic),
        clinical=policy.can(user, Action.NOTE_READ_CLINICAL, clinic),
        psychology=policy.can(user, Action.NOTE_READ_PSYCHOLOGY, clinic),
    )


def _versions(rows: list) -> tuple[list, dict[int, list]]:
    """The current rows (replaced by none) and, for each, its earlier versions, newest
    first. ``rows`` are all versions of one kind of record of one patient."""
    by_id = {row.pk: row for row in rows}
    replaced = {row.replaces_id for row in rows if row.replaces_id}
    current = [row for row in rows if row.pk not in replaced]
    history: dict[int, list] = {}
    for row in current:
        older, step = [], row.replaces_id
        while step and step in by_id:
            older.append(by_id[step])
            step = by_id[step].replaces_id
        if older:
            history[row.pk] = older
    return current, history


@dataclass
class DomainPart:
    domain: rules.Code
    goals: list[Goal]
    actions: list[PlanAction]


@dataclass
class Plan:
    patient: Patient
    episode: Episode | None
    relatives_consent: bool
    levels: frozenset[rules.Visibility]
    goals: list[Goal]
    actions: list[PlanAction]
    reviews: list[Review]
    statuses: list[StatusRecord]
    notes: list[CareNote]
    restricted_notes: int
    involvements: list[Involvement]
    history: dict[str, dict[int, list]]
    staff_names: dict[str, str]
    relatives: dict[int, Relative]
    today: datetime.date = field(default_factory=clock.today)

    @property
    def next_review(self) -> datetime.date | None:
        if self.episode is None:
            return None
        return rules.next_review_due(
            self.episode.admitted_on, [(r.held_on, r.next_on) for r in self.reviews]
        )

    @property
    def review_state(self) -> str | None:
        due = self.next_review
        return rules.review_state(due, self.today) if due else None

    @property
    def status(self) -> StatusRecord | None:
        return self.statuses[0] if self.statuses else None

    def parts(self) -> list[DomainPart]:
        return [
            DomainPart(
                domain,
                [g for g in self.goals if g.domain == domain.code],
                [a for a in self.actions if a.domain == domain.code],
            )
            for domain in rules.DOMAINS
        ]

    def overdue(self, action: PlanAction) -> bool:
        return rules.action_overdue(action.due_on, action.status, self.today)


def _all(queryset: QuerySet) -> tuple[list, dict[int, list]]:
    return _versions(list(queryset.select_related("by")))


def plan_for(actor: Actor, patient: Patient) -> Plan:
    """The plan as this reader may see it (the caller has checked access and logged)."""
    consent = relatives_consent(patient)
    levels = note_levels(actor.user, patient.clinic_id)
    episode = (
        Episode.objects.filter(patient=patient, ended_on__isnull=True)
        .select_related("clinic", "coordinator")
        .first()
    )
    goals, goal_history = _all(Goal.objects.filter(patient=patient).order_by("at", "id"))
    actions, action_history = _all(
        PlanAction.objects.filter(patient=patient).select_related("owner_user").order_by("at")
    )
    reviews, review_history = _all(Review.objects.filter(patient=patient))
    statuses, status_history = _all(StatusRecord.objects.filter(patient=patient))
    # Notes above the reader's level are not read, only counted.
    notes, note_history = _all(
        CareNote.objects.filter(patient=patient, visibility__in=[str(v) for v in levels])
    )
    restricted = (
        CareNote.objects.filter(patient=patient, replaced_by__isnull=True)
        .exclude(visibility__in=[str(v) for v in levels])
        .count()
    )
    involvements: list[Involvement] = []
    relatives: dict[int, Relative] = {}
    if consent:
        involvements, _history = _all(
            Involvement.objects.filter(patient=patient).select_related("relative")
        )
        involvements = [i for i in involvements if i.active]
        relatives = {r.pk: r for r in Relative.objects.filter(patient=patient)}
    else:
        actions = [a for a in actions if a.owner_kind != OwnerKind.RELATIVE]
        action_history = {
            pk: [a for a in older if a.owner_kind != OwnerKind.RELATIVE]
            for pk, older in action_history.items()
        }
        for review in [*reviews, *(r for older in review_history.values() for r in older)]:
            review.relatives_attended = []
    reviews.sort(key=lambda r: (r.held_on, r.pk), reverse=True)
    statuses.sort(key=lambda s: (s.on, s.pk), reverse=True)
    notes.sort(key=lambda n: (n.at, n.pk), reverse=True)
    actions.sort(key=lambda a: (a.status != "open", a.due_on or datetime.date.max, a.pk))
    usernames = {u for r in reviews for u in r.staff_attended}
    staff_names = {
        u.username: u.get_full_name() or u.username
        for u in User.objects.filter(username__in=usernames)
    }
    return Plan(
        patient=patient,
        episode=episode,
        relatives_consent=consent,
        levels=levels,
        goals=goals,
        actions=actions,
        reviews=reviews,
        statuses=statuses,
        notes=notes,
        restricted_notes=restricted,
        involvements=involvements,
        history={
            "goal": goal_history,
            "action": action_history,
            "review": review_history,
            "status": status_history,
            "note": note_history,
        },
        staff_names=staff_names,
        relatives=relatives,
    )


def plan_open(actor: Actor, patient_id: int) -> Plan:
    """The patient's plan for reading; the read is written to the access log."""
    patient = patient_for_user(actor, patient_id, Action.CARE_VIEW)
    access_log_write(
        actor=actor,
        patient=patient,
        action=AccessAction.VIEW,
        what=WHAT,
        policy_action=Action.CARE_VIEW,
    )
    return plan_for(actor, patient)


# --- the clinic's plans -----------------------------------------------------------------


@dataclass
class PlanRow:
    patient: Patient
    episode: Episode
    goals: int = 0
    domains: int = 0
    open_actions: int = 0
    overdue_actions: int = 0
    last_review: datetime.date | None = None
    next_review: datetime.date | None = None
    state: str = rules.ReviewState.SCHEDULED
    housing: str = ""
    activity: str = ""


@dataclass
class ClinicPlans:
    rows: list[PlanRow]
    counts: dict[str, int]


FILTERS = ("all", "mine", "no_goals", "overdue")


def _matches(row: PlanRow, show: str, user: User) -> bool:
    if show == "mine":
        return row.episode.coordinator_id == user.pk
    if show == "no_goals":
        return row.goals == 0
    if show == "overdue":
        return row.state == rules.ReviewState.OVERDUE
    return True


def clinic_plans(actor: Actor, clinic: Clinic, show: str = "all") -> ClinicPlans:
    """The plans of everyone in treatment at the clinic, most urgent review first, with
    how many have no goals yet and how many reviews are overdue. Everyone shown is
    logged as listed."""
    clinic_for_action(actor.user, clinic, Action.CARE_EDIT)
    today = clock.today()
    episodes = Episode.objects.filter(clinic=clinic, ended_on__isnull=True).select_related(
        "patient", "coordinator"
    )
    rows = {e.patient_id: PlanRow(patient=e.patient, episode=e) for e in episodes}
    current = {"patient__clinic": clinic, "replaced_by__isnull": True}
    domains: dict[int, set[str]] = defaultdict(set)
    for patient_id, domain in Goal.objects.filter(**current, status=GoalStatus.ACTIVE).values_list(
        "patient_id", "domain"
    ):
        if patient_id in rows:
            rows[patient_id].goals += 1
            domains[patient_id].add(domain)
    for patient_id, due_on in PlanAction.objects.filter(**current, status="open").values_list(
        "patient_id", "due_on"
    ):
        if patient_id in rows:
            rows[patient_id].open_actions += 1
            rows[patient_id].overdue_actions += rules.action_overdue(due_on, "open", today)
    reviews: dict[int, list[tuple[datetime.date, datetime.date]]] = defaultdict(list)
    for patient_id, held_on, next_on in Review.objects.filter(**current).values_list(
        "patient_id", "held_on", "next_on"
    ):
        reviews[patient_id].append((held_on, next_on))
    for patient_id, housing, activity in (
        StatusRecord.objects.filter(**current)
        .order_by("on", "id")
        .values_list("patient_id", "housing", "activity")
    ):
        if patient_id in rows:
            rows[patient_id].housing, rows[patient_id].activity = housing, activity
    for patient_id, row in rows.items():
        row.domains = len(domains[patient_id])
        admitted = row.episode.admitted_on
        held = [r for r in reviews[patient_id] if r[0] >= admitted]
        row.last_review = max(held)[0] if held else None
        row.next_review = rules.next_review_due(admitted, held)
        row.state = rules.review_state(row.next_review, today)
    everyone = sorted(
        rows.values(), key=lambda r: (r.next_review, r.patient.family_name, r.patient.pk)
    )
    counts = {name: sum(_matches(r, name, actor.user) for r in everyone) for name in FILTERS}
    shown = [r for r in everyone if _matches(r, show, actor.user)]
    if shown:
        access_log_listed(
            actor=actor,
            patients=[r.patient for r in shown],
            details={"list": "care plans", "filter": show},
        )
    return ClinicPlans(rows=shown, counts=counts)


def filter_label(name: str) -> str:
    return {
        "all": _("Everyone"),
        "mine": _("My patients"),
        "no_goals": _("No goals yet"),
        "overdue": _("Review overdue"),
    }[name]
