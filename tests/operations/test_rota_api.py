"""The rota and calendar API: reading the rota, the warnings, assigning, and every error."""

from __future__ import annotations

import datetime
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hab.core import clock
from hab.core import services as core_services
from hab.core.roles import Role
from hab.operations.models import Assignment, EventKind, OperationsEvent
from tests.conftest import PASSWORD
from tests.operations.conftest import open_sessions, staff_session, tomorrow

pytestmark = pytest.mark.django_db


def assign(api, day=None, slot="morning", username="nurse2.oslo", role="nurse", **more):
    body = {"date": str(day or tomorrow()), "slot": slot, "username": username, "role": role}
    return api.post("/clinics/oslo/rota/assignments", body | more)


def fields(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {problem["field"] for problem in response.json()["detail"]}


# --- reading --------------------------------------------------------------------------------


def test_the_rota_lists_sessions_with_staff_and_shortfalls(calendar, rota_staff, api_as):
    staff_session(rota_staff, "oslo", tomorrow())

    response = api_as("nurse.oslo").get(
        "/clinics/oslo/rota", {"from": str(tomorrow()), "to": str(tomorrow())}
    )

    assert response.status_code == 200
    morning, afternoon = response.json()
    assert (morning["slot"], morning["understaffed"], morning["shortfalls"]) == (
        "morning",
        False,
        [],
    )
    assert [(a["username"], a["role"], a["duty"]) for a in morning["assignments"]] == [
        ("doctor.oslo", "doctor", "on_call"),
        ("nurse.oslo", "nurse", "on_duty"),
        ("nurse2.oslo", "nurse", "on_duty"),
    ]
    assert morning["starts_at"].startswith(str(tomorrow()))
    assert afternoon["understaffed"] is True
    assert [(s["need"], s["missing"], s["message"]) for s in afternoon["shortfalls"]] == [
        ("nurses", 2, "Missing 2 nurses"),
        ("doctors", 1, "No doctor on duty or on call"),
    ]


def test_the_rota_defaults_to_the_coming_week(calendar, api_as):
    response = api_as("doctor.oslo").get("/clinics/oslo/rota")

    days = {row["date"] for row in response.json()}
    assert days == {str(clock.today() + timedelta(days=i)) for i in range(7)}


def test_reading_the_rota_takes_a_fixed_number_of_queries(calendar, rota_staff, api_as):
    api = api_as("nurse.oslo")
    for i in range(1, 4):
        staff_session(rota_staff, "oslo", clock.today() + timedelta(days=i))
    api.get("/clinics/oslo/rota/rule")  # the token's first use is written once

    with CaptureQueriesContext(connection) as few:
        api.get("/clinics/oslo/rota", {"from": str(tomorrow()), "to": str(tomorrow())})
    with CaptureQueriesContext(connection) as many:
        api.get("/clinics/oslo/rota", {"to": str(clock.today() + timedelta(days=20))})

    assert len(many) == len(few)


def test_the_warnings_list_understaffed_sessions_in_the_next_14_days(calendar, rota_staff, api_as):
    # given every session not over yet staffed except tomorrow's afternoon, and one nurse
    # short on the 5th day
    for planned in open_sessions("oslo", 21):
        if (planned.date, planned.slot.code) != (tomorrow(), "afternoon"):
            staff_session(rota_staff, "oslo", planned.date, planned.slot.code)
    fifth = clock.today() + timedelta(days=5)
    short = Assignment.objects.get(
        session__date=fifth, session__slot__code="morning", user__username="nurse2.oslo"
    )
    api = api_as("clinic_lead.oslo")
    api.post(f"/clinics/oslo/rota/assignments/{short.pk}/removal", {"reason": "Syk"})

    # when
    response = api.get("/clinics/oslo/rota/warnings")

    # then
    body = response.json()
    assert response.status_code == 200
    assert (body["from"], body["to"]) == (
        str(clock.today()),
        str(clock.today() + timedelta(days=13)),
    )
    found = [(row["date"], row["slot"]) for row in body["understaffed"]]
    assert found == [(str(tomorrow()), "afternoon"), (str(fifth), "morning")]
    assert body["understaffed"][1]["shortfalls"][0]["message"] == "Missing 1 nurse"
    assert (body["count"], body["closed"], body["missing"]) == (2, [], [])


def test_the_warnings_leave_out_sessions_already_over(calendar, api_as):
    noon = timezone.make_aware(datetime.datetime.combine(clock.today(), time(12)))

    with clock.at(noon):
        body = api_as("clinic_lead.oslo").get("/clinics/oslo/rota/warnings").json()

    today = [(r["date"], r["slot"]) for r in body["understaffed"] if r["date"] == str(noon.date())]
    assert today == [(str(noon.date()), "afternoon")]


def test_the_warnings_name_days_missing_from_the_calendar(rota_staff, clinics, api_as):
    body = api_as("clinic_lead.bergen").get("/clinics/bergen/rota/warnings").json()

    assert body["count"] == len(body["missing"]) == 28
    assert body["missing"][0] == {"date": str(clock.today()), "slot": "morning"}


# --- assigning ------------------------------------------------------------------------------


def test_the_lead_assigns_a_nurse(calendar, rota_staff, api_as):
    response = assign(api_as("clinic_lead.oslo"), duty="on_call")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["username"], body["role"], body["duty"], body["assigned_by"]) == (
        "nurse2.oslo",
        "nurse",
        "on_call",
        "clinic_lead.oslo",
    )
    event = OperationsEvent.objects.get(kind=EventKind.ASSIGNED)
    assert event.details["username"] == "nurse2.oslo"


def test_a_person_is_assigned_to_a_session_once(calendar, api_as):
    api = api_as("clinic_lead.oslo")
    assert assign(api).status_code == 201

    again = assign(api, duty="on_call")

    assert again.status_code == 409
    assert "already on this session" in again.json()["detail"]


def test_removal_is_recorded_and_the_person_can_be_assigned_again(calendar, api_as):
    api = api_as("clinic_lead.oslo")
    first = assign(api).json()

    removed = api.post(f"/clinics/oslo/rota/assignments/{first['id']}/removal", {"reason": "Syk"})

    assert removed.status_code == 200
    assert (removed.json()["removed_by"], removed.json()["removal_reason"]) == (
        "clinic_lead.oslo",
        "Syk",
    )
    assert removed.json()["removed_at"] is not None
    row = Assignment.objects.get(pk=first["id"])
    assert row.removed_by.username == "clinic_lead.oslo"
    again = api.post(f"/clinics/oslo/rota/assignments/{first['id']}/removal", {})
    assert again.status_code == 409
    assert assign(api).status_code == 201
    assert Assignment.objects.count() == 2


def test_nobody_is_on_two_sessions_at_once_even_at_two_clinics(calendar, api_as, clinics):
    core_services.staff_create(
        username="vikar",
        password=PASSWORD,
        first_name="Vera",
        last_name="Vikar",
        roles=[(clinics["oslo"], Role.NURSE), (clinics["bergen"], Role.NURSE)],
    )
    assert assign(api_as("clinic_lead.oslo"), username="vikar").status_code == 201

    response = api_as("clinic_lead.bergen").post(
        "/clinics/bergen/rota/assignments",
        {"date": str(tomorrow()), "slot": "morning", "username": "vikar", "role": "nurse"},
    )

    assert response.status_code == 409
    assert "HAB Oslo" in response.json()["detail"]


def test_a_session_that_is_over_keeps_its_rota(calendar, api_as):
    api = api_as("clinic_lead.oslo")
    today = clock.today()
    before = timezone.make_aware(datetime.datetime.combine(today, time(7)))
    with clock.at(before):
        first = assign(api, day=today)
    assert first.status_code == 201

    with clock.at(before + timedelta(hours=5)):
        late = assign(api, day=today, username="nurse3.oslo")
        removal = api.post(f"/clinics/oslo/rota/assignments/{first.json()['id']}/removal", {})

    assert (late.status_code, removal.status_code) == (409, 409)
    assert "over" in late.json()["detail"]


# --- errors ---------------------------------------------------------------------------------


def test_every_problem_of_an_assignment_is_a_422_with_its_field(calendar, api_as):
    api = api_as("clinic_lead.oslo")

    assert fields(assign(api, slot="evening", role="psychologist", duty="maybe")) == {
        "slot",
        "role",
        "duty",
    }
    assert fields(assign(api, username="nurse.bergen")) == {"username"}
    assert fields(assign(api, username="doctor.oslo")) == {"username"}  # not a nurse
    assert fields(assign(api, day=clock.today() + timedelta(days=40))) == {"date"}
    assert fields(api.post("/clinics/oslo/rota/assignments", {"date": "30.11", "slot": "x"})) >= {
        "date",
        "username",
    }


def test_rota_periods_are_checked(calendar, api_as):
    api = api_as("nurse.oslo")

    assert fields(api.get("/clinics/oslo/rota", {"from": "2026-12-10", "to": "2026-12-01"})) == {
        "to"
    }
    assert fields(api.get("/clinics/oslo/rota", {"from": "2026-01-01", "to": "2026-12-31"})) == {
        "to"
    }
    assert fields(api.get("/clinics/oslo/rota", {"from": "soon"})) == {"from"}


def test_other_clinics_are_404_and_unknown_ones_too(calendar, api_as):
    api = api_as("clinic_lead.bergen")

    assert api.get("/clinics/oslo/rota").status_code == 404
    assert api.get("/clinics/oslo/rota/warnings").status_code == 404
    assert assign(api).status_code == 404
    assert api.get("/clinics/tromso/rota").status_code == 404


def test_an_assignment_is_removed_only_through_its_own_clinic(calendar, api_as):
    made = assign(api_as("clinic_lead.oslo")).json()

    response = api_as("clinic_lead.bergen").post(
        f"/clinics/bergen/rota/assignments/{made['id']}/removal", {}
    )

    assert response.status_code == 404
    assert (
        api_as("clinic_lead.oslo")
        .post("/clinics/oslo/rota/assignments/999999/removal", {})
        .status_code
        == 404
    )


def test_roles_without_the_rota_are_403(calendar, api_as):
    assert api_as("researcher.oslo").get("/clinics/oslo/rota").status_code == 403
    assert assign(api_as("nurse.oslo")).status_code == 403
    assert api_as("doctor.oslo").post("/clinics/oslo/calendar/generate", {}).status_code == 403


def test_without_a_token_it_is_401(calendar, api_as):
    assert api_as(None).get("/clinics/oslo/rota").status_code == 401


# --- calendar and rule endpoints ------------------------------------------------------------


def test_generate_is_idempotent(rota_staff, clinics, api_as):
    api = api_as("clinic_lead.oslo")

    first = api.post("/clinics/oslo/calendar/generate", {"days": 14}).json()
    second = api.post("/clinics/oslo/calendar/generate", {"days": 14}).json()

    assert (first["created"], second["created"], second["unchanged"]) == (28, 0, 28)
    assert first["from"] == str(clock.today())
    assert fields(api.post("/clinics/oslo/calendar/generate", {"days": 0})) == {"days"}
    assert fields(api.post("/clinics/oslo/calendar/generate", {"from": "2020-01-01"})) == {"from"}


def test_templates_exceptions_closures_and_holidays(calendar, api_as):
    api = api_as("clinic_lead.oslo")
    day = clock.today() + timedelta(days=4)

    template = api.post(
        "/clinics/oslo/calendar/templates",
        {
            "weekdays": [5, 6],
            "slot": "afternoon",
            "starts_at": "15:00",
            "ends_at": "17:00",
            "reason": "Helg",
        },
    )
    special = api.post(
        "/clinics/oslo/calendar/exceptions",
        {
            "date": str(day),
            "name": "Fagdag",
            "times": {"morning": {"starts_at": "10:00", "ends_at": "11:00"}},
        },
    )
    closure = api.post(
        "/clinics/oslo/calendar/closures",
        {"date": str(day + timedelta(days=1)), "slots": ["afternoon"], "reason": "Strømbrudd"},
    )
    holidays = api.post("/clinics/oslo/calendar/holidays", {"year": clock.today().year + 1})

    assert template.status_code == 201 and len(template.json()) == 2
    assert special.status_code == 201
    assert special.json()[0]["starts_at"] == "10:00"
    assert closure.status_code == 201 and closure.json()[0]["kind"] == "closure"
    assert holidays.status_code == 201 and len(holidays.json()) > 20
    assert len(api.get("/clinics/oslo/calendar/templates").json()) == 2
    listed = api.get("/clinics/oslo/calendar/exceptions", {"to": str(day + timedelta(days=1))})
    assert [(e["name"], e["slot"]) for e in listed.json()] == [
        ("Fagdag", "morning"),
        ("Closed", "afternoon"),
    ]
    warnings = api.get("/clinics/oslo/rota/warnings").json()
    assert [(r["date"], r["slot"]) for r in warnings["closed"]] == [
        (str(day + timedelta(days=1)), "afternoon")
    ]
    withdrawn = api.post(
        f"/clinics/oslo/calendar/exceptions/{closure.json()[0]['id']}/withdrawal",
        {"reason": "Strømmen er tilbake"},
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    assert api.get("/clinics/oslo/rota/warnings").json()["closed"] == []


def test_calendar_writes_report_every_problem(calendar, api_as):
    api = api_as("clinic_lead.oslo")

    assert fields(
        api.post(
            "/clinics/oslo/calendar/templates",
            {"weekdays": [9], "slot": "morning", "starts_at": "11:00", "ends_at": "08:00"},
        )
    ) == {"weekdays", "ends_at", "reason"}
    assert fields(
        api.post(
            "/clinics/oslo/calendar/exceptions",
            {
                "date": str(tomorrow()),
                "name": "",
                "times": {"night": {"starts_at": "01:00", "ends_at": "02:00"}},
            },
        )
    ) == {"name", "times.night"}
    assert fields(api.post("/clinics/oslo/calendar/closures", {"date": str(tomorrow())})) == {
        "reason"
    }
    assert fields(api.post("/clinics/oslo/calendar/holidays", {"year": 1990})) == {"year"}
    assert api.post("/clinics/oslo/calendar/exceptions/424242/withdrawal", {}).status_code == 404


def test_the_lead_changes_the_staffing_rule(calendar, rota_staff, api_as):
    staff_session(rota_staff, "oslo", tomorrow())
    api = api_as("clinic_lead.oslo")
    assert api.get("/clinics/oslo/rota/rule").json()["min_nurses"] == 2

    changed = api.post(
        "/clinics/oslo/rota/rule",
        {
            "min_nurses": 3,
            "min_doctors": 1,
            "doctor_on_call_counts": False,
            "reason": "Flere pasienter",
        },
    )

    assert changed.status_code == 201
    assert (changed.json()["changed_by"], changed.json()["min_nurses"]) == ("clinic_lead.oslo", 3)
    rota = api.get("/clinics/oslo/rota", {"from": str(tomorrow()), "to": str(tomorrow())}).json()
    assert [s["message"] for s in rota[0]["shortfalls"]] == [
        "Missing 1 nurse",
        "No doctor on duty",
    ]
    assert fields(api.post("/clinics/oslo/rota/rule", {"min_nurses": -1, "min_doctors": 99})) == {
        "min_nurses",
        "min_doctors",
        "reason",
    }
    assert (
        api_as("nurse.oslo")
        .post("/clinics/oslo/rota/rule", {"min_nurses": 1, "min_doctors": 0, "reason": "x"})
        .status_code
        == 403
    )
