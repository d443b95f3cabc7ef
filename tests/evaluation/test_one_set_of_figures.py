"""One set of figures: for the same scope and period the API, the dashboard and the annual
report (PDF) show the same numbers, figure by figure, each saying whether it counts what
happened in the period or everything since the start."""

from __future__ import annotations

import html
import re

import pypdfium2
import pytest
from django.utils import formats, translation
from django.utils.translation import gettext

from hab.core import clock
from hab.evaluation.templatetags import evaluation_tags as tags

# (the figure's path in the API, its label on the dashboard, its label in the report)
IN_THE_PERIOD = [
    (
        "patients.active",
        "patients in treatment in the period",
        "Patients in treatment in the period",
    ),
    ("patients.admitted", "admitted in the period", "Admitted in the period"),
    ("patients.deaths", "deaths in the period", "Deaths in the period"),
    (
        "dosing.attendance",
        "attendance (doses given / expected)",
        "Attendance (doses given / expected)",
    ),
    (
        "safety.incidents_per_1000_administrations",
        "incidents per 1,000 doses",
        "Incidents per 1,000 doses",
    ),
]  # fmt: skip
SINCE_THE_START = [
    "Positive exits since the start (LAR, other treatment)",
    "Deaths since the start",
]


def _at(data: dict, path: str):
    for key in path.split("."):
        data = data[key]
    return data


def _words(text: str) -> str:
    """The words of a page or a PDF; a band broken over two lines in a narrow cell
    ("0,13–\n0,96") joined again."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
    return re.sub(r"(\d)– (\d)", r"\1–\2", words)


def _report_words(pdf: bytes) -> str:
    """The report's text, without the page numbers ("3 / 9") at the foot of each page."""
    pages = [page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(pdf)]
    return _words(" ".join(re.sub(r"\s*\d+ / \d+\s*$", " ", page) for page in pages))


def _section(text: str, first: str, until: str) -> str:
    """The text from the heading ``first`` up to the heading ``until``."""
    start = text.index(first)
    return text[start : text.index(until, start)]


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:,\d+)?", text)


@pytest.fixture(params=["2025", "running year"])
def three_views(request, world, web_as, api_as):
    """The API's figures, the dashboard's and the report's words, for Oslo, as its lead
    (exact counts), for all of 2025 or for this year up to today."""
    if request.param == "2025":
        period, year = {"from": "2025-01-01", "to": "2025-12-31"}, "2025"
    else:
        period, year = {}, str(clock.today().year)
    api = api_as("clinic_lead.oslo").get("/evaluation/indicators", {"clinic": "oslo", **period})
    web = web_as("clinic_lead.oslo")
    dashboard = web.get("/evaluation/", {"clinic": "oslo", **period})
    report = web.get("/evaluation/report.pdf", {"clinic": "oslo", "year": year})
    assert api.status_code == dashboard.status_code == report.status_code == 200
    return api.json(), _words(dashboard.content.decode()), _report_words(report.content)


def test_each_figure_in_the_period_is_the_same_everywhere(three_views):
    data, dashboard, report = three_views

    with translation.override("nb"):
        for path, on_dashboard, in_report in IN_THE_PERIOD:
            value = _at(data, path)
            shown = "–" if value is None else formats.localize(value)
            assert f"{shown} {gettext(on_dashboard)}" in dashboard, path
            assert f"{gettext(in_report)} {shown}" in report, path


def test_retention_and_the_ways_of_leaving_are_the_same_everywhere(three_views):
    data, dashboard, report = three_views

    with translation.override("nb"):
        first = gettext("Retention since the start (Kaplan–Meier, still in HAB)")
        until = gettext("HAB beside published trials")
        on_dashboard = _section(dashboard, first, until)
        in_report = _section(report, first, until)
        # Every number of retention, its band, the ways of leaving and the dose model.
        assert _numbers(on_dashboard) == _numbers(in_report)
        for months in ("3", "6", "12", "24"):
            shown = tags.estimate(
                data["retention"]["at_months"][months], data["retention"]["band_at_months"][months]
            )
            assert shown in on_dashboard and shown in in_report
        for label in SINCE_THE_START:
            assert gettext(label) in on_dashboard and gettext(label) in in_report
        deaths = f"{gettext('Deaths since the start')}: {data['retention']['deaths']}"
        assert deaths in on_dashboard and deaths in in_report


def test_the_period_is_said_in_words_the_same_way(three_views):
    data, dashboard, report = three_views
    period = tags.indicators.Period(tags._date(data["from"]), tags._date(data["to"]))

    with translation.override("nb"):
        words = tags.period_text(period)

    assert words in dashboard and words in report
    assert data["to"] <= clock.today().isoformat()


def test_a_report_of_a_year_not_begun_is_refused(tmp_path, web_as):
    from django.core.management import CommandError, call_command

    next_year = clock.today().year + 1

    with pytest.raises(CommandError, match=f"The year {next_year} has not begun."):
        call_command("report", "--year", str(next_year), "--out", str(tmp_path / "r.pdf"))
    assert not (tmp_path / "r.pdf").exists()
    response = web_as("clinic_lead.oslo").get("/evaluation/report.pdf", {"year": next_year})
    assert response.status_code == 404
