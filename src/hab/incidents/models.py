"""Incidents (avvik): adverse events and deviations, reported by anyone in the care team
and followed up by the clinic lead. The report is never changed; what happens next is a
series of events (status, owner, notes)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hab.core.models import Clinic


class Kind(models.TextChoices):
    OVERDOSE = "overdose", _("Overdose")
    SEIZURE = "seizure", _("Seizure")
    INJECTION_SITE = "injection_site", _("Injection-site problem")
    ALLERGIC = "allergic", _("Allergic reaction")
    VIOLENCE = "violence", _("Violence or threats")
    DOSING_ERROR = "dosing_error", _("Dosing error")
    STOCK_DISCREPANCY = "stock_discrepancy", _("Stock discrepancy")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    MODERATE = "moderate", _("Moderate")
    SERIOUS = "serious", _("Serious")
    CRITICAL = "critical", _("Critical (death or lasting harm)")


class Status(models.TextChoices):
    OPEN = "open", pgettext_lazy("incident status", "Open")
    FOLLOW_UP = "follow_up", _("Being followed up")
    CLOSED = "closed", pgettext_lazy("incident status", "Closed")


class Source(models.TextChoices):
    REPORT = "report", _("Reported by staff")
    OBSERVATION = "observation", _("Overdose recorded after a dose")
    STOCK_COUNT = "stock_count", _("Stock count differed from the book")
    BACK_ENTRY = "back_entry", _("Paper record above the allowed dose")
    CORRECTION = "correction", _("Correction above the allowed dose")


class Incident(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="incidents")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    occurred_at = models.DateTimeField(_("when it happened"))
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("patient"),
    )
    administration = models.ForeignKey(
        "dosing.Administration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("dose"),
    )
    discrepancy = models.OneToOneField(
        "stock.Discrepancy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident",
    )
    naloxone_mg = models.DecimalField(
        _("naloxone given (mg)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    naloxone_doses = models.PositiveSmallIntegerField(_("naloxone doses"), null=True, blank=True)
    ambulance = models.BooleanField(_("ambulance called"), default=False)
    hospital = models.BooleanField(_("taken to hospital"), default=False)
    description = models.TextField(_("what happened"), max_length=4000)
    immediate_actions = models.TextField(_("immediate actions"), max_length=2000, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.REPORT)
    reported_at = models.DateTimeField(_("reported"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["clinic", "-occurred_at"], name="incident_clinic_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(description=""), name="incident_described"),
            models.CheckConstraint(
                condition=Q(naloxone_mg__isnull=True) | Q(naloxone_mg__gt=0),
                name="incident_naloxone_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind="stock_discrepancy") | Q(patient__isnull=True),
                name="incident_stock_without_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class IncidentEvent(models.Model):
    """A step of the follow-up: a new status, a new owner, a note. Append-only."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("follow-up owner"),
    )
    note = models.TextField(_("note"), max_length=2000, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("follow-up step")
        verbose_name_plural = _("follow-up")
        indexes = [models.Index(fields=["incident", "-at"], name="incident_event_latest")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(note=""), name="incident_closed_with_note"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.status}"
