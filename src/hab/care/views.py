"""The individual plan's pages: the clinic's plans, one patient's plan with a form for each
kind of record, and the pages that change a goal or an action (a new version)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hab.care import rules, selectors, services
from hab.care.forms import (
    ActionForm,
    GoalForm,
    InvolvementForm,
    NoteForm,
    ReviewForm,
    StatusForm,
)
from hab.care.models import Goal, PlanAction
from hab.core import policy
from hab.core.access import Actor
from hab.core.errors import Conflict, Invalid
from hab.core.models import User
from hab.core.policy import Action
from hab.core.web import current_clinic, form_page, shows, staff_view, web_actor
from hab.patients.models import Patient
from hab.patients.selectors import patient_for_user, patient_open

FORM_TEMPLATE = "care/form.html"


def _plan_url(patient_id: int, anchor: str = "") -> str:
    url = reverse("care:plan", args=[patient_id])
    return f"{url}#{anchor}" if anchor else url


def _staff(patient: Patient) -> list[tuple[str, str]]:
    """Clinical staff at the patient's clinic, who may own actions and attend reviews."""
    users = (
        User.objects.filter(
            is_active=True,
            memberships__clinic_id=patient.clinic_id,
            memberships__role__in=[r.value for r in policy.CARE_ROLES],
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    return [(u.username, f"{u.get_full_name() or u.username} ({u.username})") for u in users]


def _relatives(patient: Patient) -> list[tuple[str, str]]:
    """The patient's relatives, offered only with the consent to sharing with relatives."""
    if not selectors.relatives_consent(patient):
        return []
    return [
        (str(r.pk), f"{r.name} ({r.relation})")
        for r in patient.relatives.filter(removed_at__isnull=True)
    ]


def _open(request: HttpRequest, patient_id: int, action: Action) -> tuple[Actor, Patient]:
    """The patient for a form page; showing the form (which lists the patient's relatives
    and staff) is a read of the plan and is logged."""
    actor = web_actor(request)
    patient = patient_open(actor, patient_id, action, what=selectors.WHAT, shown=shows(request))
    return actor, patient


def _label(plan_row, catalogue, field: str) -> str:
    return rules.label(catalogue, getattr(plan_row, field), get_language())


# --- the clinic's plans -----------------------------------------------------------------


@staff_view
def clinic(request: HttpRequest) -> HttpResponse:
    chosen = request.GET.get("show", "all")
    if chosen not in selectors.FILTERS:
        chosen = "all"
    plans = selectors.clinic_plans(web_actor(request), current_clinic(request), chosen)
    language = get_language()
    for row in plans.rows:
        row.housing_label = rules.label(rules.HOUSING, row.housing, language) if row.housing else ""
        row.activity_label = (
            rules.label(rules.ACTIVITY, row.activity, language) if row.activity else ""
        )
    tabs = [(name, selectors.filter_label(name), plans.counts[name]) for name in selectors.FILTERS]
    return render(
        request,
        "care/clinic.html",
        {"plans": plans, "rows": plans.rows, "tabs": tabs, "chosen": chosen},
    )


# --- one patient's plan -----------------------------------------------------------------


@staff_view
def plan(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = web_actor(request)
    plan = selectors.plan_open(actor, patient_id)
    patient = plan.patient
    user, clinic_id = request.user, patient.clinic_id
    language = get_language()
    can_edit = plan.episode is not None and policy.can(user, Action.CARE_EDIT, clinic_id)
    can_note = plan.episode is not None and policy.can(user, Action.CARE_NOTE_WRITE, clinic_id)
    for row in plan.statuses:
        row.housing_label = _label(row, rules.HOUSING, "housing")
        row.activity_label = _label(row, rules.ACTIVITY, "activity")
    for row in plan.involvements:
        row.kind_label = _label(row, rules.INVOLVEMENT, "kind")
    for goal in plan.goals:
        goal.earlier = plan.history["goal"].get(goal.pk, [])
    for action in plan.actions:
        action.overdue = plan.overdue(action)
    for review in plan.reviews:
        review.attendees = [
            *([_("The patient")] if review.patient_attended else []),
            *(plan.staff_names.get(u, u) for u in review.staff_attended),
            *(plan.relatives[pk].name for pk in review.relatives_attended if pk in plan.relatives),
            *([review.others_attended] if review.others_attended else []),
        ]
    parts = plan.parts()
    for part in parts:
        part.label = part.domain.label(language)
        # The network domain also holds the relatives taking part, when the patient consents.
        part.shown = bool(
            part.goals or part.actions or (part.domain.code == "network" and plan.relatives_consent)
        )
    staff = _staff(patient) if can_edit else []
    relatives = _relatives(patient) if can_edit else []
    context = {
        "plan": plan,
        "patient": patient,
        "parts": parts,
        "can_edit": can_edit,
        "can_note": can_note,
        "goal_form": GoalForm() if can_edit else None,
        "action_form": ActionForm(staff=staff, relatives=plan.relatives_consent)
        if can_edit
        else None,
        "review_form": ReviewForm(staff=staff, relatives=relatives) if can_edit else None,
        "status_form": StatusForm() if can_edit else None,
        "note_form": NoteForm(levels=plan.levels) if can_note else None,
        "involvement_form": InvolvementForm(relatives=relatives)
        if can_edit and relatives
        else None,
        "coordinator": plan.episode.coordinator if plan.episode else None,
        "empty_domains": [part.label for part in parts if not part.shown],
    }
    return render(request, "care/plan.html", context)


def _add_page(
    request: HttpRequest,
    patient: Patient,
    form,
    *,
    title: str,
    anchor: str,
    save,
    done: str,
    intro: str = "",
) -> HttpResponse:
    def saved(data: dict) -> HttpResponse:
        save(data)
        messages.success(request, done)
        return redirect(_plan_url(patient.pk, anchor))

    return form_page(
        request,
        form,
        title=f"{title} · {patient.full_name}",
        intro=intro,
        cancel_url=_plan_url(patient.pk, anchor),
        save=saved,
        template=FORM_TEMPLATE,
    )


@staff_view
def goal_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor, patient = _open(request, patient_id, Action.CARE_EDIT)
    return _add_page(
        request,
        patient,
        GoalForm(request.POST or None),
        title=_("New goal"),
        anchor="goals",
        save=lambda data: services.goal_record(actor=actor, patient_id=patient.pk, **data),
        done=_("The goal is added to the plan."),
    )


@staff_view
def goal_change(request: HttpRequest, patient_id: int, goal_id: int) -> HttpResponse:
    actor, patient = _open(request, patient_id, Action.CARE_EDIT)
    goal = Goal.objects.filter(pk=goal_id, patient=patient).first()
    if goal is None:
        raise Http404(_("No such goal in this plan."))
    form = GoalForm(
        request.POST or None,
        change=True,
        initial={"domain": goal.domain, "text": goal.text, "status": goal.status},
    )
    return _add_page(
        request,
        patient,
        form,
        title=_("Change goal"),
        intro=_("The change is saved as a new version; the earlier wording stays in the plan."),
        anchor="goals",
        save=lambda data: services.goal_record(
            actor=actor, patient_id=patient.pk, replaces=goal.pk, **data
        ),
        done=_("The goal is changed."),
    )


@staff_view
def action_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor, patient = _open(request, patient_id, Action.CARE_EDIT)
    form = ActionForm(
        request.POST or None,
        staff=_staff(patient),
        relatives=selectors.relatives_consent(patient),
        initial={"domain": request.GET.get("domain", "")},
    )
    return _add_page(
        request,
        patient,
        form,
        title=_("New action"),
        anchor="goals",
        save=lambda data: services.action_record(actor=actor, patient_id=patient.pk, **data),
        done=_("The action is added to the plan."),
    )


@staff_view
def action_change(request: HttpRequest, patient_id: int, action_id: int) -> HttpResponse:
    actor, patient = _open(request, patient_id, Action.CARE_EDIT)
    action = PlanAction.objects.filter(pk=action_id, patient=patient).first()
    consent = selectors.relatives_consent(patient)
    if action is None or (action.owner_kind == "relative" and not consent):
        raise Http404(_("No such action in this plan."))
    form = ActionForm(
        request.POST or None,
        staff=_staff(patient),
        relatives=consent,
        change=True,
        initial={
            "domain": action.domain,
            "text": action.text,
            "owner": action.owner,
            "due_on": action.due_on,
            "status": action.status,
        },
    )
    return _add_page(
        request,
        patient,
        form,
        title=_("Change action"),
        intro=_("The change is saved as a new version; the earlier one stays in the plan."),
        anchor="goals",
        save=lambda data: services.action_record(
            actor=actor, patient_id=patient.pk, replaces=action.pk, **data
        ),
        done=_("The action is changed."),
    )


@staff_view
@require_POST
def action_done(request: HttpRequest, patient_id: int, action_id: int) -> HttpResponse:
    """Marks an open action done: a new version with the same text, owner and due date."""
    actor = web_actor(request)
    patient = patient_for_user(actor, patient_id, Action.CARE_EDIT)
    action = PlanAction.objects.filter(pk=action_id, patient=patient).first()
    if action is None:
        raise Http404(_("No such action in this plan."))
    try:
        services.action_record(
            actor=actor,
            patient_id=patient.pk,
            domain=action.domain,
            text=action.text,
            owner=action.owner,
            due_on=action.due_on,
            status="done",
            replaces=action.pk,
        )
    except (Invalid, Conflict) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The action is marked done."))
    return redirect(_plan_url(patient.pk, "goals"))


@staff_view
def review_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor, patient = _open(request, patient_id, Action.CARE_EDIT)
    form = ReviewForm(request.POST or None, staff=_staff(patient), relatives=_relatives(patient))

    def save(data: dict):
        return services.review_record(
            actor=actor,
            patient_id=patient.pk,
            held_on=data["held_on"],
            patient_attended=data["patient_attended"],
            staff=data["staff"],
            others=data["others"],
            relatives=[int(pk) for pk in data.get("relatives", [])],
            notes=data["notes"],
            next_on=data["next_on"],
        )

    return _add_page(
        request,
        patient,
        form,
        title=_("Record a review"),
        anchor="reviews",
        save=save,
        done=_("The review is recorded."),
    )


@staff_view
def status_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor, patient = _open(request, patient_id, Action.CARE_EDIT)
    return _add_page(
        request,
        patient,
        StatusForm(request.POST or None),
        title=_("Record housing and activity"),
        anchor="status",
        save=lambda data: services.status_record(actor=actor, patient_id=patient.pk, **data),
        done=_("The status is recorded."),
    )


@staff_view
def note_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor, patient = _open(request, patient_id, Action.CARE_NOTE_WRITE)
    levels = selectors.note_levels(request.user, patient.clinic_id)
    return _add_page(
        request,
        patient,
        NoteForm(request.POST or None, levels=levels),
        title=_("New note"),
        anchor="notes",
        save=lambda data: services.note_write(actor=actor, patient_id=patient.pk, **data),
        done=_("The note is saved."),
    )


@staff_view
def involvement_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor, patient = _open(request, patient_id, Action.CARE_EDIT)
    form = InvolvementForm(request.POST or None, relatives=_relatives(patient))
    return _add_page(
        request,
        patient,
        form,
        title=_("Involve a relative"),
        intro=_("Only with the patient's consent to sharing with relatives."),
        anchor="network",
        save=lambda data: services.involvement_record(
            actor=actor,
            patient_id=patient.pk,
            relative_id=int(data["relative"]) if data["relative"] else 0,
            kind=data["kind"],
            note=data["note"],
        ),
        done=_("The relative's involvement is recorded."),
    )
