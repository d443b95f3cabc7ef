"""The clinic's own settings, kept by the clinic lead."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hab.core import policy, rules
from hab.core.errors import Forbidden
from hab.core.forms import WholeNumberField
from hab.core.services import clinic_settings_update
from hab.core.web import current_clinic, form_page, staff_view


class ClinicSettingsForm(forms.Form):
    idle_lock_minutes = WholeNumberField(
        label=gettext_lazy("Lock shared tablets after (minutes without activity)"),
        min_value=rules.IDLE_LOCK_MIN_MINUTES,
        max_value=rules.IDLE_LOCK_MAX_MINUTES,
        help_text=gettext_lazy(
            "1 to 30 minutes; 2 by default. A tablet logged in as shared then hides patient "
            "data until the person logged in gives their PIN or password."
        ),
    )
    org_number = forms.CharField(
        label=gettext_lazy("Organisation number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "The nine digits of the unit that runs the clinic in Enhetsregisteret. It "
            "identifies the clinic in FHIR documents and in reports to Legemiddelregisteret."
        ),
    )


@staff_view
def clinic_settings(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    if not policy.can(request.user, policy.Action.CLINIC_SETTINGS_EDIT, clinic):
        raise Forbidden(_("Only the clinic lead changes the clinic's settings."))
    form = ClinicSettingsForm(
        request.POST or None,
        initial={"idle_lock_minutes": clinic.idle_lock_minutes, "org_number": clinic.org_number},
    )

    def save(data: dict) -> HttpResponse:
        clinic_settings_update(
            by=request.user,
            clinic=clinic,
            idle_lock_minutes=data["idle_lock_minutes"],
            org_number=data["org_number"],
            request=request,
        )
        messages.success(request, _("The clinic settings are saved."))
        return redirect("clinic-settings")

    return form_page(
        request,
        form,
        title=_("Clinic settings: %(clinic)s") % {"clinic": clinic.name},
        cancel_url=reverse("home"),
        save=save,
    )
