"""Forms only parse and render; the rules live in services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from hab.core.name_fields import PersonNameField
from hab.patients.models import ConsentKind


class PatientCreateForm(forms.Form):
    national_id = forms.CharField(
        label=_("National id (fødselsnummer or D-number)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    given_name = PersonNameField(label=_("Given name"), max_length=100)
    family_name = PersonNameField(label=_("Family name"), max_length=100)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        help_text=_("Only needed when the national id does not show the birth year."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    photo = forms.ImageField(label=_("Photo for identity check"), required=False)


class PatientEditForm(forms.Form):
    given_name = PersonNameField(label=_("Given name"), max_length=100)
    family_name = PersonNameField(label=_("Family name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    photo = forms.ImageField(label=_("New photo for identity check"), required=False)


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Consent"), choices=ConsentKind.choices)
    given = forms.TypedChoiceField(
        label=_("Status"),
        choices=[("1", _("Given")), ("0", _("Withdrawn"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class RelativeForm(forms.Form):
    name = PersonNameField(label=_("Name"), max_length=150)
    relation = forms.CharField(
        label=_("Relation"), max_length=60, help_text=_("For example mother, partner, friend.")
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    is_next_of_kin = forms.BooleanField(label=_("Next of kin"), required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class AccessReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to open this record?"),
        min_length=10,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("You have no care relationship with this patient. Your reason is logged."),
    )


class AccessLogReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you read the access log?"),
        min_length=10,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Asked every time. Your reason is written to the access log."),
    )
