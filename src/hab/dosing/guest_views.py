"""Guest dosing: the home clinic's doctor lets another clinic dose the patient.

The page is opened from the patient's record (the address stays under prescribing, where
the doctor works); the authorisation itself is dosing's, since doses at both clinics count
against one daily maximum.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from hab.core.models import Clinic
from hab.core.policy import Action
from hab.core.web import form_page, shows, staff_view, web_actor
from hab.dosing import services
from hab.patients.selectors import patient_open
from hab.prescribing.forms import GuestForm


def _record(patient_id: int) -> str:
    return reverse("patients:detail", args=[patient_id])


@staff_view
def guest_authorise(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = web_actor(request)
    patient = patient_open(
        actor, patient_id, Action.GUEST_AUTHORISE, what="guest dosing", shown=shows(request)
    )
    clinics = [(c.code, c.name) for c in Clinic.objects.exclude(pk=patient.clinic_id)]

    def save(data: dict) -> HttpResponse:
        services.guest_authorise(
            actor=actor,
            patient_id=patient.pk,
            clinic_code=data["clinic"],
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            reason=data["reason"],
        )
        messages.success(request, _("The other clinic may dose the patient on these days."))
        return redirect(_record(patient.pk))

    return form_page(
        request,
        GuestForm(request.POST or None, clinics=clinics),
        title=_("Guest dosing for %(name)s") % {"name": patient.full_name},
        intro=_("Doses at both clinics count against the same daily maximum."),
        cancel_url=_record(patient.pk),
        save=save,
    )
