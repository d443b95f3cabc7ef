from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hab.core import policy
from hab.core.formats import mg_text
from hab.core.forms import QuantityField
from hab.core.models import Clinic, User
from hab.core.policy import Action
from hab.core.web import far_off
from hab.prescribing.models import Medication
from hab.stock.models import Batch, Form, Kind, Product


def _batch_choices(clinic: Clinic, lines) -> list[tuple[str, str]]:
    return [("", _("Choose a batch"))] + [
        (
            str(line.batch.pk),
            f"{line.product.name} · {line.batch.lot} · {mg_text(line.balance_mg)} mg",
        )
        for line in lines
    ]


def witnesses(clinic: Clinic, user: User, action: Action) -> list[tuple[str, str]]:
    """Everyone else at the clinic who may witness: they handle controlled drugs there."""
    people = (
        User.objects.filter(memberships__clinic=clinic, is_active=True)
        .exclude(pk=user.pk)
        .distinct()
        .order_by("first_name", "last_name")
    )
    return [("", _("Choose the second person"))] + [
        (p.username, f"{p.get_full_name() or p.username} ({p.username})")
        for p in people
        if policy.can(p, action, clinic)
    ]


class BatchForm(forms.Form):
    """A form about one batch: ``batch`` is chosen from the clinic's batches."""

    batch = forms.ChoiceField(label=_("Product and batch"))

    def __init__(self, *args, clinic: Clinic, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["batch"].choices = _batch_choices(clinic, lines)

    def chosen(self) -> Batch:
        return Batch.objects.select_related("product").get(
            pk=self.cleaned_data["batch"], product__clinic=self.clinic
        )

    def field_for(self, name: str) -> str:
        return {"product": "batch"}.get(name, name)


class WitnessedMixin:
    def add_witness(self, clinic: Clinic, user: User, action: Action, label) -> None:
        self.fields["witness"] = forms.ChoiceField(
            label=label, choices=witnesses(clinic, user, action)
        )
        self.fields["witness_password"] = forms.CharField(
            label=_("The second person's password"),
            widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
            help_text=_("The second person confirms with their own password."),
        )


class ReceiptForm(forms.Form):
    product = forms.ChoiceField(label=_("Product"))
    batch = forms.CharField(label=_("Batch number"), max_length=40)
    expires_on = forms.DateField(
        label=_("Expiry date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Needed for a batch not received before."),
    )
    quantity_mg = QuantityField(label=_("Quantity (mg)"), decimal_places=1, min_value=0.1)
    reference = forms.CharField(label=_("Delivery reference"), max_length=100, required=False)

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", _("Choose a product"))] + [
            (p.code, p.name) for p in Product.objects.filter(clinic=clinic).order_by("name")
        ]


class WasteForm(WitnessedMixin, BatchForm):
    quantity_mg = QuantityField(label=_("Quantity wasted (mg)"), decimal_places=1)
    reason = forms.CharField(
        label=_("What was wasted and why"),
        max_length=300,
        help_text=_("E.g. the rest of a partial dose, a spill, expired stock."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_witness(self.clinic, user, Action.STOCK_WASTE, _("Witness"))


class CountForm(WitnessedMixin, BatchForm):
    counted_mg = QuantityField(label=_("Counted (mg)"), decimal_places=1, min_value=0)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_witness(self.clinic, user, Action.STOCK_COUNT, _("Second counter"))


class TransferForm(BatchForm):
    to_clinic = forms.ChoiceField(label=_("To clinic"))
    quantity_mg = QuantityField(label=_("Quantity (mg)"), decimal_places=1)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_clinic"].choices = [("", _("Choose a clinic"))] + [
            (c.code, c.name) for c in Clinic.objects.exclude(pk=self.clinic.pk).order_by("name")
        ]


class AdjustmentForm(BatchForm):
    quantity_mg = QuantityField(
        label=_("Change (mg)"),
        decimal_places=1,
        keyboard="text",  # a minus sign is needed
        help_text=_("Negative takes from the book, positive adds to it."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ResolveForm(forms.Form):
    explanation = forms.CharField(
        label=_("Explanation"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    adjust = forms.BooleanField(
        label=_("The count is right: adjust the book by the difference"), required=False
    )


class ProductForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40, help_text=_("E.g. dam-inj-10g."))
    name = forms.CharField(label=_("Name"), max_length=120)
    medication = forms.ChoiceField(label=_("Medication"), choices=Medication.choices)
    form = forms.ChoiceField(label=_("Form"), choices=Form.choices)
    concentration_mg_per_ml = QuantityField(
        label=_("Concentration (mg/ml)"),
        required=False,
        decimal_places=2,
        help_text=_("For powder once reconstituted, or an oral solution."),
    )
    fest_dose_id = forms.CharField(
        label=_("FEST medication dose id"),
        max_length=40,
        required=False,
        help_text=_("From FEST, for reports to Legemiddelregisteret. Empty if FEST lacks it."),
    )
    fest_lmr_number = forms.CharField(label=_("LMR number"), max_length=7, required=False)
    fest_item_number = forms.CharField(
        label=_("Item number (varenummer)"), max_length=6, required=False
    )


class LedgerFilterForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All"))] + Kind.choices
    )
    user = forms.ChoiceField(label=_("Recorded by"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)

    def __init__(self, *args, clinic: Clinic, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.filter(memberships__clinic=clinic).distinct().order_by("username")
        self.fields["user"].choices = [("", _("Everyone"))] + [
            (u.username, u.username) for u in staff
        ]
        self.fields["product"].choices = [("", _("All"))] + [
            (p.code, p.name) for p in Product.objects.filter(clinic=clinic).order_by("name")
        ]

    def _day(self, name: str):
        day = self.cleaned_data.get(name)
        if day is not None and (problem := far_off(day)):
            raise forms.ValidationError(problem)
        return day

    def clean_date_from(self):
        return self._day("date_from")

    def clean_date_to(self):
        return self._day("date_to")
