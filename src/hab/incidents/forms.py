from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hab.core import policy
from hab.core.forms import QuantityField, WholeNumberField
from hab.core.models import Clinic, User
from hab.core.policy import Action
from hab.incidents.models import Kind, Severity, Status


def care_team(clinic: Clinic) -> list[tuple[str, str]]:
    people = (
        User.objects.filter(memberships__clinic=clinic, is_active=True)
        .distinct()
        .order_by("first_name", "last_name")
    )
    return [("", _("Nobody yet"))] + [
        (p.username, f"{p.get_full_name() or p.username} ({p.username})")
        for p in people
        if policy.can(p, Action.INCIDENT_VIEW, clinic)
    ]


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "–")] + Kind.choices)
    severity = forms.ChoiceField(label=_("Severity"), choices=[("", "–")] + Severity.choices)
    occurred_at = forms.DateTimeField(
        label=_("When it happened"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    description = forms.CharField(
        label=_("What happened"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    immediate_actions = forms.CharField(
        label=_("Immediate actions"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    naloxone_mg = QuantityField(
        label=_("Naloxone given (mg)"), required=False, decimal_places=2, min_value=0
    )
    naloxone_doses = WholeNumberField(label=_("Naloxone doses"), required=False, min_value=0)
    ambulance = forms.BooleanField(label=_("Ambulance called"), required=False)
    hospital = forms.BooleanField(label=_("Taken to hospital"), required=False)
    owner = forms.ChoiceField(label=_("Follow-up owner"), required=False)

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = care_team(clinic)


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    owner = forms.ChoiceField(label=_("Follow-up owner"), required=False)
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when closing: what was done."),
    )

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = care_team(clinic)


class ListFilter(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + Status.choices
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All"))] + Kind.choices
    )
    month = forms.CharField(
        label=_("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month"}),
    )
