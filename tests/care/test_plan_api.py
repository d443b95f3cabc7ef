"""The individual plan through the API: a plan built up and read back, versions that
supersede, the access log, and every refusal (401, 403, 404, 409, 422) writing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.care import rules
from hab.care.models import CareNote, Goal, Involvement, PlanAction, Review, StatusRecord
from hab.core import clock
from hab.core.models import AccessLog
from tests.helpers import days_ago

pytestmark = pytest.mark.django_db

MODELS = [Goal, PlanAction, Review, StatusRecord, CareNote, Involvement]


def plan_path(patient, part: str = "") -> str:
    return f"/patients/{patient.pk}/care-plan" + (f"/{part}" if part else "")


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS} | {
        "log": AccessLog.objects.filter(what="care plan").count()
    }


def test_a_coordinator_builds_a_plan_and_reads_it_back(api_as, patient):
    api = api_as("coordinator.oslo")

    goal = api.post(
        plan_path(patient, "goals"),
        {"domain": "housing", "text": "Få min egen leilighet før jul"},
    )
    work = api.post(
        plan_path(patient, "goals"),
        {"domain": "activity", "text": "Komme i gang med jobb på Fretex"},
    )
    action = api.post(
        plan_path(patient, "actions"),
        {
            "domain": "housing",
            "text": "Søke kommunal bolig sammen med NAV",
            "owner": "coordinator.oslo",
            "due_on": str(days_ago(-14)),
        },
    )
    review = api.post(
        plan_path(patient, "reviews"),
        {"held_on": str(days_ago(1)), "staff": ["coordinator.oslo", "doctor.oslo"], "notes": "OK"},
    )
    status = api.post(
        plan_path(patient, "status"), {"housing": "hostel", "activity": "day_programme"}
    )
    note = api.post(plan_path(patient, "notes"), {"text": "Godt møte.", "visibility": "team"})

    for response in (goal, work, action, review, status, note):
        assert response.status_code == 201, response.content
    plan = api.get(plan_path(patient)).json()
    assert [(g["domain"], g["text"]) for g in plan["goals"]] == [
        ("housing", "Få min egen leilighet før jul"),
        ("activity", "Komme i gang med jobb på Fretex"),
    ]
    assert plan["actions"][0]["owner"] == "coordinator.oslo"
    assert plan["actions"][0]["overdue"] is False
    assert plan["reviews"][0]["staff"] == ["coordinator.oslo", "doctor.oslo"]
    assert plan["next_review"]["due_on"] == str(rules.add_months(days_ago(1), 3))
    assert plan["next_review"]["overdue"] is False
    assert plan["status"][0]["housing"] == "hostel"
    assert plan["notes"][0]["text"] == "Godt møte."
    assert plan["restricted_notes"] == 0
    assert plan["episode"]["coordinator"] == "coordinator.oslo"
    assert len(plan["domains"]) == 7


def test_without_a_review_the_next_is_three_months_after_admission(api_as, patient):
    plan = api_as("nurse.oslo").get(plan_path(patient)).json()

    assert plan["next_review"] == {
        "due_on": str(rules.add_months(days_ago(10), 3)),
        "state": "scheduled",
        "overdue": False,
    }


def test_a_review_due_yesterday_is_overdue(api_as, patient):
    api = api_as("coordinator.oslo")
    api.post(
        plan_path(patient, "reviews"),
        {"held_on": str(days_ago(5)), "next_on": str(days_ago(1)), "patient_attended": True},
    )

    plan = api.get(plan_path(patient)).json()

    assert plan["next_review"]["overdue"] is True
    assert plan["next_review"]["state"] == "overdue"


def test_a_changed_goal_is_a_new_version_and_the_old_stays(api_as, patient):
    api = api_as("coordinator.oslo")
    first = api.post(plan_path(patient, "goals"), {"domain": "housing", "text": "Egen bolig"})

    second = api.post(
        plan_path(patient, "goals"),
        {
            "domain": "housing",
            "text": "Egen bolig i Gamle Oslo",
            "status": "achieved",
            "replaces": first.json()["id"],
        },
    )

    assert second.status_code == 201, second.content
    goals = api.get(plan_path(patient)).json()["goals"]
    assert len(goals) == 1
    assert goals[0]["text"] == "Egen bolig i Gamle Oslo"
    assert goals[0]["status"] == "achieved"
    assert goals[0]["replaces"] == first.json()["id"]
    assert [g["text"] for g in goals[0]["earlier"]] == ["Egen bolig"]
    assert Goal.objects.count() == 2


def test_an_action_marked_done_is_a_new_row(api_as, patient):
    api = api_as("coordinator.oslo")
    body = {"domain": "finances", "text": "Søke om gjeldsordning", "owner": "patient"}
    first = api.post(plan_path(patient, "actions"), body | {"due_on": str(days_ago(3))})
    assert api.get(plan_path(patient)).json()["actions"][0]["overdue"] is True

    done = api.post(
        plan_path(patient, "actions"),
        body | {"due_on": str(days_ago(3)), "status": "done", "replaces": first.json()["id"]},
    )

    assert done.status_code == 201, done.content
    actions = api.get(plan_path(patient)).json()["actions"]
    assert [(a["status"], a["overdue"], a["owner"]) for a in actions] == [
        ("done", False, "patient")
    ]
    assert PlanAction.objects.count() == 2


def test_reading_and_writing_the_plan_are_logged(api_as, patient):
    api = api_as("psychologist.oslo")

    api.post(plan_path(patient, "goals"), {"domain": "mental_health", "text": "Sove bedre"})
    api.get(plan_path(patient))

    rows = list(AccessLog.objects.filter(patient=patient, what="care plan").order_by("at", "id"))
    assert [(r.action, r.username) for r in rows] == [
        ("create", "psychologist.oslo"),
        ("view", "psychologist.oslo"),
    ]
    assert rows[0].details["domain"] == "mental_health"


def test_the_clinic_list_shows_plan_status_and_logs_who_is_listed(api_as, patient, in_treatment):
    other = in_treatment()
    api = api_as("coordinator.oslo")
    api.post(plan_path(patient, "goals"), {"domain": "housing", "text": "Egen bolig"})

    rows = api.get("/clinics/oslo/care-plans").json()
    no_goals = api.get("/clinics/oslo/care-plans", {"show": "no_goals"}).json()

    assert {r["patient"]: r["goals"] for r in rows} == {patient.pk: 1, other.pk: 0}
    assert [r["patient"] for r in no_goals] == [other.pk]
    assert AccessLog.objects.filter(action="list", username="coordinator.oslo").count() == 2


# --- refusals: each writes nothing ------------------------------------------------------

INVALID = [
    ("goals", {"domain": "space", "text": "x"}, "domain"),
    ("goals", {"domain": "housing", "text": "   "}, "text"),
    ("goals", {"domain": "housing", "text": "x" * 501}, "text"),
    ("goals", {"domain": "housing", "text": "x", "status": "maybe"}, "status"),
    ("goals", {"domain": "housing", "text": "x", "replaces": 999999}, "replaces"),
    ("goals", {"domain": "housing"}, "text"),  # missing: the schema's 422
    ("actions", {"domain": "housing", "text": "x", "owner": ""}, "owner"),
    ("actions", {"domain": "housing", "text": "x", "owner": "nurse.bergen"}, "owner"),
    ("actions", {"domain": "housing", "text": "x", "owner": "researcher.oslo"}, "owner"),
    ("actions", {"domain": "housing", "text": "x", "owner": "patient", "status": "?"}, "status"),
    ("actions", {"domain": "housing", "text": "x", "owner": "patient", "due_on": "soon"}, "due_on"),
    ("reviews", {"held_on": "{tomorrow}"}, "held_on"),
    ("reviews", {"held_on": "{today}", "next_on": "{today}"}, "next_on"),
    ("reviews", {"held_on": "{today}", "staff": ["nobody"]}, "staff"),
    ("reviews", {"held_on": "{today}", "patient_attended": False}, "staff"),
    ("status", {"housing": "castle", "activity": "work"}, "housing"),
    ("status", {"housing": "own_flat", "activity": "golf"}, "activity"),
    ("status", {"housing": "own_flat", "activity": "work", "on": "{tomorrow}"}, "on"),
    ("notes", {"text": ""}, "text"),
    ("notes", {"text": "x", "visibility": "secret"}, "visibility"),
    ("notes", {"text": "x", "visibility": "psychology"}, "visibility"),  # coordinator
    ("relatives", {"relative": 1, "kind": "responsibility_group"}, "relative"),  # no consent
]


@pytest.mark.parametrize(("part", "body", "field"), INVALID)
def test_invalid_input_is_422_with_the_field_and_nothing_written(
    api_as, patient, part, body, field
):
    fill = {"{today}": str(clock.today()), "{tomorrow}": str(clock.today() + timedelta(1))}
    body = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = counts()

    response = api_as("coordinator.oslo").post(plan_path(patient, part), body)

    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["detail"]]
    assert all(e["message"] for e in response.json()["detail"])
    assert counts() == before


def test_a_goal_keeps_its_domain(api_as, patient):
    api = api_as("coordinator.oslo")
    first = api.post(plan_path(patient, "goals"), {"domain": "housing", "text": "Egen bolig"})

    response = api.post(
        plan_path(patient, "goals"),
        {"domain": "legal", "text": "x", "replaces": first.json()["id"]},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "domain"


def test_a_goal_of_another_patient_cannot_be_replaced(api_as, patient, in_treatment):
    api = api_as("coordinator.oslo")
    other = in_treatment()
    theirs = api.post(plan_path(other, "goals"), {"domain": "housing", "text": "Egen bolig"})

    response = api.post(
        plan_path(patient, "goals"),
        {"domain": "housing", "text": "x", "replaces": theirs.json()["id"]},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "replaces"


def test_replacing_a_version_already_replaced_is_a_conflict(api_as, patient):
    api = api_as("coordinator.oslo")
    first = api.post(plan_path(patient, "goals"), {"domain": "housing", "text": "A"}).json()
    body = {"domain": "housing", "text": "B", "replaces": first["id"]}
    assert api.post(plan_path(patient, "goals"), body).status_code == 201
    before = counts()

    response = api.post(plan_path(patient, "goals"), body | {"text": "C"})

    assert response.status_code == 409
    assert counts() == before


def test_a_plan_is_read_only_once_the_patient_is_discharged(api_as, patient):
    episode = patient.episodes.get()
    discharge = api_as("doctor.oslo").post(
        f"/episodes/{episode.pk}/discharge",
        {"ended_on": str(clock.today()), "reason": "transfer_lar"},
    )
    assert discharge.status_code == 200, discharge.content

    response = api_as("coordinator.oslo").post(
        plan_path(patient, "goals"), {"domain": "housing", "text": "x"}
    )

    assert response.status_code == 409
    assert api_as("coordinator.oslo").get(plan_path(patient)).status_code == 200
    assert Goal.objects.count() == 0


def test_unauthenticated_is_401(api_as, patient):
    assert api_as(None).get(plan_path(patient)).status_code == 401
    response = api_as(None).post(plan_path(patient, "goals"), {"domain": "housing", "text": "x"})
    assert response.status_code == 401


def test_an_unknown_patient_is_404(api_as):
    assert api_as("coordinator.oslo").get("/patients/999999/care-plan").status_code == 404


def test_a_patient_at_another_clinic_is_404_and_nothing_written(api_as, patient):
    before = counts()

    read = api_as("coordinator.bergen").get(plan_path(patient))
    write = api_as("coordinator.bergen").post(
        plan_path(patient, "goals"), {"domain": "housing", "text": "x"}
    )

    assert (read.status_code, write.status_code) == (404, 404)
    assert counts() == before


def test_a_nurse_reads_but_does_not_write(api_as, patient):
    before = counts()

    response = api_as("nurse.oslo").post(
        plan_path(patient, "goals"), {"domain": "housing", "text": "x"}
    )

    assert response.status_code == 403
    assert counts() == before
