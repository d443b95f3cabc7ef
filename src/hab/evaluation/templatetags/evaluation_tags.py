"""How the evaluation's figures read on the dashboard and in the annual report: the
period in words, estimates with their 95 % band, the competing-risks table, the Cox
model's terms and the reference panel. The same tags serve both, so the two agree.

Every value may be withheld (a text such as "< 5" or "withheld" in the display copy of
the indicators) or missing (None): a text is shown as it is, None as "–"."""

from __future__ import annotations

import datetime

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from hab.core.formats import number
from hab.core.models import Clinic
from hab.evaluation import charts, indicators, references

register = template.Library()
MONTHS = tuple(str(m) for m in indicators.RETENTION_MONTHS)
DASH = "–"


def _date(value) -> datetime.date:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


@register.filter
def period_text(period) -> str:
    """ "1. januar – 4. desember 2026" (bokmål), "1 January – 4 December 2026" (English):
    the year once where both ends are in the same year."""
    start, end = _date(period.start), _date(period.end)
    with_year = pgettext("a date with its year", "j F Y")
    first = pgettext("a date without its year", "j F") if start.year == end.year else with_year
    return f"{date_format(start, first)} – {date_format(end, with_year)}"


def _shown(value) -> str | None:
    """A withheld or missing value as its text; None for a number."""
    if value is None:
        return DASH
    if isinstance(value, str):
        return value
    return None


def _band(band, places: int, scale: float = 1) -> str:
    if not isinstance(band, list | tuple) or len(band) != 2:
        return ""
    if any(not isinstance(v, int | float) for v in band):
        return ""
    low, high = (number(v * scale, places) for v in band)
    return f" ({low}–{high})"


@register.simple_tag
def estimate(value, band=None) -> str:
    """A share with its 95 % band: "0,90 (0,86–0,93)"."""
    text = _shown(value)
    if text is not None:
        return text
    return number(value, 2) + _band(band, 2)


@register.simple_tag
def percent(value, band=None, places: int = 0) -> str:
    """A share as a percentage, with its band: "90 % (86–93)"."""
    text = _shown(value)
    if text is not None:
        return text
    return f"{number(value * 100, places)} %" + _band(band, places, 100)


@register.filter
def share(value) -> str:
    """A share as a number with two decimals ("0,12"), or its text where withheld."""
    text = _shown(value)
    return text if text is not None else number(value, 2)


@register.filter
def median_text(days) -> str:
    """The median time in HAB in months and days, or why it is not given."""
    if days is None:
        return _("not reached: more than half are still in HAB")
    text = _shown(days)
    if text is not None:
        return text
    return _("%(months)s months (%(days)s days)") % {
        "months": number(days / indicators.DAYS_PER_MONTH, 1),
        "days": number(days, 0),
    }


@register.simple_tag
def leaving_rows(d: dict) -> list[dict]:
    """The competing-risks table: still in HAB, then each way of leaving, with its share at
    3, 6, 12 and 24 months and the exits of that kind since the start."""
    leaving = d.get("leaving") or {}
    at_months = leaving.get("at_months") or {}
    exits = leaving.get("exits_by_cause") or {}
    causes = leaving.get("causes") or list(charts.LEAVING_LABELS)

    def cells(key: str) -> list[str]:
        out = []
        for months in MONTHS:
            point = at_months.get(months)
            out.append(share(point.get(key) if isinstance(point, dict) else point))
        return out

    rows = [{"label": _("Still in HAB"), "cells": cells("in_hab"), "exits": ""}]
    for cause in causes:
        n = exits.get(cause)
        rows.append(
            {
                "label": str(charts.LEAVING_LABELS.get(cause, cause)),
                "cells": cells(cause),
                "exits": DASH if n is None else n,
            }
        )
    return rows


@register.simple_tag
def model_rows(d: dict) -> list[dict]:
    """The Cox model's terms by name: the dose per 10 mg, each clinic against the one
    left out (the reference)."""
    model = d.get("retention_model")
    if not isinstance(model, dict) or not isinstance(model.get("n"), int):
        return []  # no model, or one withheld: too few courses to show
    codes = [t["code"].partition(":")[2] for t in model["terms"] if t["code"].startswith("clinic:")]
    # The indicators name the reference clinic whenever the model has clinic terms.
    reference = model.get("reference_clinic")
    names = dict(Clinic.objects.filter(code__in=[*codes, reference]).values_list("code", "name"))
    rows = []
    for term in model["terms"]:
        code = term["code"]
        if code == "dose_per_10mg":
            label = _("Highest prescribed daily dose, per 10 mg more")
        elif code.startswith("clinic:"):
            clinic = code.partition(":")[2]
            label = _("%(clinic)s (against %(reference)s)") % {
                "clinic": names.get(clinic, clinic),
                "reference": names.get(reference, reference),
            }
        else:
            label = code
        rows.append(
            {
                "label": label,
                "hazard_ratio": estimate(
                    term.get("hazard_ratio"), [term.get("low"), term.get("high")]
                ),
                "p": _p(term.get("p")),
            }
        )
    return rows


def _p(value) -> str:
    text = _shown(value)
    if text is not None:
        return text
    return f"< {number(0.001, 3)}" if value < 0.001 else number(value, 3)


@register.simple_tag
def reference_rows(d: dict) -> list[dict]:
    """The published trials' retention with HAB's estimate at the same month."""
    retention = d.get("retention") or {}
    rows = []
    for row in references.panel(
        retention.get("at_months") or {}, retention.get("band_at_months") or {}
    ):
        trial = row["reference"]
        published = percent(trial.retention, places=1)
        if trial.approximate:
            published = _("about %(share)s") % {"share": percent(trial.retention)}
        when = (
            _("%(weeks)s weeks") % {"weeks": trial.weeks}
            if trial.weeks
            else _("%(months)s months") % {"months": trial.months}
        )
        rows.append(
            {
                "study": str(trial.study),
                "arm": str(trial.arm),
                "when": when,
                "published": published,
                "hab": percent(row["hab"], row["hab_band"]),
                "citation": trial.citation,
                "year": trial.year,
            }
        )
    return rows


@register.simple_tag
def retention_cells(d: dict) -> list[tuple[str, str]]:
    """(months, "0,90 (0,86–0,93)") at 3, 6, 12 and 24 months: Kaplan–Meier with its band."""
    retention = d.get("retention") or {}
    at_months = retention.get("at_months") or {}
    bands = retention.get("band_at_months") or {}
    return [(months, estimate(at_months.get(months), bands.get(months))) for months in MONTHS]


@register.filter
def day_text(day) -> str:
    """ "4. desember 2026" (bokmål), "4 December 2026" (English)."""
    return date_format(_date(day), pgettext("a date with its year", "j F Y"))
