"""The evaluation dashboard: every indicator for the programme or one clinic and a period."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hab.core.errors import Invalid
from hab.core.web import staff_view
from hab.evaluation import costbenefit, indicators, selectors


@staff_view
def dashboard(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("clinic", "")
    clinics, programme = selectors.scope(request.user, code)
    everywhere, _p = selectors.scope(request.user)
    error = ""
    try:
        period = selectors.period(request.GET.get("from"), request.GET.get("to"))
    except Invalid as problem:
        error = problem.message
        period = selectors.period(None, None)
    data = indicators.compute(clinics, period, programme=programme)
    model = costbenefit.from_indicators(data)
    return render(
        request,
        "evaluation/dashboard.html",
        {
            "d": data,
            "period": period,
            "code": code,
            "choices": everywhere,
            "error": error,
            "model": model and costbenefit.evaluate(model),
            "assumptions": model and costbenefit.assumptions(model),
            "sensitivity": model and costbenefit.sensitivity(model),
        },
    )
