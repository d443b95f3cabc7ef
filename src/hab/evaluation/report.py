"""The annual report as a PDF (WeasyPrint): the year's indicators for the programme or a
clinic, the charts embedded as data URIs, the costs and grants, the cost-benefit result
with its sensitivity table and every assumption. Norwegian unless asked otherwise."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from hab.core import clock
from hab.core.models import Clinic
from hab.evaluation import charts, costbenefit, indicators, selectors


def context(
    clinics: list[Clinic],
    period: indicators.Period,
    *,
    programme: bool,
    unit_costs: dict[str, float] | None = None,
) -> dict:
    """What the dashboard and the report show (in the active language). ``unit_costs``
    are the user's values for the model's unit costs (the defaults otherwise)."""
    data = indicators.compute(clinics, period, programme=programme)
    model = costbenefit.from_indicators(data, **(unit_costs or {}))
    return {
        "d": data,
        "period": period,
        "clinic_names": [clinic.name for clinic in clinics],
        "model": model and costbenefit.evaluate(model),
        "assumptions": model and costbenefit.assumptions(model),
        "sensitivity": model and costbenefit.sensitivity(model),
        "grants": data["costs"]["grants"],
        "outcome_rows": [
            (code, data["outcomes"]["m6"][code], data["outcomes"]["m12"][code])
            for code in indicators.OUTCOME_ITEMS
        ],
    }


def pdf(
    clinics: list[Clinic],
    year: int,
    *,
    programme: bool,
    lang: str = "nb",
    unit_costs: dict[str, float] | None = None,
) -> bytes:
    from weasyprint import HTML

    with translation.override(lang):
        ctx = context(
            clinics, selectors.year_period(year), programme=programme, unit_costs=unit_costs
        )
        ctx |= {
            "year": year,
            "programme": programme,
            "printed_at": clock.now(),
            "charts": [
                {"src": charts.data_uri(name, ctx["d"]), "alt": charts.alt_text(name, ctx["d"])}
                for name in charts.CHARTS
            ],
            "lang": lang,
        }
        html = render_to_string("evaluation/report.html", ctx)
    return HTML(string=html).write_pdf()
