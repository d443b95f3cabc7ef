"""Writes of the opening calendar and the staff rota. Each runs in one transaction, checks
the clinic lead's permission and leaves an ``OperationsEvent``.

The calendar is kept consistent with its sources: a change of the templates or of a day's
exception is applied at once to the sessions already generated (from today on); past
sessions are never changed.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from hab.core import clock
from hab.core.access import Actor
from hab.core.errors import Conflict, FieldError, Invalid, NotFound
from hab.core.models import Clinic, SessionSlot, User
from hab.core.policy import Action, clinic_for_action
from hab.operations import rules
from hab.operations.models import (
    Assignment,
    CalendarException,
    ClinicSession,
    Duty,
    EventKind,
    ExceptionKind,
    OperationsEvent,
    SessionTemplate,
    StaffingRule,
    StaffRole,
)

# The most days one generation may cover, and how far ahead it may start.
MAX_DAYS = 400
# Days the clinic marks as its own, besides the public holidays (Norwegian custom: the
# evening before is a holiday in practice).
LOCAL_DAYS = [(12, 24, "Julaften"), (12, 31, "Nyttårsaften")]
# The weekday whose times a holiday takes when it is added.
HOLIDAY_TIMES_FROM = 6  # Sunday


def _allowed(actor: Actor | None, clinic: Clinic) -> User | None:
    """The acting user after checking they may edit the rota; None for the system."""
    if actor is None:
        return None
    clinic_for_action(actor.user, clinic, Action.ROTA_EDIT)
    return actor.user


def _event(clinic: Clinic, by: User | None, event: EventKind, **details) -> OperationsEvent:
    return OperationsEvent.objects.create(
        clinic=clinic, at=clock.now(), by=by, kind=event, details=details
    )


def _reason(errors: list[FieldError], reason: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        errors.append(FieldError(field, _("Write the reason.")))
    return text[:300]


def _not_past(errors: list[FieldError], day: date | None, field: str) -> None:
    if day is not None and day < clock.today():
        errors.append(
            FieldError(field, _("Past days are not changed; choose today or a later day."))
        )


def _slot(clinic: Clinic, code: str, errors: list[FieldError], field: str = "slot"):
    slot = SessionSlot.objects.filter(clinic=clinic, code=code).first()
    if slot is None:
        codes = ", ".join(SessionSlot.objects.filter(clinic=clinic).values_list("code", flat=True))
        errors.append(
            FieldError(
                field,
                _("No such session at the clinic. Choose one of: %(codes)s.") % {"codes": codes},
            )
        )
    return slot


def _times(errors: list[FieldError], starts_at, ends_at, field: str = "") -> None:
    prefix = f"{field}." if field else ""
    if starts_at is None:
        errors.append(FieldError(f"{prefix}starts_at", _("Write when the session opens.")))
    if ends_at is None:
        errors.append(FieldError(f"{prefix}ends_at", _("Write when the session closes.")))
    if starts_at is not None and ends_at is not None and not starts_at < ends_at:
        errors.append(FieldError(f"{prefix}ends_at", _("The session must close after it opens.")))


def day_text(day: date) -> str:
    return formats.date_format(day, "D d.m.Y")


# --- generating the calendar ----------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    start: date
    end: date
    created: int
    updated: int
    unchanged: int


def _aware(day: date, at: time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, at), timezone.get_default_timezone())


def template_versions(clinic: Clinic, until: date) -> dict[int, list[rules.TemplateVersion]]:
    """Every template version up to ``until``, by slot id."""
    found: dict[int, list[rules.TemplateVersion]] = defaultdict(list)
    for t in SessionTemplate.objects.filter(clinic=clinic, valid_from__lte=until):
        found[t.slot_id].append(
            rules.TemplateVersion(t.pk, t.weekday, t.valid_from, t.starts_at, t.ends_at)
        )
    return found


def _generate(clinic: Clinic, start: date, end: date) -> Generated:
    """Creates the missing sessions of the days and brings the existing ones in line with
    their templates and exceptions. The caller holds the transaction."""
    # One generation at a time per clinic (PostgreSQL; SQLite transactions are exclusive).
    Clinic.objects.select_for_update().filter(pk=clinic.pk).first()
    slots = list(SessionSlot.objects.filter(clinic=clinic))
    versions = template_versions(clinic, end)
    exceptions = {
        (e.date, e.slot_id): rules.DayException(e.pk, e.closed, e.starts_at, e.ends_at)
        for e in CalendarException.objects.filter(
            clinic=clinic, date__range=(start, end), withdrawn_at__isnull=True
        )
    }
    existing = {
        (s.date, s.slot_id): s
        for s in ClinicSession.objects.filter(clinic=clinic, date__range=(start, end))
    }
    now = clock.now()
    new, changed, unchanged = [], [], 0
    day = start
    while day <= end:
        for slot in slots:
            opening = rules.opening(
                day,
                slot_times=(slot.starts_at, slot.ends_at),
                versions=versions.get(slot.pk, ()),
                exception=exceptions.get((day, slot.pk)),
            )
            values = {
                "starts_at": _aware(day, opening.starts_at),
                "ends_at": _aware(day, opening.ends_at),
                "source": opening.source.value,
                "template_id": opening.template_id,
                "exception_id": opening.exception_id,
                "closed": opening.closed,
            }
            session = existing.get((day, slot.pk))
            if session is None:
                new.append(
                    ClinicSession(clinic=clinic, date=day, slot=slot, generated_at=now, **values)
                )
            elif any(getattr(session, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(session, name, value)
                session.generated_at = now
                changed.append(session)
            else:
                unchanged += 1
        day += timedelta(days=1)
    ClinicSession.objects.bulk_create(new, batch_size=500)
    ClinicSession.objects.bulk_update(
        changed,
        ["starts_at", "ends_at", "source", "template", "exception", "closed", "generated_at"],
        batch_size=500,
    )
    return Generated(start, end, len(new), len(changed), unchanged)


def calendar_generate(
    *, actor: Actor | None, clinic: Clinic, start: date | None = None, days: int = 60
) -> Generated:
    """The clinic's sessions for ``days`` days from ``start`` (today): idempotent, so it can
    run every night (``hab calendar``; ``actor`` None is the system)."""
    by = _allowed(actor, clinic)
    start = start or clock.today()
    errors: list[FieldError] = []
    if not 1 <= days <= MAX_DAYS:
        errors.append(FieldError("days", _("Between 1 and %(max)s days.") % {"max": MAX_DAYS}))
    _not_past(errors, start, "from")
    if errors:
        raise Invalid(errors)
    end = start + timedelta(days=days - 1)
    with transaction.atomic():
        result = _generate(clinic, start, end)
        _event(
            clinic,
            by,
            EventKind.CALENDAR_GENERATED,
            start=start.isoformat(),
            end=end.isoformat(),
            created=result.created,
            updated=result.updated,
        )
    return result


def generated_until(clinic: Clinic) -> date | None:
    last = ClinicSession.objects.filter(clinic=clinic).order_by("-date").first()
    return last.date if last else None


def _resync(clinic: Clinic, start: date, end: date | None = None) -> None:
    """Applies a change of the sources to the sessions already generated from ``start``."""
    start = max(start, clock.today())
    horizon = generated_until(clinic)
    end = min(end, horizon) if end and horizon else horizon
    if end is not None and start <= end:
        _generate(clinic, start, end)


# --- templates and exceptions ---------------------------------------------------------------


def template_set(
    *,
    actor: Actor,
    clinic: Clinic,
    weekdays: Iterable[int],
    slot: str,
    starts_at: time | None,
    ends_at: time | None,
    reason: str,
    valid_from: date | None = None,
) -> list[SessionTemplate]:
    """New opening times of a slot on the given weekdays from ``valid_from`` (today)."""
    by = _allowed(actor, clinic)
    errors: list[FieldError] = []
    days = sorted(set(weekdays))
    if not days or any(not 0 <= d <= 6 for d in days):
        errors.append(
            FieldError("weekdays", _("Choose one or more weekdays (0 Monday to 6 Sunday)."))
        )
    found = _slot(clinic, slot, errors)
    _times(errors, starts_at, ends_at)
    valid_from = valid_from or clock.today()
    _not_past(errors, valid_from, "valid_from")
    text = _reason(errors, reason)
    if errors:
        raise Invalid(errors)
    now = clock.now()
    with transaction.atomic():
        rows = SessionTemplate.objects.bulk_create(
            SessionTemplate(
                clinic=clinic,
                slot=found,
                weekday=day,
                starts_at=starts_at,
                ends_at=ends_at,
                valid_from=valid_from,
                reason=text,
                created_at=now,
                created_by=by,
            )
            for day in days
        )
        _event(
            clinic,
            by,
            EventKind.TEMPLATE_SET,
            slot=slot,
            weekdays=days,
            starts_at=f"{starts_at:%H:%M}",
            ends_at=f"{ends_at:%H:%M}",
            valid_from=valid_from.isoformat(),
            reason=text,
        )
        _resync(clinic, valid_from)
    return rows


def _withdraw(clinic: Clinic, day: date, slot_ids: Sequence[int], by: User) -> int:
    return CalendarException.objects.filter(
        clinic=clinic, date=day, slot_id__in=slot_ids, withdrawn_at__isnull=True
    ).update(withdrawn_at=clock.now(), withdrawn_by=by)


def exception_set(
    *,
    actor: Actor,
    clinic: Clinic,
    day: date | None,
    name: str,
    times: dict[str, tuple[time | None, time | None]],
    reason: str = "",
    kind: ExceptionKind = ExceptionKind.LOCAL,
) -> list[CalendarException]:
    """A day's own opening times for the given slots (the others keep their template). It
    replaces an exception the day already had for those slots."""
    by = _allowed(actor, clinic)
    errors: list[FieldError] = []
    if day is None:
        errors.append(FieldError("date", _("Choose the day.")))
    _not_past(errors, day, "date")
    title = (name or "").strip()[:120]
    if not title:
        errors.append(FieldError("name", _("Name the day, e.g. Julaften.")))
    if not times:
        errors.append(FieldError("times", _("Give the times of at least one session.")))
    slots = {}
    for code, (starts_at, ends_at) in (times or {}).items():
        found = _slot(clinic, code, errors, f"times.{code}")
        if found is not None:
            slots[code] = found
            _times(errors, starts_at, ends_at, f"times.{code}")
    if errors:
        raise Invalid(errors)
    now = clock.now()
    with transaction.atomic():
        _withdraw(clinic, day, [s.pk for s in slots.values()], by)
        rows = CalendarException.objects.bulk_create(
            CalendarException(
                clinic=clinic,
                date=day,
                slot=slot,
                kind=kind,
                name=title,
                starts_at=times[code][0],
                ends_at=times[code][1],
                reason=(reason or "").strip()[:300],
                created_at=now,
                created_by=by,
            )
            for code, slot in slots.items()
        )
        _event(
            clinic,
            by,
            EventKind.EXCEPTION_SET,
            date=day.isoformat(),
            name=title,
            times={c: [f"{s:%H:%M}", f"{e:%H:%M}"] for c, (s, e) in times.items()},
        )
        _resync(clinic, day, day)
    return rows


def closure_record(
    *,
    actor: Actor,
    clinic: Clinic,
    day: date | None,
    reason: str,
    slots: Sequence[str] = (),
) -> list[CalendarException]:
    """Closes the clinic on a day (all sessions, or the given ones). Patients depend on
    their daily doses, so this is only ever explicit, with a reason, and warned about."""
    by = _allowed(actor, clinic)
    errors: list[FieldError] = []
    if day is None:
        errors.append(FieldError("date", _("Choose the day.")))
    _not_past(errors, day, "date")
    text = _reason(errors, reason)
    chosen = [s for s in (_slot(clinic, code, errors, "slots") for code in slots) if s]
    if errors:
        raise Invalid(errors)
    chosen = chosen or list(SessionSlot.objects.filter(clinic=clinic))
    now = clock.now()
    with transaction.atomic():
        _withdraw(clinic, day, [s.pk for s in chosen], by)
        rows = CalendarException.objects.bulk_create(
            CalendarException(
                clinic=clinic,
                date=day,
                slot=slot,
                kind=ExceptionKind.CLOSURE,
                name=_("Closed"),
                reason=text,
                created_at=now,
                created_by=by,
            )
            for slot in chosen
        )
        _event(
            clinic,
            by,
            EventKind.CLOSURE_RECORDED,
            date=day.isoformat(),
            slots=[s.code for s in chosen],
            reason=text,
        )
        _resync(clinic, day, day)
    return rows


def exception_withdraw(
    *, actor: Actor, clinic: Clinic, exception_id: int, reason: str = ""
) -> CalendarException:
    """Withdraws a day's exception (a closure or special times): the template holds again."""
    by = _allowed(actor, clinic)
    with transaction.atomic():
        found = (
            CalendarException.objects.select_for_update()
            .filter(pk=exception_id, clinic=clinic)
            .first()
        )
        if found is None:
            raise NotFound(_("No such calendar exception."))
        if found.withdrawn_at is not None:
            raise Conflict(_("The exception is already withdrawn."))
        errors: list[FieldError] = []
        _not_past(errors, found.date, "date")
        if errors:
            raise Invalid(errors)
        found.withdrawn_at, found.withdrawn_by = clock.now(), by
        found.save(update_fields=["withdrawn_at", "withdrawn_by"])
        _event(
            clinic,
            by,
            EventKind.EXCEPTION_WITHDRAWN,
            exception=found.pk,
            date=found.date.isoformat(),
            kind=found.kind,
            reason=(reason or "").strip()[:300],
        )
        _resync(clinic, found.date, found.date)
    return found


def norwegian_holidays(year: int) -> list[tuple[date, str, ExceptionKind]]:
    """The public holidays of Norway (``holidays``, named in bokmål) and the local days."""
    import holidays

    found = [
        (day, name, ExceptionKind.HOLIDAY)
        for day, name in holidays.Norway(years=year, language="no").items()
    ]
    found += [(date(year, m, d), name, ExceptionKind.LOCAL) for m, d, name in LOCAL_DAYS]
    return sorted(found)


def holidays_add(*, actor: Actor, clinic: Clinic, year: int) -> list[CalendarException]:
    """Adds the year's public holidays and local days from today on, each session with
    the Sunday times in force that day. Days that already have an exception keep it, so
    adding twice changes nothing."""
    by = _allowed(actor, clinic)
    today = clock.today()
    if not today.year - 1 <= year <= today.year + 5:
        raise Invalid.one(
            "year",
            _("Choose a year from %(first)s to %(last)s.")
            % {"first": today.year - 1, "last": today.year + 5},
        )
    days = [(d, name, kind) for d, name, kind in norwegian_holidays(year) if d >= today]
    with transaction.atomic():
        slots = list(SessionSlot.objects.filter(clinic=clinic))
        taken = set(
            CalendarException.objects.filter(
                clinic=clinic, date__year=year, withdrawn_at__isnull=True
            ).values_list("date", "slot_id")
        )
        versions = template_versions(clinic, date(year, 12, 31))
        now = clock.now()
        rows = []
        for day, name, kind in days:
            for slot in slots:
                if (day, slot.pk) in taken:
                    continue
                sunday = day + timedelta(days=HOLIDAY_TIMES_FROM - day.weekday())
                version = rules.template_in_force(versions.get(slot.pk, ()), sunday)
                starts, ends = (
                    (version.starts_at, version.ends_at)
                    if version
                    else (slot.starts_at, slot.ends_at)
                )
                rows.append(
                    CalendarException(
                        clinic=clinic,
                        date=day,
                        slot=slot,
                        kind=kind,
                        name=name,
                        starts_at=starts,
                        ends_at=ends,
                        created_at=now,
                        created_by=by,
                    )
                )
        CalendarException.objects.bulk_create(rows)
        _event(clinic, by, EventKind.HOLIDAYS_IMPORTED, year=year, added=len(rows))
        if rows:
            _resync(clinic, min(r.date for r in rows), max(r.date for r in rows))
    return rows


# --- the staffing rule ----------------------------------------------------------------------


def staffing_rule_set(
    *,
    actor: Actor,
    clinic: Clinic,
    min_nurses: int,
    min_doctors: int,
    doctor_on_call_counts: bool,
    reason: str,
) -> StaffingRule:
    by = _allowed(actor, clinic)
    errors: list[FieldError] = []
    if not isinstance(min_nurses, int) or not 0 <= min_nurses <= 20:
        errors.append(FieldError("min_nurses", _("From 0 to 20 nurses.")))
    if not isinstance(min_doctors, int) or not 0 <= min_doctors <= 10:
        errors.append(FieldError("min_doctors", _("From 0 to 10 doctors.")))
    text = _reason(errors, reason)
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        rule = StaffingRule.objects.create(
            clinic=clinic,
            min_nurses=min_nurses,
            min_doctors=min_doctors,
            doctor_on_call_counts=bool(doctor_on_call_counts),
            reason=text,
            created_at=clock.now(),
            created_by=by,
        )
        _event(
            clinic,
            by,
            EventKind.RULE_SET,
            min_nurses=min_nurses,
            min_doctors=min_doctors,
            doctor_on_call_counts=bool(doctor_on_call_counts),
            reason=text,
        )
    return rule


# --- the rota -------------------------------------------------------------------------------


def _person(clinic: Clinic, username: str, role: str, errors: list[FieldError]) -> User | None:
    """The active member of staff with this role at the clinic."""
    user = (
        User.objects.filter(
            username=username,
            is_active=True,
            memberships__clinic=clinic,
            memberships__role=role,
        )
        .distinct()
        .first()
    )
    if user is None and role in StaffRole.values:
        message = (
            _("%(username)s does not work as a nurse at %(clinic)s.")
            if role == StaffRole.NURSE
            else _("%(username)s does not work as a doctor at %(clinic)s.")
        )
        errors.append(FieldError("username", message % {"username": username, "clinic": clinic}))
    return user


def _check_role_and_duty(errors: list[FieldError], role: str, duty: str) -> None:
    if role not in StaffRole.values:
        errors.append(FieldError("role", _("Choose nurse or doctor.")))
    if duty not in Duty.values:
        errors.append(FieldError("duty", _("Choose on duty or on call.")))


def _session_open_for_rota(session: ClinicSession) -> None:
    if session.ends_at <= clock.now():
        raise Conflict(_("This session is over; its rota stays as it was."))
    if session.closed:
        raise Conflict(_("The clinic is closed in this session; nobody is needed."))


def _clash(user: User, session: ClinicSession) -> None:
    """Refuses a second place on the rota at the same time, at this clinic or another."""
    other = (
        Assignment.objects.select_related("session__clinic", "session__slot")
        .filter(
            user=user,
            removed_at__isnull=True,
            session__starts_at__lt=session.ends_at,
            session__ends_at__gt=session.starts_at,
        )
        .exclude(session=session)
        .first()
    )
    if other is not None:
        s = other.session
        raise Conflict(
            _("%(who)s is already on the rota at that time: %(clinic)s, %(slot)s %(day)s.")
            % {"who": user, "clinic": s.clinic, "slot": s.slot.name, "day": day_text(s.date)}
        )


def assignment_create(
    *,
    actor: Actor,
    clinic: Clinic,
    day: date | None,
    slot: str,
    username: str,
    role: str,
    duty: str = Duty.ON_DUTY,
) -> Assignment:
    """Puts a nurse or doctor of the clinic on a session's rota, on duty or on call."""
    by = _allowed(actor, clinic)
    errors: list[FieldError] = []
    _check_role_and_duty(errors, role, duty)
    if day is None:
        errors.append(FieldError("date", _("Choose the day.")))
    found = _slot(clinic, slot, errors)
    user = _person(clinic, username, role, errors)
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        session = (
            ClinicSession.objects.select_for_update()
            .select_related("slot")
            .filter(clinic=clinic, date=day, slot=found)
            .first()
        )
        if session is None:
            raise Invalid.one(
                "date",
                _("There is no %(slot)s session on %(day)s in the calendar. Generate it first.")
                % {"slot": found.name, "day": day_text(day)},
            )
        _session_open_for_rota(session)
        if Assignment.objects.filter(session=session, user=user, removed_at__isnull=True).exists():
            raise Conflict(_("%(who)s is already on this session's rota.") % {"who": user})
        _clash(user, session)
        try:
            with transaction.atomic():
                assignment = Assignment.objects.create(
                    session=session,
                    user=user,
                    role=role,
                    duty=duty,
                    assigned_at=clock.now(),
                    assigned_by=by,
                )
        except IntegrityError:
            raise Conflict(
                _("%(who)s is already on this session's rota.") % {"who": user}
            ) from None
        _event(
            clinic,
            by,
            EventKind.ASSIGNED,
            assignment=assignment.pk,
            date=day.isoformat(),
            slot=slot,
            username=user.username,
            role=role,
            duty=duty,
        )
    return assignment


@dataclass(frozen=True)
class Planned:
    session: ClinicSession
    username: str
    role: str
    duty: str = Duty.ON_DUTY


def assignments_plan(
    *, actor: Actor, clinic: Clinic, planned: Sequence[Planned]
) -> list[Assignment]:
    """Many assignments at once (a planned rota, the demo): the same checks as one by one,
    read in a few queries, written in one insert."""
    by = _allowed(actor, clinic)
    errors: list[FieldError] = []
    for item in planned:
        _check_role_and_duty(errors, item.role, item.duty)
    members = set(
        User.objects.filter(
            is_active=True,
            memberships__clinic=clinic,
            memberships__role__in=StaffRole.values,
        ).values_list("username", "memberships__role")
    )
    for item in planned:
        if (item.username, item.role) not in members:
            _person(clinic, item.username, item.role, errors)
        if item.session.clinic_id != clinic.pk:
            raise NotFound(_("No such session."))
    if errors:
        raise Invalid(errors)
    users = {
        u.username: u for u in User.objects.filter(username__in={item.username for item in planned})
    }
    now = clock.now()
    with transaction.atomic():
        taken = set(
            Assignment.objects.filter(
                session__in=[item.session for item in planned], removed_at__isnull=True
            ).values_list("session_id", "user_id")
        )
        rows = []
        for item in planned:
            user = users[item.username]
            if (item.session.pk, user.pk) in taken:
                raise Conflict(_("%(who)s is already on this session's rota.") % {"who": user})
            _session_open_for_rota(item.session)
            taken.add((item.session.pk, user.pk))
            rows.append(
                Assignment(
                    session=item.session,
                    user=user,
                    role=item.role,
                    duty=item.duty,
                    assigned_at=now,
                    assigned_by=by,
                )
            )
        Assignment.objects.bulk_create(rows, batch_size=500)
        _event(clinic, by, EventKind.ASSIGNED, planned=len(rows))
    return rows


def assignment_remove(
    *, actor: Actor, clinic: Clinic, assignment_id: int, reason: str = ""
) -> Assignment:
    """Takes a person off a session's rota. The assignment stays, with who removed it."""
    by = _allowed(actor, clinic)
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("session", "user")
            .filter(pk=assignment_id, session__clinic=clinic)
            .first()
        )
        if assignment is None:
            raise NotFound(_("No such assignment."))
        if assignment.removed_at is not None:
            raise Conflict(_("The assignment is already removed."))
        if assignment.session.ends_at <= clock.now():
            raise Conflict(_("This session is over; its rota stays as it was."))
        assignment.removed_at, assignment.removed_by = clock.now(), by
        assignment.removal_reason = (reason or "").strip()[:300]
        assignment.save(update_fields=["removed_at", "removed_by", "removal_reason"])
        _event(
            clinic,
            by,
            EventKind.UNASSIGNED,
            assignment=assignment.pk,
            date=assignment.session.date.isoformat(),
            username=assignment.user.username,
            reason=assignment.removal_reason,
        )
    return assignment
