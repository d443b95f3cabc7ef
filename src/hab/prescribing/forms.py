"""Forms only parse and render; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hab.core.forms import QuantityField, quantity_formfield
from hab.prescribing.models import DosingProtocol, Medication, Route
from hab.prescribing.services import PROTOCOL_FIELDS, protocol_range_text

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PrescriptionForm(forms.Form):
    medication = forms.ChoiceField(label=_("Medication"), choices=Medication.choices)
    route = forms.ChoiceField(label=_("Route"), choices=Route.choices)
    daily_max_mg = QuantityField(label=_("Daily maximum (mg)"), min_value=0, decimal_places=1)
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE, initial=timezone.localdate)
    valid_to = forms.DateField(label=_("Valid to"), widget=DATE, required=False)
    titration_start_mg = QuantityField(
        label=_("Titration: first dose (mg)"), required=False, min_value=0, decimal_places=1
    )
    titration_step_mg = QuantityField(
        label=_("Titration: largest step per dose (mg)"),
        required=False,
        min_value=0,
        decimal_places=1,
    )
    titration_target_mg = QuantityField(
        label=_("Titration: target dose (mg)"), required=False, min_value=0, decimal_places=1
    )
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500)
    override_reason = forms.CharField(
        label=_("Reason to prescribe both methadone and slow-release morphine"),
        help_text=_("Only when the patient is to have both: a doctor's override, recorded."),
        required=False,
        max_length=500,
    )

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = list(slots)
        for index, slot in enumerate(self.slots):
            field = QuantityField(
                label=_("Dose, %(session)s (mg)") % {"session": slot.name},
                min_value=0,
                decimal_places=1,
                required=False,
            )
            # Dose fields right after the route, in session order.
            self.fields[f"dose_{slot.code}"] = field
            self.order_fields(
                ["medication", "route", *[f"dose_{s.code}" for s in self.slots[: index + 1]]]
            )

    def field_for(self, service_field: str) -> str:
        if service_field.startswith("doses_mg."):
            return "dose_" + service_field.split(".", 1)[1]
        if service_field.startswith("titration."):
            return "titration_" + service_field.split(".", 1)[1]
        return service_field

    def doses(self) -> dict:
        return {slot.code: self.cleaned_data.get(f"dose_{slot.code}") or 0 for slot in self.slots}

    def titration(self) -> dict:
        return {
            "start_mg": self.cleaned_data.get("titration_start_mg"),
            "step_mg": self.cleaned_data.get("titration_step_mg"),
            "target_mg": self.cleaned_data.get("titration_target_mg"),
        }


class StopForm(forms.Form):
    reason = forms.CharField(label=_("Why is the prescription stopped?"), max_length=500)


class GuestForm(forms.Form):
    clinic = forms.ChoiceField(label=_("Clinic"))
    valid_from = forms.DateField(label=_("From"), widget=DATE, initial=timezone.localdate)
    valid_to = forms.DateField(label=_("To"), widget=DATE)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].choices = clinics


class ProtocolForm(forms.ModelForm):
    doctor = forms.ChoiceField(
        label=_("Doctor who confirms"),
        help_text=_("The version is in force once this doctor confirms it with their password."),
    )
    reason = forms.CharField(label=_("What changed and why"), max_length=500)

    class Meta:
        model = DosingProtocol
        fields = PROTOCOL_FIELDS
        localized_fields = PROTOCOL_FIELDS
        # Every number setting through HAB's quantity fields ("0,2" and "0.2" alike).
        formfield_callback = quantity_formfield

    def __init__(self, *args, doctors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["doctor"].choices = doctors
        self.order_fields(["doctor", "reason", *PROTOCOL_FIELDS])
        # The clinical range beside each setting; the service checks it.
        for name in PROTOCOL_FIELDS:
            self.fields[name].help_text = protocol_range_text(name)

    def _get_validation_exclusions(self) -> set[str]:
        # The model's check constraints are the clinical ranges, which the service checks
        # with the range in the message beside the field: the form leaves them to it (a
        # constraint is checked by the form only when none of its fields is excluded).
        return super()._get_validation_exclusions() | set(PROTOCOL_FIELDS)


class ProtocolConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=1000,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp = forms.CharField(
        label=_("Code from the authenticator app"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
