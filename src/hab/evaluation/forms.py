"""The forms for entering a cost input and a grant (the service checks the figures)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hab.core import clock
from hab.core.forms import QuantityField, WholeNumberField
from hab.core.models import Clinic
from hab.evaluation.models import Category


def _year() -> WholeNumberField:
    return WholeNumberField(label=_("Year"), initial=lambda: clock.today().year)


class CostInputForm(forms.Form):
    clinic = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), to_field_name="code"
    )
    year = _year()
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    amount_nok = QuantityField(
        label=_("Amount (NOK)"),
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text=_("For staff, you may give FTEs and cost per FTE instead."),
    )
    fte = QuantityField(label=_("FTEs"), required=False, max_digits=7, decimal_places=2)
    cost_per_fte = QuantityField(
        label=_("Cost per FTE (NOK)"), required=False, max_digits=12, decimal_places=2
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics


class GrantForm(forms.Form):
    funder = forms.CharField(label=_("Funder"), max_length=120)
    year = _year()
    amount_nok = QuantityField(label=_("Amount (NOK)"), max_digits=14, decimal_places=2)
    clinic = forms.ModelChoiceField(
        label=_("Clinic"),
        queryset=Clinic.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("The programme (every clinic)"),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
