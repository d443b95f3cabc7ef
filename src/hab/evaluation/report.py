"""The annual report as a PDF (WeasyPrint): the year's indicators for the programme or a
clinic, the charts embedded as data URIs, the costs and grants, the cost-benefit result
with its sensitivity table and every assumption. Norwegian unless asked otherwise."""

from __future__ import annotations

from dataclasses import replace

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from hab.core import clock
from hab.core.models import Clinic
from hab.evaluation import charts, costbenefit, disclosure, indicators, selectors
from hab.evaluation.models import Category
from hab.intake.models import Phase


def context(
    clinics: list[Clinic],
    period: indicators.Period,
    *,
    programme: bool,
    unit_costs: dict[str, float] | None = None,
    threshold: int | None = None,
    consented_only: bool = False,
) -> dict:
    """What the dashboard and the report show (in the active language). ``unit_costs``
    are the user's values for the model's unit costs (the defaults otherwise);
    ``threshold``: counts under it are withheld (``selectors.small_number_threshold``).
    ``d`` is for display (a withheld value is a text: "< 5", "withheld"); ``data`` has
    None there, for the charts. ``consented_only``: follow-up outcomes only of patients
    with research consent."""
    data, withheld = selectors.indicator_values(
        clinics, period, programme=programme, threshold=threshold, consented_only=consented_only
    )
    model = costbenefit.from_indicators(data, **(unit_costs or {}))
    shown = disclosure.shown(
        data,
        withheld,
        below=f"< {threshold}",  # the same in every language
        hidden=gettext("withheld"),
    )
    return {
        "d": shown,
        "data": data,
        "threshold": threshold if withheld else None,
        "period": period,
        "clinic_names": [clinic.name for clinic in clinics],
        "model": model and costbenefit.evaluate(model),
        # The model's inputs by their names in the active language, not their codes.
        "assumptions": model
        and [
            replace(
                a,
                name=gettext(costbenefit.LABELS[a.name]),
                unit=gettext(a.unit),
                source=gettext(a.source),
            )
            for a in costbenefit.assumptions(model)
        ],
        "sensitivity": model
        and [
            row | {"input": gettext(costbenefit.LABELS[row["input"]])}
            for row in costbenefit.sensitivity(model)
        ],
        "grants": data["costs"]["grants"],
        "phase_rows": [
            (Phase(code).label if code in Phase.values else code, mg)
            for code, mg in shown["dosing"]["mean_daily_dose_mg_by_phase"].items()
        ],
        "cost_rows": [
            (Category(code).label if code in Category.values else code, nok)
            for code, nok in data["costs"]["by_category_nok"].items()
        ],
        "outcome_rows": [
            (
                indicators.OUTCOME_LABELS[code],
                shown["outcomes"]["m6"][code],
                shown["outcomes"]["m12"][code],
            )
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
    threshold: int | None = None,
    consented_only: bool = False,
) -> bytes:
    from weasyprint import HTML

    with translation.override(lang):
        ctx = context(
            clinics,
            selectors.year_period(year),
            programme=programme,
            unit_costs=unit_costs,
            threshold=threshold,
            consented_only=consented_only,
        )
        ctx |= {
            "year": year,
            "programme": programme,
            "printed_at": clock.now(),
            "charts": [
                {"src": charts.data_uri(name, ctx["data"]), "alt": charts.alt_text(name, ctx["d"])}
                for name in charts.CHARTS
            ],
            "lang": lang,
        }
        html = render_to_string("evaluation/report.html", ctx)
    return HTML(string=html).write_pdf()
