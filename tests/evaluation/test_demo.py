"""The demo's costs and grants: every clinic and year has its four cost inputs, 2022's
grants are the seeds', and the dashboard's figures are real numbers."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from hab.core import clock
from hab.core.models import Clinic
from hab.evaluation import costbenefit, indicators, selectors
from hab.evaluation.models import CostInput, Grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEMO_PASSWORD = "demo-pass-2026"
    call_command("demo", "--scale", "0.1", stdout=io.StringIO())


def test_the_demo_has_costs_and_grants_for_every_year(demo):
    years = range(2022, clock.today().year + 1)
    for clinic in Clinic.objects.all():
        for year in years:
            found = set(
                CostInput.objects.filter(clinic=clinic, year=year).values_list(
                    "category", flat=True
                )
            )
            assert found == {"staff", "medication", "premises", "other"}
    staff = CostInput.objects.filter(category="staff").first()
    assert staff.amount_nok == (staff.fte * staff.cost_per_fte).quantize(Decimal("0.01"))
    seeds = {g.funder: g.amount_nok for g in Grant.objects.filter(year=2022)}
    assert seeds == {
        "Helse Sør-Øst": Decimal("36700000.00"),
        "Helse Vest": Decimal("18300000.00"),
        "Helsedirektoratet": Decimal("5000000.00"),
    }
    assert Grant.objects.filter(year=clock.today().year).count() == 3


def test_the_dashboard_shows_a_cost_per_patient_year(demo):
    clinics = list(Clinic.objects.all())
    period = selectors.year_period(clock.today().year - 1)
    data = indicators.compute(clinics, period, programme=True)
    assert 150_000 < data["costs"]["per_patient_year_nok"] < 1_500_000
    assert costbenefit.from_indicators(data) is not None
    assert {g["funder"] for g in data["costs"]["grants"]} == {
        "Helse Sør-Øst",
        "Helse Vest",
        "Helsedirektoratet",
    }
