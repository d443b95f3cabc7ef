"""Forms of the individual plan. They only parse and render; the rules live in services.
Each has a prefix, so that all of them fit on the plan page with unique field ids."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from hab.care import rules
from hab.care.models import ActionStatus, GoalStatus, Visibility

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _coded(catalogue, blank) -> list[tuple[str, str]]:
    return [("", blank), *rules.choices(catalogue, get_language())]


class GoalForm(forms.Form):
    prefix = "goal"
    domain = forms.ChoiceField(label=_("Domain"))
    text = forms.CharField(
        label=_("The goal, in the patient's own words"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Write what the patient says, e.g. “Get my own flat before Christmas”."),
    )

    def __init__(self, *args, change: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = _coded(rules.DOMAINS, _("Choose a domain"))
        if change:
            # A goal keeps its domain; a new version may change the words and the status.
            self.fields["domain"].disabled = True
            self.fields["status"] = forms.ChoiceField(
                label=_("Status"), choices=GoalStatus.choices, widget=forms.RadioSelect
            )


class ActionForm(forms.Form):
    prefix = "action"
    domain = forms.ChoiceField(label=_("Domain"))
    text = forms.CharField(label=_("What is to be done"), max_length=500)
    owner = forms.ChoiceField(label=_("Responsible"))
    due_on = forms.DateField(label=_("Due"), required=False, widget=DATE)

    def __init__(self, *args, staff, relatives: bool, change: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = _coded(rules.DOMAINS, _("Choose a domain"))
        owners = [("", _("Choose who is responsible")), ("patient", _("The patient"))]
        if relatives:
            owners.append(("relative", _("A relative")))
        self.fields["owner"].choices = owners + list(staff)
        if change:
            self.fields["domain"].disabled = True
            self.fields["status"] = forms.ChoiceField(
                label=_("Status"), choices=ActionStatus.choices, widget=forms.RadioSelect
            )


class ReviewForm(forms.Form):
    prefix = "review"
    held_on = forms.DateField(label=_("Held on"), widget=DATE, initial=timezone.localdate)
    patient_attended = forms.BooleanField(
        label=_("The patient took part"), required=False, initial=True
    )
    staff = forms.MultipleChoiceField(
        label=_("Staff who took part"), required=False, widget=forms.CheckboxSelectMultiple
    )
    others = forms.CharField(
        label=_("Others who took part"),
        max_length=300,
        required=False,
        help_text=_("E.g. NAV adviser, municipal housing office, GP."),
    )
    notes = forms.CharField(
        label=_("What was agreed"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    next_on = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=DATE,
        help_text=_("Leave empty for three months from this review."),
    )

    def __init__(self, *args, staff, relatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = list(staff)
        if relatives:
            self.fields["relatives"] = forms.MultipleChoiceField(
                label=_("Relatives who took part"),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                choices=list(relatives),
            )
            self.order_fields(["held_on", "patient_attended", "staff", "relatives"])


class StatusForm(forms.Form):
    prefix = "status"
    on = forms.DateField(label=_("Date"), widget=DATE, initial=timezone.localdate)
    housing = forms.ChoiceField(label=_("Housing"))
    activity = forms.ChoiceField(label=_("Daily activity"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["housing"].choices = _coded(rules.HOUSING, _("Choose the housing situation"))
        self.fields["activity"].choices = _coded(rules.ACTIVITY, _("Choose the daily activity"))


class NoteForm(forms.Form):
    prefix = "note"
    visibility = forms.ChoiceField(
        label=_("Who may read the note"), widget=forms.RadioSelect, initial="team"
    )
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, levels, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the levels the author can read themselves are offered.
        self.fields["visibility"].choices = [
            (code, label) for code, label in Visibility.choices if code in levels
        ]


class InvolvementForm(forms.Form):
    prefix = "involvement"
    relative = forms.ChoiceField(label=_("Relative"))
    kind = forms.ChoiceField(label=_("Takes part how"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, relatives, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relative"].choices = [("", _("Choose a relative")), *relatives]
        self.fields["kind"].choices = _coded(rules.INVOLVEMENT, _("Choose how"))
