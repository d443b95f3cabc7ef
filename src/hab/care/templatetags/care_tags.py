"""A link to the individual plan for pages outside the app (the patient's page)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from hab.core import policy
from hab.core.policy import Action

register = template.Library()


@register.simple_tag(takes_context=True)
def care_plan_link(context, patient) -> str:
    """The button to the patient's plan, for those whose role reads plans."""
    request = context.get("request")
    if request is None or not policy.can(request.user, Action.CARE_VIEW, patient.clinic_id):
        return ""
    return format_html(
        '<a class="button" href="{}">{}</a>',
        reverse("care:plan", args=[patient.pk]),
        _("Individual plan"),
    )
