"""A prescription and a protocol version read a decimal comma or point exactly and refuse
an amount that can be read two ways, beside the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hab.prescribing.forms import PrescriptionForm, ProtocolForm

pytestmark = pytest.mark.django_db


def test_a_prescription_reads_the_decimal_comma(clinics):
    slots = clinics["oslo"].slots.all()
    dose = f"dose_{slots[0].code}"
    form = PrescriptionForm(
        {"daily_max_mg": "1 000,5", dose: "399,5", "titration_step_mg": "12.5"}, slots=slots
    )
    form.is_valid()
    assert form.cleaned_data["daily_max_mg"] == Decimal("1000.5")
    assert form.cleaned_data[dose] == Decimal("399.5")
    assert form.cleaned_data["titration_step_mg"] == Decimal("12.5")


def test_a_prescription_refuses_an_ambiguous_dose_beside_the_field(clinics):
    slots = clinics["oslo"].slots.all()
    dose = f"dose_{slots[0].code}"
    form = PrescriptionForm({"daily_max_mg": "1.000,5", dose: "1,500"}, slots=slots)
    assert not form.is_valid()
    assert form.errors["daily_max_mg"] and form.errors[dose]


def test_a_protocol_setting_reads_a_comma_and_refuses_a_fraction_of_minutes():
    form = ProtocolForm(
        {"breath_alcohol_max_permille": "0,2", "observation_minutes": "20,5"}, doctors=[]
    )
    form.is_valid()
    assert form.cleaned_data["breath_alcohol_max_permille"] == Decimal("0.2")
    assert form.errors["observation_minutes"]
    assert "breath_alcohol_max_permille" not in form.errors
