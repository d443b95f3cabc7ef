"""The dashboard page: who sees it, and what it shows."""

import datetime

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from tests.permissions import ALLOWED


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_the_dashboard_follows_the_policy_table(web_as, role):
    response = web_as(f"{role}.oslo").get("/evaluation/", {"clinic": "oslo"})
    assert response.status_code == (200 if role in ALLOWED[Action.EVALUATION_VIEW] else 403)


def test_another_clinic_is_404(web_as):
    assert web_as("clinic_lead.oslo").get("/evaluation/", {"clinic": "bergen"}).status_code == 404


def test_it_shows_retention_and_attendance(web_as, world):
    response = web_as("clinic_lead.oslo").get(
        "/evaluation/", {"from": "2025-01-01", "to": "2025-06-30"}
    )
    assert response.status_code == 200
    assert response.context["d"]["retention"]["at_months"]["3"] == 0.75
    assert response.context["d"]["dosing"]["attendance"] == 0.4444
    assert b"1 / 2" in response.content  # positive exits of all exits


def test_a_bad_period_is_explained_and_the_default_shown(web_as):
    response = web_as("researcher.oslo").get(
        "/evaluation/", {"from": "2025-06-01", "to": "2025-01-01"}
    )
    assert response.status_code == 200
    assert response.context["error"]


def test_the_programme_owner_sees_small_numbers_as_under_five(web_as, world):
    response = web_as("programme.oslo").get(
        "/evaluation/", {"from": "2025-01-01", "to": "2025-06-30"}, HTTP_ACCEPT_LANGUAGE="nb"
    )
    html = response.content.decode()
    d = response.context["d"]
    assert d["patients"]["active"] == "< 5"  # four patients, never shown as 0 or 4
    assert d["retention"]["at_months"]["3"] == "skjermet"  # would give the four back
    assert '<span class="value">&lt; 5</span>' in html
    assert "Tall under 5 vises som" in html
    assert "0,75" not in html and "1 / 2" not in html


def test_the_clinic_lead_sees_no_note_on_small_numbers(web_as, world):
    response = web_as("clinic_lead.oslo").get(
        "/evaluation/", {"clinic": "oslo", "from": "2025-01-01", "to": "2025-06-30"}
    )
    assert response.context["threshold"] is None
    assert response.context["d"]["patients"]["active"] == 4


@pytest.mark.clock("2026-12-04T09:30")
def test_a_running_year_is_shown_to_today_in_words(web_as):
    client = web_as("programme.oslo")
    nb = client.get("/evaluation/", {"from": "2026-01-01", "to": "2026-12-31"}).content.decode()
    en = client.get(
        "/evaluation/", {"from": "2026-01-01", "to": "2026-12-31"}, HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "1. januar – 4. desember 2026" in nb
    assert "Perioden slutter i dag" in nb
    assert "1 January – 4 December 2026" in en
    two_years = client.get("/evaluation/", {"from": "2025-03-01", "to": "2026-02-28"})
    assert "1. mars 2025 – 28. februar 2026" in two_years.content.decode()
    assert "Perioden slutter i dag" not in two_years.content.decode()


def test_every_figure_says_whether_it_counts_the_period_or_since_the_start(web_as, world):
    html = (
        web_as("clinic_lead.oslo")
        .get("/evaluation/", {"from": "2025-01-01", "to": "2025-06-30"})
        .content.decode()
    )
    assert "dødsfall i perioden" in html and "Dødsfall siden start" in html
    assert "innskrevet i perioden" in html
    assert "Retensjon siden start" in html
    assert "Alle behandlingsforløp påbegynt til og med 30. juni 2025" in html


def test_the_outcomes_of_consenting_patients_only_are_a_choice_stated_on_the_page(web_as):
    client = web_as("programme.oslo")
    everyone = client.get("/evaluation/", {"from": "2025-01-01", "to": "2025-06-30"})
    consented = client.get(
        "/evaluation/", {"from": "2025-01-01", "to": "2025-06-30", "outcomes": "consented"}
    )
    assert everyone.context["data"]["outcomes_population"] == "all"
    assert consented.context["data"]["outcomes_population"] == "consented"
    html = consented.content.decode()
    assert "Oppfølgingsresultater: bare pasienter med forskningssamtykke." in html
    assert "Oppfølgingsresultater: alle pasienter." in everyone.content.decode()
    assert '<option value="consented" selected>' in html
    # The report and the charts keep the choice.
    assert "/evaluation/report.pdf?year=2025&amp;outcomes=consented" in html
    assert all("outcomes=consented" in chart["src"] for chart in consented.context["charts"])
    assert '<input type="hidden" name="outcomes" value="consented">' in html  # unit costs
    assert "outcomes=consented" not in everyone.content.decode()


def test_the_reference_panel_names_each_trial_and_its_source(web_as, world):
    html = (
        web_as("clinic_lead.oslo")
        .get("/evaluation/", {"from": "2025-01-01", "to": "2025-06-30"})
        .content.decode()
    )
    assert "HAB ved siden av publiserte studier" in html
    for figure in ("87,8 %", "54,1 %", "67,2 %", "40,0 %", "88,0 %", "omkring 70 %"):
        assert figure in html
    for source in ("N Engl J Med 2009", "Br J Psychiatry 2007", "Lancet 2010", "Lancet 2001"):
        assert source in html
    assert "26 uker" in html


def test_the_dose_model_reads_as_a_question_answered_in_words(clinics):
    from django.template.loader import render_to_string
    from django.utils import translation

    from hab.evaluation.indicators import Period
    from hab.evaluation.templatetags.evaluation_tags import model_rows

    terms = [
        {"code": "dose_per_10mg", "hazard_ratio": 0.7, "low": 0.6, "high": 0.8, "p": 0.00001},
        {"code": "clinic:oslo", "hazard_ratio": 0.36, "low": 0.24, "high": 0.55, "p": 0.0123},
    ]
    d = {
        "clinics": ["bergen", "oslo"],
        "retention_model": {"n": 238, "events": 150, "reference_clinic": "bergen", "terms": terms},
        "retention": {"at_months": {"12": 0.8}, "band_at_months": {"12": [0.75, 0.85]}},
    }
    with translation.override("nb"):
        rows = model_rows(d)
        period = Period(datetime.date(2025, 1, 1), datetime.date(2025, 6, 30))
        html = render_to_string("evaluation/_retention.html", {"d": d, "period": period})
    assert rows[0] == {
        "label": "Høyeste forskrevne døgndose, per 10 mg mer",
        "hazard_ratio": "0,70 (0,60–0,80)",
        "p": "< 0,001",
    }
    assert rows[1]["label"] == "HAB Oslo (mot HAB Bergen)" and rows[1]["p"] == "0,012"
    assert "Holder en høyere dose folk i behandling?" in html
    assert "238 forløp med 150 avslutninger" in html
    assert "En hasardratio under 1 betyr" in html
    assert "80 % (75–85)" in html  # HAB beside NAOMI at 12 months
