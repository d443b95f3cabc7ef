"""The naloxone given in an incident is read as typed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hab.core.models import Clinic
from hab.incidents.forms import IncidentForm

pytestmark = pytest.mark.django_db


def test_naloxone_reads_a_decimal_comma(clinics):
    form = IncidentForm({"naloxone_mg": "0,4", "naloxone_doses": "2"}, clinic=clinics["oslo"])
    form.is_valid()
    assert form.cleaned_data["naloxone_mg"] == Decimal("0.4")
    assert form.cleaned_data["naloxone_doses"] == 2


@pytest.mark.parametrize(("field", "typed"), [("naloxone_mg", "0.4,0"), ("naloxone_doses", "1,5")])
def test_naloxone_that_can_not_be_read_exactly_is_refused(clinics, field, typed):
    form = IncidentForm({field: typed}, clinic=Clinic.objects.get(code="oslo"))
    assert not form.is_valid()
    assert form.errors[field]
