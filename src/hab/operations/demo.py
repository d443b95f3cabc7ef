"""Demo part of operations: each clinic's opening times, its calendar from this week's
Monday for seven weeks (this week and the coming six) with Norway's holidays, and a rota
planned the Friday before, fully staffed. Then, today, a nurse at HAB Oslo calls in sick
for a session three days ahead: the one understaffed session the clinic lead is warned
about.

Everything goes through the services; the rota is written with the bulk planning service
(one insert per clinic).
"""

from __future__ import annotations

import datetime
from datetime import time, timedelta

from django.utils import timezone

from hab.core import clock
from hab.core.access import Actor
from hab.core.roles import Role
from hab.core.services import staff_create
from hab.operations import services
from hab.operations.models import Assignment, ClinicSession, Duty, ExceptionKind, StaffRole

WEEKS = 7
# Opening times: (weekdays, slot, opens, closes).
TEMPLATES = [
    ([0, 1, 2, 3, 4], "morning", time(8, 0), time(11, 0)),
    ([0, 1, 2, 3, 4], "afternoon", time(14, 0), time(17, 30)),
    ([5, 6], "morning", time(9, 0), time(11, 0)),
    ([5, 6], "afternoon", time(15, 0), time(17, 0)),
]
# Nurses and doctors besides nurse.{clinic} and doctor.{clinic}, so that a real rota can
# be made: (username prefix, role, first name, last name).
EXTRA_STAFF = {
    "oslo": [
        ("nurse2", Role.NURSE, "Nina", "Johansen"),
        ("nurse3", Role.NURSE, "Erik", "Larsen"),
        ("nurse4", Role.NURSE, "Amina", "Hussain"),
        ("doctor2", Role.DOCTOR, "Magnus", "Eriksen"),
    ],
    "bergen": [
        ("nurse2", Role.NURSE, "Ingvild", "Tveit"),
        ("nurse3", Role.NURSE, "Sindre", "Nilsen"),
        ("nurse4", Role.NURSE, "Camilla", "Haug"),
        ("doctor2", Role.DOCTOR, "Kristin", "Rønning"),
    ],
}
SICK_IN_DAYS = 3


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time(hour)))


def _staff(ctx, code: str) -> tuple[list[str], list[str]]:
    clinic = ctx.clinics[code]
    for prefix, role, first, last in EXTRA_STAFF.get(code, []):
        username = f"{prefix}.{code}"
        ctx.users[username] = staff_create(
            username=username,
            password=ctx.password,
            first_name=first,
            last_name=last,
            roles=[(clinic, role)],
            hpr_number=str(ctx.rng.randint(1_000_000, 9_999_999)),
        )
    nurses = [f"nurse.{code}"] + [
        f"{p}.{code}" for p, role, *_names in EXTRA_STAFF.get(code, []) if role == Role.NURSE
    ]
    doctors = [f"doctor.{code}"] + [
        f"{p}.{code}" for p, role, *_names in EXTRA_STAFF.get(code, []) if role == Role.DOCTOR
    ]
    return nurses, doctors


def _plan(clinic, nurses: list[str], doctors: list[str]) -> list[services.Planned]:
    """Two nurses on duty each day (both sessions), taking turns; the doctors alternate
    days, on duty on weekdays and on call at weekends and holidays."""
    planned = []
    sessions = list(ClinicSession.objects.filter(clinic=clinic).select_related("slot", "exception"))
    first = min(s.date for s in sessions)
    for session in sessions:
        i = (session.date - first).days
        for k in (0, 1):
            planned.append(
                services.Planned(session, nurses[(i + k) % len(nurses)], StaffRole.NURSE)
            )
        quiet = session.date.weekday() >= 5 or (
            session.exception is not None and session.exception.kind != ExceptionKind.CLOSURE
        )
        planned.append(
            services.Planned(
                session,
                doctors[i % len(doctors)],
                StaffRole.DOCTOR,
                Duty.ON_CALL if quiet else Duty.ON_DUTY,
            )
        )
    return planned


def contribute(ctx) -> None:
    monday = ctx.today - timedelta(days=ctx.today.weekday())
    planned_on = monday - timedelta(days=3)
    for code, clinic in ctx.clinics.items():
        nurses, doctors = _staff(ctx, code)
        lead = Actor.system(ctx.users[f"clinic_lead.{code}"])
        # The clinic lead set up the calendar and planned the rota the Friday before.
        with clock.at(_at(planned_on, 10)):
            for weekdays, slot, opens, closes in TEMPLATES:
                services.template_set(
                    actor=lead,
                    clinic=clinic,
                    weekdays=weekdays,
                    slot=slot,
                    starts_at=opens,
                    ends_at=closes,
                    reason="Åpningstider ved oppstart av HAB",
                )
            for year in sorted({planned_on.year, (monday + timedelta(weeks=WEEKS)).year}):
                services.holidays_add(actor=lead, clinic=clinic, year=year)
            services.calendar_generate(actor=lead, clinic=clinic, start=monday, days=7 * WEEKS)
            services.assignments_plan(
                actor=lead, clinic=clinic, planned=_plan(clinic, nurses, doctors)
            )
    oslo = ctx.clinics.get("oslo")
    if oslo is None:
        return
    sick = (
        Assignment.objects.filter(
            session__clinic=oslo,
            session__date=ctx.today + timedelta(days=SICK_IN_DAYS),
            session__slot__code="morning",
            role=StaffRole.NURSE,
        )
        .order_by("id")
        .first()
    )
    services.assignment_remove(
        actor=Actor.system(ctx.users["clinic_lead.oslo"]),
        clinic=oslo,
        assignment_id=sick.pk,
        reason="Syk, vikar ikke funnet ennå",
    )
    ctx.log.append(
        f"Rota: {WEEKS} weeks from {monday:%d.%m.%Y}; one understaffed session at HAB Oslo "
        f"({sick.session.date:%d.%m.%Y} morning)."
    )
