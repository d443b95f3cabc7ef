"""Reads of incidents: the list with each incident's current follow-up, one incident
with its steps, and the monthly summary per clinic."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core.access import Actor, access_log_listed
from hab.core.errors import Invalid
from hab.core.models import Clinic
from hab.core.policy import Action, clinic_for_action
from hab.dosing.rules import TAKEN
from hab.incidents.models import Incident, IncidentEvent, Kind, Severity, Status


def with_follow_up(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    latest = IncidentEvent.objects.filter(incident=OuterRef("pk")).order_by("-at", "-id")
    return incidents.annotate(
        status=Subquery(latest.values("status")[:1]),
        owner_name=Subquery(latest.values("owner__username")[:1]),
    )


def month_bounds(year: int, month: int) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.date(year, month, 1)
    end = datetime.date(year + (month == 12), month % 12 + 1, 1)
    aware = timezone.make_aware
    return (
        aware(datetime.datetime.combine(start, datetime.time.min)),
        aware(datetime.datetime.combine(end, datetime.time.min)),
    )


def incidents_for(
    clinic_id: int,
    *,
    status: str = "",
    kind: str = "",
    month: tuple[int, int] | None = None,
    patient_id: int | None = None,
) -> QuerySet[Incident]:
    incidents = with_follow_up(
        Incident.objects.filter(clinic_id=clinic_id).select_related("patient", "reported_by")
    )
    if kind:
        incidents = incidents.filter(kind=kind)
    if status:
        incidents = incidents.filter(status=status)
    if month:
        start, end = month_bounds(*month)
        incidents = incidents.filter(occurred_at__gte=start, occurred_at__lt=end)
    if patient_id:
        incidents = incidents.filter(patient_id=patient_id)
    return incidents.order_by("-occurred_at", "-id")


def month_of(value: str) -> tuple[int, int] | None:
    """The (year, month) that "YYYY-MM" names, None for no month; Invalid on field "month"
    for anything else. The list and the summary, page and API, read the month alike."""
    if not value:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
        raise Invalid.one("month", _("Write the month as YYYY-MM, e.g. 2026-11."))
    return int(match[1]), int(match[2])


def incidents_listed(
    actor: Actor,
    clinic: Clinic,
    *,
    limit: int,
    status: str = "",
    kind: str = "",
    month: str = "",
    patient_id: int | None = None,
) -> list[Incident]:
    """A clinic's incidents, newest first, for someone who may see them: checked, read and
    logged (each patient named in the list) in one place for the page and the API. Invalid
    for a status, kind or month HAB does not know; ``limit`` is the most one answer shows."""
    clinic = clinic_for_action(actor.user, clinic, Action.INCIDENT_VIEW)
    if status and status not in Status.values:
        raise Invalid.one("status", _("Choose open, follow_up or closed."))
    if kind and kind not in Kind.values:
        raise Invalid.one("kind", _("No such kind of incident."))
    incidents = list(
        incidents_for(
            clinic.pk, status=status, kind=kind, month=month_of(month), patient_id=patient_id
        ).select_related("clinic")[:limit]
    )
    patients = {i.patient_id: i.patient for i in incidents if i.patient_id}
    if patients:
        access_log_listed(
            actor=actor,
            patients=patients.values(),
            details={"list": "incidents"},
            clinic_id=clinic.pk,
        )
    return incidents


def incident(incident_id: int) -> Incident | None:
    return (
        with_follow_up(Incident.objects.filter(pk=incident_id))
        .select_related("clinic", "patient", "administration", "reported_by")
        .first()
    )


def events(incident_id: int) -> QuerySet[IncidentEvent]:
    return IncidentEvent.objects.filter(incident_id=incident_id).select_related("by", "owner")


@dataclass
class Summary:
    """One clinic's incidents in one month, against the doses given that month."""

    year: int
    month: int
    total: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_severity: dict[str, int] = field(default_factory=dict)
    open: int = 0
    naloxone_given: int = 0
    naloxone_mg: Decimal = Decimal(0)
    ambulance: int = 0
    hospital: int = 0
    administrations: int = 0

    def per_1000(self, count: int) -> float | None:
        if not self.administrations:
            return None
        return round(count * 1000 / self.administrations, 2)

    @property
    def rate(self) -> float | None:
        return self.per_1000(self.total)

    @property
    def overdoses(self) -> int:
        return self.by_kind.get(Kind.OVERDOSE, 0)

    @property
    def overdose_rate(self) -> float | None:
        return self.per_1000(self.overdoses)

    def kinds(self) -> list[tuple[str, str, int]]:
        return [(code, label, self.by_kind.get(code, 0)) for code, label in Kind.choices]

    def severities(self) -> list[tuple[str, str, int]]:
        return [(code, label, self.by_severity.get(code, 0)) for code, label in Severity.choices]


def monthly_summary(clinic_id: int, year: int, month: int) -> Summary:
    """Counts by kind and severity, naloxone, ambulance and hospital, and the rate per
    1,000 doses given (given or partly given, first records; corrections not counted
    twice)."""
    from hab.dosing.models import Administration

    start, end = month_bounds(year, month)
    summary = Summary(year=year, month=month)
    rows = list(
        with_follow_up(
            Incident.objects.filter(
                clinic_id=clinic_id, occurred_at__gte=start, occurred_at__lt=end
            )
        ).values("kind", "severity", "status", "naloxone_mg", "ambulance", "hospital")
    )
    summary.total = len(rows)
    summary.by_kind = dict(Counter(row["kind"] for row in rows))
    summary.by_severity = dict(Counter(row["severity"] for row in rows))
    summary.open = sum(1 for row in rows if row["status"] != Status.CLOSED)
    summary.naloxone_given = sum(1 for row in rows if row["naloxone_mg"])
    summary.naloxone_mg = sum((row["naloxone_mg"] or Decimal(0) for row in rows), Decimal(0))
    summary.ambulance = sum(1 for row in rows if row["ambulance"])
    summary.hospital = sum(1 for row in rows if row["hospital"])
    summary.administrations = Administration.objects.filter(
        clinic_id=clinic_id,
        given_at__gte=start,
        given_at__lt=end,
        status__in=TAKEN,
        corrects__isnull=True,
    ).count()
    return summary
