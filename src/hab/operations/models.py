"""The opening calendar, session templates and the staff rota.

Session templates and staffing rules are versioned by appending rows (who, when, why);
calendar exceptions and rota assignments are withdrawn or removed by recording who did it
and when, never deleted. Every change also leaves an ``OperationsEvent``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from hab.core.models import Clinic, SessionSlot
from hab.operations import rules


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class SessionTemplate(models.Model):
    """A slot's opening times on a weekday from a date on. Append-only: a change is a new
    row; the row in force on a day is the newest with ``valid_from`` on or before it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    slot = models.ForeignKey(SessionSlot, on_delete=models.PROTECT, related_name="+")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    starts_at = models.TimeField(_("opens"))
    ends_at = models.TimeField(_("closes"))
    valid_from = models.DateField(_("valid from"))
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("changed"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["clinic", "weekday", "slot__starts_at", "-valid_from", "-id"]
        verbose_name = _("session template")
        verbose_name_plural = _("session templates")
        indexes = [models.Index(fields=["clinic", "valid_from"], name="template_clinic_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="template_starts_before_end"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="template_weekday_0_6"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class ExceptionKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday")
    LOCAL = "local", _("Special day")
    CLOSURE = "closure", _("Closed")


class CalendarException(models.Model):
    """A day's own times for one slot (a holiday still opens, often shorter), or a closure
    the clinic lead recorded with a reason. One active exception per day and slot; a
    replaced or withdrawn one stays with who withdrew it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("date"))
    slot = models.ForeignKey(SessionSlot, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=ExceptionKind.choices)
    name = models.CharField(_("name"), max_length=120)
    starts_at = models.TimeField(_("opens"), null=True, blank=True)
    ends_at = models.TimeField(_("closes"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["date", "slot__starts_at", "-id"]
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        indexes = [models.Index(fields=["clinic", "date"], name="exception_clinic_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "date", "slot"],
                condition=Q(withdrawn_at__isnull=True),
                name="exception_one_active_per_slot",
            ),
            # A closure has a reason and no times; an opening has its times.
            models.CheckConstraint(
                condition=(
                    Q(kind="closure", starts_at__isnull=True, ends_at__isnull=True) & ~Q(reason="")
                )
                | (
                    ~Q(kind="closure")
                    & Q(starts_at__isnull=False, ends_at__isnull=False, starts_at__lt=F("ends_at"))
                ),
                name="exception_closure_or_times",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True)
                | Q(withdrawn_at__isnull=False, withdrawn_by__isnull=False),
                name="exception_withdrawn_by_whom",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"

    @property
    def closed(self) -> bool:
        return self.kind == ExceptionKind.CLOSURE


class Source(models.TextChoices):
    TEMPLATE = rules.Source.TEMPLATE.value, _("Session template")
    EXCEPTION = rules.Source.EXCEPTION.value, _("Calendar exception")
    SLOT = rules.Source.SLOT.value, _("The clinic's slot times")


class ClinicSession(models.Model):
    """A session the clinic holds on a day, generated from the templates and exceptions."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("date"))
    slot = models.ForeignKey(SessionSlot, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(_("opens"))
    ends_at = models.DateTimeField(_("closes"))
    source = models.CharField(_("from"), max_length=10, choices=Source.choices)
    template = models.ForeignKey(
        SessionTemplate, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    exception = models.ForeignKey(
        CalendarException, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    closed = models.BooleanField(_("closed"), default=False)
    generated_at = models.DateTimeField(_("generated"))

    class Meta:
        ordering = ["date", "starts_at"]
        verbose_name = _("clinic session")
        verbose_name_plural = _("clinic sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "date", "slot"], name="session_one_per_day_and_slot"
            ),
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="session_starts_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.slot.code}"


class StaffingRule(models.Model):
    """The clinic's minimum staffing of a session, versioned by appending rows. Without a
    row the programme's default holds (``rules.DEFAULT_RULE``)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    min_nurses = models.PositiveSmallIntegerField(_("nurses on duty, at least"))
    min_doctors = models.PositiveSmallIntegerField(_("doctors, at least"))
    doctor_on_call_counts = models.BooleanField(_("a doctor on call counts"))
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("changed"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["clinic", "-created_at", "-id"]
        verbose_name = _("staffing rule")
        verbose_name_plural = _("staffing rules")

    def __str__(self) -> str:
        return f"{self.clinic}: {self.min_nurses} + {self.min_doctors}"

    def as_rule(self) -> rules.Rule:
        return rules.Rule(self.min_nurses, self.min_doctors, self.doctor_on_call_counts)


class StaffRole(models.TextChoices):
    NURSE = rules.StaffRole.NURSE.value, _("Nurse")
    DOCTOR = rules.StaffRole.DOCTOR.value, _("Doctor")


class Duty(models.TextChoices):
    ON_DUTY = rules.Duty.ON_DUTY.value, _("On duty")
    ON_CALL = rules.Duty.ON_CALL.value, _("On call")


class Assignment(models.Model):
    """A person on a session's rota, in a role, on duty or on call. Removal is recorded
    (who, when, why); the row stays."""

    session = models.ForeignKey(ClinicSession, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=10, choices=StaffRole.choices)
    duty = models.CharField(_("duty"), max_length=10, choices=Duty.choices)
    assigned_at = models.DateTimeField(_("assigned"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    removal_reason = models.CharField(_("reason for removal"), max_length=300, blank=True)

    class Meta:
        ordering = ["session", "role", "duty", "id"]
        verbose_name = _("rota assignment")
        verbose_name_plural = _("rota assignments")
        indexes = [models.Index(fields=["user", "session"], name="assignment_user_session")]
        constraints = [
            # A person is on a session's rota once.
            models.UniqueConstraint(
                fields=["session", "user"],
                condition=Q(removed_at__isnull=True),
                name="assignment_once_per_session",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True)
                | Q(removed_at__isnull=False, removed_by__isnull=False),
                name="assignment_removed_by_whom",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.duty} @ {self.session_id}"

    @property
    def on_call(self) -> bool:
        return self.duty == Duty.ON_CALL

    def as_staffed(self) -> rules.Staffed:
        return rules.Staffed(self.role, self.duty)


class EventKind(models.TextChoices):
    TEMPLATE_SET = "template_set", _("Opening times changed")
    EXCEPTION_SET = "exception_set", _("Special day recorded")
    CLOSURE_RECORDED = "closure_recorded", _("Closure recorded")
    EXCEPTION_WITHDRAWN = "exception_withdrawn", _("Exception withdrawn")
    HOLIDAYS_IMPORTED = "holidays_imported", _("Public holidays added")
    CALENDAR_GENERATED = "calendar_generated", _("Calendar generated")
    RULE_SET = "rule_set", _("Staffing rule changed")
    ASSIGNED = "assigned", _("Assigned to a session")
    UNASSIGNED = "unassigned", _("Removed from a session")


class OperationsEvent(models.Model):
    """The audit trail of the calendar and the rota. Append-only. ``by`` is empty for the
    system (``hab calendar`` run by a timer)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    kind = models.CharField(_("event"), max_length=20, choices=EventKind.choices)
    details = models.JSONField(_("details"), default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("operations event")
        verbose_name_plural = _("operations events")
        indexes = [models.Index(fields=["clinic", "-at"], name="opsevent_clinic_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"
