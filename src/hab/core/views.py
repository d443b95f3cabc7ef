from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hab.core import policy
from hab.core.middleware import SESSION_CLINIC
from hab.core.policy import Action
from hab.core.roles import Role
from hab.core.web import BadQuery


@login_required
def home(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic
    roles = policy.roles_at(request.user, clinic) if clinic is not None else frozenset()
    # Each role starts where its work is: nurses at the dosing board, doctors at what
    # awaits their review, researchers at the export, the programme owner at the evaluation.
    if Role.NURSE in roles:
        return redirect("dosing:board")
    if Role.DOCTOR in roles:
        return redirect("dosing:alerts")
    if Role.RESEARCHER in roles and policy.can(request.user, Action.RESEARCH_EXPORT, clinic):
        return redirect("research-export")
    if Role.PROGRAMME in roles and policy.can(request.user, Action.EVALUATION_VIEW, clinic):
        return redirect("evaluation:dashboard")
    if clinic is not None and policy.can(request.user, Action.PATIENT_LIST, clinic):
        return redirect("patients:list")
    if clinic is not None and policy.can(request.user, Action.CAPACITY_VIEW, clinic):
        return redirect("intake:capacity")
    return render(request, "core/home.html")


@login_required
@require_POST
def clinic_switch(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("clinic", "")
    if any(clinic.code == code for clinic in request.clinics):
        request.session[SESSION_CLINIC] = code
    # Back to the start page: the page shown before may belong to the other clinic.
    return redirect("home")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 400 page (urls.handler400). A BadQuery's message is HAB's own sentence for the
    user; any other bad request (Django's own) gets the plain one, and no details."""
    message = exception.message if isinstance(exception, BadQuery) else ""
    if not hasattr(request, "user"):
        # Refused before the session was read (a host HAB does not serve): no page
        # around it, since the menus need the user.
        return HttpResponseBadRequest(_("Bad request."), content_type="text/plain")
    return render(request, "400.html", {"message": message}, status=400)
