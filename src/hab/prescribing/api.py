from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from hab.core.api import clinic_by_code, request_actor
from hab.core.policy import Action
from hab.patients.selectors import clinic_for_action, patient_open
from hab.prescribing import services
from hab.prescribing.models import DosingProtocol, Prescription
from hab.prescribing.selectors import latest_protocol
from hab.prescribing.services import PROTOCOL_FIELDS

router = Router(tags=["prescribing"])


class TitrationIn(Schema):
    start_mg: Decimal
    step_mg: Decimal
    target_mg: Decimal


class PrescriptionIn(Schema):
    episode: int
    medication: str
    route: str
    doses_mg: dict[str, Decimal]
    daily_max_mg: Decimal
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    reason: str = Field("", max_length=500)
    titration: TitrationIn | None = None


class PrescriptionOut(Schema):
    id: int
    patient: int
    episode: int
    medication: str
    route: str
    doses_mg: dict[str, float]
    daily_max_mg: float
    valid_from: datetime.date
    valid_to: datetime.date | None
    stopped_on: datetime.date | None
    titration: dict | None
    reason: str
    supersedes: int | None
    prescribed_by: str
    prescribed_at: datetime.datetime


class StopIn(Schema):
    reason: str = Field(..., max_length=500)
    on: datetime.date | None = None


class ProtocolIn(Schema):
    doctor: str
    reason: str = Field(..., max_length=500)
    values: dict[str, Decimal | int | None]


def prescription_out(p: Prescription) -> dict:
    titration = None
    if p.titration_start_mg is not None:
        titration = {
            "start_mg": float(p.titration_start_mg),
            "step_mg": float(p.titration_step_mg),
            "target_mg": float(p.titration_target_mg),
        }
    return {
        "id": p.pk,
        "patient": p.patient_id,
        "episode": p.episode_id,
        "medication": p.medication,
        "route": p.route,
        "doses_mg": {k: float(v) for k, v in p.doses_mg.items()},
        "daily_max_mg": float(p.daily_max_mg),
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "stopped_on": p.stopped_on,
        "titration": titration,
        "reason": p.reason,
        "supersedes": p.supersedes_id,
        "prescribed_by": p.created_by.username,
        "prescribed_at": p.created_at,
    }


def protocol_out(protocol: DosingProtocol | None) -> dict:
    if protocol is None:
        return {"version": None, "complete": False, "values": {}}
    return {
        "version": protocol.version,
        "complete": protocol.complete,
        "demo_values": protocol.demo_values,
        "reason": protocol.reason,
        "created_by": protocol.created_by.username,
        "doctor": protocol.doctor.username,
        "created_at": protocol.created_at.isoformat(),
        "values": {
            name: None if getattr(protocol, name) is None else float(getattr(protocol, name))
            for name in PROTOCOL_FIELDS
        },
    }


@router.post("/prescriptions", response={201: PrescriptionOut}, summary="Prescribe (doctor)")
def prescription_create(request: HttpRequest, payload: PrescriptionIn):
    prescription = services.prescription_create(
        actor=request_actor(request),
        episode_id=payload.episode,
        medication=payload.medication,
        route=payload.route,
        doses_mg=dict(payload.doses_mg),
        daily_max_mg=payload.daily_max_mg,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        reason=payload.reason,
        titration=payload.titration.model_dump() if payload.titration else None,
    )
    return Status(201, prescription_out(prescription))


@router.post(
    "/prescriptions/{int:prescription_id}/stop",
    response={201: PrescriptionOut},
    summary="Stop a prescription (doctor)",
)
def prescription_stop(request: HttpRequest, prescription_id: int, payload: StopIn):
    stop = services.prescription_stop(
        actor=request_actor(request),
        prescription_id=prescription_id,
        reason=payload.reason,
        on=payload.on,
    )
    return Status(201, prescription_out(stop))


@router.get(
    "/patients/{int:patient_id}/prescriptions",
    response=list[PrescriptionOut],
    summary="A patient's prescriptions, newest first (history kept)",
)
def prescription_list(request: HttpRequest, patient_id: int):
    patient = patient_open(request_actor(request), patient_id, what="prescriptions")
    return [
        prescription_out(p)
        for p in patient.prescriptions.select_related("created_by").order_by("-created_at", "-id")
    ]


@router.get("/clinics/{code}/protocol", summary="The clinic's dosing protocol (newest version)")
def protocol_get(request: HttpRequest, code: str):
    clinic = clinic_by_code(code)
    clinic_for_action(request.user, clinic, Action.CLINIC_VIEW)
    return protocol_out(latest_protocol(clinic.pk))


@router.post(
    "/clinics/{code}/protocol",
    response={201: dict},
    summary="A new protocol version (clinic lead, naming the doctor who agreed)",
)
def protocol_create(request: HttpRequest, code: str, payload: ProtocolIn):
    protocol = services.protocol_create(
        actor=request_actor(request),
        clinic=clinic_by_code(code),
        doctor=payload.doctor,
        reason=payload.reason,
        values=dict(payload.values),
    )
    return Status(201, protocol_out(protocol))
