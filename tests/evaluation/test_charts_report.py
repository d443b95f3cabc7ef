"""The charts (SVG, same authorisation as the dashboard), the annual report (the command
and the download) and the forms for cost inputs and grants."""

from __future__ import annotations

import io
from decimal import Decimal

import pypdfium2
import pytest
from django.core.management import call_command
from django.utils import translation

from hab.core import clock
from hab.core.policy import Action
from hab.core.roles import Role
from hab.evaluation import charts
from hab.evaluation.models import CostInput, Grant
from tests.core.test_authorisation import ALLOWED

pytestmark = pytest.mark.django_db
PERIOD = {"from": "2025-01-01", "to": "2025-06-30"}


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


@pytest.fixture
def costs(world, staff, clinics):
    lead = staff["clinic_lead.oslo"]
    now = clock.now()
    for category, amount in [("staff", "2000000"), ("medication", "300000")]:
        CostInput.objects.create(
            clinic=clinics["oslo"],
            year=2025,
            category=category,
            amount_nok=Decimal(amount),
            recorded_at=now,
            recorded_by=lead,
        )
    Grant.objects.create(
        funder="Helse Sør-Øst",
        year=2025,
        amount_nok=Decimal("36700000"),
        clinic=clinics["oslo"],
        recorded_at=now,
        recorded_by=lead,
    )


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
    assert "Pasienter i behandling < 5" in owner_text
    assert "Pasienter i behandling 4" in lead_text
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
