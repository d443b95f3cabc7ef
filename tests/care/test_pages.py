"""The plan's pages: the clinic's list, the patient's plan with its forms, the change of a
goal and an action, errors beside their field, and the link from the patient's page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hab.care.models import Goal, PlanAction, Review, StatusRecord
from hab.core.models import AccessLog
from tests.helpers import days_ago

pytestmark = pytest.mark.django_db


def plan_url(patient, rest: str = "") -> str:
    return f"/care/patients/{patient.pk}/{rest}"


def test_the_coordinator_adds_goals_an_action_a_review_and_a_status(web_as, patient):
    client = web_as("coordinator.oslo")

    goal = client.post(
        plan_url(patient, "goals/new/"),
        {"goal-domain": "housing", "goal-text": "Få min egen leilighet før jul"},
    )
    action = client.post(
        plan_url(patient, "actions/new/"),
        {
            "action-domain": "housing",
            "action-text": "Søke kommunal bolig",
            "action-owner": "coordinator.oslo",
            "action-due_on": str(days_ago(-30)),
        },
    )
    review = client.post(
        plan_url(patient, "reviews/new/"),
        {
            "review-held_on": str(days_ago(0)),
            "review-patient_attended": "on",
            "review-staff": ["coordinator.oslo", "doctor.oslo"],
            "review-others": "NAV-veileder",
            "review-notes": "Planen gjennomgått.",
        },
    )
    status = client.post(
        plan_url(patient, "status/new/"),
        {"status-on": str(days_ago(0)), "status-housing": "hostel", "status-activity": "none"},
    )

    for response, anchor in [(goal, "goals"), (action, "goals"), (review, "reviews")]:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"] == f"/care/patients/{patient.pk}/#{anchor}"
    assert status.status_code == 302
    page = client.get(plan_url(patient)).content.decode()
    assert "Få min egen leilighet før jul" in page
    assert "Søke kommunal bolig" in page
    assert "Planen gjennomgått." in page
    assert "NAV-veileder" in page
    assert "Hospits eller akuttovernatting" in page or "Hostel or shelter" in page
    assert Review.objects.get().staff_attended == ["coordinator.oslo", "doctor.oslo"]
    assert StatusRecord.objects.get().housing == "hostel"


def test_an_error_is_shown_beside_its_field_and_nothing_is_saved(web_as, patient):
    client = web_as("coordinator.oslo")

    response = client.post(
        plan_url(patient, "reviews/new/"),
        {
            "review-held_on": str(days_ago(0)),
            "review-next_on": str(days_ago(1)),
            "review-patient_attended": "on",
        },
    )

    assert response.status_code == 200
    assert 'id="id_review-next_on_error"' in response.content.decode()
    assert Review.objects.count() == 0


def test_a_goal_is_changed_as_a_new_version(web_as, patient):
    client = web_as("coordinator.oslo")
    client.post(plan_url(patient, "goals/new/"), {"goal-domain": "activity", "goal-text": "Jobb"})
    goal = Goal.objects.get()

    form = client.get(plan_url(patient, f"goals/{goal.pk}/"))
    response = client.post(
        plan_url(patient, f"goals/{goal.pk}/"),
        {"goal-text": "Jobb på Fretex tre dager i uka", "goal-status": "active"},
    )

    assert form.status_code == 200
    assert response.status_code == 302
    new = Goal.objects.get(replaces=goal)
    assert (new.domain, new.text) == ("activity", "Jobb på Fretex tre dager i uka")
    page = client.get(plan_url(patient)).content.decode()
    assert "Jobb på Fretex tre dager i uka" in page
    assert "«Jobb»" in page  # under the earlier versions


def test_an_action_is_marked_done_with_one_press(web_as, patient):
    client = web_as("coordinator.oslo")
    client.post(
        plan_url(patient, "actions/new/"),
        {"action-domain": "legal", "action-text": "Møte advokat", "action-owner": "patient"},
    )
    action = PlanAction.objects.get()

    response = client.post(plan_url(patient, f"actions/{action.pk}/done/"))

    assert response.status_code == 302
    done = PlanAction.objects.get(replaces=action)
    assert (done.status, done.text, done.owner_kind) == ("done", "Møte advokat", "patient")


def test_the_clinic_page_lists_plans_with_their_state(web_as, patient, in_treatment):
    in_treatment()
    client = web_as("coordinator.oslo")
    client.post(plan_url(patient, "goals/new/"), {"goal-domain": "housing", "goal-text": "Bolig"})

    page = client.get("/care/")
    no_goals = client.get("/care/?show=no_goals")

    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('href="/care/patients/') == 2
    assert no_goals.content.decode().count('href="/care/patients/') == 1
    assert 'href="/care/"' in body  # the menu line


def test_the_clinic_page_reads_a_fixed_number_of_queries(web_as, in_treatment):
    client = web_as("clinic_lead.oslo")
    in_treatment()
    # Both requests list someone not listed before (one access-log insert each).
    with CaptureQueriesContext(connection) as few:
        client.get("/care/")
    for _ in range(4):
        in_treatment()
    with CaptureQueriesContext(connection) as more:
        client.get("/care/")

    assert len(more) == len(few)


def test_every_read_of_the_plan_page_is_logged(web_as, patient):
    web_as("nurse.oslo").get(plan_url(patient))

    row = AccessLog.objects.filter(patient=patient, what="care plan").get()
    assert (row.action, row.username, row.channel) == ("view", "nurse.oslo", "ui")


def test_the_patient_page_links_to_the_plan(web_as, patient):
    nurse = web_as("nurse.oslo").get(f"/patients/{patient.pk}/").content.decode()

    assert f'href="/care/patients/{patient.pk}/"' in nurse


def test_a_nurse_reads_the_plan_without_forms(web_as, patient):
    page = web_as("nurse.oslo").get(plan_url(patient)).content.decode()

    assert "goals/new/" not in page
    assert "notes/new/" not in page


def test_the_psychologist_may_choose_every_level_the_coordinator_only_team(web_as, patient):
    psychologist = web_as("psychologist.oslo").get(plan_url(patient)).content.decode()
    coordinator = web_as("coordinator.oslo").get(plan_url(patient)).content.decode()

    for level in ("team", "clinical", "psychology"):
        assert f'value="{level}"' in psychologist
    assert 'value="team"' in coordinator
    assert 'value="clinical"' not in coordinator
    assert 'value="psychology"' not in coordinator


def test_without_consent_the_plan_page_offers_nothing_about_relatives(web_as, patient, relative):
    relative(patient)

    page = web_as("coordinator.oslo").get(plan_url(patient)).content.decode()

    assert "relatives/new/" not in page
    assert 'value="relative"' not in page
    assert "Randi Hansen" not in page
