"""The follow-up pages: the clinic's tabs, the interview form made from the instrument with
errors beside the questions, the saved answers and their correction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from hab.research.models import Response
from tests.research.conftest import valid_answers

pytestmark = pytest.mark.django_db


def form_data(follow_up, **changes) -> dict:
    data = {"answered_on": str(follow_up.due_on + timedelta(days=1))}
    for code, value in valid_answers().items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        data[code] = "" if value is None else str(value)
    return data | changes


def test_the_clinic_list_has_tabs_and_mine(web_as, course):
    made = course()

    page = web_as("coordinator.oslo").get("/research/?state=overdue&mine=1")

    html = page.content.decode()
    assert page.status_code == 200
    assert f"/research/follow-ups/{made['points']['baseline'].pk}/interview/" in html
    assert 'aria-current="page">Forsinket (1)' in html or "(1)" in html


def test_the_interview_form_asks_every_question_in_bokmal(web_as, baseline):
    with translation.override("nb"):
        page = web_as("nurse.oslo").get(f"/research/follow-ups/{baseline.pk}/interview/")

    html = page.content.decode()
    assert "Hvor mange av de siste 30 dagene har du brukt heroin kjøpt på gata?" in html
    assert 'name="housing"' in html and 'name="comment"' in html


def test_an_out_of_range_answer_is_shown_beside_its_question(web_as, baseline):
    client = web_as("nurse.oslo")

    page = client.post(
        f"/research/follow-ups/{baseline.pk}/interview/",
        form_data(baseline, heroin_days="45", injected=""),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="id_heroin_days_error"' in html
    assert "A whole number from 0 to 30." in html
    assert 'id="id_injected_error"' in html
    assert not Response.objects.exists()


def test_saving_shows_the_answers_and_they_can_be_corrected(web_as, baseline):
    client = web_as("coordinator.oslo")

    saved = client.post(f"/research/follow-ups/{baseline.pk}/interview/", form_data(baseline))

    first = Response.objects.get()
    assert saved.status_code == 302
    assert saved["Location"] == f"/research/responses/{first.pk}/"
    page = client.get(saved["Location"])
    assert f"?corrects={first.pk}" in page.content.decode()

    form = client.get(f"/research/follow-ups/{baseline.pk}/interview/?corrects={first.pk}")
    assert 'value="12"' in form.content.decode()  # the answers to correct, filled in
    refused = client.post(
        f"/research/follow-ups/{baseline.pk}/interview/",
        form_data(baseline, corrects=str(first.pk), heroin_days="4"),
    )
    assert refused.status_code == 200 and Response.objects.count() == 1  # no reason given
    corrected = client.post(
        f"/research/follow-ups/{baseline.pk}/interview/",
        form_data(baseline, corrects=str(first.pk), heroin_days="4", correction_reason="Tastefeil"),
    )
    assert corrected.status_code == 302
    newest = Response.objects.exclude(pk=first.pk).get()
    assert newest.corrects_id == first.pk
    old = client.get(f"/research/responses/{first.pk}/").content.decode()
    assert f"/research/responses/{newest.pk}/" in old  # points at the answers that count


def test_a_second_interview_is_refused_above_the_form(web_as, baseline):
    client = web_as("coordinator.oslo")
    client.post(f"/research/follow-ups/{baseline.pk}/interview/", form_data(baseline))

    again = client.post(f"/research/follow-ups/{baseline.pk}/interview/", form_data(baseline))

    assert again.status_code == 200
    assert 'class="error" role="alert"' in again.content.decode()
    assert Response.objects.count() == 1


def test_the_patient_page_lists_every_time_point(web_as, course):
    made = course()

    page = web_as("psychologist.oslo").get(f"/research/patients/{made['patient']}/")

    assert page.status_code == 200
    assert page.content.decode().count("<tr>") == 10  # header and nine time points
