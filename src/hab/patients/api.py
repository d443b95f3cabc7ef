from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from hab.core import clock
from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input
from hab.patients import access_report as access_report_module
from hab.patients import selectors, services
from hab.patients.models import Patient

router = Router(tags=["patients"])


class PatientIn(Input):
    national_id: str
    given_name: str
    family_name: str
    clinic: str
    birth_date: datetime.date | None = None
    phone: str = ""
    address: str = ""


class PatientPatch(Input):
    given_name: str | None = None
    family_name: str | None = None
    birth_date: datetime.date | None = None
    phone: str | None = None
    address: str | None = None


class ConsentOut(Schema):
    given: bool
    at: datetime.datetime
    recorded_by: str
    note: str


class RelativeOut(Schema):
    id: int
    name: str
    relation: str
    phone: str
    email: str
    is_next_of_kin: bool
    note: str


class PatientOut(Schema):
    id: int
    clinic: str
    national_id: str
    id_kind: str
    synthetic_id: bool
    research_id: str
    birth_date: datetime.date
    age: int
    given_name: str
    family_name: str
    phone: str
    address: str
    has_photo: bool
    consents: dict[str, ConsentOut | None]
    relatives: list[RelativeOut]


class PatientSummary(Schema):
    id: int
    clinic: str
    national_id: str
    birth_date: datetime.date
    given_name: str
    family_name: str


class ConsentIn(Input):
    kind: str
    given: bool
    note: str = ""


class RelativeIn(Input):
    name: str
    relation: str
    phone: str = ""
    email: str = ""
    is_next_of_kin: bool = False
    note: str = ""


class AccessLogOut(Schema):
    at: datetime.datetime
    username: str
    roles: str
    action: str
    what: str
    details: dict
    channel: str
    ip: str | None
    basis: str
    reason: str


class Created(Schema):
    id: int


def age_on(born: datetime.date, day: datetime.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _patient_out(patient: Patient) -> dict:
    consents = selectors.current_consents(patient)
    return {
        "id": patient.pk,
        "clinic": patient.clinic.code,
        "national_id": patient.national_id,
        "id_kind": patient.id_kind,
        "synthetic_id": patient.synthetic_id,
        "research_id": patient.research_id,
        "birth_date": patient.birth_date,
        "age": age_on(patient.birth_date, clock.today()),
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "phone": patient.phone,
        "address": patient.address,
        "has_photo": bool(patient.photo),
        "consents": {
            kind: None
            if consent is None
            else {
                "given": consent.given,
                "at": consent.at,
                "recorded_by": consent.recorded_by.username,
                "note": consent.note,
            }
            for kind, consent in consents.items()
        },
        "relatives": list(selectors.active_relatives(patient)),
    }


@router.post("", response={201: PatientOut}, summary="Register a patient")
def patient_create(request: HttpRequest, payload: PatientIn):
    patient = services.patient_create(
        actor=request_actor(request),
        clinic=clinic_by_code(payload.clinic),
        national_id_value=payload.national_id,
        given_name=payload.given_name,
        family_name=payload.family_name,
        birth_date=payload.birth_date,
        phone=payload.phone,
        address=payload.address,
    )
    return Status(201, _patient_out(patient))


@router.get("", response=list[PatientSummary], summary="Find patients at a clinic")
def patient_list(request: HttpRequest, clinic: str, q: str = ""):
    patients = selectors.patient_search(request_actor(request), clinic_by_code(clinic), q)
    return [
        {
            "id": p.pk,
            "clinic": clinic,
            "national_id": p.national_id,
            "birth_date": p.birth_date,
            "given_name": p.given_name,
            "family_name": p.family_name,
        }
        for p in patients
    ]


@router.get("/{int:patient_id}", response=PatientOut, summary="A patient's record (logged)")
def patient_get(request: HttpRequest, patient_id: int):
    return _patient_out(selectors.patient_open(request_actor(request), patient_id))


@router.patch("/{int:patient_id}", response=PatientOut, summary="Change names or contact")
def patient_update(request: HttpRequest, patient_id: int, payload: PatientPatch):
    patient = services.patient_update(
        actor=request_actor(request),
        patient_id=patient_id,
        changes=payload.model_dump(exclude_unset=True),
    )
    return _patient_out(patient)


@router.post(
    "/{int:patient_id}/consents", response={201: Created}, summary="Record consent given/withdrawn"
)
def consent_record(request: HttpRequest, patient_id: int, payload: ConsentIn):
    consent = services.consent_record(
        actor=request_actor(request),
        patient_id=patient_id,
        kind=payload.kind,
        given=payload.given,
        note=payload.note,
    )
    return Status(201, {"id": consent.pk})


@router.post("/{int:patient_id}/relatives", response={201: RelativeOut}, summary="Add a relative")
def relative_add(request: HttpRequest, patient_id: int, payload: RelativeIn):
    relative = services.relative_save(
        actor=request_actor(request), patient_id=patient_id, values=payload.model_dump()
    )
    return Status(201, relative)


@router.get(
    "/{int:patient_id}/access-log",
    response=list[AccessLogOut],
    summary="Who read or changed the record, when",
)
def access_log(request: HttpRequest, patient_id: int):
    actor = request_actor(request)
    # The reason comes in X-HAB-Access-Reason; without one the answer is 403.
    _patient, rows = selectors.access_log_for(actor, patient_id, reason=actor.reason)
    return rows


@router.get(
    "/{int:patient_id}/access-report",
    response=dict,
    summary="Everything HAB holds about the patient, for their right of access (logged)",
)
def access_report(request: HttpRequest, patient_id: int):
    report = access_report_module.access_report(
        request_actor(request), patient_id, channel_format="api"
    )
    return access_report_module.as_json(report)
