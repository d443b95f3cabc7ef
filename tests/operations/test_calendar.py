"""The opening calendar: templates, exceptions, holidays, closures and generation."""

from __future__ import annotations

import io
from datetime import date, time, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from hab.core import clock
from hab.core.errors import Conflict, Invalid
from hab.operations import selectors, services
from hab.operations.models import (
    CalendarException,
    ClinicSession,
    EventKind,
    ExceptionKind,
    OperationsEvent,
    SessionTemplate,
)
from tests.operations.conftest import lead, session, staff_session, tomorrow

pytestmark = pytest.mark.django_db


def local(moment) -> tuple[date, time]:
    moment = timezone.localtime(moment)
    return moment.date(), moment.time()


def set_weekend(staff, clinics, **fields):
    services.template_set(
        actor=lead(staff),
        clinic=clinics["oslo"],
        weekdays=[5, 6],
        slot="morning",
        starts_at=time(9),
        ends_at=time(11),
        reason="Kortere helgeåpning",
        **fields,
    )


def test_generating_makes_a_session_per_day_and_slot(rota_staff, clinics):
    result = services.calendar_generate(actor=lead(rota_staff), clinic=clinics["oslo"], days=10)

    assert (result.created, result.updated, result.unchanged) == (20, 0, 0)
    assert result.end == clock.today() + timedelta(days=9)
    first = session("oslo", clock.today())
    assert local(first.starts_at) == (clock.today(), time(8))
    assert local(first.ends_at) == (clock.today(), time(11))
    assert first.source == "slot"
    event = OperationsEvent.objects.get(kind=EventKind.CALENDAR_GENERATED)
    assert (event.by, event.details["created"]) == (rota_staff["clinic_lead.oslo"], 20)


def test_generating_again_duplicates_nothing(rota_staff, clinics):
    services.calendar_generate(actor=lead(rota_staff), clinic=clinics["oslo"], days=10)

    again = services.calendar_generate(actor=lead(rota_staff), clinic=clinics["oslo"], days=14)

    assert (again.created, again.updated, again.unchanged) == (8, 0, 20)
    assert ClinicSession.objects.filter(clinic=clinics["oslo"]).count() == 28


def test_the_database_refuses_a_second_session_in_a_slot(calendar):
    first = session("oslo", tomorrow())

    with pytest.raises(IntegrityError), transaction.atomic():
        ClinicSession.objects.create(
            clinic=first.clinic,
            date=first.date,
            slot=first.slot,
            starts_at=first.starts_at,
            ends_at=first.ends_at,
            source="slot",
            generated_at=first.generated_at,
        )


def test_weekend_templates_give_shorter_hours(rota_staff, clinics):
    set_weekend(rota_staff, clinics)
    services.calendar_generate(actor=lead(rota_staff), clinic=clinics["oslo"], days=7)

    sessions = ClinicSession.objects.filter(clinic__code="oslo", slot__code="morning")
    for s in sessions:
        expected = time(9) if s.date.weekday() >= 5 else time(8)
        assert local(s.starts_at)[1] == expected
        assert s.source == ("template" if s.date.weekday() >= 5 else "slot")


def test_a_template_change_updates_the_sessions_already_generated(calendar, rota_staff):
    set_weekend(rota_staff, calendar)

    saturdays = ClinicSession.objects.filter(clinic__code="oslo", slot__code="morning")
    saturdays = [s for s in saturdays if s.date.weekday() == 5]
    assert saturdays
    assert all(local(s.starts_at)[1] == time(9) for s in saturdays)
    # Bergen's calendar is its own.
    bergen = ClinicSession.objects.filter(clinic__code="bergen", slot__code="morning")
    assert all(local(s.starts_at)[1] == time(8) for s in bergen)


def test_a_template_change_from_a_later_day_keeps_the_earlier_sessions(calendar, rota_staff):
    from_day = clock.today() + timedelta(days=8)

    services.template_set(
        actor=lead(rota_staff),
        clinic=calendar["oslo"],
        weekdays=list(range(7)),
        slot="afternoon",
        starts_at=time(13),
        ends_at=time(16),
        valid_from=from_day,
        reason="Ny vaktordning",
    )

    for s in ClinicSession.objects.filter(clinic__code="oslo", slot__code="afternoon"):
        assert local(s.starts_at)[1] == (time(13) if s.date >= from_day else time(14))


def test_template_versions_are_kept_with_who_and_why(rota_staff, clinics):
    set_weekend(rota_staff, clinics)
    set_weekend(rota_staff, clinics)

    rows = SessionTemplate.objects.filter(clinic=clinics["oslo"], weekday=5)
    assert rows.count() == 2
    assert {(r.created_by.username, r.reason) for r in rows} == {
        ("clinic_lead.oslo", "Kortere helgeåpning")
    }


def test_template_versions_cannot_be_changed(rota_staff, clinics):
    set_weekend(rota_staff, clinics)
    row = SessionTemplate.objects.first()

    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        SessionTemplate.objects.filter(pk=row.pk).update(reason="changed")


def test_a_template_needs_days_times_a_reason_and_no_past(rota_staff, clinics):
    with pytest.raises(Invalid) as error:
        services.template_set(
            actor=lead(rota_staff),
            clinic=clinics["oslo"],
            weekdays=[],
            slot="evening",
            starts_at=time(11),
            ends_at=time(9),
            valid_from=clock.today() - timedelta(days=1),
            reason=" ",
        )

    fields = {e.field for e in error.value.errors}
    assert fields == {"weekdays", "slot", "ends_at", "valid_from", "reason"}


def test_a_special_day_has_its_own_times_and_replaces_the_old(calendar, rota_staff):
    day = clock.today() + timedelta(days=5)
    for opens in (time(10), time(9)):
        services.exception_set(
            actor=lead(rota_staff),
            clinic=calendar["oslo"],
            day=day,
            name="Personalmøte",
            times={"morning": (opens, time(11))},
        )

    morning, afternoon = session("oslo", day), session("oslo", day, "afternoon")
    assert local(morning.starts_at)[1] == time(9)
    assert (morning.source, morning.exception.name) == ("exception", "Personalmøte")
    assert afternoon.source == "slot"
    rows = CalendarException.objects.filter(date=day).order_by("id")
    assert [r.withdrawn_at is None for r in rows] == [False, True]
    assert rows[0].withdrawn_by == rota_staff["clinic_lead.oslo"]


def test_withdrawing_a_special_day_brings_back_the_usual_times(calendar, rota_staff):
    day = clock.today() + timedelta(days=5)
    [row] = services.exception_set(
        actor=lead(rota_staff),
        clinic=calendar["oslo"],
        day=day,
        name="Personalmøte",
        times={"morning": (time(10), time(11))},
    )

    services.exception_withdraw(
        actor=lead(rota_staff), clinic=calendar["oslo"], exception_id=row.pk
    )

    assert session("oslo", day).source == "slot"
    with pytest.raises(Conflict):
        services.exception_withdraw(
            actor=lead(rota_staff), clinic=calendar["oslo"], exception_id=row.pk
        )


def test_a_closure_needs_a_reason_and_closes_the_sessions(calendar, rota_staff):
    day = clock.today() + timedelta(days=3)
    with pytest.raises(Invalid) as error:
        services.closure_record(actor=lead(rota_staff), clinic=calendar["oslo"], day=day, reason="")
    assert [e.field for e in error.value.errors] == ["reason"]

    services.closure_record(
        actor=lead(rota_staff), clinic=calendar["oslo"], day=day, reason="Vannlekkasje"
    )

    assert session("oslo", day).closed and session("oslo", day, "afternoon").closed
    found = selectors.warnings(calendar["oslo"])
    assert {r.session.date for r in found.closed} == {day}
    assert day not in {r.session.date for r in found.understaffed}
    assert OperationsEvent.objects.filter(kind=EventKind.CLOSURE_RECORDED).count() == 1


def test_nobody_is_put_on_a_closed_session(calendar, rota_staff):
    day = clock.today() + timedelta(days=3)
    services.closure_record(
        actor=lead(rota_staff), clinic=calendar["oslo"], day=day, reason="Vannlekkasje"
    )

    with pytest.raises(Conflict, match="closed"):
        staff_session(rota_staff, "oslo", day)


def test_public_holidays_get_sundays_times_and_adding_twice_changes_nothing(rota_staff, clinics):
    services.template_set(
        actor=lead(rota_staff),
        clinic=clinics["oslo"],
        weekdays=[6],
        slot="morning",
        starts_at=time(9),
        ends_at=time(11),
        reason="Helg",
    )
    year = clock.today().year + 1

    added = services.holidays_add(actor=lead(rota_staff), clinic=clinics["oslo"], year=year)
    again = services.holidays_add(actor=lead(rota_staff), clinic=clinics["oslo"], year=year)

    assert again == []
    by_day = {(r.date, r.slot.code): r for r in added}
    constitution = by_day[(date(year, 5, 17), "morning")]
    assert constitution.kind == ExceptionKind.HOLIDAY
    # In 2027 Whit Monday falls on 17 May too: the names are joined.
    assert "Grunnlovsdag" in constitution.name
    assert (constitution.starts_at, constitution.ends_at) == (time(9), time(11))
    christmas_eve = by_day[(date(year, 12, 24), "afternoon")]
    assert (christmas_eve.kind, christmas_eve.name) == (ExceptionKind.LOCAL, "Julaften")
    assert (christmas_eve.starts_at, christmas_eve.ends_at) == (time(14), time(17, 30))
    assert (date(year, 12, 25), "morning") in by_day
    assert all(not r.closed for r in added)


def test_holidays_only_for_years_near_now(rota_staff, clinics):
    with pytest.raises(Invalid) as error:
        services.holidays_add(actor=lead(rota_staff), clinic=clinics["oslo"], year=1999)

    assert error.value.errors[0].field == "year"


def test_past_days_are_not_generated_or_changed(rota_staff, clinics):
    yesterday = clock.today() - timedelta(days=1)

    with pytest.raises(Invalid) as error:
        services.calendar_generate(
            actor=lead(rota_staff), clinic=clinics["oslo"], start=yesterday, days=0
        )

    assert {e.field for e in error.value.errors} == {"from", "days"}


def test_the_warnings_name_days_not_in_the_calendar(rota_staff, clinics):
    services.calendar_generate(actor=lead(rota_staff), clinic=clinics["oslo"], days=10)

    found = selectors.warnings(clinics["oslo"])

    assert [(d, s.code) for d, s in found.missing] == [
        (clock.today() + timedelta(days=i), code)
        for i in (10, 11, 12, 13)
        for code in ("morning", "afternoon")
    ]


def test_the_command_generates_every_clinic_and_is_idempotent(clinics):
    out = io.StringIO()

    call_command("calendar", "--days", "5", stdout=out)
    call_command("calendar", "--clinic", "oslo", "--days", "5", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("bergen: ") and "5 sessions created" not in lines[0]
    assert "10 sessions created" in lines[0]
    assert "0 sessions created, 0 updated, 10 unchanged" in lines[2]
    assert ClinicSession.objects.count() == 20
    assert OperationsEvent.objects.filter(by__isnull=True).count() == 3


def test_the_command_refuses_an_unknown_clinic_and_bad_days(clinics):
    with pytest.raises(CommandError, match="No clinic"):
        call_command("calendar", "--clinic", "tromso", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Between 1 and"):
        call_command("calendar", "--days", "0", stdout=io.StringIO())
