"""Every quantity on the dosing forms reads a decimal comma or point and refuses what it
cannot read without guessing, beside the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hab.dosing.forms import CorrectionForm, DoseForm, ObservationForm, TopUpForm

# (form, field, typed, read); the other fields are left out: only the number is checked.
READ = [
    (DoseForm, "dose_mg", "187,5", Decimal("187.5")),
    (DoseForm, "dose_mg", "187.5", Decimal("187.5")),
    (DoseForm, "breath_alcohol_permille", "0,25", Decimal("0.25")),
    (DoseForm, "respiratory_rate", "12", 12),
    (TopUpForm, "dose_mg", "30,5", Decimal("30.5")),
    (ObservationForm, "naloxone_mg", "0,4", Decimal("0.4")),
    (CorrectionForm, "dose_mg", "399,5", Decimal("399.5")),
]


def _form(cls, data):
    return cls(data, confirming=False) if cls is CorrectionForm else cls(data)


@pytest.mark.parametrize(("cls", "name", "typed", "read"), READ)
def test_a_dosing_quantity_is_read_as_typed(cls, name, typed, read):
    form = _form(cls, {name: typed})
    form.is_valid()
    assert name not in form.errors
    assert form.cleaned_data[name] == read


@pytest.mark.parametrize(("cls", "name", "_typed", "_read"), READ)
@pytest.mark.parametrize("typed", ["1.000,5", "12,5x", "1,2,3"])
def test_a_dosing_quantity_that_can_be_read_two_ways_is_refused(cls, name, _typed, _read, typed):
    form = _form(cls, {name: typed})
    assert not form.is_valid()
    assert form.errors[name]
    assert name not in form.cleaned_data


def test_a_respiratory_rate_with_a_comma_is_refused_not_multiplied():
    form = DoseForm({"respiratory_rate": "1,2"})
    form.is_valid()
    assert form.errors["respiratory_rate"]
