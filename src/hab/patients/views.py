from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hab.core import clock, policy
from hab.core.errors import Conflict, Invalid, ReasonRequired
from hab.core.policy import Action
from hab.core.web import (
    add_errors,
    current_clinic,
    remember_reason,
    shows,
    staff_view,
    web_actor,
)
from hab.patients import selectors, services
from hab.patients.forms import (
    AccessLogReasonForm,
    AccessReasonForm,
    ConsentForm,
    PatientCreateForm,
    PatientEditForm,
    RelativeForm,
)
from hab.patients.models import Patient, Relative
from hab.patients.record import parts, with_session_names


@staff_view
def patient_list(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    query = request.GET.get("q", "")
    patients = selectors.patient_search(web_actor(request), clinic, query)
    context = {
        "patients": patients,
        "query": query,
        "limit": selectors.LIST_LIMIT,
        "can_create": policy.can(request.user, Action.PATIENT_CREATE, clinic),
    }
    if request.headers.get("HX-Request"):
        return render(request, "patients/_results.html", context)
    return render(request, "patients/list.html", context)


@staff_view
def patient_create(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    policy.clinic_for_action(request.user, clinic, Action.PATIENT_CREATE)
    form = PatientCreateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient = services.patient_create(
                actor=web_actor(request),
                clinic=clinic,
                national_id_value=data["national_id"],
                given_name=data["given_name"],
                family_name=data["family_name"],
                birth_date=data["birth_date"],
                phone=data["phone"],
                address=data["address"],
                photo=data["photo"],
            )
        except Invalid as error:
            add_errors(form, error)
        except Conflict as error:
            form.add_error("national_id", error.message)
        else:
            messages.success(request, _("The patient is registered."))
            return redirect("patients:detail", patient_id=patient.pk)
    return render(
        request,
        "form.html",
        {"form": form, "title": _("New patient"), "cancel_url": reverse("patients:list")},
    )


@staff_view
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = selectors.patient_open(web_actor(request), patient_id)
    user, clinic = request.user, patient.clinic_id
    context = {
        "patient": patient,
        "consents": selectors.current_consents(patient),
        "consent_history": selectors.consent_history(patient),
        "relatives": selectors.active_relatives(patient),
        "consent_form": ConsentForm(),
        "can_edit": policy.can(user, Action.PATIENT_EDIT, clinic),
        "can_consent": policy.can(user, Action.CONSENT_RECORD, clinic),
        "can_relatives": policy.can(user, Action.RELATIVE_EDIT, clinic),
        "can_access_log": policy.can(user, Action.ACCESS_LOG_VIEW, clinic),
        "can_access_report": policy.can(user, Action.PATIENT_ACCESS_REPORT, clinic),
        "can_fhir": policy.can(user, Action.PATIENT_FHIR, clinic),
        # The patient page is where intake shows the course of treatment.
        "episode": patient.episodes.filter(ended_on__isnull=True)
        .select_related("clinic", "coordinator")
        .first(),
        "can_refer": policy.can(user, Action.REFERRAL_CREATE, clinic),
        "can_phase": policy.can(user, Action.EPISODE_PHASE, clinic),
        "can_coordinator": policy.can(user, Action.EPISODE_COORDINATOR, clinic),
        "can_transfer": policy.can(user, Action.EPISODE_TRANSFER, clinic),
        "can_discharge": policy.can(user, Action.EPISODE_DISCHARGE, clinic),
        "prescription_history": with_session_names(
            patient.prescriptions.select_related("created_by")[:20], patient
        ),
        "can_prescribe": policy.can(user, Action.PRESCRIBE, clinic),
        # The course of treatment (intake) and the prescriptions (prescribing).
        **parts(patient, clock.today()),
    }
    return render(request, "patients/detail.html", context)


@staff_view
def patient_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = web_actor(request)
    patient = selectors.patient_open(
        actor, patient_id, Action.PATIENT_EDIT, what="patient", shown=shows(request)
    )
    initial = {name: getattr(patient, name) for name in ("given_name", "family_name", "phone")}
    initial["address"] = patient.address
    form = PatientEditForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        photo = data.pop("photo")
        try:
            services.patient_update(actor=actor, patient_id=patient_id, changes=data, photo=photo)
        except Invalid as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("patients:detail", patient_id=patient_id)
    title = _("Change %(name)s") % {"name": patient.full_name}
    return render(
        request,
        "form.html",
        {"form": form, "title": title, "cancel_url": reverse("patients:detail", args=[patient.pk])},
    )


@staff_view
def patient_photo(request: HttpRequest, patient_id: int) -> HttpResponse:
    # The photo is part of the record page, whose opening is already logged.
    patient = selectors.patient_for_user(web_actor(request), patient_id)
    if not patient.photo:
        raise Http404
    response = FileResponse(patient.photo.open("rb"))
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view
@require_POST
def consent_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    form = ConsentForm(request.POST)
    if form.is_valid():
        services.consent_record(
            actor=web_actor(request),
            patient_id=patient_id,
            kind=form.cleaned_data["kind"],
            given=form.cleaned_data["given"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("The consent is recorded."))
    else:
        messages.error(request, _("The consent was not recorded: choose a consent and decision."))
    return redirect("patients:detail", patient_id=patient_id)


@staff_view
def relative_edit(
    request: HttpRequest, patient_id: int, relative_id: int | None = None
) -> HttpResponse:
    actor = web_actor(request)
    patient = selectors.patient_open(
        actor, patient_id, Action.RELATIVE_EDIT, what="relative", shown=shows(request)
    )
    initial = {}
    if relative_id is not None:
        relative = Relative.objects.filter(
            patient=patient, pk=relative_id, removed_at__isnull=True
        ).first()
        if relative is None:
            raise Http404
        initial = {name: getattr(relative, name) for name in services.RELATIVE_FIELDS}
    form = RelativeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.relative_save(
                actor=actor,
                patient_id=patient_id,
                values=form.cleaned_data,
                relative_id=relative_id,
            )
        except Invalid as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The relative is saved."))
            return redirect("patients:detail", patient_id=patient_id)
    title = _("Relative of %(name)s") % {"name": patient.full_name}
    return render(
        request,
        "form.html",
        {"form": form, "title": title, "cancel_url": reverse("patients:detail", args=[patient.pk])},
    )


@staff_view
@require_POST
def relative_remove(request: HttpRequest, patient_id: int, relative_id: int) -> HttpResponse:
    services.relative_remove(
        actor=web_actor(request), patient_id=patient_id, relative_id=relative_id
    )
    messages.success(request, _("The relative is removed from the record."))
    return redirect("patients:detail", patient_id=patient_id)


@staff_view
def access_log(request: HttpRequest, patient_id: int) -> HttpResponse:
    # Every read asks why (the reason is not remembered), and the log is shown only in
    # the answer to that POST.
    form = AccessLogReasonForm(request.POST or None)
    reason = form.cleaned_data["reason"] if request.method == "POST" and form.is_valid() else ""
    try:
        patient, rows = selectors.access_log_for(web_actor(request), patient_id, reason=reason)
    except ReasonRequired:
        return render(request, "patients/access_log_reason.html", {"form": form})
    return render(request, "patients/access_log.html", {"patient": patient, "rows": rows})


@staff_view
def access_reason(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Asks a user without a care relationship why they open the record."""
    # Checks clinic and role without the reason; a missing patient is a 404 here too.
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None or not policy.can(request.user, Action.PATIENT_VIEW, patient.clinic_id):
        raise Http404
    target = request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    form = AccessReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        remember_reason(request, patient_id, form.cleaned_data["reason"])
        return redirect(target) if target else redirect("patients:detail", patient_id=patient_id)
    return render(request, "patients/reason.html", {"form": form})
