"""The stop-dose hold on pages outside the dosing room (the patient's record)."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string

from hab.core import policy
from hab.core.policy import Action
from hab.dosing import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def dose_hold_card(context, patient) -> str:
    """The patient's stop-dose hold with who placed it and why, and the buttons to stop
    dosing or (a doctor) to lift the stop. The record it sits on was opened and logged by
    the page."""
    request = context.get("request")
    if request is None or not policy.can(request.user, Action.BOARD_VIEW, patient.clinic_id):
        return ""
    return render_to_string(
        "dosing/_hold.html",
        {
            "patient": patient,
            "hold": selectors.hold_of(patient.pk),
            "can_hold": policy.can(request.user, Action.DOSE_HOLD, patient.clinic_id),
            "can_lift": policy.can(request.user, Action.DOSE_HOLD_LIFT, patient.clinic_id),
        },
        request=request,
    )
