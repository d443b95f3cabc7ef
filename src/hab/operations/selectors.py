"""Reads of the calendar and the rota: sessions with their staff and shortfalls, and the
understaffing warnings for the clinic lead."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Prefetch

from hab.core import clock
from hab.core.models import Clinic, SessionSlot, User
from hab.operations import messages, rules
from hab.operations.models import (
    Assignment,
    CalendarException,
    ClinicSession,
    SessionTemplate,
    StaffingRule,
    StaffRole,
)

# The clinic lead is warned about sessions this many days ahead (today included).
WARNING_DAYS = 14
# The longest period one rota read may cover.
MAX_RANGE_DAYS = 62


def current_rule(clinic: Clinic) -> StaffingRule | None:
    return StaffingRule.objects.filter(clinic=clinic).select_related("created_by").first()


def rule_for(clinic: Clinic) -> rules.Rule:
    found = current_rule(clinic)
    return found.as_rule() if found else rules.DEFAULT_RULE


@dataclass
class SessionRota:
    session: ClinicSession
    assignments: list[Assignment]
    shortfalls: list[rules.Shortfall]

    @property
    def understaffed(self) -> bool:
        return bool(self.shortfalls) and not self.session.closed

    @property
    def shortfall_texts(self) -> list[str]:
        return messages.texts(self.shortfalls)

    @property
    def exception(self) -> CalendarException | None:
        return self.session.exception


def _sessions(clinic: Clinic):
    active = Assignment.objects.filter(removed_at__isnull=True).select_related(
        "user", "assigned_by"
    )
    return (
        ClinicSession.objects.filter(clinic=clinic)
        .select_related("slot", "exception")
        .prefetch_related(Prefetch("assignments", queryset=active, to_attr="active"))
        .order_by("date", "starts_at")
    )


def _rota(rows, rule: rules.Rule) -> list[SessionRota]:
    found = []
    for session in rows:
        staff = list(session.active)
        staffed = [a.as_staffed() for a in staff]
        shortfalls = [] if session.closed else rules.shortfalls(rule, staffed)
        found.append(SessionRota(session, staff, shortfalls))
    return found


def rota(clinic: Clinic, start: date, end: date) -> list[SessionRota]:
    """The sessions of the days with the staff on them and what each lacks (3 queries)."""
    return _rota(_sessions(clinic).filter(date__range=(start, end)), rule_for(clinic))


def session_rota(clinic: Clinic, session_id: int) -> SessionRota | None:
    rows = _rota(_sessions(clinic).filter(pk=session_id), rule_for(clinic))
    return rows[0] if rows else None


@dataclass
class Day:
    day: date
    sessions: list[SessionRota] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """The day's exception names (a holiday), once each."""
        found = []
        for row in self.sessions:
            e = row.exception
            if e is not None and not e.closed and e.name not in found:
                found.append(e.name)
        return found


def week(clinic: Clinic, monday: date) -> list[Day]:
    days = {monday + timedelta(days=i): Day(monday + timedelta(days=i)) for i in range(7)}
    for row in rota(clinic, monday, monday + timedelta(days=6)):
        days[row.session.date].sessions.append(row)
    return list(days.values())


@dataclass
class Warnings:
    start: date
    end: date
    understaffed: list[SessionRota]
    closed: list[SessionRota]
    # (day, slot) pairs without a session: the calendar is not generated that far.
    missing: list[tuple[date, SessionSlot]]

    @property
    def count(self) -> int:
        return len(self.understaffed) + len(self.closed) + len(self.missing)


def warnings(clinic: Clinic, days: int = WARNING_DAYS) -> Warnings:
    """What the clinic lead must act on in the coming days: understaffed sessions, closed
    sessions (patients will miss doses) and days the calendar does not cover yet. Sessions
    already over are left out."""
    start = clock.today()
    end = start + timedelta(days=days - 1)
    now = clock.now()
    rows = [r for r in rota(clinic, start, end) if r.session.ends_at > now]
    have = set(
        ClinicSession.objects.filter(clinic=clinic, date__range=(start, end)).values_list(
            "date", "slot_id"
        )
    )
    slots = list(SessionSlot.objects.filter(clinic=clinic))
    missing = [
        (start + timedelta(days=i), slot)
        for i in range(days)
        for slot in slots
        if (start + timedelta(days=i), slot.pk) not in have
    ]
    return Warnings(
        start=start,
        end=end,
        understaffed=[r for r in rows if r.understaffed],
        closed=[r for r in rows if r.session.closed],
        missing=missing,
    )


def templates_in_force(clinic: Clinic, day: date) -> dict[tuple[int, int], SessionTemplate]:
    """The template version in force on ``day`` for each (weekday, slot id)."""
    found: dict[tuple[int, int], SessionTemplate] = {}
    rows = (
        SessionTemplate.objects.filter(clinic=clinic, valid_from__lte=day)
        .select_related("created_by")
        .order_by("valid_from", "id")
    )
    for t in rows:
        found[(t.weekday, t.slot_id)] = t
    return found


def future_templates(clinic: Clinic, day: date) -> list[SessionTemplate]:
    return list(
        SessionTemplate.objects.filter(clinic=clinic, valid_from__gt=day)
        .select_related("slot", "created_by")
        .order_by("valid_from", "weekday", "slot__starts_at")
    )


def exceptions(clinic: Clinic, start: date, end: date) -> list[CalendarException]:
    return list(
        CalendarException.objects.filter(
            clinic=clinic, date__range=(start, end), withdrawn_at__isnull=True
        )
        .select_related("slot", "created_by")
        .order_by("date", "slot__starts_at")
    )


def exception_days(clinic: Clinic, start: date, end: date) -> list[dict]:
    """Active exceptions grouped by day: ``{date, name, closed, rows}``."""
    grouped: dict[date, list[CalendarException]] = defaultdict(list)
    for row in exceptions(clinic, start, end):
        grouped[row.date].append(row)
    return [
        {
            "date": day,
            "name": rows[0].name,
            "closed": any(r.closed for r in rows),
            "rows": rows,
        }
        for day, rows in grouped.items()
    ]


def rota_staff(clinic: Clinic) -> list[tuple[User, str]]:
    """The clinic's nurses and doctors who can be put on the rota: (user, role)."""
    rows = (
        User.objects.filter(
            is_active=True,
            memberships__clinic=clinic,
            memberships__role__in=StaffRole.values,
        )
        .values_list("pk", "memberships__role")
        .distinct()
    )
    pairs = list(rows)
    users = User.objects.in_bulk({pk for pk, _role in pairs})
    found = [(users[pk], role) for pk, role in pairs]
    return sorted(found, key=lambda p: (p[1] != StaffRole.NURSE, str(p[0]).lower()))
