"""A link to the patient's follow-up interviews for the patient's page."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from hab.core import policy
from hab.core.policy import Action

register = template.Library()


@register.simple_tag(takes_context=True)
def follow_up_link(context, patient) -> str:
    """The button to the patient's follow-ups, for those whose role sees them."""
    request = context.get("request")
    if request is None or not policy.can(request.user, Action.FOLLOWUP_VIEW, patient.clinic_id):
        return ""
    return format_html(
        '<a class="button" href="{}">{}</a>',
        reverse("research:patient", args=[patient.pk]),
        _("Follow-up"),
    )
