"""The demo's care plans: most patients in treatment have one, with every kind of record,
overdue and upcoming reviews, notes at each level and relatives only with consent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from hab.care.models import CareNote, Goal, Involvement, PlanAction, Review, StatusRecord
from hab.care.selectors import clinic_plans, relatives_consent
from hab.core.access import Actor
from hab.core.models import AccessLog, Clinic, User
from hab.intake.models import Episode

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEMO_PASSWORD = "demo-pass-2026"
    call_command("demo", "--scale", "0.1", stdout=io.StringIO())


def test_the_demo_shows_every_part_of_the_plan(demo):
    in_treatment = Episode.objects.filter(ended_on__isnull=True)
    with_goals = set(Goal.objects.values_list("patient_id", flat=True))
    lead = Actor.system(User.objects.get(username="clinic_lead.oslo"))
    states = {row.state for row in clinic_plans(lead, Clinic.objects.get(code="oslo")).rows}

    # Most patients in treatment have a plan; the newest have none yet.
    assert len(with_goals) >= 0.6 * in_treatment.count()
    assert set(in_treatment.values_list("patient_id", flat=True)) - with_goals
    for model in (PlanAction, Review, StatusRecord):
        assert model.objects.exists(), model
    assert Goal.objects.filter(replaces__isnull=False).exists()
    assert PlanAction.objects.filter(status="done").exists()
    # Notes at every level, reviews overdue and to come.
    assert set(CareNote.objects.values_list("visibility", flat=True)) == {
        "team",
        "clinical",
        "psychology",
    }
    assert "overdue" in states
    assert states & {"scheduled", "due_soon"}
    # Relatives only where the patient consents.
    for involvement in Involvement.objects.select_related("patient"):
        assert relatives_consent(involvement.patient)
    for action in PlanAction.objects.filter(owner_kind="relative").select_related("patient"):
        assert relatives_consent(action.patient)
    # Today's work went through the services, with its access-log rows.
    assert AccessLog.objects.filter(what="care plan", action="create").count() >= 2
