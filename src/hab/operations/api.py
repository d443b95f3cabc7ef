"""The opening calendar and the staff rota in the API (docs/api.md, "Opening calendar and
rota"). Reading needs the rota (care roles); every change is the clinic lead's."""

from __future__ import annotations

import datetime
from datetime import timedelta

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from hab.core import clock
from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input
from hab.core.errors import FieldError, Invalid
from hab.core.models import Clinic
from hab.core.policy import Action, clinic_for_action
from hab.operations import messages, selectors, services
from hab.operations.models import (
    Assignment,
    CalendarException,
    ExceptionKind,
    SessionTemplate,
    StaffingRule,
)

router = Router(tags=["operations"])


# --- schemas --------------------------------------------------------------------------------


class AssignmentIn(Input):
    date: datetime.date
    slot: str
    username: str
    role: str
    duty: str = "on_duty"


class RemovalIn(Input):
    reason: str = ""


class GenerateIn(Input):
    start: datetime.date | None = Field(None, alias="from")
    days: int = 60


class TemplateIn(Input):
    weekdays: list[int]
    slot: str
    starts_at: datetime.time
    ends_at: datetime.time
    valid_from: datetime.date | None = None
    reason: str = ""


class TimesIn(Input):
    starts_at: datetime.time
    ends_at: datetime.time


class ExceptionIn(Input):
    date: datetime.date
    name: str
    times: dict[str, TimesIn]
    reason: str = ""


class ClosureIn(Input):
    date: datetime.date
    reason: str = ""
    slots: list[str] = []


class WithdrawalIn(Input):
    reason: str = ""


class HolidaysIn(Input):
    year: int


class RuleIn(Input):
    min_nurses: int
    min_doctors: int
    doctor_on_call_counts: bool = True
    reason: str = ""


class Period(Schema):
    start: datetime.date | None = Field(None, alias="from")
    end: datetime.date | None = Field(None, alias="to")


class AssignmentOut(Schema):
    id: int
    date: datetime.date
    slot: str
    username: str
    name: str
    role: str
    duty: str
    assigned_by: str
    assigned_at: datetime.datetime
    removed_by: str | None
    removed_at: datetime.datetime | None
    removal_reason: str


class ShortfallOut(Schema):
    need: str
    required: int
    present: int
    missing: int
    message: str


class DayExceptionOut(Schema):
    id: int
    kind: str
    name: str
    reason: str


class SessionOut(Schema):
    id: int
    date: datetime.date
    slot: str
    slot_name: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    source: str
    closed: bool
    exception: DayExceptionOut | None
    assignments: list[AssignmentOut]
    shortfalls: list[ShortfallOut]
    understaffed: bool


class MissingOut(Schema):
    date: datetime.date
    slot: str


class WarningsOut(Schema):
    clinic: str
    start: datetime.date = Field(..., serialization_alias="from")
    end: datetime.date = Field(..., serialization_alias="to")
    count: int
    understaffed: list[SessionOut]
    closed: list[SessionOut]
    missing: list[MissingOut]


class GeneratedOut(Schema):
    clinic: str
    start: datetime.date = Field(..., serialization_alias="from")
    end: datetime.date = Field(..., serialization_alias="to")
    created: int
    updated: int
    unchanged: int


class TemplateOut(Schema):
    id: int
    weekday: int
    slot: str
    starts_at: str
    ends_at: str
    valid_from: datetime.date
    reason: str
    created_by: str
    created_at: datetime.datetime


class ExceptionOut(Schema):
    id: int
    date: datetime.date
    slot: str
    kind: str
    name: str
    starts_at: str | None
    ends_at: str | None
    reason: str
    created_by: str
    created_at: datetime.datetime
    withdrawn_at: datetime.datetime | None


class RuleOut(Schema):
    clinic: str
    min_nurses: int
    min_doctors: int
    doctor_on_call_counts: bool
    reason: str
    changed_by: str | None
    changed_at: datetime.datetime | None


# --- helpers --------------------------------------------------------------------------------


def _clinic(request: HttpRequest, code: str, action: Action) -> Clinic:
    return clinic_for_action(request.user, clinic_by_code(code), action)


def _hm(value: datetime.time | None) -> str | None:
    return None if value is None else f"{value:%H:%M}"


def assignment_out(a: Assignment, session=None) -> dict:
    session = session or a.session
    return {
        "id": a.pk,
        "date": session.date,
        "slot": session.slot.code,
        "username": a.user.username,
        "name": str(a.user),
        "role": a.role,
        "duty": a.duty,
        "assigned_by": a.assigned_by.username,
        "assigned_at": a.assigned_at,
        "removed_by": a.removed_by.username if a.removed_by_id else None,
        "removed_at": a.removed_at,
        "removal_reason": a.removal_reason,
    }


def _assignment(pk: int) -> dict:
    a = Assignment.objects.select_related("session__slot", "user", "assigned_by", "removed_by").get(
        pk=pk
    )
    return assignment_out(a)


def session_out(row: selectors.SessionRota) -> dict:
    s = row.session
    e = s.exception
    return {
        "id": s.pk,
        "date": s.date,
        "slot": s.slot.code,
        "slot_name": s.slot.name,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "source": s.source,
        "closed": s.closed,
        "exception": (
            {"id": e.pk, "kind": e.kind, "name": e.name, "reason": e.reason} if e else None
        ),
        "assignments": [assignment_out(a, s) for a in row.assignments],
        "shortfalls": [
            {
                "need": f.need.value,
                "required": f.required,
                "present": f.present,
                "missing": f.missing,
                "message": messages.text(f),
            }
            for f in row.shortfalls
        ],
        "understaffed": row.understaffed,
    }


def template_out(t: SessionTemplate) -> dict:
    return {
        "id": t.pk,
        "weekday": t.weekday,
        "slot": t.slot.code,
        "starts_at": _hm(t.starts_at),
        "ends_at": _hm(t.ends_at),
        "valid_from": t.valid_from,
        "reason": t.reason,
        "created_by": t.created_by.username,
        "created_at": t.created_at,
    }


def exception_out(e: CalendarException) -> dict:
    return {
        "id": e.pk,
        "date": e.date,
        "slot": e.slot.code,
        "kind": e.kind,
        "name": e.name,
        "starts_at": _hm(e.starts_at),
        "ends_at": _hm(e.ends_at),
        "reason": e.reason,
        "created_by": e.created_by.username,
        "created_at": e.created_at,
        "withdrawn_at": e.withdrawn_at,
    }


def rule_out(clinic: Clinic, found: StaffingRule | None) -> dict:
    rule = found.as_rule() if found else selectors.rules.DEFAULT_RULE
    return {
        "clinic": clinic.code,
        "min_nurses": rule.min_nurses,
        "min_doctors": rule.min_doctors,
        "doctor_on_call_counts": rule.doctor_on_call_counts,
        "reason": found.reason if found else "",
        "changed_by": found.created_by.username if found else None,
        "changed_at": found.created_at if found else None,
    }


# --- the rota -------------------------------------------------------------------------------


@router.get(
    "/clinics/{code}/rota",
    response=list[SessionOut],
    summary="Sessions with their staff and shortfalls",
)
def rota(request: HttpRequest, code: str, period: Query[Period]):
    clinic = _clinic(request, code, Action.ROTA_VIEW)
    start = period.start or clock.today()
    end = period.end or start + timedelta(days=6)
    errors = []
    if end < start:
        errors.append(FieldError("to", _("The end must not be before the start.")))
    elif (end - start).days >= selectors.MAX_RANGE_DAYS:
        errors.append(
            FieldError(
                "to", _("At most %(days)s days at a time.") % {"days": selectors.MAX_RANGE_DAYS}
            )
        )
    if errors:
        raise Invalid(errors)
    return [session_out(row) for row in selectors.rota(clinic, start, end)]


@router.get(
    "/clinics/{code}/rota/warnings",
    response=WarningsOut,
    by_alias=True,
    summary="Understaffed and closed sessions in the next 14 days",
)
def rota_warnings(request: HttpRequest, code: str):
    clinic = _clinic(request, code, Action.ROTA_VIEW)
    found = selectors.warnings(clinic)
    return {
        "clinic": clinic.code,
        "start": found.start,
        "end": found.end,
        "count": found.count,
        "understaffed": [session_out(r) for r in found.understaffed],
        "closed": [session_out(r) for r in found.closed],
        "missing": [{"date": day, "slot": slot.code} for day, slot in found.missing],
    }


@router.post(
    "/clinics/{code}/rota/assignments",
    response={201: AssignmentOut},
    summary="Put a nurse or doctor on a session (clinic lead)",
)
def assignment_create(request: HttpRequest, code: str, payload: AssignmentIn):
    assignment = services.assignment_create(
        actor=request_actor(request),
        clinic=clinic_by_code(code),
        day=payload.date,
        slot=payload.slot,
        username=payload.username,
        role=payload.role,
        duty=payload.duty,
    )
    return Status(201, _assignment(assignment.pk))


@router.post(
    "/clinics/{code}/rota/assignments/{assignment_id}/removal",
    response=AssignmentOut,
    summary="Take a person off a session (clinic lead); the assignment stays, marked removed",
)
def assignment_remove(request: HttpRequest, code: str, assignment_id: int, payload: RemovalIn):
    assignment = services.assignment_remove(
        actor=request_actor(request),
        clinic=clinic_by_code(code),
        assignment_id=assignment_id,
        reason=payload.reason,
    )
    return _assignment(assignment.pk)


@router.get("/clinics/{code}/rota/rule", response=RuleOut, summary="The staffing rule")
def rule(request: HttpRequest, code: str):
    clinic = _clinic(request, code, Action.ROTA_VIEW)
    return rule_out(clinic, selectors.current_rule(clinic))


@router.post(
    "/clinics/{code}/rota/rule",
    response={201: RuleOut},
    summary="Change the staffing rule (clinic lead)",
)
def rule_set(request: HttpRequest, code: str, payload: RuleIn):
    clinic = clinic_by_code(code)
    found = services.staffing_rule_set(
        actor=request_actor(request),
        clinic=clinic,
        min_nurses=payload.min_nurses,
        min_doctors=payload.min_doctors,
        doctor_on_call_counts=payload.doctor_on_call_counts,
        reason=payload.reason,
    )
    return Status(201, rule_out(clinic, found))


# --- the calendar ---------------------------------------------------------------------------


@router.post(
    "/clinics/{code}/calendar/generate",
    response=GeneratedOut,
    by_alias=True,
    summary="Generate the sessions of the coming days (clinic lead); idempotent",
)
def calendar_generate(request: HttpRequest, code: str, payload: GenerateIn):
    clinic = clinic_by_code(code)
    result = services.calendar_generate(
        actor=request_actor(request), clinic=clinic, start=payload.start, days=payload.days
    )
    return {
        "clinic": clinic.code,
        "start": result.start,
        "end": result.end,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }


@router.get(
    "/clinics/{code}/calendar/templates",
    response=list[TemplateOut],
    summary="Every version of the session templates",
)
def templates(request: HttpRequest, code: str):
    clinic = _clinic(request, code, Action.ROTA_VIEW)
    rows = SessionTemplate.objects.filter(clinic=clinic).select_related("slot", "created_by")
    return [template_out(t) for t in rows]


@router.post(
    "/clinics/{code}/calendar/templates",
    response={201: list[TemplateOut]},
    summary="New opening times of a session on weekdays (clinic lead)",
)
def template_set(request: HttpRequest, code: str, payload: TemplateIn):
    rows = services.template_set(
        actor=request_actor(request),
        clinic=clinic_by_code(code),
        weekdays=payload.weekdays,
        slot=payload.slot,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        valid_from=payload.valid_from,
        reason=payload.reason,
    )
    found = SessionTemplate.objects.filter(pk__in=[r.pk for r in rows]).select_related(
        "slot", "created_by"
    )
    return Status(201, [template_out(t) for t in found])


def _exceptions(rows) -> list[dict]:
    found = CalendarException.objects.filter(pk__in=[r.pk for r in rows]).select_related(
        "slot", "created_by"
    )
    return [exception_out(e) for e in found]


@router.get(
    "/clinics/{code}/calendar/exceptions",
    response=list[ExceptionOut],
    summary="Holidays, special days and closures in force",
)
def exceptions(request: HttpRequest, code: str, period: Query[Period]):
    clinic = _clinic(request, code, Action.ROTA_VIEW)
    start = period.start or clock.today()
    end = period.end or start + timedelta(days=365)
    if end < start:
        raise Invalid.one("to", _("The end must not be before the start."))
    return [exception_out(e) for e in selectors.exceptions(clinic, start, end)]


@router.post(
    "/clinics/{code}/calendar/exceptions",
    response={201: list[ExceptionOut]},
    summary="A day's own opening times (clinic lead)",
)
def exception_set(request: HttpRequest, code: str, payload: ExceptionIn):
    rows = services.exception_set(
        actor=request_actor(request),
        clinic=clinic_by_code(code),
        day=payload.date,
        name=payload.name,
        times={slot: (t.starts_at, t.ends_at) for slot, t in payload.times.items()},
        reason=payload.reason,
        kind=ExceptionKind.LOCAL,
    )
    return Status(201, _exceptions(rows))


@router.post(
    "/clinics/{code}/calendar/closures",
    response={201: list[ExceptionOut]},
    summary="Close the clinic on a day, with a reason (clinic lead)",
)
def closure_record(request: HttpRequest, code: str, payload: ClosureIn):
    rows = services.closure_record(
        actor=request_actor(request),
        clinic=clinic_by_code(code),
        day=payload.date,
        reason=payload.reason,
        slots=payload.slots,
    )
    return Status(201, _exceptions(rows))


@router.post(
    "/clinics/{code}/calendar/exceptions/{exception_id}/withdrawal",
    response=ExceptionOut,
    summary="Withdraw a day's exception or closure (clinic lead)",
)
def exception_withdraw(request: HttpRequest, code: str, exception_id: int, payload: WithdrawalIn):
    found = services.exception_withdraw(
        actor=request_actor(request),
        clinic=clinic_by_code(code),
        exception_id=exception_id,
        reason=payload.reason,
    )
    return _exceptions([found])[0]


@router.post(
    "/clinics/{code}/calendar/holidays",
    response={201: list[ExceptionOut]},
    summary="Add Norway's public holidays and local days of a year (clinic lead)",
)
def holidays_add(request: HttpRequest, code: str, payload: HolidaysIn):
    rows = services.holidays_add(
        actor=request_actor(request), clinic=clinic_by_code(code), year=payload.year
    )
    return Status(201, _exceptions(rows))
