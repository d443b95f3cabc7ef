"""Costs and FTEs read a decimal comma or point exactly and refuse what is ambiguous."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hab.core.models import Clinic
from hab.evaluation.forms import CostInputForm, GrantForm

pytestmark = pytest.mark.django_db


def test_a_cost_input_reads_a_decimal_comma_and_thousands_spaces(clinics):
    form = CostInputForm(
        {"amount_nok": "1 250 000,50", "fte": "2,5", "cost_per_fte": "850000.75", "year": "2026"},
        clinics=Clinic.objects.all(),
    )
    form.is_valid()
    assert form.cleaned_data["amount_nok"] == Decimal("1250000.5")
    assert form.cleaned_data["fte"] == Decimal("2.5")
    assert form.cleaned_data["cost_per_fte"] == Decimal("850000.75")
    assert form.cleaned_data["year"] == 2026


@pytest.mark.parametrize("typed", ["1.250.000,50", "1,250,000.50", "2,5 FTE"])
def test_a_cost_that_can_be_read_two_ways_is_refused(clinics, typed):
    form = GrantForm({"amount_nok": typed}, clinics=Clinic.objects.all())
    assert not form.is_valid()
    assert form.errors["amount_nok"]
