"""The schedule per course of treatment, the due/overdue/missed lists per clinic and per
coordinator, the missed sweep, and what happens when treatment ends early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from hab.core.access import Actor
from hab.core.models import AccessLog
from hab.intake import services as intake_services
from hab.research import selectors, services
from hab.research.models import FollowUp, Missed
from tests.research.conftest import on, valid_answers

pytestmark = pytest.mark.django_db


def states(api, clinic="oslo", state="due", **query):
    response = api.get(f"/clinics/{clinic}/follow-ups", {"state": state} | query)
    assert response.status_code == 200, response.content
    return response.json()


def test_admission_makes_the_schedule_of_the_course(course):
    made = course()

    assert list(made["points"]) == [
        "baseline",
        "m3",
        "m6",
        "m12",
        "m18",
        "m24",
        "m36",
        "m48",
        "m60",
    ]
    baseline = made["points"]["baseline"]
    assert baseline.window_to - baseline.due_on == timedelta(days=30)


def test_scheduling_again_changes_nothing(course):
    made = course()

    assert services.follow_ups_schedule(episode_id=made["episode"]) == 0
    assert services.follow_ups_ensure(selectors.courses().values()) == 0
    assert FollowUp.objects.count() == 9


def test_a_schedule_missing_is_made_when_the_list_is_read(api_as, course):
    made = course()
    FollowUp.objects.all().delete()  # as for an episode admitted before the research app

    rows = states(api_as("nurse.oslo"), state="overdue")

    assert [r["timepoint"] for r in rows] == ["baseline"]
    assert FollowUp.objects.filter(episode_id=made["episode"]).count() == 9


def test_the_lists_follow_the_days(api_as, course):
    made = course()
    points = made["points"]
    api = api_as("nurse.oslo")

    # Admitted 10 days ago: the baseline is past its due date, inside its window.
    assert [r["timepoint"] for r in states(api, state="overdue")] == ["baseline"]
    assert states(api, state="due") == []
    assert states(api, state="upcoming")[0]["timepoint"] == "m3"

    with on(points["m3"].due_on - timedelta(days=3)):
        api = api_as("nurse.oslo")  # months later: a new login (tokens last 12 hours)
        due = states(api, state="due")
        missed = states(api, state="missed")
    assert [r["timepoint"] for r in due] == ["m3"]
    assert due[0]["state"] == "due" and due[0]["coordinator"] == "coordinator.oslo"
    assert [(r["timepoint"], r["missed_reason"]) for r in missed] == [("baseline", "window_closed")]
    assert Missed.objects.get().follow_up_id == points["baseline"].pk


def test_a_done_follow_up_is_listed_as_done(api_as, baseline):
    api = api_as("coordinator.oslo")
    api.post(
        f"/follow-ups/{baseline.pk}/responses",
        {"instrument": "hab_core", "answered_on": str(baseline.due_on), "answers": valid_answers()},
    )

    done = states(api, state="done")

    assert [(r["timepoint"], r["state"], r["answered_on"]) for r in done] == [
        ("baseline", "done", str(baseline.due_on))
    ]
    assert states(api, state="overdue") == []


def test_mine_lists_only_the_coordinators_patients(api_as, course, staff):
    course()
    course(coordinator=None)  # another patient, without a coordinator
    api = api_as("nurse.oslo")

    assert len(states(api, state="overdue")) == 2
    mine = states(api, state="overdue", coordinator="coordinator.oslo")
    assert len(mine) == 1
    assert states(api, state="overdue", coordinator="doctor.oslo") == []
    bad = api.get("/clinics/oslo/follow-ups", {"state": "overdue", "coordinator": "nobody"})
    assert bad.status_code == 422


def test_an_unknown_state_is_refused(api_as, staff):
    response = api_as("nurse.oslo").get("/clinics/oslo/follow-ups", {"state": "lost"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "state"


def test_listed_patients_are_written_to_the_access_log(api_as, course):
    made = course()

    states(api_as("psychologist.oslo"), state="overdue")

    row = AccessLog.objects.get(patient_id=made["patient"], username="psychologist.oslo")
    assert (row.action, row.details) == ("list", {"list": "follow-ups overdue"})


def test_the_sweep_records_each_missed_time_point_once(course):
    made = course()
    points = made["points"]
    later = points["m6"].window_to + timedelta(days=1)

    first = services.missed_sweep(today=later)
    second = services.missed_sweep(today=later)

    assert first == 3 and second == 0  # baseline, m3 and m6
    assert set(Missed.objects.values_list("follow_up__timepoint", "reason")) == {
        ("baseline", "window_closed"),
        ("m3", "window_closed"),
        ("m6", "window_closed"),
    }


def test_the_sweep_command_is_idempotent(course, capsys):
    made = course()
    day = str(made["points"]["m3"].window_to + timedelta(days=1))

    call_command("follow-up-sweep", "--date", day)
    call_command("follow-up-sweep", "--date", day)

    out = capsys.readouterr().out.splitlines()
    assert "2 recorded as missed" in out[0]
    assert "0 recorded as missed" in out[1]
    assert Missed.objects.count() == 2


def test_a_transfer_continues_the_course(api_as, course, staff):
    made = course()
    baseline = made["points"]["baseline"]
    moved = intake_services.episode_transfer(
        actor=Actor.system(staff["clinic_lead.oslo"]),
        episode_id=made["episode"],
        to_clinic="bergen",
        on=baseline.due_on + timedelta(days=5),
    )

    services.follow_ups_schedule(episode_id=moved.pk)

    assert FollowUp.objects.count() == 9  # the same course, no new schedule
    assert selectors.course_of(moved.pk).root_id == made["episode"]
    # The course is followed up where the patient is now.
    assert states(api_as("nurse.oslo"), state="overdue") == []
    bergen = states(api_as("nurse.bergen"), clinic="bergen", state="overdue")
    assert [r["timepoint"] for r in bergen] == ["baseline"]


def test_time_points_after_an_early_end_are_missed_as_ended(api_as, course, staff):
    made = course()
    points = made["points"]
    intake_services.episode_discharge(
        actor=Actor.system(staff["doctor.oslo"]),
        episode_id=made["episode"],
        ended_on=points["baseline"].due_on + timedelta(days=5),
        reason="dropout",
    )
    api = api_as("coordinator.oslo")

    listed = api.get(f"/patients/{made['patient']}/follow-ups").json()

    by_point = {r["timepoint"]: r for r in listed}
    # The baseline window was open when treatment ended: it can still be done.
    assert by_point["baseline"]["state"] == "overdue"
    assert {r["missed_reason"] for p, r in by_point.items() if p != "baseline"} == {"ended"}
    assert Missed.objects.filter(reason="ended").count() == 8
    # Not on the clinic's missed list before their dates...
    assert states(api, state="missed") == []
    # ... and never due.
    with on(points["m3"].due_on):
        api = api_as("coordinator.oslo")  # months later: a new login (tokens last 12 hours)
        assert states(api, state="due") == []
        assert [r["timepoint"] for r in states(api, state="missed")] == ["m3", "baseline"]
        refused = api.post(
            f"/follow-ups/{points['m3'].pk}/responses",
            {
                "instrument": "hab_core",
                "answered_on": str(points["m3"].due_on),
                "answers": valid_answers(),
            },
        )
    assert refused.status_code == 409


def test_the_patients_follow_ups_are_logged_as_read(api_as, course):
    made = course()

    rows = api_as("doctor.oslo").get(f"/patients/{made['patient']}/follow-ups").json()

    assert len(rows) == 9 and rows[0]["timepoint"] == "baseline"
    assert AccessLog.objects.filter(
        patient_id=made["patient"], username="doctor.oslo", what="follow-ups", action="view"
    ).exists()


def test_the_clinic_list_takes_a_fixed_number_of_queries(
    api_as, course, django_assert_max_num_queries
):
    for _ in range(3):
        course()
    api = api_as("nurse.oslo")
    states(api, state="overdue")

    with django_assert_max_num_queries(25):
        assert len(states(api, state="overdue")) == 3
