"""The evaluation's charts, drawn on the server with matplotlib (Agg, no browser script and
no CDN): each takes the indicators (``indicators.compute``) and returns SVG bytes, with
large type so they read on a projector and print sharp. The dashboard shows them as
images with an alt text; the annual report embeds them as data URIs."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

from django.utils.translation import gettext as _
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from hab.core.formats import number
from hab.evaluation import costbenefit, indicators

STYLE = {
    "font.size": 15,
    "axes.titlesize": 17,
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text: smaller files, selectable, translatable
    "svg.hashsalt": "hab",  # the same data gives the same bytes
}
LAR_COST = costbenefit.Inputs.lar_cost_per_patient_year  # the model's default
BLUE, ORANGE, GREEN, GREY = "#1f5fa8", "#c15a00", "#2e7d32", "#6b6b6b"


def _figure() -> tuple[Figure, object]:
    figure = Figure(figsize=(7.5, 4.2), layout="constrained")
    return figure, figure.add_subplot()


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _empty(axes, text: str | None = None) -> None:
    axes.text(
        0.5,
        0.5,
        text or _("No data in this period"),
        ha="center",
        va="center",
        transform=axes.transAxes,
        color=GREY,
    )
    axes.set_xticks([])
    axes.set_yticks([])


def _nan(value: float | None) -> float:
    """A withheld or missing value is not drawn (never drawn as 0)."""
    return math.nan if value is None else value


def retention(data: dict) -> Figure:
    figure, axes = _figure()
    # Where small numbers are withheld the curve stops while few are still at risk.
    curve = [step for step in data["retention"]["curve"] if step["survival"] is not None]
    longest_days = data["retention"]["longest_days"]
    if longest_days is None:
        longest_days = curve[-1]["days"] if curve else 0
    longest = longest_days / indicators.DAYS_PER_MONTH
    axes.set_title(_("Still in HAB (Kaplan–Meier)"))
    if data["retention"]["courses"] is None:
        _empty(axes, _("Too few patients to show"))
        return figure
    if not data["retention"]["courses"]:
        _empty(axes)
        return figure
    times = [0.0] + [step["days"] / indicators.DAYS_PER_MONTH for step in curve] + [longest]
    values = [1.0] + [step["survival"] for step in curve]
    values.append(values[-1])
    axes.step(times, values, where="post", color=BLUE, linewidth=2.5)
    for months, value in data["retention"]["at_months"].items():
        if value is not None:
            axes.plot([int(months)], [value], "o", color=ORANGE, markersize=9)
            axes.annotate(
                f"{value:.0%}",
                (int(months), value),
                textcoords="offset points",
                xytext=(0, 10),
                ha="center",
            )
    axes.set_ylim(0, 1.08)
    axes.set_xlim(0, max(24.5, longest))
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel(_("Months since admission"))
    axes.set_xticks([0, 3, 6, 12, 24] + ([36] if longest > 36 else []))
    return figure


def activity(data: dict) -> Figure:
    figure, axes = _figure()
    months = data["monthly"]
    axes.set_title(_("Patients in treatment and attendance per month"))
    labels = [m["month"] for m in months]
    axes.bar(labels, [_nan(m["active"]) for m in months], color=BLUE, label=_("Patients"))
    axes.set_ylabel(_("Patients"))
    right = axes.twinx()
    right.plot(
        labels,
        [_nan(m["attendance"]) for m in months],
        "o-",
        color=ORANGE,
        linewidth=2.5,
        label=_("Attendance"),
    )
    right.set_ylim(0, 1.05)
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    right.set_ylabel(_("Attendance"))
    right.spines["right"].set_visible(True)
    _thin_ticks(axes, labels)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return figure


def _thin_ticks(axes, labels: list[str]) -> None:
    step = max(1, len(labels) // 8)
    axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=30, ha="right")


def doses(data: dict) -> Figure:
    figure, axes = _figure()
    bins = data["dosing"]["daily_dose_histogram"]
    axes.set_title(_("Daily diacetylmorphine dose (days with a dose)"))
    if not bins:
        _empty(axes)
        return figure
    axes.bar(
        [b["from_mg"] for b in bins],
        [_nan(b["patient_days"]) for b in bins],
        width=[b["to_mg"] - b["from_mg"] for b in bins],
        align="edge",
        color=BLUE,
        edgecolor="white",
    )
    axes.set_xlabel(_("mg per day"))
    axes.set_ylabel(_("Patient-days"))
    return figure


def incidents(data: dict) -> Figure:
    figure, axes = _figure()
    months = data["monthly"]
    labels = [m["month"] for m in months]
    axes.set_title(_("Incidents per 1,000 doses given, per month"))
    axes.plot(
        labels,
        [_nan(m["incidents_per_1000_administrations"]) for m in months],
        "o-",
        color=ORANGE,
        linewidth=2.5,
    )
    axes.set_ylim(bottom=0)
    _thin_ticks(axes, labels)
    return figure


OUTCOME_LABELS = {
    "heroin_days": "Days with heroin (last 30)",
    "crime_days": "Days with crime (last 30)",
    "quality_of_life": "Quality of life (0–10)",
}


def outcomes(data: dict) -> Figure:
    figure, axes = _figure()
    series = data["outcomes_over_time"]
    axes.set_title(_("Outcomes at follow-up (mean)"))
    order = ["baseline", "m3", "m6", "m12", "m24"]
    drawn = False
    for (item, values), colour in zip(series.items(), (BLUE, ORANGE, GREEN), strict=False):
        points = [tp for tp in order if tp in values] + [tp for tp in values if tp not in order]
        if points:
            drawn = True
            axes.plot(
                [_timepoint(tp) for tp in points],
                [_nan(values[tp]) for tp in points],
                "o-",
                color=colour,
                linewidth=2.5,
                label=_(OUTCOME_LABELS.get(item, item)),
            )
    if not drawn:
        _empty(axes)
        return figure
    axes.set_ylim(bottom=0)
    figure.legend(loc="outside lower center", ncols=3, frameon=False)
    return figure


def _timepoint(code: str) -> str:
    return _("Baseline") if code == "baseline" else _("%s months") % code.lstrip("m")


def costs(data: dict) -> Figure:
    figure, axes = _figure()
    axes.set_title(_("Cost per patient-year (NOK)"))
    hab = data["costs"]["per_patient_year_nok"]
    if hab is None and data["costs"]["total_nok"] is not None:
        _empty(axes, _("Too few patients to show"))
        return figure
    if hab is None:
        _empty(axes, _("No cost inputs for this period"))
        return figure
    lar = LAR_COST
    labels = [_("HAB"), _("LAR (SERAF)")]
    bars = axes.barh(labels, [hab, lar], color=[BLUE, GREY])
    axes.bar_label(bars, labels=[number(v, 0) for v in (hab, lar)], padding=6)
    axes.invert_yaxis()
    axes.set_xlim(0, max(hab, lar) * 1.25)
    axes.xaxis.set_major_formatter(lambda x, _pos: f"{number(x / 1000, 0)}k")
    return figure


CHARTS: dict[str, Callable[[dict], Figure]] = {
    "retention": retention,
    "activity": activity,
    "doses": doses,
    "incidents": incidents,
    "outcomes": outcomes,
    "costs": costs,
}


def alt_text(name: str, data: dict) -> str:
    """What the chart shows, in words, for a screen reader and the report."""
    r = data["retention"]["at_months"]
    c = data["costs"]["per_patient_year_nok"]
    texts = {
        "retention": _(
            "Retention curve: still in HAB after 3, 6, 12 and 24 months: %(m3)s, %(m6)s, "
            "%(m12)s, %(m24)s."
        )
        % {k: _pct(r[k[1:]]) for k in ("m3", "m6", "m12", "m24")},
        "activity": _("Patients in treatment (bars) and attendance (line) for each month."),
        "doses": _("Histogram of daily doses of diacetylmorphine in mg; mean %(mean)s mg.")
        % {"mean": _mean(data["dosing"]["mean_daily_dose_mg"])},
        "incidents": _("Incidents per 1,000 doses given for each month; %(n)s in all.")
        % {"n": data["safety"]["incidents"]},
        "outcomes": _(
            "Mean days with heroin, days with crime and quality of life at baseline and "
            "each follow-up."
        ),
        "costs": _("Cost per patient-year: HAB NOK %(hab)s, LAR NOK %(lar)s.")
        % {
            "hab": "–" if c is None else c if isinstance(c, str) else number(c, 0),
            "lar": number(LAR_COST, 0),
        },
    }
    return texts[name]


# The alt texts are written from the figures as shown: a withheld one is a text ("< 5").


def _pct(value: float | str | None) -> str:
    return "–" if value is None else value if isinstance(value, str) else f"{value:.0%}"


def _mean(value: float | str | None) -> str:
    return "–" if value is None else value if isinstance(value, str) else f"{value:.0f}"


def svg(name: str, data: dict) -> bytes:
    """The chart ``name`` as SVG; KeyError for an unknown name."""
    with matplotlib.rc_context(STYLE):
        figure = CHARTS[name](data)
        return _svg(figure)


def data_uri(name: str, data: dict) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg(name, data)).decode()
