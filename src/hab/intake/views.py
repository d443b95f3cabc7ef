from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hab.core import policy
from hab.core.errors import Conflict, Invalid, NotFound
from hab.core.models import Clinic, User
from hab.core.policy import Action, clinic_for_action
from hab.core.web import add_errors, current_clinic, form_page, shows, staff_view, web_actor
from hab.intake import rules, selectors, services
from hab.intake.forms import (
    AdmitForm,
    AssessmentForm,
    CoordinatorForm,
    DischargeForm,
    ExistingPatientReferralForm,
    PhaseForm,
    ReferralForm,
    TransferForm,
    UrgentForm,
    WithdrawForm,
)
from hab.intake.models import ReferralStatus
from hab.patients.selectors import patient_open

INBOX_FILTERS = {
    "open": [s for s in rules.OPEN_STATUSES if s != ReferralStatus.NOT_ELIGIBLE],
    "all": None,
    **{status: [status] for status in ReferralStatus.values},
}


def _done(request: HttpRequest, message: str, url: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(url)


def _clinical_staff(clinic: Clinic) -> list[tuple[str, str]]:
    users = User.objects.filter(
        is_active=True,
        memberships__clinic=clinic,
        memberships__role__in=[r.value for r in policy.CARE_ROLES],
    ).distinct()
    return [(u.username, f"{u.get_full_name() or u.username} ({u.username})") for u in users]


@staff_view
def referral_inbox(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    chosen = request.GET.get("status", "open")
    if chosen not in INBOX_FILTERS:
        chosen = "open"
    referrals = selectors.referrals_for_clinic(web_actor(request), clinic, INBOX_FILTERS[chosen])
    filters = [("open", _("In progress")), ("all", _("All")), *ReferralStatus.choices]
    return render(
        request,
        "intake/inbox.html",
        {
            "referrals": referrals,
            "filters": filters,
            "chosen": chosen,
            "can_create": policy.can(request.user, Action.REFERRAL_CREATE, clinic),
        },
    )


@staff_view
def referral_create(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    clinic_for_action(request.user, clinic, Action.REFERRAL_CREATE)
    actor = web_actor(request)
    patient = None
    if request.GET.get("patient"):
        if not request.GET["patient"].isdigit():
            raise NotFound(_("No such patient."))
        patient = patient_open(
            actor,
            int(request.GET["patient"]),
            Action.REFERRAL_CREATE,
            what="referral",
            shown=shows(request),
        )
    form_class = ExistingPatientReferralForm if patient else ReferralForm
    form = form_class(request.POST or None)

    def save(data: dict) -> HttpResponse:
        person = None
        if patient is None:
            person = {k: data[k] for k in ("national_id", "given_name", "family_name")}
            person["birth_date"] = data["birth_date"]
        referral = services.referral_create(
            actor=actor,
            clinic=clinic,
            source=data["source"],
            referring_organisation=data["referring_organisation"],
            referring_contact=data["referring_contact"],
            received_on=data["received_on"],
            documents=data["documents"],
            note=data["note"],
            patient_id=patient.pk if patient else None,
            new_patient=person,
        )
        return _done(
            request,
            _("The referral is registered."),
            reverse("intake:referral", args=[referral.pk]),
        )

    title = _("New referral")
    if patient:
        title = _("New referral for %(name)s") % {"name": patient.full_name}
    return form_page(
        request,
        form,
        title=title,
        cancel_url=reverse("intake:inbox"),
        save=save,
    )


@staff_view
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    referral = selectors.referral_open(web_actor(request), referral_id)
    user, clinic = request.user, referral.clinic_id
    status = rules.Status(referral.status)
    criteria_texts = {}
    assessments = list(referral.assessments.select_related("criteria_set", "assessed_by"))
    for assessment in assessments:
        for criterion in assessment.criteria_set.criteria.all():
            criteria_texts[(assessment.criteria_set_id, criterion.code)] = criterion
    for assessment in assessments:
        assessment.rows = [
            (
                criteria_texts.get((assessment.criteria_set_id, code)),
                answer,
                assessment.criterion_notes.get(code, ""),
            )
            for code, answer in assessment.answers.items()
        ]
    can_manage = policy.can(user, Action.REFERRAL_MANAGE, clinic)
    return render(
        request,
        "intake/referral.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "events": referral.events.select_related("by"),
            "assessments": assessments,
            "can_start": can_manage and status == rules.Status.RECEIVED,
            "can_assess": policy.can(user, Action.REFERRAL_ASSESS, clinic)
            and status in rules.ASSESSABLE,
            "can_waitlist": can_manage and status == rules.Status.ELIGIBLE,
            "can_urgent": policy.can(user, Action.REFERRAL_URGENT, clinic)
            and status in rules.OPEN_STATUSES,
            "can_offer": policy.can(user, Action.PLACE_OFFER, clinic)
            and status in rules.ADMISSIBLE,
            "can_admit": policy.can(user, Action.EPISODE_ADMIT, clinic)
            and status in rules.ADMISSIBLE,
            "can_withdraw": can_manage and status in rules.OPEN_STATUSES,
        },
    )


def _back_to(referral_id: int) -> str:
    return reverse("intake:referral", args=[referral_id])


@staff_view
@require_POST
def referral_start(request: HttpRequest, referral_id: int) -> HttpResponse:
    services.referral_set_status(
        actor=web_actor(request), referral_id=referral_id, status=ReferralStatus.ASSESSING
    )
    return _done(request, _("The assessment has started."), _back_to(referral_id))


@staff_view
@require_POST
def referral_waitlist(request: HttpRequest, referral_id: int) -> HttpResponse:
    try:
        services.referral_waitlist(actor=web_actor(request), referral_id=referral_id)
    except Conflict as error:
        messages.error(request, error.message)
        return redirect(_back_to(referral_id))
    return _done(request, _("The patient is on the waitlist."), _back_to(referral_id))


@staff_view
@require_POST
def referral_offer(request: HttpRequest, referral_id: int) -> HttpResponse:
    try:
        services.referral_offer(actor=web_actor(request), referral_id=referral_id)
    except (Conflict, Invalid) as error:
        messages.error(request, error.message)
        return redirect(_back_to(referral_id))
    return _done(request, _("A place is offered."), _back_to(referral_id))


@staff_view
def referral_withdraw(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = web_actor(request)
    referral = selectors.referral_open(
        actor, referral_id, Action.REFERRAL_MANAGE, shown=shows(request)
    )

    def save(data: dict) -> HttpResponse:
        services.referral_set_status(
            actor=actor, referral_id=referral_id, status=ReferralStatus.WITHDRAWN, note=data["note"]
        )
        return _done(request, _("The referral is withdrawn."), _back_to(referral_id))

    return form_page(
        request,
        WithdrawForm(request.POST or None),
        title=_("Withdraw the referral of %(name)s") % {"name": referral.patient.full_name},
        cancel_url=_back_to(referral_id),
        save=save,
    )


@staff_view
def referral_urgent(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = web_actor(request)
    referral = selectors.referral_open(
        actor, referral_id, Action.REFERRAL_URGENT, shown=shows(request)
    )
    initial = {"urgent": referral.urgent, "reason": referral.urgent_reason}

    def save(data: dict) -> HttpResponse:
        services.referral_set_urgent(
            actor=actor, referral_id=referral_id, urgent=data["urgent"], reason=data["reason"]
        )
        return _done(request, _("The priority is saved."), _back_to(referral_id))

    return form_page(
        request,
        UrgentForm(request.POST or None, initial=initial),
        title=_("Priority of %(name)s") % {"name": referral.patient.full_name},
        cancel_url=_back_to(referral_id),
        save=save,
    )


@staff_view
def referral_assess(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = web_actor(request)
    referral = selectors.referral_open(
        actor, referral_id, Action.REFERRAL_ASSESS, shown=shows(request)
    )
    criteria_set = selectors.active_criteria_set()
    form = AssessmentForm(request.POST or None, criteria=criteria_set.criteria.all())
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_assess(
                actor=actor,
                referral_id=referral_id,
                answers=form.answers(),
                eligible=form.cleaned_data["eligible"] == "yes",
                notes=form.cleaned_data["notes"],
                criterion_notes=form.criterion_notes(),
                assessed_on=form.cleaned_data["assessed_on"],
            )
        except Invalid as error:
            add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            return _done(request, _("The assessment is saved."), _back_to(referral_id))
    return render(
        request,
        "intake/assess.html",
        {
            "form": form,
            "referral": referral,
            "patient": referral.patient,
            "criteria_set": criteria_set,
            "cancel_url": _back_to(referral_id),
        },
    )


@staff_view
def referral_admit(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = web_actor(request)
    referral = selectors.referral_open(
        actor, referral_id, Action.EPISODE_ADMIT, shown=shows(request)
    )

    def save(data: dict) -> HttpResponse:
        services.episode_admit(
            actor=actor,
            patient_id=referral.patient_id,
            clinic=referral.clinic,
            admitted_on=data["admitted_on"],
            coordinator=data["coordinator"] or None,
            phase=data["phase"],
            referral_id=referral.pk,
        )
        return _done(
            request,
            _("%(name)s is admitted.") % {"name": referral.patient.full_name},
            reverse("patients:detail", args=[referral.patient_id]),
        )

    overview = selectors.capacity(actor, referral.clinic)
    return form_page(
        request,
        AdmitForm(request.POST or None, staff=_clinical_staff(referral.clinic)),
        title=_("Admit %(name)s") % {"name": referral.patient.full_name},
        intro=_("%(free)s of %(capacity)s places are free at %(clinic)s.")
        % {"free": overview.free, "capacity": overview.capacity, "clinic": referral.clinic.name},
        cancel_url=_back_to(referral_id),
        save=save,
    )


@staff_view
def waitlist(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    rows = selectors.waitlist(web_actor(request), clinic)
    return render(request, "intake/waitlist.html", {"rows": rows})


@staff_view
def capacity(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    actor = web_actor(request)
    overview = selectors.capacity(actor, clinic)
    missing = []
    if policy.can(request.user, Action.PATIENT_LIST, clinic):
        missing = selectors.episodes_without_coordinator(actor, clinic)
    return render(
        request,
        "intake/capacity.html",
        {
            "overview": overview,
            "missing": missing,
            # Anyone in treatment shows on the bar, however small the share.
            "used_percent": max(round(100 * overview.used / overview.capacity), overview.used > 0),
            "coordinator_days": rules.COORDINATOR_DAYS,
        },
    )


# --- episode actions (from the patient's page) -------------------------------------------


def _patient_url(episode) -> str:
    return reverse("patients:detail", args=[episode.patient_id])


@staff_view
def episode_phase(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = web_actor(request)
    episode = selectors.episode_open(actor, episode_id, Action.EPISODE_PHASE, shown=shows(request))

    def save(data: dict) -> HttpResponse:
        services.episode_set_phase(
            actor=actor, episode_id=episode_id, phase=data["phase"], on=data["on"]
        )
        return _done(request, _("The phase is changed."), _patient_url(episode))

    return form_page(
        request,
        PhaseForm(request.POST or None),
        title=_("Change phase for %(name)s") % {"name": episode.patient.full_name},
        cancel_url=_patient_url(episode),
        save=save,
    )


@staff_view
def episode_coordinator(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = web_actor(request)
    episode = selectors.episode_open(
        actor, episode_id, Action.EPISODE_COORDINATOR, shown=shows(request)
    )

    def save(data: dict) -> HttpResponse:
        services.episode_set_coordinator(
            actor=actor, episode_id=episode_id, coordinator=data["coordinator"]
        )
        return _done(request, _("The coordinator is set."), _patient_url(episode))

    initial = {"coordinator": episode.coordinator.username if episode.coordinator else ""}
    return form_page(
        request,
        CoordinatorForm(
            request.POST or None, staff=_clinical_staff(episode.clinic), initial=initial
        ),
        title=_("Coordinator for %(name)s") % {"name": episode.patient.full_name},
        cancel_url=_patient_url(episode),
        save=save,
    )


@staff_view
def episode_transfer(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = web_actor(request)
    episode = selectors.episode_open(
        actor, episode_id, Action.EPISODE_TRANSFER, shown=shows(request)
    )
    clinics = [(c.code, c.name) for c in Clinic.objects.exclude(pk=episode.clinic_id)]

    def save(data: dict) -> HttpResponse:
        following = services.episode_transfer(
            actor=actor,
            episode_id=episode_id,
            to_clinic=data["clinic"],
            on=data["on"],
            note=data["note"],
        )
        return _done(
            request,
            _("%(name)s is transferred to %(clinic)s.")
            % {"name": episode.patient.full_name, "clinic": following.clinic.name},
            reverse("intake:capacity"),
        )

    return form_page(
        request,
        TransferForm(request.POST or None, clinics=clinics),
        title=_("Transfer %(name)s") % {"name": episode.patient.full_name},
        intro=_("The record moves with the patient: afterwards it is only seen at the new clinic."),
        cancel_url=_patient_url(episode),
        save=save,
    )


@staff_view
def episode_discharge(request: HttpRequest, episode_id: int) -> HttpResponse:
    actor = web_actor(request)
    episode = selectors.episode_open(
        actor, episode_id, Action.EPISODE_DISCHARGE, shown=shows(request)
    )

    def save(data: dict) -> HttpResponse:
        services.episode_discharge(
            actor=actor,
            episode_id=episode_id,
            ended_on=data["ended_on"],
            reason=data["reason"],
            note=data["note"],
            death_on=data["death_on"],
        )
        return _done(
            request,
            _("%(name)s is discharged.") % {"name": episode.patient.full_name},
            _patient_url(episode),
        )

    return form_page(
        request,
        DischargeForm(request.POST or None),
        title=_("Discharge %(name)s") % {"name": episode.patient.full_name},
        cancel_url=_patient_url(episode),
        save=save,
    )
