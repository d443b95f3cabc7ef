"""The evaluation's charts, drawn on the server with matplotlib (Agg, no browser script and
no CDN): each takes the indicators (``indicators.compute``) and returns SVG bytes, with
large type so they read on a projector and print sharp. The dashboard shows them as
images with an alt text; the annual report embeds them as data URIs."""

from __future__ import annotations

import base64
import datetime
import io
import math
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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
PURPLE, BLACK, LIGHT_GREY, LIGHT_BLUE = "#6a3d9a", "#262626", "#a8a8a8", "#a9c4e6"

# The ways of leaving HAB (``indicators`` "leaving": competing risks), by their names in
# the report's language; the codes are the API's.
LEAVING_LABELS = {
    "treatment": gettext_lazy("To LAR or other treatment"),
    "dropout": gettext_lazy("Dropped out or discharged"),
    "prison": gettext_lazy("Prison"),
    "death": gettext_lazy("Died"),
    "other": gettext_lazy("Moved or other"),
}
LEAVING_COLOURS = {
    "treatment": GREEN,
    "dropout": ORANGE,
    "prison": PURPLE,
    "death": BLACK,
    "other": LIGHT_GREY,
}


def _figure(height: float = 4.2) -> tuple[Figure, object]:
    figure = Figure(figsize=(7.5, height), layout="constrained")
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


def _no_courses(axes, data: dict) -> bool:
    """Says on the chart why there is nothing to draw when no course, or too few to
    show, began by the period's end."""
    courses = data["retention"]["courses"]
    if courses is None:
        _empty(axes, _("Too few patients to show"))
    elif not courses:
        _empty(axes)
    return not courses


def retention(data: dict) -> Figure:
    figure, axes = _figure()
    # Where small numbers are withheld the curve stops while few are still at risk.
    curve = [step for step in data["retention"]["curve"] if step["survival"] is not None]
    longest_days = data["retention"]["longest_days"]
    if longest_days is None:
        longest_days = curve[-1]["days"] if curve else 0
    longest = longest_days / indicators.DAYS_PER_MONTH
    axes.set_title(_("Still in HAB (Kaplan–Meier)"))
    if _no_courses(axes, data):
        return figure
    times = [0.0] + [step["days"] / indicators.DAYS_PER_MONTH for step in curve] + [longest]
    values = [1.0] + [step["survival"] for step in curve]
    values.append(values[-1])
    lows = [1.0] + [_nan(step.get("low")) for step in curve]
    highs = [1.0] + [_nan(step.get("high")) for step in curve]
    lows.append(lows[-1])
    highs.append(highs[-1])
    axes.fill_between(
        times,
        lows,
        highs,
        step="post",
        color=LIGHT_BLUE,
        alpha=0.6,
        linewidth=0,
        label=_("95 % confidence band"),
    )
    axes.step(times, values, where="post", color=BLUE, linewidth=2.5, label=_("Still in HAB"))
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
    axes.legend(loc="lower left", frameon=False)
    return figure


def _steps(times: list[float], series: list[list[float]]) -> tuple[list, list[list]]:
    """Step functions (the value holds until the next time) as points for a stack plot,
    which draws straight lines between its points."""
    xs = [times[0]]
    ys = [[values[0]] for values in series]
    for i in range(1, len(times)):
        xs += [times[i], times[i]]
        for out, values in zip(ys, series, strict=True):
            out += [values[i - 1], values[i]]
    return xs, ys


def leaving(data: dict) -> Figure:
    """Still in HAB and each way of leaving, stacked, over months since admission: the
    Aalen–Johansen cumulative incidences add up to one with the share still in HAB."""
    figure, axes = _figure(height=5.2)
    axes.set_title(_("Still in HAB and ways of leaving"))
    found = data.get("leaving") or {}
    causes = found.get("causes") or list(LEAVING_LABELS)
    curve = []
    for point in found.get("curve") or []:
        if point.get("in_hab") is None:
            break  # withheld from here on: few are left
        curve.append(point)
    # A way of leaving too rare to show is drawn with the others withheld, as one area:
    # the share still in HAB and the shown ways give their sum anyway.
    hidden = [c for c in causes if any(p.get(c) is None for p in curve)]
    shown = [c for c in causes if c not in hidden]
    if _no_courses(axes, data):
        return figure
    if not curve:
        # Courses but no curve: none has ended yet, or the first steps are withheld.
        _empty(axes, _("Too few patients to show") if found.get("curve") else None)
        return figure
    longest = data["retention"].get("longest_days") or curve[-1]["days"]
    times = [0.0] + [p["days"] / indicators.DAYS_PER_MONTH for p in curve]
    times.append(max(times[-1], longest / indicators.DAYS_PER_MONTH))
    rows = [
        [p[c] for c in shown]
        + ([max(0.0, 1 - p["in_hab"] - sum(p[c] for c in shown))] if hidden else [])
        + [p["in_hab"]]
        for p in curve
    ]
    start = [0.0] * (len(rows[0]) - 1) + [1.0]
    series = [list(column) for column in zip(start, *rows, rows[-1], strict=True)]
    xs, ys = _steps(times, series)
    colours = [LEAVING_COLOURS.get(c, GREY) for c in shown] + ([LIGHT_GREY] if hidden else [])
    labels = [str(LEAVING_LABELS.get(c, c)) for c in shown]
    if hidden:
        labels.append(
            _("Withheld (few): %(ways)s")
            % {"ways": ", ".join(str(LEAVING_LABELS.get(c, c)).lower() for c in hidden)}
        )
    colours.append(BLUE)
    labels.append(_("Still in HAB"))
    areas = axes.stackplot(xs, *ys, colors=colours, labels=labels, alpha=0.9)
    if hidden:
        areas[len(shown)].set_hatch("//")
    axes.set_ylim(0, 1)
    axes.set_xlim(0, max(24.5, times[-1]))
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel(_("Months since admission"))
    axes.set_xticks([0, 3, 6, 12, 24] + ([36] if times[-1] > 36 else []))
    # The legend reads from the top down, as the areas lie.
    figure.legend(
        areas[::-1],
        labels[::-1],
        loc="outside lower center",
        ncols=1 if hidden else 2,
        frameon=False,
    )
    return figure


def activity(data: dict) -> Figure:
    figure, axes = _figure()
    months = data["monthly"]
    axes.set_title(_("Patients in treatment and attendance per month"))
    labels = [m["month"] for m in months]
    axes.bar(labels, [_nan(m["active"]) for m in months], color=BLUE, label=_("Patients"))
    axes.set_ylabel(_("Patients"))
    _numbers(axes.yaxis)
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


def _thin_ticks(axes, months: list[str]) -> None:
    """At most about eight months named, level and short ("jan", with the year under the
    first and each January): rotated ISO months ran into each other."""
    step = max(1, math.ceil(len(months) / 8))
    shown = []
    for index in range(0, len(months), step):
        first = datetime.date.fromisoformat(months[index] + "-01")
        name = date_format(first, "M")
        shown.append(f"{name}\n{first.year}" if index == 0 or first.month <= step else name)
    axes.set_xticks(range(0, len(months), step), shown)


def _numbers(*axes_list) -> None:
    """Tick values as the report's language writes numbers (0,5 and 12 000 in bokmål)."""
    for axis in axes_list:
        axis.set_major_formatter(lambda x, _pos: number(round(x, 4)))


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
    _numbers(axes.xaxis, axes.yaxis)
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
    _numbers(axes.yaxis)
    _thin_ticks(axes, labels)
    return figure


def outcomes(data: dict) -> Figure:
    """The mean answer at each interview, over months since admission (0: baseline)."""
    figure, axes = _figure(height=5.2)
    series = data["outcomes_over_time"]
    axes.set_title(_("Outcomes at follow-up (mean)"))
    drawn = False
    for (item, values), colour in zip(series.items(), (BLUE, ORANGE, GREEN), strict=False):
        points = sorted((_months(tp), value) for tp, value in values.items())
        if points:
            drawn = True
            axes.plot(
                [months for months, _v in points],
                [_nan(value) for _m, value in points],
                "o-",
                color=colour,
                linewidth=2.5,
                label=str(indicators.OUTCOME_LABELS.get(item, _("Other item"))),
            )
    if not drawn:
        _empty(axes)
        return figure
    axes.set_ylim(bottom=0)
    _numbers(axes.yaxis)
    axes.set_xlabel(_("Months since admission (0: baseline)"))
    ticks = sorted({months for values in series.values() for months in map(_months, values)})
    axes.set_xticks(ticks, [str(months) for months in ticks])
    # One entry a line below the chart: the items' names are long in either language.
    figure.legend(loc="outside lower center", ncols=1, frameon=False)
    return figure


def _months(code: str) -> int:
    """A follow-up time point's months since admission ("baseline" 0, "m12" 12)."""
    return 0 if code == "baseline" else int(code.lstrip("m"))


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
    "leaving": leaving,
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
        "leaving": _leaving_alt(data),
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


def _leaving_alt(data: dict) -> str:
    at_12 = ((data.get("leaving") or {}).get("at_months") or {}).get("12")
    intro = _(
        "Stacked areas over months since admission: the share still in HAB on top and, "
        "below it, the share that has left in each way."
    )
    if not isinstance(at_12, dict):
        return intro
    parts = [f"{_('Still in HAB')} {_pct(at_12.get('in_hab'))}"] + [
        f"{LEAVING_LABELS[cause]} {_pct(at_12.get(cause))}"
        for cause in LEAVING_LABELS
        if cause in at_12
    ]
    return intro + " " + _("After 12 months: %(parts)s.") % {"parts": "; ".join(parts)}


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
