"""Forms only parse and render; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hab.core.forms import WholeNumberField
from hab.operations.models import Duty, StaffRole, Weekday

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

# Weekdays chosen together, as a lead plans opening times, then each day alone.
WEEKDAY_GROUPS = [
    ("0,1,2,3,4", _("Weekdays (Monday to Friday)")),
    ("5,6", _("Weekend (Saturday and Sunday)")),
    ("0,1,2,3,4,5,6", _("Every day")),
    *[(str(value), label) for value, label in Weekday.choices],
]


class AssignForm(forms.Form):
    person = forms.ChoiceField(label=_("Who"))
    duty = forms.ChoiceField(
        label=_("Duty"), choices=Duty.choices, initial=Duty.ON_DUTY, widget=forms.RadioSelect
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "---------")] + [
            (f"{user.username}|{role}", f"{user} ({StaffRole(role).label.lower()})")
            for user, role in staff
        ]

    def field_for(self, field: str) -> str:
        return "person" if field in ("username", "role") else field

    def chosen(self) -> tuple[str, str]:
        username, _sep, role = self.cleaned_data["person"].partition("|")
        return username, role


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=300,
        help_text=_("For example: ill, swapped with a colleague."),
    )


class GenerateForm(forms.Form):
    days = WholeNumberField(label=_("Days ahead"), min_value=1, max_value=400, initial=60)


class TemplateForm(forms.Form):
    weekdays = forms.ChoiceField(label=_("Days"), choices=WEEKDAY_GROUPS)
    slot = forms.ChoiceField(label=_("Session"))
    starts_at = forms.TimeField(label=_("Opens"), widget=TIME)
    ends_at = forms.TimeField(label=_("Closes"), widget=TIME)
    valid_from = forms.DateField(label=_("From"), widget=DATE)
    reason = forms.CharField(label=_("Reason for the change"), max_length=300)

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [(s.code, s.name) for s in slots]

    def chosen_weekdays(self) -> list[int]:
        return [int(d) for d in self.cleaned_data["weekdays"].split(",")]


class ExceptionForm(forms.Form):
    """A day's own times: one pair of fields per session; a pair left empty keeps the
    session's usual times."""

    date = forms.DateField(label=_("Date"), widget=DATE)
    name = forms.CharField(label=_("Name of the day"), max_length=120)

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = list(slots)
        for slot in self.slots:
            self.fields[f"{slot.code}_starts_at"] = forms.TimeField(
                label=_("%(session)s opens") % {"session": slot.name},
                required=False,
                widget=TIME,
            )
            self.fields[f"{slot.code}_ends_at"] = forms.TimeField(
                label=_("%(session)s closes") % {"session": slot.name},
                required=False,
                widget=TIME,
            )
        self.fields["reason"] = forms.CharField(label=_("Note"), required=False, max_length=300)

    def field_for(self, field: str) -> str:
        # times.morning.starts_at -> morning_starts_at
        parts = field.split(".")
        if parts[0] == "times" and len(parts) == 3:
            return f"{parts[1]}_{parts[2]}"
        if parts[0] == "times" and len(parts) == 2:
            return f"{parts[1]}_starts_at"
        return field

    def times(self) -> dict:
        data = self.cleaned_data
        return {
            slot.code: (data.get(f"{slot.code}_starts_at"), data.get(f"{slot.code}_ends_at"))
            for slot in self.slots
            if data.get(f"{slot.code}_starts_at") or data.get(f"{slot.code}_ends_at")
        }


class ClosureForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE)
    slot = forms.ChoiceField(label=_("Sessions"))
    reason = forms.CharField(
        label=_("Reason for closing"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirm = forms.BooleanField(
        label=_(
            "I have made sure every patient can get their dose elsewhere (another session, "
            "guest dosing at another clinic)."
        )
    )

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [("", _("The whole day"))] + [(s.code, s.name) for s in slots]
        self.fields["slot"].required = False

    def field_for(self, field: str) -> str:
        return "slot" if field == "slots" else field


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)


class RuleForm(forms.Form):
    min_nurses = WholeNumberField(label=_("Nurses on duty, at least"), min_value=0, max_value=20)
    min_doctors = WholeNumberField(label=_("Doctors, at least"), min_value=0, max_value=10)
    doctor_on_call_counts = forms.BooleanField(
        label=_("A doctor on call counts (otherwise only on duty)"), required=False
    )
    reason = forms.CharField(label=_("Reason for the change"), max_length=300)
