"""Forms only parse and render; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from hab.core.name_fields import PersonNameField
from hab.intake.models import EndReason, Phase, ReferralSource

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
YES_NO_UNKNOWN = [("yes", _("Yes")), ("no", _("No")), ("unknown", _("Unknown"))]


class ReferralForm(forms.Form):
    national_id = forms.CharField(
        label=_("National id (fødselsnummer or D-number)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("A person not yet in HAB is registered with the referral."),
    )
    given_name = PersonNameField(label=_("Given name"), max_length=100)
    family_name = PersonNameField(label=_("Family name"), max_length=100)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=DATE,
        help_text=_("Only needed when the national id does not show the birth year."),
    )
    source = forms.ChoiceField(label=_("Referred from"), choices=ReferralSource.choices)
    referring_organisation = forms.CharField(label=_("Referring organisation"), max_length=200)
    referring_contact = PersonNameField(label=_("Contact person"), max_length=200, required=False)
    received_on = forms.DateField(label=_("Received"), widget=DATE, initial=timezone.localdate)
    documents = forms.CharField(
        label=_("Documents received"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example referral letter, LAR summary, medication list."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExistingPatientReferralForm(ReferralForm):
    """The same referral form for a patient already registered: no person fields."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("national_id", "given_name", "family_name", "birth_date"):
            del self.fields[name]


class AssessmentForm(forms.Form):
    """One yes/no/unknown question per criterion of the active set, then the decision."""

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language() or "nb"
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"c_{criterion.code}"] = forms.ChoiceField(
                label=criterion.text(language),
                choices=YES_NO_UNKNOWN,
                widget=forms.RadioSelect,
            )
            self.fields[f"n_{criterion.code}"] = forms.CharField(
                label=_("Note on: %(criterion)s") % {"criterion": criterion.text(language)},
                required=False,
                max_length=500,
            )
        self.fields["eligible"] = forms.ChoiceField(
            label=_("Decision"),
            choices=[("yes", _("Eligible")), ("no", _("Not eligible"))],
            widget=forms.RadioSelect,
        )
        self.fields["notes"] = forms.CharField(
            label=_("Notes and justification"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("Required when the decision does not follow from the answers."),
        )
        self.fields["assessed_on"] = forms.DateField(
            label=_("Assessed"), widget=DATE, initial=timezone.localdate
        )

    def answers(self) -> dict[str, bool | None]:
        words = {"yes": True, "no": False, "unknown": None}
        return {c.code: words[self.cleaned_data[f"c_{c.code}"]] for c in self.criteria}

    def criterion_notes(self) -> dict[str, str]:
        return {c.code: self.cleaned_data[f"n_{c.code}"] for c in self.criteria}

    def field_for(self, service_field: str) -> str:
        """The form field of a service error such as ``criteria.min_age``."""
        if service_field.startswith("criteria."):
            return "c_" + service_field.split(".", 1)[1]
        return service_field


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("Why is the referral withdrawn?"), widget=forms.Textarea(attrs={"rows": 2})
    )


class UrgentForm(forms.Form):
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    reason = forms.CharField(
        label=_("Reason for urgency"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AdmitForm(forms.Form):
    admitted_on = forms.DateField(label=_("Admitted"), widget=DATE, initial=timezone.localdate)
    phase = forms.ChoiceField(
        label=_("Starting phase"),
        choices=[
            (Phase.INDUCTION, Phase.INDUCTION.label),
            (Phase.MAINTENANCE, Phase.MAINTENANCE.label),
        ],
        help_text=_("Maintenance only for a patient already stabilised on diacetylmorphine."),
    )
    coordinator = forms.ChoiceField(label=_("Coordinator"), required=False)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].choices = [("", _("Later (within 7 days)")), *staff]


class CoordinatorForm(forms.Form):
    coordinator = forms.ChoiceField(label=_("Coordinator"))

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].choices = staff


class PhaseForm(forms.Form):
    phase = forms.ChoiceField(label=_("New phase"), choices=Phase.choices)
    on = forms.DateField(label=_("From"), widget=DATE, initial=timezone.localdate)


class TransferForm(forms.Form):
    clinic = forms.ChoiceField(label=_("To clinic"))
    on = forms.DateField(label=_("Date"), widget=DATE, initial=timezone.localdate)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].choices = clinics


class DischargeForm(forms.Form):
    ended_on = forms.DateField(label=_("Discharged"), widget=DATE, initial=timezone.localdate)
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=[(v, label) for v, label in EndReason.choices if v != EndReason.TRANSFER_HAB],
    )
    death_on = forms.DateField(
        label=_("Date of death"), widget=DATE, required=False, help_text=_("Only on death.")
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required on death."),
    )
