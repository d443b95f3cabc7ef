"""The rota's pages: the week, the warnings, assigning and removing, the calendar forms."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hab.core import clock
from hab.operations.models import (
    Assignment,
    CalendarException,
    ClinicSession,
    SessionTemplate,
    StaffingRule,
)
from tests.operations.conftest import open_sessions, session, staff_session, tomorrow

pytestmark = pytest.mark.django_db


@pytest.fixture
def web_en(web_as):
    """A logged-in client reading the pages in English (the source strings)."""

    def login(username: str):
        client = web_as(username)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return login


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_week_shows_each_day_with_its_sessions_and_what_they_lack(calendar, web_en, rota_staff):
    staff_session(rota_staff, "oslo", tomorrow())

    page = html(web_en("clinic_lead.oslo").get(f"/operations/?week={tomorrow()}"))

    assert page.count('class="card rota-day') == 7
    assert "Missing 2 nurses" in page
    assert "No doctor on duty or on call" in page
    assert "Staffed" in page
    assert str(rota_staff["nurse2.oslo"]) in page
    assert "on call" in page
    morning = session("oslo", tomorrow())
    assert f"/operations/sessions/{morning.pk}/assign/" in page


def test_a_nurse_sees_the_rota_without_the_leads_buttons(calendar, web_en):
    page = html(web_en("nurse.oslo").get("/operations/"))

    assert "rota-day" in page
    assert "/assign/" not in page
    assert "/remove/" not in page


def test_the_week_takes_a_fixed_number_of_queries(calendar, web_en, rota_staff):
    # The week of tomorrow: all of it is still to come, even late on a Sunday.
    client = web_en("clinic_lead.oslo")
    week = f"/operations/?week={tomorrow()}"
    client.get(week)
    with CaptureQueriesContext(connection) as empty:
        before = html(client.get(week))
    for i in range(7):
        staff_session(rota_staff, "oslo", tomorrow() + timedelta(days=i))

    with CaptureQueriesContext(connection) as full:
        page = html(client.get(week))

    # The mornings shown are staffed now: the page has more rows, not more queries.
    understaffed = 'class="rota-session understaffed"'
    assert page.count(understaffed) < before.count(understaffed)
    assert len(full) == len(empty)


def test_a_bad_week_parameter_shows_this_week(calendar, web_en):
    page = html(web_en("clinic_lead.oslo").get("/operations/?week=soon"))

    assert "today" in page


def test_the_lead_assigns_from_the_form_and_returns_where_they_came_from(calendar, web_en):
    client = web_en("clinic_lead.oslo")
    morning = session("oslo", tomorrow())
    url = f"/operations/sessions/{morning.pk}/assign/?next=/operations/warnings/"

    form = html(client.get(url))
    response = client.post(url, {"person": "nurse3.oslo|nurse", "duty": "on_duty"})

    assert "Missing 2 nurses" in form
    assert response.status_code == 302
    assert response["Location"] == "/operations/warnings/"
    assigned = Assignment.objects.get()
    assert (assigned.user.username, assigned.session, assigned.duty) == (
        "nurse3.oslo",
        morning,
        "on_duty",
    )


def test_the_assign_form_shows_a_conflict_and_ignores_a_foreign_next(calendar, web_en, rota_staff):
    staff_session(rota_staff, "oslo", tomorrow())
    client = web_en("clinic_lead.oslo")
    morning = session("oslo", tomorrow())
    url = f"/operations/sessions/{morning.pk}/assign/?next=https://example.com/"

    again = client.post(url, {"person": "nurse.oslo|nurse", "duty": "on_call"})
    fresh = client.post(url, {"person": "nurse3.oslo|nurse", "duty": "on_duty"})

    assert "already on this session" in html(again)
    assert fresh["Location"].startswith("/operations/?week=")


def test_removing_asks_for_a_reason_and_keeps_the_row(calendar, web_en, rota_staff):
    staff_session(rota_staff, "oslo", tomorrow())
    client = web_en("clinic_lead.oslo")
    assignment = Assignment.objects.get(user__username="nurse.oslo")

    html(client.get(f"/operations/assignments/{assignment.pk}/remove/"))
    response = client.post(f"/operations/assignments/{assignment.pk}/remove/", {"reason": "Syk"})

    assert response.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.removed_by.username, assignment.removal_reason) == (
        "clinic_lead.oslo",
        "Syk",
    )
    gone = client.get(f"/operations/assignments/{assignment.pk}/remove/")
    assert gone.status_code == 404


def test_the_warnings_page_lists_understaffed_sessions_until_they_are_staffed(
    calendar, web_en, rota_staff
):
    client = web_en("clinic_lead.oslo")
    # Two sessions a day for 14 days, less today's that are over at the clock's hour.
    over = ClinicSession.objects.filter(
        clinic__code="oslo", date=clock.today(), ends_at__lte=clock.now()
    ).count()
    assert html(client.get("/operations/warnings/")).count("<tr data-session=") == 28 - over

    for planned in open_sessions("oslo", 14):
        staff_session(rota_staff, "oslo", planned.date, planned.slot.code)

    page = html(client.get("/operations/warnings/"))
    assert "<tr data-session=" not in page
    assert "Every session in the next 14 days is staffed." in page


def test_the_calendar_page_generates_and_adds_holidays(rota_staff, clinics, web_en):
    client = web_en("clinic_lead.oslo")
    assert "No sessions are generated yet." in html(client.get("/operations/calendar/"))

    client.post("/operations/calendar/generate/", {"days": "30"})
    client.post("/operations/calendar/holidays/", {"year": str(clock.today().year + 1)})
    refused = client.post("/operations/calendar/holidays/", {"year": "1990"}, follow=True)

    assert ClinicSession.objects.filter(clinic__code="oslo").count() == 60
    assert CalendarException.objects.filter(clinic__code="oslo", kind="holiday").exists()
    assert "Choose a year" in html(refused)
    page = html(client.get("/operations/calendar/"))
    assert "The calendar has sessions up to" in page
    assert "Første nyttårsdag" in page


def test_the_opening_times_form(calendar, web_en):
    client = web_en("clinic_lead.oslo")

    bad = client.post(
        "/operations/calendar/template/",
        {"weekdays": "5,6", "slot": "morning", "starts_at": "11:00", "ends_at": "09:00"},
    )
    response = client.post(
        "/operations/calendar/template/",
        {
            "weekdays": "5,6",
            "slot": "morning",
            "starts_at": "09:00",
            "ends_at": "11:00",
            "valid_from": str(clock.today()),
            "reason": "Helg",
        },
    )

    assert "The session must close after it opens." in html(bad) or "required" in html(bad)
    assert response.status_code == 302
    assert set(SessionTemplate.objects.values_list("weekday", flat=True)) == {5, 6}
    saturday = next(
        s for s in ClinicSession.objects.filter(clinic__code="oslo") if s.date.weekday() == 5
    )
    assert saturday.source == "template"


def test_the_special_day_form_maps_errors_to_the_sessions_fields(calendar, web_en):
    client = web_en("clinic_lead.oslo")
    day = clock.today() + timedelta(days=2)

    bad = client.post(
        "/operations/calendar/exception/",
        {"date": str(day), "name": "Fagdag", "morning_starts_at": "11:00", "morning_ends_at": ""},
    )
    good = client.post(
        "/operations/calendar/exception/",
        {
            "date": str(day),
            "name": "Fagdag",
            "morning_starts_at": "10:00",
            "morning_ends_at": "11:00",
        },
    )

    assert 'id="id_morning_ends_at_error"' in html(bad)
    assert good.status_code == 302
    assert session("oslo", day).exception.name == "Fagdag"


def test_closing_needs_the_leads_confirmation_and_is_loud(calendar, web_en):
    client = web_en("clinic_lead.oslo")
    day = clock.today() + timedelta(days=2)
    data = {"date": str(day), "slot": "", "reason": "Vannlekkasje"}

    unconfirmed = client.post("/operations/calendar/closure/", data)
    confirmed = client.post("/operations/calendar/closure/", data | {"confirm": "on"}, follow=True)

    assert "id_confirm_error" in html(unconfirmed)
    assert "Patients will miss their dose" in html(confirmed)
    assert session("oslo", day).closed
    week = html(client.get("/operations/"))
    assert 'class="closure-alert" role="alert"' in week
    exception = CalendarException.objects.filter(date=day).first()
    withdrawn = client.post(f"/operations/calendar/exceptions/{exception.pk}/withdraw/", {})
    assert withdrawn.status_code == 302, withdrawn.content.decode()[-3000:]
    assert not session("oslo", day).closed
    assert session("oslo", day, "afternoon").closed


def test_the_staffing_rule_form(calendar, web_en):
    client = web_en("clinic_lead.oslo")
    form = html(client.get("/operations/rule/"))

    response = client.post(
        "/operations/rule/",
        {"min_nurses": "3", "min_doctors": "1", "reason": "Mange nye pasienter"},
    )

    assert 'value="2"' in form
    assert response.status_code == 302
    rule = StaffingRule.objects.get()
    assert (rule.min_nurses, rule.doctor_on_call_counts) == (3, False)
    assert "Missing 3 nurses" in html(client.get("/operations/"))


def test_times_on_the_week_are_local(calendar, web_en):
    page = html(web_en("nurse.oslo").get("/operations/"))

    assert f"{time(8):%H:%M}–11:00" in page
    assert "14:00–17:30" in page
