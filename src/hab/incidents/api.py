"""Incidents in the API: report, list, read, follow up, and the monthly summary."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from hab.core.access import access_log_write
from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input, stored_decimal
from hab.core.errors import Invalid, NotFound
from hab.core.models import AccessAction
from hab.core.policy import Action, clinic_for_action
from hab.incidents import selectors, services
from hab.incidents.models import Incident

router = Router(tags=["incidents"])

# To the places the column keeps: more is a 422 on the field, never rounded.
NaloxoneMg = stored_decimal(Incident, "naloxone_mg")


class IncidentIn(Input):
    clinic: str
    kind: str
    severity: str
    occurred_at: datetime.datetime
    description: str
    patient: int | None = None
    administration: int | None = None
    naloxone_mg: NaloxoneMg | None = None
    naloxone_doses: int | None = None
    ambulance: bool = False
    hospital: bool = False
    immediate_actions: str = ""
    owner: str = ""


class FollowUpIn(Input):
    status: str
    note: str = ""
    owner: str | None = None


class EventOut(Schema):
    at: datetime.datetime
    by: str
    status: str
    owner: str | None
    note: str


class IncidentOut(Schema):
    id: int
    clinic: str
    kind: str
    severity: str
    occurred_at: datetime.datetime
    patient: int | None
    administration: int | None
    naloxone_mg: float | None
    naloxone_doses: int | None
    ambulance: bool
    hospital: bool
    description: str
    immediate_actions: str
    source: str
    reported_at: datetime.datetime
    reported_by: str
    status: str
    owner: str | None
    events: list[EventOut] | None = None


# The most incidents one answer lists (the page shows fewer: a person reads it).
LISTED = 500


class IncidentFilter(Schema):
    clinic: str
    status: str = ""
    kind: str = ""
    month: str = ""
    patient: int | None = None


def incident_out(incident: Incident, *, with_events: bool = False) -> dict:
    data = {
        "id": incident.pk,
        "clinic": incident.clinic.code,
        "kind": incident.kind,
        "severity": incident.severity,
        "occurred_at": incident.occurred_at,
        "patient": incident.patient_id,
        "administration": incident.administration_id,
        "naloxone_mg": None if incident.naloxone_mg is None else float(incident.naloxone_mg),
        "naloxone_doses": incident.naloxone_doses,
        "ambulance": incident.ambulance,
        "hospital": incident.hospital,
        "description": incident.description,
        "immediate_actions": incident.immediate_actions,
        "source": incident.source,
        "reported_at": incident.reported_at,
        "reported_by": incident.reported_by.username,
        "status": incident.status,
        "owner": incident.owner_name,
    }
    if with_events:
        data["events"] = [
            {
                "at": e.at,
                "by": e.by.username,
                "status": e.status,
                "owner": e.owner.username if e.owner_id else None,
                "note": e.note,
            }
            for e in selectors.events(incident.pk)
        ]
    return data


def _read(request: HttpRequest, incident_id: int) -> Incident:
    incident = selectors.incident(incident_id)
    if incident is None:
        raise NotFound(_("No such incident."))
    clinic_for_action(request.user, incident.clinic, Action.INCIDENT_VIEW)
    return incident


@router.post("/incidents", response={201: IncidentOut}, summary="Report an incident (avvik)")
def report(request: HttpRequest, payload: IncidentIn):
    made = services.incident_report(
        actor=request_actor(request),
        clinic=clinic_by_code(payload.clinic),
        kind=payload.kind,
        severity=payload.severity,
        occurred_at=payload.occurred_at,
        description=payload.description,
        patient_id=payload.patient,
        administration_id=payload.administration,
        naloxone_mg=payload.naloxone_mg,
        naloxone_doses=payload.naloxone_doses,
        ambulance=payload.ambulance,
        hospital=payload.hospital,
        immediate_actions=payload.immediate_actions,
        owner=payload.owner,
    )
    return Status(201, incident_out(selectors.incident(made.pk), with_events=True))


@router.get("/incidents", response=list[IncidentOut], summary="Incidents at a clinic")
def incident_list(request: HttpRequest, filters: Query[IncidentFilter]):
    incidents = selectors.incidents_listed(
        request_actor(request),
        clinic_by_code(filters.clinic),
        limit=LISTED,
        status=filters.status,
        kind=filters.kind,
        month=filters.month,
        patient_id=filters.patient,
    )
    return [incident_out(i) for i in incidents]


@router.get("/incidents/{incident_id}", response=IncidentOut, summary="One incident")
def incident_detail(request: HttpRequest, incident_id: int):
    incident = _read(request, incident_id)
    if incident.patient_id:
        access_log_write(
            actor=request_actor(request),
            patient=incident.patient,
            action=AccessAction.VIEW,
            what="incident",
            details={"incident": incident.pk},
            policy_action=Action.INCIDENT_VIEW,
            clinic_id=incident.clinic_id,
        )
    return incident_out(incident, with_events=True)


@router.post(
    "/incidents/{incident_id}/follow-up",
    response={201: IncidentOut},
    summary="Record a follow-up step (clinic lead or follow-up owner)",
)
def follow_up(request: HttpRequest, incident_id: int, payload: FollowUpIn):
    services.incident_follow_up(
        actor=request_actor(request),
        incident_id=incident_id,
        status=payload.status,
        note=payload.note,
        owner=payload.owner,
    )
    return Status(201, incident_out(selectors.incident(incident_id), with_events=True))


@router.get(
    "/clinics/{code}/incidents/summary",
    summary="A clinic's incidents in one month, per 1,000 doses given",
)
def summary(request: HttpRequest, code: str, month: str):
    clinic = clinic_for_action(request.user, clinic_by_code(code), Action.INCIDENT_SUMMARY)
    year, number = selectors.month_of(month) or (0, 0)
    if not year:
        raise Invalid.one("month", _("Write the month as YYYY-MM, e.g. 2026-11."))
    s = selectors.monthly_summary(clinic.pk, year, number)
    return {
        "clinic": clinic.code,
        "month": f"{year:04d}-{number:02d}",
        "incidents": s.total,
        "open": s.open,
        "by_kind": {code: n for code, _label, n in s.kinds()},
        "by_severity": {code: n for code, _label, n in s.severities()},
        "overdoses": s.overdoses,
        "naloxone_given": s.naloxone_given,
        "naloxone_mg": float(s.naloxone_mg),
        "ambulance": s.ambulance,
        "hospital": s.hospital,
        "administrations": s.administrations,
        "incidents_per_1000_administrations": s.rate,
        "overdoses_per_1000_administrations": s.overdose_rate,
    }
