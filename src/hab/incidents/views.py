"""Incident pages: the list, reporting (also from the dosing board), one incident with its
follow-up, and the monthly summary."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.access import access_log_write
from hab.core.errors import Invalid, NotFound
from hab.core.models import AccessAction
from hab.core.policy import Action, clinic_for_action
from hab.core.web import add_errors, current_clinic, form_page, shows, staff_view, web_actor
from hab.incidents import selectors, services
from hab.incidents.forms import FollowUpForm, IncidentForm, ListFilter
from hab.patients.selectors import patient_open

# The most incidents the page shows: more is for a filter (the API lists up to 500).
SHOWN = 200


@staff_view
def incident_list(request: HttpRequest) -> HttpResponse:
    form = ListFilter(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    month = filters.get("month", "")
    try:
        selectors.month_of(month)
    except Invalid:
        month = ""
        form.add_error("month", _("Write the month as YYYY-MM, e.g. 2026-11."))
    clinic = current_clinic(request)
    incidents = selectors.incidents_listed(
        web_actor(request),
        clinic,
        limit=SHOWN,
        status=filters.get("status", ""),
        kind=filters.get("kind", ""),
        month=month,
    )
    return render(
        request,
        "incidents/list.html",
        {
            "clinic": clinic,
            "form": form,
            "incidents": incidents,
            "can_summary": policy.can(request.user, Action.INCIDENT_SUMMARY, clinic),
            "this_month": f"{clock.today():%Y-%m}",
        },
    )


@staff_view
def incident_new(request: HttpRequest) -> HttpResponse:
    clinic = clinic_for_action(request.user, current_clinic(request), Action.INCIDENT_REPORT)
    actor = web_actor(request)
    patient = administration_id = None
    source = request.GET if request.method == "GET" else request.POST
    if source.get("patient", "").isdigit():
        patient = patient_open(
            actor,
            int(source["patient"]),
            Action.INCIDENT_REPORT,
            what="incident",
            shown=shows(request),
        )
    if source.get("administration", "").isdigit():
        administration_id = int(source["administration"])
    initial = {
        "occurred_at": timezone.localtime(clock.now()).strftime("%Y-%m-%dT%H:%M"),
        "kind": request.GET.get("kind", ""),
    }
    form = IncidentForm(request.POST or None, initial=initial, clinic=clinic)

    def save(data: dict) -> HttpResponse:
        incident = services.incident_report(
            actor=actor,
            clinic=clinic,
            kind=data["kind"],
            severity=data["severity"],
            occurred_at=data["occurred_at"],
            description=data["description"],
            patient_id=patient.pk if patient else None,
            administration_id=administration_id,
            naloxone_mg=data["naloxone_mg"],
            naloxone_doses=data["naloxone_doses"],
            ambulance=data["ambulance"],
            hospital=data["hospital"],
            immediate_actions=data["immediate_actions"],
            owner=data["owner"],
        )
        messages.success(request, _("The incident is reported."))
        back = request.POST.get("next", "")
        if back.startswith("/") and not back.startswith("//"):
            return redirect(back)
        return redirect(reverse("incidents:detail", args=[incident.pk]))

    return form_page(
        request,
        form,
        title=_("Report an incident"),
        intro=(_("About %(name)s.") % {"name": patient.full_name} if patient else ""),
        cancel_url=request.GET.get("next") or reverse("incidents:list"),
        save=save,
        template="incidents/new.html",
        extra={
            "patient": patient,
            "administration_id": administration_id,
            "next": request.GET.get("next", "") or request.POST.get("next", ""),
        },
    )


@staff_view
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = selectors.incident(incident_id)
    if incident is None or not policy.is_member(request.user, incident.clinic_id):
        raise NotFound(_("No such incident."))
    clinic_for_action(request.user, incident.clinic, Action.INCIDENT_VIEW)
    actor = web_actor(request)
    if incident.patient_id:
        access_log_write(
            actor=actor,
            patient=incident.patient,
            action=AccessAction.VIEW,
            what="incident",
            details={"incident": incident.pk},
            policy_action=Action.INCIDENT_VIEW,
            clinic_id=incident.clinic_id,
        )
    steps = list(selectors.events(incident.pk))
    owner_id = steps[-1].owner_id if steps else None
    may_follow = (
        policy.can(request.user, Action.INCIDENT_MANAGE, incident.clinic)
        or owner_id == request.user.pk
    )
    form = FollowUpForm(
        request.POST or None,
        initial={"status": incident.status, "owner": incident.owner_name or ""},
        clinic=incident.clinic,
    )
    if not policy.can(request.user, Action.INCIDENT_MANAGE, incident.clinic):
        del form.fields["owner"]
    if request.method == "POST" and may_follow and form.is_valid():
        try:
            services.incident_follow_up(
                actor=actor,
                incident_id=incident.pk,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                owner=form.cleaned_data.get("owner") or None,
            )
            messages.success(request, _("The follow-up is recorded."))
            return redirect(reverse("incidents:detail", args=[incident.pk]))
        except Invalid as error:
            add_errors(form, error)
    return render(
        request,
        "incidents/detail.html",
        {"incident": incident, "steps": steps, "form": form, "may_follow": may_follow},
    )


@staff_view
def summary(request: HttpRequest) -> HttpResponse:
    clinic = clinic_for_action(request.user, current_clinic(request), Action.INCIDENT_SUMMARY)
    today = clock.today()
    try:
        year, month = selectors.month_of(request.GET.get("month", "")) or (today.year, today.month)
    except Invalid:
        year, month = today.year, today.month
    first = datetime.date(year, month, 1)
    previous = (first - datetime.timedelta(days=1)).strftime("%Y-%m")
    following = (first + datetime.timedelta(days=32)).strftime("%Y-%m")
    return render(
        request,
        "incidents/summary.html",
        {
            "clinic": clinic,
            "s": selectors.monthly_summary(clinic.pk, year, month),
            "first": first,
            "previous": previous,
            "following": following if first.replace(day=28) < today else None,
        },
    )
