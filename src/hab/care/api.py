"""The individual plan in the API: read the whole plan (logged), add goals, actions,
reviews, status records, notes and relatives' involvement. A change is a POST of a new
version with ``replaces`` set to the id it supersedes; nothing is edited or deleted."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Query, Router, Schema, Status

from hab.care import rules, selectors, services
from hab.care.models import CareNote, Goal, Involvement, PlanAction, Review, StatusRecord
from hab.core import clock
from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input

router = Router(tags=["care plans"])


# --- input ------------------------------------------------------------------------------


class GoalIn(Input):
    domain: str
    text: str
    status: str = "active"
    replaces: int | None = None


class ActionIn(Input):
    domain: str
    text: str
    owner: str
    due_on: datetime.date | None = None
    status: str = "open"
    replaces: int | None = None


class ReviewIn(Input):
    held_on: datetime.date
    patient_attended: bool = True
    staff: list[str] = []
    others: str = ""
    relatives: list[int] = []
    notes: str = ""
    next_on: datetime.date | None = None
    replaces: int | None = None


class StatusIn(Input):
    housing: str
    activity: str
    on: datetime.date | None = None
    note: str = ""
    replaces: int | None = None


class NoteIn(Input):
    text: str
    visibility: str = "team"
    replaces: int | None = None


class InvolvementIn(Input):
    relative: int
    kind: str
    note: str = ""
    active: bool = True
    replaces: int | None = None


# --- output -----------------------------------------------------------------------------


class CodeOut(Schema):
    code: str
    label_nb: str
    label_en: str


class GoalVersionOut(Schema):
    id: int
    text: str
    status: str
    at: datetime.datetime
    by: str


class GoalOut(GoalVersionOut):
    domain: str
    domain_label: str
    replaces: int | None
    earlier: list[GoalVersionOut]


class ActionVersionOut(Schema):
    id: int
    text: str
    owner: str
    due_on: datetime.date | None
    status: str
    at: datetime.datetime
    by: str


class ActionOut(ActionVersionOut):
    domain: str
    domain_label: str
    owner_name: str
    overdue: bool
    replaces: int | None
    earlier: list[ActionVersionOut]


class RelativeRefOut(Schema):
    id: int
    name: str
    relation: str


class ReviewOut(Schema):
    id: int
    held_on: datetime.date
    patient_attended: bool
    staff: list[str]
    others: str
    relatives: list[RelativeRefOut]
    notes: str
    next_on: datetime.date
    replaces: int | None
    at: datetime.datetime
    by: str


class NextReviewOut(Schema):
    due_on: datetime.date
    state: str
    overdue: bool


class StatusOut(Schema):
    id: int
    on: datetime.date
    housing: str
    housing_label: str
    activity: str
    activity_label: str
    note: str
    replaces: int | None
    at: datetime.datetime
    by: str


class NoteOut(Schema):
    id: int
    visibility: str
    text: str
    author: str
    roles: list[str]
    replaces: int | None
    at: datetime.datetime


class InvolvementOut(Schema):
    id: int
    relative: RelativeRefOut
    kind: str
    kind_label: str
    note: str
    active: bool
    replaces: int | None
    at: datetime.datetime
    by: str


class EpisodeRefOut(Schema):
    id: int
    clinic: str
    admitted_on: datetime.date
    coordinator: str | None


class PlanOut(Schema):
    patient: int
    episode: EpisodeRefOut | None
    relatives_consent: bool
    domains: list[CodeOut]
    goals: list[GoalOut]
    actions: list[ActionOut]
    next_review: NextReviewOut | None
    reviews: list[ReviewOut]
    status: list[StatusOut]
    notes: list[NoteOut]
    restricted_notes: int
    relatives: list[InvolvementOut]


class PlanRowOut(Schema):
    patient: int
    name: str
    coordinator: str | None
    admitted_on: datetime.date
    goals: int
    domains: int
    open_actions: int
    overdue_actions: int
    last_review: datetime.date | None
    next_review: datetime.date
    review_state: str
    housing: str
    activity: str


def _lang() -> str:
    return get_language() or "nb"


def _goal_version(goal: Goal) -> dict:
    return {
        "id": goal.pk,
        "text": goal.text,
        "status": goal.status,
        "at": goal.at,
        "by": goal.by.username,
    }


def goal_out(goal: Goal, earlier: list[Goal] = ()) -> dict:
    return _goal_version(goal) | {
        "domain": goal.domain,
        "domain_label": rules.label(rules.DOMAINS, goal.domain, _lang()),
        "replaces": goal.replaces_id,
        "earlier": [_goal_version(g) for g in earlier],
    }


def _action_version(action: PlanAction) -> dict:
    return {
        "id": action.pk,
        "text": action.text,
        "owner": action.owner,
        "due_on": action.due_on,
        "status": action.status,
        "at": action.at,
        "by": action.by.username,
    }


def _owner_name(action: PlanAction) -> str:
    if action.owner_user_id:
        return action.owner_user.get_full_name() or action.owner_user.username
    return str(action.get_owner_kind_display())


def action_out(action: PlanAction, earlier: list[PlanAction] = (), today=None) -> dict:
    today = today or clock.today()
    return _action_version(action) | {
        "domain": action.domain,
        "domain_label": rules.label(rules.DOMAINS, action.domain, _lang()),
        "owner_name": _owner_name(action),
        "overdue": rules.action_overdue(action.due_on, action.status, today),
        "replaces": action.replaces_id,
        "earlier": [_action_version(a) for a in earlier],
    }


def _relative_ref(relative) -> dict:
    return {"id": relative.pk, "name": relative.name, "relation": relative.relation}


def review_out(review: Review, relatives: dict) -> dict:
    return {
        "id": review.pk,
        "held_on": review.held_on,
        "patient_attended": review.patient_attended,
        "staff": review.staff_attended,
        "others": review.others_attended,
        "relatives": [
            _relative_ref(relatives[pk]) for pk in review.relatives_attended if pk in relatives
        ],
        "notes": review.notes,
        "next_on": review.next_on,
        "replaces": review.replaces_id,
        "at": review.at,
        "by": review.by.username,
    }


def status_out(row: StatusRecord) -> dict:
    return {
        "id": row.pk,
        "on": row.on,
        "housing": row.housing,
        "housing_label": rules.label(rules.HOUSING, row.housing, _lang()),
        "activity": row.activity,
        "activity_label": rules.label(rules.ACTIVITY, row.activity, _lang()),
        "note": row.note,
        "replaces": row.replaces_id,
        "at": row.at,
        "by": row.by.username,
    }


def note_out(note: CareNote) -> dict:
    return {
        "id": note.pk,
        "visibility": note.visibility,
        "text": note.text,
        "author": note.by.username,
        "roles": [r for r in note.roles.split(",") if r],
        "replaces": note.replaces_id,
        "at": note.at,
    }


def involvement_out(row: Involvement) -> dict:
    return {
        "id": row.pk,
        "relative": _relative_ref(row.relative),
        "kind": row.kind,
        "kind_label": rules.label(rules.INVOLVEMENT, row.kind, _lang()),
        "note": row.note,
        "active": row.active,
        "replaces": row.replaces_id,
        "at": row.at,
        "by": row.by.username,
    }


def plan_out(plan: selectors.Plan) -> dict:
    episode = plan.episode
    due = plan.next_review
    return {
        "patient": plan.patient.pk,
        "episode": episode
        and {
            "id": episode.pk,
            "clinic": episode.clinic.code,
            "admitted_on": episode.admitted_on,
            "coordinator": episode.coordinator.username if episode.coordinator else None,
        },
        "relatives_consent": plan.relatives_consent,
        "domains": [{"code": d.code, "label_nb": d.nb, "label_en": d.en} for d in rules.DOMAINS],
        "goals": [goal_out(g, plan.history["goal"].get(g.pk, [])) for g in plan.goals],
        "actions": [
            action_out(a, plan.history["action"].get(a.pk, []), plan.today) for a in plan.actions
        ],
        "next_review": due
        and {
            "due_on": due,
            "state": plan.review_state,
            "overdue": plan.review_state == rules.ReviewState.OVERDUE,
        },
        "reviews": [review_out(r, plan.relatives) for r in plan.reviews],
        "status": [status_out(s) for s in plan.statuses],
        "notes": [note_out(n) for n in plan.notes],
        "restricted_notes": plan.restricted_notes,
        "relatives": [involvement_out(i) for i in plan.involvements],
    }


def _earlier(row) -> list:
    """The versions a new row supersedes, newest first."""
    earlier, step = [], row.replaces
    while step is not None:
        earlier.append(step)
        step = step.replaces
    return earlier


# --- endpoints --------------------------------------------------------------------------


@router.get(
    "/patients/{patient_id}/care-plan",
    response=PlanOut,
    summary="The patient's individual plan (logged)",
)
def care_plan(request: HttpRequest, patient_id: int):
    return plan_out(selectors.plan_open(request_actor(request), patient_id))


@router.post(
    "/patients/{patient_id}/care-plan/goals",
    response={201: GoalOut},
    summary="Add a goal, or a new version of one (replaces)",
)
def goal_create(request: HttpRequest, patient_id: int, body: GoalIn):
    goal = services.goal_record(actor=request_actor(request), patient_id=patient_id, **body.dict())
    return Status(201, goal_out(goal, _earlier(goal)))


@router.post(
    "/patients/{patient_id}/care-plan/actions",
    response={201: ActionOut},
    summary="Add an agreed action, or a new version of one (replaces)",
)
def action_create(request: HttpRequest, patient_id: int, body: ActionIn):
    action = services.action_record(
        actor=request_actor(request), patient_id=patient_id, **body.dict()
    )
    return Status(201, action_out(action, _earlier(action)))


@router.post(
    "/patients/{patient_id}/care-plan/reviews",
    response={201: ReviewOut},
    summary="Record a review held, with who took part and the next review",
)
def review_create(request: HttpRequest, patient_id: int, body: ReviewIn):
    review = services.review_record(
        actor=request_actor(request), patient_id=patient_id, **body.dict()
    )
    relatives = {r.pk: r for r in review.patient.relatives.filter(pk__in=review.relatives_attended)}
    return Status(201, review_out(review, relatives))


@router.post(
    "/patients/{patient_id}/care-plan/status",
    response={201: StatusOut},
    summary="Record the housing situation and daily activity",
)
def status_create(request: HttpRequest, patient_id: int, body: StatusIn):
    row = services.status_record(actor=request_actor(request), patient_id=patient_id, **body.dict())
    return Status(201, status_out(row))


@router.post(
    "/patients/{patient_id}/care-plan/notes",
    response={201: NoteOut},
    summary="Write a note at a visibility level you can read (team, clinical, psychology)",
)
def note_create(request: HttpRequest, patient_id: int, body: NoteIn):
    note = services.note_write(actor=request_actor(request), patient_id=patient_id, **body.dict())
    return Status(201, note_out(note))


@router.post(
    "/patients/{patient_id}/care-plan/relatives",
    response={201: InvolvementOut},
    summary="Record a relative's involvement (needs the patient's consent)",
)
def involvement_create(request: HttpRequest, patient_id: int, body: InvolvementIn):
    data = body.dict()
    row = services.involvement_record(
        actor=request_actor(request),
        patient_id=patient_id,
        relative_id=data.pop("relative"),
        **data,
    )
    return Status(201, involvement_out(row))


class PlansFilter(Schema):
    show: str = "all"


@router.get(
    "/clinics/{code}/care-plans",
    response=list[PlanRowOut],
    summary="Everyone in treatment with the state of their plan (each listed is logged)",
)
def clinic_care_plans(request: HttpRequest, code: str, filters: Query[PlansFilter]):
    show = filters.show if filters.show in selectors.FILTERS else "all"
    plans = selectors.clinic_plans(request_actor(request), clinic_by_code(code), show)
    return [
        {
            "patient": row.patient.pk,
            "name": row.patient.full_name,
            "coordinator": row.episode.coordinator.username if row.episode.coordinator else None,
            "admitted_on": row.episode.admitted_on,
            "goals": row.goals,
            "domains": row.domains,
            "open_actions": row.open_actions,
            "overdue_actions": row.overdue_actions,
            "last_review": row.last_review,
            "next_review": row.next_review,
            "review_state": row.state,
            "housing": row.housing,
            "activity": row.activity,
        }
        for row in plans.rows
    ]
