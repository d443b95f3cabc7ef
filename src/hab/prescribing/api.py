from __future__ import annotations

import datetime
from decimal import Decimal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input, stored_decimal
from hab.core.errors import NotFound
from hab.core.policy import Action, clinic_for_action
from hab.patients.selectors import patient_open
from hab.prescribing import services
from hab.prescribing.models import DosingProtocol, Prescription, ProtocolSignoff
from hab.prescribing.rules import PROTOCOL_RANGES, PROTOCOL_SWITCHES
from hab.prescribing.selectors import protocol_diff, protocol_in_force, protocol_pending
from hab.prescribing.services import PROTOCOL_FIELDS

router = Router(tags=["prescribing"])

# Amounts to the places their columns keep (a dose per session as the daily maximum): more
# is a 422 on the field, never rounded.
PrescribedMg = stored_decimal(Prescription, "daily_max_mg")
TitrationMg = stored_decimal(Prescription, "titration_step_mg")


class TitrationIn(Input):
    start_mg: TitrationMg
    step_mg: TitrationMg
    target_mg: TitrationMg


class PrescriptionIn(Input):
    episode: int
    medication: str
    route: str
    doses_mg: dict[str, PrescribedMg]
    daily_max_mg: PrescribedMg
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    reason: str = Field("", max_length=500)
    titration: TitrationIn | None = None
    # A doctor's reason to prescribe against a rule that allows it (methadone with
    # slow-release morphine); recorded with the prescription only when it overrides.
    override_reason: str = Field("", max_length=500)


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
    override_reason: str
    supersedes: int | None
    prescribed_by: str
    prescribed_at: datetime.datetime


class StopIn(Input):
    reason: str = Field(..., max_length=500)
    on: datetime.date | None = None


class ProtocolIn(Input):
    doctor: str
    reason: str = Field(..., max_length=500)
    values: dict[str, bool | Decimal | int | None]


class ConfirmIn(Input):
    password: str = Field(..., max_length=1000)
    otp: str | None = Field(None, max_length=12)


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
        "override_reason": p.override_reason,
        "supersedes": p.supersedes_id,
        "prescribed_by": p.created_by.username,
        "prescribed_at": p.created_at,
    }


def _number(value) -> float | bool | None:
    # A switch (prescribing.rules.PROTOCOL_SWITCHES) stays true or false.
    return value if value is None or isinstance(value, bool) else float(value)


def protocol_out(protocol: DosingProtocol | None) -> dict:
    if protocol is None:
        return {"version": None, "complete": False, "in_force": False, "values": {}}
    signoff = ProtocolSignoff.objects.filter(protocol=protocol).select_related("doctor").first()
    return {
        "version": protocol.version,
        "complete": protocol.complete,
        "demo_values": protocol.demo_values,
        "reason": protocol.reason,
        "created_by": protocol.created_by.username,
        "doctor": protocol.doctor.username,
        "created_at": protocol.created_at.isoformat(),
        "confirmed_at": signoff.confirmed_at.isoformat() if signoff else None,
        "in_force": bool(signoff) and protocol == protocol_in_force(protocol.clinic_id),
        "values": {name: _number(getattr(protocol, name)) for name in PROTOCOL_FIELDS},
        "changes": [
            {
                "setting": change.setting,
                "in_force": _number(change.in_force),
                "proposed": _number(change.proposed),
            }
            for change in protocol_diff(protocol)
        ]
        if not signoff
        else [],
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
        override_reason=payload.override_reason,
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


@router.get(
    "/clinics/{code}/protocol",
    summary="The clinic's dosing protocol in force, and the version awaiting confirmation",
)
def protocol_get(request: HttpRequest, code: str):
    clinic = clinic_by_code(code)
    clinic_for_action(request.user, clinic, Action.CLINIC_VIEW)
    pending = protocol_pending(clinic.pk)
    return protocol_out(protocol_in_force(clinic.pk)) | {
        "pending": pending.version if pending else None
    }


@router.get(
    "/clinics/{code}/protocols/{int:version}",
    summary="One protocol version, with its changes against the version in force",
)
def protocol_version_get(request: HttpRequest, code: str, version: int):
    clinic = clinic_by_code(code)
    clinic_for_action(request.user, clinic, Action.CLINIC_VIEW)
    protocol = DosingProtocol.objects.filter(clinic=clinic, version=version).first()
    if protocol is None:
        raise NotFound(_("No such protocol version."))
    return protocol_out(protocol)


@router.get("/protocol-ranges", summary="The clinical range of every protocol setting")
def protocol_ranges(request: HttpRequest):
    return [
        {
            "setting": r.setting,
            "min": float(r.low),
            "max": float(r.high),
            "unit": r.unit,
            "optional": r.optional,
            "why": r.why,
        }
        for r in PROTOCOL_RANGES.values()
    ] + [
        {
            "setting": s.setting,
            "min": 0,
            "max": 1,
            "unit": "on/off",
            "optional": False,
            "why": s.why,
        }
        for s in PROTOCOL_SWITCHES.values()
    ]


@router.post(
    "/clinics/{code}/protocols/{int:version}/confirm",
    response={201: dict},
    summary="Put a proposed protocol version in force (the named doctor, with password)",
)
def protocol_confirm(request: HttpRequest, code: str, version: int, payload: ConfirmIn):
    clinic = clinic_by_code(code)
    services.protocol_confirm(
        actor=request_actor(request),
        clinic=clinic,
        version=version,
        password=payload.password,
        otp=payload.otp,
    )
    return Status(201, protocol_out(DosingProtocol.objects.get(clinic=clinic, version=version)))


@router.post(
    "/clinics/{code}/protocol",
    response={201: dict},
    summary="Propose a new protocol version (clinic lead, naming the doctor who confirms)",
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
