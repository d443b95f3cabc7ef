"""The charts (SVG, same authorisation as the dashboard), the annual report (the command
and the download) and the forms for cost inputs and grants."""

from __future__ import annotations

import io
from decimal import Decimal

import pypdfium2
import pytest
from django.core.management import call_command
from django.utils import translation

from hab.core.policy import Action
from hab.core.roles import Role
from hab.evaluation import charts
from hab.evaluation.models import CostInput, Grant
from tests.permissions import ALLOWED

pytestmark = pytest.mark.django_db
PERIOD = {"from": "2025-01-01", "to": "2025-06-30"}


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_every_chart_is_svg(web_as, world, costs, name):
    response = web_as("programme.oslo").get(f"/evaluation/charts/{name}.svg", PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<?xml") and b"<svg" in response.content


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_charts_draw_without_data(web_as, name):
    response = web_as("clinic_lead.oslo").get(f"/evaluation/charts/{name}.svg", {"clinic": "oslo"})
    assert response.status_code == 200 and b"<svg" in response.content


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_charts_follow_the_policy_table(web_as, role):
    response = web_as(f"{role}.oslo").get("/evaluation/charts/retention.svg", {"clinic": "oslo"})
    assert response.status_code == (200 if role in ALLOWED[Action.EVALUATION_VIEW] else 403)


def test_a_chart_of_another_clinic_or_an_unknown_chart_is_404(web_as):
    client = web_as("clinic_lead.oslo")
    assert client.get("/evaluation/charts/retention.svg", {"clinic": "bergen"}).status_code == 404
    assert client.get("/evaluation/charts/nothing.svg").status_code == 404


def test_the_dashboard_shows_the_charts_with_alt_texts(web_as, world, costs):
    response = web_as("clinic_lead.oslo").get("/evaluation/", PERIOD)
    html = response.content.decode()
    for name in charts.CHARTS:
        assert f"/evaluation/charts/{name}.svg?" in html
    assert 'alt="' in html and "75%" in html  # retention at 3 months in the alt text
    assert "/evaluation/report.pdf?year=2025" in html


def test_the_report_command_writes_a_norwegian_pdf(world, costs, tmp_path):
    out = tmp_path / "report.pdf"
    call_command("report", "--year", "2025", "--out", str(out), stdout=io.StringIO())
    text = pdf_text(out.read_bytes())
    assert "2025" in text
    assert "HAB Oslo" in text and "HAB Bergen" in text
    with translation.override("nb"):
        for heading in ("Period", "Assumptions", "Sensitivity (each input ±25 %)", "Grants"):
            # Templates keep a literal % doubled in the catalogue's msgid.
            shown = translation.gettext(heading.replace("%", "%%")).replace("%%", "%")
            assert shown in text
    assert "Periode:" in text and "januar" in text  # the bokmål catalogue and dates
    # The model's inputs by their Norwegian names, never their codes.
    text = " ".join(text.split())  # table cells break lines
    for name, shown in [
        ("cost_per_crime_day", "Kostnad per dag med kriminalitet"),
        ("lar_cost_per_patient_year", "LARs kostnad per pasientår"),
        ("lar_effect_share", "Andel av HABs effekt som LAR ville oppnådd"),
    ]:
        assert shown in text
        assert name not in text
    assert "antakelse" in text and "assumption" not in text
    assert "Helse Sør-Øst" in text


def test_the_report_in_english_for_one_clinic(world, costs, tmp_path):
    out = tmp_path / "report.pdf"
    call_command(
        "report",
        *("--year", "2025", "--out", str(out), "--clinic", "oslo", "--lang", "en"),
        stdout=io.StringIO(),
    )
    text = pdf_text(out.read_bytes())
    assert "Annual report 2025" in text and "HAB Oslo" in text and "HAB Bergen" not in text
    assert "Period:" in text and "Assumptions" in text and "Sensitivity" in text
    assert "Periode" not in text


def test_the_report_download_follows_the_scope(web_as, world, costs):
    response = web_as("clinic_lead.oslo").get("/evaluation/report.pdf", {"year": "2025"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "HAB Oslo" in pdf_text(response.content)
    assert web_as("nurse.oslo").get("/evaluation/report.pdf").status_code == 403
    response = web_as("clinic_lead.oslo").get("/evaluation/report.pdf", {"clinic": "bergen"})
    assert response.status_code == 404


def test_the_report_withholds_small_numbers_from_the_programme_owner(web_as, world, costs):
    owner = web_as("programme.oslo").get("/evaluation/report.pdf", {"year": "2025"})
    lead = web_as("clinic_lead.oslo").get("/evaluation/report.pdf", {"year": "2025"})
    owner_text = " ".join(pdf_text(owner.content).split())
    lead_text = " ".join(pdf_text(lead.content).split())
    # four patients in treatment at Oslo in 2025
    assert "Pasienter i behandling i perioden < 5" in owner_text
    assert "Pasienter i behandling i perioden 4" in lead_text
    assert "Tall under 5 vises som" in owner_text and "Tall under 5" not in lead_text
    assert "skjermet" in owner_text


def test_the_report_command_withholds_small_numbers_unless_exact(world, costs, tmp_path):
    out = tmp_path / "report.pdf"
    call_command("report", "--year", "2025", "--out", str(out), stdout=io.StringIO())
    assert "< 5" in pdf_text(out.read_bytes())
    call_command("report", "--year", "2025", "--out", str(out), "--exact", stdout=io.StringIO())
    assert "< 5" not in pdf_text(out.read_bytes())


def test_the_charts_draw_with_small_numbers_withheld(web_as, world, costs):
    for name in charts.CHARTS:
        response = web_as("researcher.oslo").get(f"/evaluation/charts/{name}.svg", PERIOD)
        assert response.status_code == 200 and b"<svg" in response.content
    retention = web_as("researcher.oslo").get("/evaluation/charts/retention.svg", PERIOD)
    assert b"75%" not in retention.content


def test_a_cost_input_is_entered_and_a_bad_amount_shows_an_error(web_as):
    client = web_as("clinic_lead.oslo")
    bad = client.post(
        "/evaluation/costs/new/",
        {"clinic": "oslo", "year": "2025", "category": "premises", "amount_nok": "-5"},
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors["amount_nok"]
    assert not CostInput.objects.exists()
    good = client.post(
        "/evaluation/costs/new/",
        {
            "clinic": "oslo",
            "year": "2025",
            "category": "staff",
            "fte": "10",
            "cost_per_fte": "900000",
        },
    )
    assert good.status_code == 302
    assert CostInput.objects.get().amount_nok == Decimal("9000000.00")


def test_a_grant_is_entered_and_a_bad_amount_shows_an_error(web_as):
    client = web_as("programme.oslo")
    bad = client.post(
        "/evaluation/grants/new/", {"funder": "Helse Vest", "year": "2025", "amount_nok": "mye"}
    )
    assert bad.status_code == 200 and bad.context["form"].errors["amount_nok"]
    bad = client.post(
        "/evaluation/grants/new/", {"funder": "Helse Vest", "year": "2025", "amount_nok": "-1"}
    )
    assert bad.context["form"].errors["amount_nok"]
    assert not Grant.objects.exists()
    good = client.post(
        "/evaluation/grants/new/",
        {"funder": "Helsedirektoratet", "year": "2025", "amount_nok": "5000000"},
    )
    assert good.status_code == 302
    assert Grant.objects.get().clinic is None


@pytest.mark.parametrize("role", ["nurse", "researcher"])
def test_the_forms_need_costs_edit(web_as, role):
    assert web_as(f"{role}.oslo").get("/evaluation/costs/new/").status_code == 403
    assert web_as(f"{role}.oslo").get("/evaluation/grants/new/").status_code == 403


def test_the_user_enters_the_unit_costs_of_the_cost_benefit_model(web_as):
    client = web_as("programme.oslo")

    default = client.get("/evaluation/", HTTP_ACCEPT_LANGUAGE="en")
    chosen = client.get(
        "/evaluation/?cost_per_crime_day=7000&lar_effect_share=0.5", HTTP_ACCEPT_LANGUAGE="en"
    )
    refused = client.get("/evaluation/?lar_effect_share=2", HTTP_ACCEPT_LANGUAGE="en")

    assert default.status_code == chosen.status_code == refused.status_code == 200
    assert 'name="cost_per_crime_day" inputmode="decimal" value="5000"' in default.content.decode()
    assert 'name="cost_per_crime_day" inputmode="decimal" value="7000"' in chosen.content.decode()
    assert "achieve (0–1) must be a number from 0 to 1." in refused.content.decode()


# --- the charts read: hand-built indicators, every key the charts draw ---------------------


def _leaving_point(days: float, left: float) -> dict:
    shares = {"treatment": 0.4, "dropout": 0.35, "prison": 0.1, "death": 0.05, "other": 0.1}
    return {"days": days, "in_hab": 1 - left} | {c: left * s for c, s in shares.items()}


def indicators_sample() -> dict:
    """Indicators as ``indicators.compute`` gives them for a programme of 120 courses
    over two years, the new competing-risks keys included."""
    curve = [
        {
            "days": day,
            "at_risk": 120 - i * 4,
            "events": 2,
            "survival": 1 - 0.02 * (i + 1),
            "low": 1 - 0.02 * (i + 1) - 0.04,
            "high": min(1.0, 1 - 0.02 * (i + 1) + 0.03),
        }
        for i, day in enumerate(range(20, 740, 40))
    ]
    months = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2026-{m:02d}" for m in range(1, 13)]
    return {
        "from": "2025-01-01",
        "to": "2026-12-04",
        "until_today": True,
        "retention": {
            "courses": 120,
            "exits": 36,
            "positive_exits": 14,
            "positive_exit_share": 0.3889,
            "deaths": 2,
            "at_months": {"3": 0.96, "6": 0.9, "12": 0.8, "24": 0.64},
            "band_at_months": {
                "3": [0.92, 0.98],
                "6": [0.86, 0.93],
                "12": [0.75, 0.85],
                "24": [0.55, 0.72],
            },
            "curve": curve,
            "median_days": None,
            "longest_days": 760,
        },
        "leaving": {
            "causes": ["treatment", "dropout", "prison", "death", "other"],
            "exits_by_cause": {"treatment": 14, "dropout": 13, "prison": 4, "death": 2, "other": 3},
            "at_months": {
                m: _leaving_point(0, left)
                for m, left in (("3", 0.04), ("6", 0.1), ("12", 0.2), ("24", 0.36))
            },
            "curve": [_leaving_point(p["days"], 1 - p["survival"]) for p in curve],
        },
        "monthly": [
            {
                "month": month,
                "active": 100 + i,
                "attendance": 0.9,
                "incidents_per_1000_administrations": 1.5 + (i % 3) / 2,
            }
            for i, month in enumerate(months)
        ],
        "dosing": {
            "mean_daily_dose_mg": 420.0,
            "daily_dose_histogram": [
                {"from_mg": mg, "to_mg": mg + 20, "patient_days": 50 + mg // 10}
                for mg in range(100, 900, 20)
            ],
        },
        "safety": {"incidents": 40},
        "outcomes_over_time": {
            "heroin_days": {"baseline": 24.0, "m3": 10.5, "m6": 8.0, "m12": 6.1, "m24": 5.2},
            "crime_days": {"baseline": 12.0, "m3": 5.0, "m6": 4.0, "m12": 3.0, "m24": 2.4},
            "quality_of_life": {"baseline": 3.9, "m3": 5.0, "m6": 5.6, "m12": 6.0, "m24": 6.3},
        },
        "costs": {"per_patient_year_nok": 512000, "total_nok": 51200000.0},
    }


def _tick_labels(figure) -> list:
    """The drawn tick labels of every axes (a twin axis included): those with a text,
    at a tick inside the axis's limits."""
    out = []
    for axes in figure.axes:
        for axis, coordinate in ((axes.xaxis, 0), (axes.yaxis, 1)):
            if not axis.get_visible():
                continue  # a twin's shared axis
            low, high = sorted(axis.get_view_interval())
            out += [
                label
                for label in axis.get_ticklabels()
                if label.get_text().strip()
                and low - 1e-9 <= label.get_position()[coordinate] <= high + 1e-9
            ]
    return out


def _overlap(a, b) -> bool:
    # A pixel of touching is not overlap: the extents are rounded outward.
    return a.x0 + 1 < b.x1 and b.x0 + 1 < a.x1 and a.y0 + 1 < b.y1 and b.y0 + 1 < a.y1


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_every_chart_reads_no_label_runs_into_another_or_off_the_figure(name, lang):
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with translation.override(lang), matplotlib.rc_context(charts.STYLE):
        figure = charts.CHARTS[name](indicators_sample())
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        renderer = canvas.get_renderer()
        page = figure.bbox
        labels = _tick_labels(figure)
        assert labels, "the chart has axes with labelled ticks"
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels]
        for i, (text, box) in enumerate(boxes):
            for other, other_box in boxes[i + 1 :]:
                assert not _overlap(box, other_box), f"{text!r} runs into {other!r}"
        texts = [t for t in figure.findobj(matplotlib.text.Text) if t.get_text().strip()]
        ticks = {
            id(t) for axes in figure.axes for t in axes.get_xticklabels() + axes.get_yticklabels()
        }
        for text in [t for t in texts if id(t) not in ticks] + labels:
            if not text.get_visible():
                continue
            box = text.get_window_extent(renderer)
            assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, (
                f"{text.get_text()!r} is cut at the side"
            )
            assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1, (
                f"{text.get_text()!r} is cut at the top or bottom"
            )


@pytest.mark.parametrize("name", list(charts.CHARTS))
def test_every_chart_speaks_the_reports_language_and_no_codes(name):
    from hab.evaluation import indicators

    with translation.override("nb"):
        svg = charts.svg(name, indicators_sample()).decode()
    for code in (*indicators.OUTCOME_ITEMS, "in_hab", "dose_per_10mg"):
        assert code not in svg
    for english in (
        "Months since admission",
        "Baseline",
        "Still in HAB",
        "Outcomes at follow-up",
        "Days with heroin",
        "Dropped out",
        "Prison",
        "confidence band",
        "Patients",
    ):
        assert english not in svg, f"English {english!r} in the bokmål {name} chart"


def test_the_outcome_chart_names_the_items_and_the_months():
    with translation.override("nb"):
        svg = charts.svg("outcomes", indicators_sample()).decode()
    assert "Dager med heroin (siste 30)" in svg and "Livskvalitet (0–10)" in svg
    assert "Utgangsmåling3 måneder" not in svg


def test_the_leaving_chart_stacks_every_way_of_leaving_under_still_in_hab():
    with translation.override("nb"):
        svg = charts.svg("leaving", indicators_sample()).decode()
        alt = charts.alt_text("leaving", indicators_sample())
    for label in ("Til LAR eller annen behandling", "Avbrutt eller skrevet ut", "Fengsel"):
        assert label in svg and label in alt
    assert "Fortsatt i HAB" in svg
    assert "80%" in alt  # still in HAB after 12 months


def test_the_retention_chart_shades_its_confidence_band():
    with translation.override("en"):
        svg = charts.svg("retention", indicators_sample()).decode()
    assert "95 % confidence band" in svg


def test_the_report_states_what_each_figure_counts_and_the_outcomes_population(web_as, world):
    client = web_as("clinic_lead.oslo")
    plain = client.get("/evaluation/report.pdf", {"year": "2025"})
    consented = client.get("/evaluation/report.pdf", {"year": "2025", "outcomes": "consented"})
    text = " ".join(pdf_text(plain.content).split())
    assert "Periode: 1. januar – 31. desember 2025." in text
    assert "Dødsfall i perioden" in text and "Dødsfall siden start" in text
    assert "Oppfølgingsresultater: alle pasienter." in text
    assert "HAB ved siden av publiserte studier" in text and "N Engl J Med 2009" in text
    assert "Måter å avslutte HAB på siden start" in text
    assert "heroin_days" not in text and "Days with heroin" not in text
    consented_text = " ".join(pdf_text(consented.content).split())
    assert "Oppfølgingsresultater: bare pasienter med forskningssamtykke." in consented_text


def test_the_leaving_chart_draws_rare_ways_of_leaving_as_one_withheld_area():
    data = indicators_sample()
    for point in data["leaving"]["curve"]:
        point["prison"] = point["death"] = None
    with translation.override("nb"):
        svg = charts.svg("leaving", data).decode()
    assert "Til LAR eller annen behandling" in svg and "Fortsatt i HAB" in svg
    assert "Skjermet (få): fengsel, død" in svg
