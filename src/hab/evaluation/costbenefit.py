"""The societal cost-benefit model, as pure functions (no Django).

Per patient-year: HAB's treatment cost against the value of the change since baseline in
days of crime, days in hospital and overdoses (each valued with a unit cost the user
enters), and the same against a LAR scenario with its own cost per patient-year. Changes
are annualised from the instrument's recall periods: crime days are over the last 30 days,
hospital days and overdoses over the last 3 months. A sensitivity table moves each
uncertain input by ±25 % and shows the net benefit then.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

# Recall periods of the hab_core items, turned into "per year".
PER_YEAR_FROM_30_DAYS = 365.25 / 30
PER_YEAR_FROM_3_MONTHS = 4.0
SENSITIVITY = 0.25


@dataclass(frozen=True)
class Assumption:
    name: str
    value: float
    unit: str
    source: str  # where the figure comes from, or "assumption"


@dataclass(frozen=True)
class Inputs:
    hab_cost_per_patient_year: float  # from the cost inputs of the period
    crime_days_change: float  # mean change since baseline, days in the last 30
    hospital_days_change: float  # days in the last 3 months
    overdoses_change: float  # overdoses in the last 3 months
    cost_per_crime_day: float = 5_000.0
    cost_per_hospital_day: float = 12_000.0
    cost_per_overdose: float = 25_000.0
    lar_cost_per_patient_year: float = 105_800.0
    # The share of HAB's change that LAR would have achieved for these patients, who by
    # the intake criteria did not stabilise in LAR before.
    lar_effect_share: float = 0.0


def gettext_noop(text: str) -> str:
    """Marks text for the translation catalogue (Django's makemessages finds the name)
    without importing Django: the pages translate it where they show it
    (evaluation/report.py)."""
    return text


# What each input is called, where its figure comes from and its unit, in English.
LABELS = {
    "hab_cost_per_patient_year": gettext_noop("HAB cost per patient-year"),
    "crime_days_change": gettext_noop("Change in days with crime"),
    "hospital_days_change": gettext_noop("Change in days in hospital"),
    "overdoses_change": gettext_noop("Change in overdoses"),
    "cost_per_crime_day": gettext_noop("Cost per day with crime"),
    "cost_per_hospital_day": gettext_noop("Cost per day in hospital"),
    "cost_per_overdose": gettext_noop("Cost per overdose"),
    "lar_cost_per_patient_year": gettext_noop("LAR cost per patient-year"),
    "lar_effect_share": gettext_noop("Share of HAB's effect that LAR would achieve"),
}
ASSUMPTION = gettext_noop("assumption")
SOURCES = {
    "hab_cost_per_patient_year": gettext_noop("HAB cost inputs (this period)"),
    "crime_days_change": gettext_noop(
        "HAB follow-up interviews (mean change, 12 months or 6 months)"
    ),
    "hospital_days_change": gettext_noop("HAB follow-up interviews (mean change)"),
    "overdoses_change": gettext_noop("HAB follow-up interviews (mean change)"),
    "cost_per_crime_day": ASSUMPTION,
    "cost_per_hospital_day": ASSUMPTION,
    "cost_per_overdose": ASSUMPTION,
    "lar_cost_per_patient_year": gettext_noop(
        "SERAF report quoted by fmr.no (2009–11): LAR about NOK 105,800 per patient-year"
    ),
    "lar_effect_share": ASSUMPTION,
}
UNITS = {
    "hab_cost_per_patient_year": "NOK",
    "crime_days_change": gettext_noop("days in 30 days"),
    "hospital_days_change": gettext_noop("days in 3 months"),
    "overdoses_change": gettext_noop("per 3 months"),
    "cost_per_crime_day": "NOK",
    "cost_per_hospital_day": "NOK",
    "cost_per_overdose": "NOK",
    "lar_cost_per_patient_year": "NOK",
    "lar_effect_share": gettext_noop("share"),
}


@dataclass(frozen=True)
class Result:
    avoided_crime_nok: float
    avoided_hospital_nok: float
    avoided_overdose_nok: float
    benefit_nok: float  # value of the changes per patient-year
    net_benefit_nok: float  # benefit − HAB cost
    lar_benefit_nok: float
    lar_net_benefit_nok: float
    incremental_cost_nok: float  # HAB − LAR
    incremental_net_benefit_nok: float  # (HAB − LAR) net benefit


def evaluate(inputs: Inputs) -> Result:
    """A fall (negative change) is a saving: benefit = −change × per year × unit cost."""
    crime = -inputs.crime_days_change * PER_YEAR_FROM_30_DAYS * inputs.cost_per_crime_day
    hospital = -inputs.hospital_days_change * PER_YEAR_FROM_3_MONTHS * inputs.cost_per_hospital_day
    overdose = -inputs.overdoses_change * PER_YEAR_FROM_3_MONTHS * inputs.cost_per_overdose
    benefit = crime + hospital + overdose
    lar_benefit = benefit * inputs.lar_effect_share
    net = benefit - inputs.hab_cost_per_patient_year
    lar_net = lar_benefit - inputs.lar_cost_per_patient_year
    return Result(
        avoided_crime_nok=round(crime, 2),
        avoided_hospital_nok=round(hospital, 2),
        avoided_overdose_nok=round(overdose, 2),
        benefit_nok=round(benefit, 2),
        net_benefit_nok=round(net, 2),
        lar_benefit_nok=round(lar_benefit, 2),
        lar_net_benefit_nok=round(lar_net, 2),
        incremental_cost_nok=round(
            inputs.hab_cost_per_patient_year - inputs.lar_cost_per_patient_year, 2
        ),
        incremental_net_benefit_nok=round(net - lar_net, 2),
    )


def assumptions(inputs: Inputs) -> list[Assumption]:
    return [
        Assumption(f.name, getattr(inputs, f.name), UNITS[f.name], SOURCES[f.name])
        for f in fields(inputs)
    ]


def sensitivity(inputs: Inputs, share: float = SENSITIVITY) -> list[dict]:
    """Each input moved down and up by ``share``, the others held: the net benefit of HAB
    and of HAB over LAR at each end."""
    rows = []
    for f in fields(inputs):
        value = getattr(inputs, f.name)
        low = evaluate(replace(inputs, **{f.name: value * (1 - share)}))
        high = evaluate(replace(inputs, **{f.name: value * (1 + share)}))
        rows.append(
            {
                "input": f.name,
                "low_value": round(value * (1 - share), 2),
                "high_value": round(value * (1 + share), 2),
                "net_benefit_low": low.net_benefit_nok,
                "net_benefit_high": high.net_benefit_nok,
                "incremental_low": low.incremental_net_benefit_nok,
                "incremental_high": high.incremental_net_benefit_nok,
            }
        )
    return rows


# The inputs a user may set (each with its allowed range).
USER_INPUTS = {
    "cost_per_crime_day": (0.0, 1_000_000.0),
    "cost_per_hospital_day": (0.0, 1_000_000.0),
    "cost_per_overdose": (0.0, 10_000_000.0),
    "lar_cost_per_patient_year": (0.0, 10_000_000.0),
    "lar_effect_share": (0.0, 1.0),
}


def from_indicators(data: dict, **unit_costs: float) -> Inputs | None:
    """The model's inputs from the indicators (12-month changes, else 6-month), or None
    when the cost per patient-year is unknown."""
    cost = data["costs"]["per_patient_year_nok"]
    if cost is None:
        return None
    outcomes = data["outcomes"]

    def change(code: str) -> float:
        for timepoint in ("m12", "m6"):
            value = outcomes[timepoint][code]["mean_change"]
            if value is not None:
                return float(value)
        return 0.0

    return Inputs(
        hab_cost_per_patient_year=float(cost),
        crime_days_change=change("crime_days"),
        hospital_days_change=change("hospital_days"),
        overdoses_change=change("overdose_count"),
        **unit_costs,
    )
