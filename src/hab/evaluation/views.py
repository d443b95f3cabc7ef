"""The evaluation dashboard: every indicator for the programme or one clinic and a period,
its charts, the forms for cost inputs and grants, and the annual report as a PDF."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.errors import Forbidden, Invalid
from hab.core.formats import number
from hab.core.models import Clinic
from hab.core.numbers import NumberError, parse_decimal
from hab.core.policy import Action
from hab.core.web import form_page, staff_view, web_actor
from hab.evaluation import charts, costbenefit, indicators, report, selectors, services
from hab.evaluation.forms import CostInputForm, GrantForm


def _period(request: HttpRequest) -> tuple[indicators.Period, str]:
    try:
        return selectors.period(request.GET.get("from"), request.GET.get("to")), ""
    except Invalid as problem:
        return selectors.period(None, None), problem.message


def _consented_only(request: HttpRequest) -> bool:
    """The follow-up outcomes of consenting patients only (``?outcomes=consented``): the
    programme's published evaluation may use only their answers. Anything else is all
    patients, the default."""
    return request.GET.get("outcomes") == "consented"


UNIT_LABELS = {
    "cost_per_crime_day": gettext_lazy("NOK per day of crime"),
    "cost_per_hospital_day": gettext_lazy("NOK per day in hospital"),
    "cost_per_overdose": gettext_lazy("NOK per overdose"),
    "lar_cost_per_patient_year": gettext_lazy("LAR: NOK per patient-year"),
    "lar_effect_share": gettext_lazy("Share of HAB's effect that LAR would achieve (0–1)"),
}


def _unit_costs(request: HttpRequest) -> tuple[dict[str, float], str]:
    """The unit costs the user entered for the cost-benefit model (query string)."""
    values: dict[str, float] = {}
    for name, (low, high) in costbenefit.USER_INPUTS.items():
        raw = (request.GET.get(name) or "").strip()
        if not raw:
            continue
        try:
            # The shared parser: "12 000,5" and "12000.5" are read, "1.000,5" refused.
            value = float(parse_decimal(raw))
        except NumberError:
            value = float("nan")
        if not low <= value <= high:  # also refuses NaN
            return {}, _("%(name)s must be a number from %(low)s to %(high)s.") % {
                "name": UNIT_LABELS[name],
                "low": number(low),
                "high": number(high),
            }
        values[name] = value
    return values, ""


@staff_view
def dashboard(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("clinic", "")
    clinics, programme = selectors.scope(request.user, code)
    everywhere, _p = selectors.scope(request.user)
    period, error = _period(request)
    unit_costs, cost_error = _unit_costs(request)
    threshold = selectors.small_number_threshold(request.user, clinics)
    consented_only = _consented_only(request)
    context = report.context(
        clinics,
        period,
        programme=programme,
        unit_costs=unit_costs,
        threshold=threshold,
        consented_only=consented_only,
    )
    query = {"clinic": code, "from": period.start.isoformat(), "to": period.end.isoformat()}
    if consented_only:
        query["outcomes"] = "consented"
    context |= {
        "code": code,
        "consented_only": consented_only,
        "choices": everywhere,
        "error": error or cost_error,
        "unit_costs": [
            (name, UNIT_LABELS[name], unit_costs.get(name, getattr(costbenefit.Inputs, name)))
            for name in costbenefit.USER_INPUTS
        ],
        "unit_query": urlencode(unit_costs),
        "charts": [
            {
                "src": reverse("evaluation:chart", args=[name]) + "?" + urlencode(query),
                "alt": charts.alt_text(name, context["d"]),
            }
            for name in charts.CHARTS
        ],
        "report_year": period.end.year,
        "report_query": urlencode(
            {"year": period.end.year}
            | ({"clinic": code} if code else {})
            | ({"outcomes": "consented"} if consented_only else {})
            | unit_costs
        ),
        "can_edit_costs": bool(policy.clinic_ids_where(request.user, Action.COSTS_EDIT)),
    }
    return render(request, "evaluation/dashboard.html", context)


@staff_view
def chart(request: HttpRequest, name: str) -> HttpResponse:
    if name not in charts.CHARTS:
        raise Http404(_("No such chart."))
    clinics, programme = selectors.scope(request.user, request.GET.get("clinic", ""))
    period, _error = _period(request)
    threshold = selectors.small_number_threshold(request.user, clinics)
    data, _withheld = selectors.indicator_values(
        clinics,
        period,
        programme=programme,
        threshold=threshold,
        consented_only=_consented_only(request),
    )
    response = HttpResponse(charts.svg(name, data), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view
def report_pdf(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("clinic", "")
    clinics, programme = selectors.scope(request.user, code)
    try:
        year = int(request.GET.get("year") or clock.today().year)
    except ValueError:
        raise Http404(_("No such year.")) from None
    if not services.FIRST_YEAR <= year <= min(services.LAST_YEAR, clock.today().year):
        raise Http404(_("No such year."))
    lang = "en" if (get_language() or "").startswith("en") else "nb"
    unit_costs, _error = _unit_costs(request)
    pdf = report.pdf(
        clinics,
        year,
        programme=programme,
        lang=lang,
        unit_costs=unit_costs,
        threshold=selectors.small_number_threshold(request.user, clinics),
        consented_only=_consented_only(request),
    )
    name = f"hab-evaluering-{code or 'programmet'}-{year}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _editable_clinics(request: HttpRequest):
    ids = policy.clinic_ids_where(request.user, Action.COSTS_EDIT)
    if not ids:
        raise Forbidden(_("Your role does not give access to this."))
    return Clinic.objects.filter(pk__in=ids).order_by("name")


@staff_view
def cost_new(request: HttpRequest) -> HttpResponse:
    clinics = _editable_clinics(request)
    form = CostInputForm(request.POST or None, clinics=clinics)

    def save(data: dict) -> HttpResponse:
        services.cost_input_record(actor=web_actor(request), **data)
        return redirect(reverse("evaluation:dashboard") + f"?clinic={data['clinic'].code}")

    return form_page(
        request,
        form,
        title=_("Enter a cost"),
        cancel_url=reverse("evaluation:dashboard"),
        save=save,
        intro=_("A change is a new entry: the newest for a clinic, year and category is used."),
    )


@staff_view
def grant_new(request: HttpRequest) -> HttpResponse:
    clinics = _editable_clinics(request)
    form = GrantForm(request.POST or None, clinics=clinics)

    def save(data: dict) -> HttpResponse:
        services.grant_record(actor=web_actor(request), **data)
        return redirect("evaluation:dashboard")

    return form_page(
        request,
        form,
        title=_("Enter a grant"),
        cancel_url=reverse("evaluation:dashboard"),
        save=save,
    )
