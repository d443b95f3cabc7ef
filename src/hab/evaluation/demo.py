"""Demo part of the evaluation: each demo clinic's cost inputs for every year of the demo
(staff as FTEs × cost per FTE, medication as NOK per mg × the mg given, premises, other)
and the grants: 2022 as the seeds give them (Helse Sør-Øst NOK 36.7 mill, Helse Vest
18.3 mill, Helsedirektoratet 5 mill for the evaluation), later years alike. Staffing
follows the patients each clinic had that year, so the cost per patient-year is of the
order the SERAF report expected for a heroin programme. Bulk-inserted: the figures are
imported from the budget, as a clinic starting to use HAB would."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Sum

from hab.core import clock
from hab.dosing.models import Administration
from hab.dosing.rules import TAKEN
from hab.evaluation import indicators
from hab.evaluation.models import Category, CostInput, Grant

COST_PER_FTE = Decimal("950000")  # salary, social costs and pension per FTE (NOK)
FTE_PER_PATIENT = Decimal("0.16")  # two slots a day, every day of the year
MIN_FTE = Decimal("6")  # a clinic open every day needs this many, however few patients
NOK_PER_MG = Decimal("0.45")  # diacetylmorphine, ampoules and tablets (assumption)
MEAN_DAILY_MG = 420  # for the years before the dose history the demo holds
PREMISES = {"oslo": Decimal("2400000"), "bergen": Decimal("1350000")}
OTHER_PER_PATIENT = Decimal("18000")  # urine tests, equipment, IT, travel
# funder, amount, clinic code (None: programme-wide), note
GRANTS = [
    ("Helse Sør-Øst", Decimal("36700000"), "oslo", "Drift av HAB Oslo"),
    ("Helse Vest", Decimal("18300000"), "bergen", "Drift av HAB Bergen"),
    ("Helsedirektoratet", Decimal("5000000"), None, "Følgeevaluering"),
]
FIRST_YEAR = 2022


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def contribute(ctx) -> None:
    today = clock.today()
    now = clock.now()
    programme = ctx.users["programme.oslo"]
    costs, grants = [], []
    for year in range(FIRST_YEAR, today.year + 1):
        period = indicators.Period(
            datetime.date(year, 1, 1), min(datetime.date(year, 12, 31), today)
        )
        # The current year is budgeted for the whole year.
        share = Decimal(365) / Decimal(period.days) if year == today.year else Decimal(1)
        for code, clinic in ctx.clinics.items():
            lead = ctx.users[f"clinic_lead.{code}"]
            people = indicators.patients([clinic.pk], period)
            patient_years = Decimal(str(people["patient_years"])) * share
            fte = max(MIN_FTE, (patient_years * FTE_PER_PATIENT).quantize(Decimal("0.1")))
            given = Administration.objects.filter(
                clinic=clinic,
                day__range=(period.start, period.end),
                status__in=TAKEN,
                corrections__isnull=True,
            ).aggregate(mg=Sum("dose_mg"))["mg"] or Decimal(0)
            mg = max(Decimal(given) * share, patient_years * 365 * MEAN_DAILY_MG).quantize(1)
            rows = [
                (Category.STAFF, _q(fte * COST_PER_FTE), fte, COST_PER_FTE, "Budsjett"),
                (
                    Category.MEDICATION,
                    _q(mg * NOK_PER_MG),
                    None,
                    None,
                    f"{NOK_PER_MG} kr/mg × {mg} mg",
                ),
                (Category.PREMISES, PREMISES.get(code, Decimal("1500000")), None, None, "Husleie"),
                (
                    Category.OTHER,
                    _q(max(Decimal(5), patient_years) * OTHER_PER_PATIENT),
                    None,
                    None,
                    "Urinprøver, utstyr, IT",
                ),
            ]
            for category, amount, f, rate, note in rows:
                costs.append(
                    CostInput(
                        clinic=clinic,
                        year=year,
                        category=category,
                        amount_nok=amount,
                        fte=f,
                        cost_per_fte=rate,
                        note=note,
                        recorded_at=now,
                        recorded_by=lead,
                    )
                )
        for funder, amount, code, note in GRANTS:
            if code is not None and code not in ctx.clinics:
                continue
            # Later years follow 2022 with the yearly price adjustment (about 3 %).
            grants.append(
                Grant(
                    funder=funder,
                    year=year,
                    amount_nok=_q(amount * Decimal("1.03") ** (year - FIRST_YEAR)),
                    clinic=ctx.clinics[code] if code else None,
                    note=note,
                    recorded_at=now,
                    recorded_by=programme,
                )
            )
    CostInput.objects.bulk_create(costs)
    Grant.objects.bulk_create(grants)
    ctx.log.append(f"Evaluation: {len(costs)} cost inputs and {len(grants)} grants.")
