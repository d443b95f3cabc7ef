from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import BaseModel

from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input, stored_decimal
from hab.core.errors import NotFound
from hab.core.models import Clinic
from hab.dosing import selectors, services
from hab.dosing.models import Administration, Observation

router = Router(tags=["dosing room"])

# Amounts to the places their columns keep: more is a 422 on the field, never rounded.
DoseMg = stored_decimal(Administration, "dose_mg")
Permille = stored_decimal(Administration, "breath_alcohol_permille")
NaloxoneMg = stored_decimal(Observation, "naloxone_mg")


class AssessmentIn(Input):
    sedation: int | None = None
    breath_alcohol_permille: Permille | None = None
    respiratory_rate: int | None = None
    # Intoxication with other substances: none, suspected (reduces) or obvious (blocks).
    intoxication: str | None = None


class AdministrationIn(Input):
    patient: int
    clinic: str | None = None
    date: datetime.date
    slot: str
    medication: str
    dose_mg: DoseMg
    route: str = ""
    status: str = "given"
    assessment: AssessmentIn | None = None
    # As long as the record's columns (dosing.models): longer is refused, not cut short.
    withheld_reason: str = Field("", max_length=500)
    notes: str = Field("", max_length=500)
    # The first day's top-up right after the first injection (a second record in the slot).
    top_up: bool = False


class AdministrationOut(Schema):
    id: int
    patient: int
    clinic: str
    date: datetime.date
    slot: str
    medication: str
    route: str
    status: str
    dose_mg: float
    prescribed_mg: float
    max_allowed_mg: float
    given_at: datetime.datetime
    nurse: str
    observe_until: datetime.datetime | None
    corrects: int | None
    correction_reason: str
    top_up: bool = False
    intoxication: str = ""
    # The breaches of the day's limits confirmed with this record, and why (empty when none).
    breaches: list[str] = []
    breach_reason: str = ""
    warnings: list[str]


class CorrectionIn(Input):
    reason: str = Field(..., max_length=500)
    dose_mg: DoseMg
    status: str
    assessment: AssessmentIn | None = None
    # A correction that breaks a limit of the day is recorded only when confirmed; the
    # breach's reason defaults to the correction's.
    confirm_breach: bool = False
    breach_reason: str = Field("", max_length=500)


class ObservationIn(Input):
    outcome: str
    note: str = Field("", max_length=500)
    naloxone_mg: NaloxoneMg | None = None


class CloseIn(Input):
    date: datetime.date
    slot: str
    # The patients still under observation that the caller confirms the session closes
    # over (patient ids); without each of them: 422 naming them, field observing_confirmed.
    confirm_observing: list[int] = []


class GuestIn(Input):
    clinic: str
    valid_from: datetime.date
    valid_to: datetime.date
    reason: str = ""


# The board's rows are plain pydantic models, not ninja Schemas: a Schema wraps every row in
# a getter for ORM objects before checking it, which cost about 20 ms on a 300-row board (a
# fifth of the request); checking the rows' dicts as plain models costs under 1 ms. The
# OpenAPI document is the same either way.
class BoardRowOut(BaseModel):
    patient: int
    name: str
    birth_date: datetime.date
    has_photo: bool
    guest: bool
    medication: str
    route: str
    prescribed_mg: float
    max_allowed_mg: float
    blocked: bool
    reasons: list[str]
    state: str
    record: int | None
    dosed_mg: float | None
    dosed_elsewhere: str
    observe_until: datetime.datetime | None


class BoardOut(BaseModel):
    clinic: str
    date: datetime.date
    slot: str
    closed: bool
    protocol_version: int | None
    rows: list[BoardRowOut]


def administration_out(record: Administration, warnings: list[str] | None = None) -> dict:
    return {
        "id": record.pk,
        "patient": record.patient_id,
        "clinic": record.clinic.code,
        "date": record.day,
        "slot": record.slot,
        "medication": record.medication,
        "route": record.route,
        "status": record.status,
        "dose_mg": float(record.dose_mg),
        "prescribed_mg": float(record.prescribed_mg),
        "max_allowed_mg": float(record.max_allowed_mg),
        "given_at": record.given_at,
        "nurse": record.nurse.username,
        "observe_until": record.observe_until,
        "corrects": record.corrects_id,
        "correction_reason": record.correction_reason,
        "top_up": record.top_up,
        "intoxication": record.intoxication,
        "breaches": record.breaches,
        "breach_reason": record.breach_reason,
        "warnings": warnings or [],
    }


@router.get("/clinics/{code}/board", response=BoardOut, summary="The dosing board")
def board(request: HttpRequest, code: str, slot: str, date: datetime.date | None = None):
    """Refreshed every 30 s on every tablet; checked against ``BoardOut`` like any answer."""
    result = selectors.board(request_actor(request), clinic_by_code(code), date, slot)
    return {
        "clinic": code,
        "date": result.day,
        "slot": result.slot,
        "closed": result.closed,
        "protocol_version": result.protocol_version,
        "rows": [
            {
                "patient": row.patient.pk,
                "name": row.patient.full_name,
                "birth_date": row.patient.birth_date,
                "has_photo": bool(row.patient.photo),
                "guest": row.guest,
                "medication": row.prescription.medication,
                "route": row.prescription.route,
                "prescribed_mg": row.decision.prescribed_mg,
                "max_allowed_mg": row.decision.max_mg,
                "blocked": row.decision.blocked,
                "reasons": row.reasons,
                "state": row.state,
                "record": row.record.pk if row.record else None,
                "dosed_mg": float(row.record.dose_mg) if row.record else None,
                "dosed_elsewhere": row.elsewhere,
                "observe_until": row.observe_until,
            }
            for row in result.rows
        ],
    }


def _clinic_for(payload_clinic: str | None, patient_id: int) -> Clinic:
    """The clinic named, or the patient's own (the access check follows in the service)."""
    if payload_clinic:
        return clinic_by_code(payload_clinic)
    clinic = Clinic.objects.filter(patients__pk=patient_id).first()
    if clinic is None:
        raise NotFound("No such patient.")
    return clinic


@router.post(
    "/administrations",
    response={201: AdministrationOut},
    summary="Record a supervised dose (or why none was given)",
)
def administration_record(request: HttpRequest, payload: AdministrationIn):
    """``clinic`` defaults to the patient's own; give it for a guest dose at the other
    clinic. 409 when this session already has a record; 422 with every reason when the
    dose is not safe now. Nothing is written on any error."""
    recorded = services.administration_record(
        actor=request_actor(request),
        clinic=_clinic_for(payload.clinic, payload.patient),
        patient_id=payload.patient,
        day=payload.date,
        slot=payload.slot,
        medication=payload.medication,
        dose_mg=payload.dose_mg,
        route=payload.route,
        status=payload.status,
        assessment=payload.assessment.model_dump() if payload.assessment else None,
        withheld_reason=payload.withheld_reason,
        notes=payload.notes,
        top_up=payload.top_up,
    )
    return Status(201, administration_out(recorded.administration, recorded.warnings))


@router.post(
    "/administrations/{int:administration_id}/corrections",
    response={201: AdministrationOut},
    summary="Correct a record (the original stays)",
)
def administration_correct(request: HttpRequest, administration_id: int, payload: CorrectionIn):
    """A correction that raises a dose is checked against the whole day: 422 listing every
    breach (field ``dose_mg``) unless ``confirm_breach`` is true, which records it with the
    reason, opens a dosing-error incident and blocks the group's next dose until a doctor
    reviews."""
    recorded = services.administration_correct(
        actor=request_actor(request),
        administration_id=administration_id,
        reason=payload.reason,
        dose_mg=payload.dose_mg,
        status=payload.status,
        assessment=payload.assessment.model_dump() if payload.assessment else None,
        confirm_breach=payload.confirm_breach,
        breach_reason=payload.breach_reason,
    )
    return Status(201, administration_out(recorded.administration, recorded.warnings))


@router.post(
    "/administrations/{int:administration_id}/observation",
    response={201: dict},
    summary="End the post-dose observation with its outcome",
)
def observation_end(request: HttpRequest, administration_id: int, payload: ObservationIn):
    observation = services.observation_end(
        actor=request_actor(request),
        administration_id=administration_id,
        outcome=payload.outcome,
        note=payload.note,
        naloxone_mg=payload.naloxone_mg,
    )
    return Status(201, {"id": observation.pk, "outcome": observation.outcome})


@router.post(
    "/clinics/{code}/sessions/close",
    response={201: dict},
    summary="Close a session: missed for everyone expected and not seen",
)
def session_close(request: HttpRequest, code: str, payload: CloseIn):
    closed = services.session_close(
        actor=request_actor(request),
        clinic=clinic_by_code(code),
        day=payload.date,
        slot=payload.slot,
        observing_confirmed=payload.confirm_observing,
    )
    return Status(201, {"date": closed.day, "slot": closed.slot, "missed": closed.missed})


@router.post(
    "/patients/{int:patient_id}/guest-dosing",
    response={201: dict},
    summary="Let the other clinic dose the patient on these days (home doctor)",
)
def guest_authorise(request: HttpRequest, patient_id: int, payload: GuestIn):
    authorisation = services.guest_authorise(
        actor=request_actor(request),
        patient_id=patient_id,
        clinic_code=payload.clinic,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        reason=payload.reason,
    )
    return Status(
        201,
        {
            "id": authorisation.pk,
            "clinic": payload.clinic,
            "valid_from": authorisation.valid_from,
            "valid_to": authorisation.valid_to,
        },
    )


class DoseReviewIn(Input):
    # dam, hydromorphone, methadone or morphine
    group: str
    note: str = Field(..., max_length=500)


class DoseReviewOut(Schema):
    id: int
    patient: int
    group: str
    reviewed_at: datetime.datetime
    doctor: str
    note: str


@router.post(
    "/patients/{int:patient_id}/dose-reviews",
    response={201: DoseReviewOut},
    summary="A doctor's review that lifts a missed-days or breach block (doctor)",
)
def dose_review(request: HttpRequest, patient_id: int, payload: DoseReviewIn):
    """Lifts the blocks of the group that began before it: missed days (the patient may
    restart under the first-day limits) and a confirmed breach. A new prescription counts
    as a review too."""
    review = services.dose_review(
        actor=request_actor(request),
        patient_id=patient_id,
        group=payload.group,
        note=payload.note,
    )
    return Status(
        201,
        {
            "id": review.pk,
            "patient": review.patient_id,
            "group": review.group,
            "reviewed_at": review.reviewed_at,
            "doctor": review.doctor.username,
            "note": review.note,
        },
    )


class DoctorAlertIn(Input):
    # The medication group of the blocked row (dam, hydromorphone, methadone, morphine);
    # empty: the first blocked one.
    group: str = Field("", max_length=15)
    # The session whose block is meant; empty: the clinic's current session.
    slot: str = Field("", max_length=32)
    # Why the doctor is wanted; needed when nothing blocks the patient's dose.
    note: str = Field("", max_length=300)


class DoctorAlertOut(Schema):
    id: int
    patient: int
    patient_name: str
    clinic: str
    group: str
    reason: str
    note: str
    raised_by: str
    raised_at: datetime.datetime


def doctor_alert_out(alert) -> dict:
    return {
        "id": alert.pk,
        "patient": alert.patient_id,
        "patient_name": alert.patient.full_name,
        "clinic": alert.clinic.code,
        "group": alert.group,
        "reason": alert.reason,
        "note": alert.note,
        "raised_by": alert.raised_by.username,
        "raised_at": alert.raised_at,
    }


@router.post(
    "/patients/{int:patient_id}/doctor-alerts",
    response={201: DoctorAlertOut},
    summary="Notify the doctor about a blocked patient (Varsle lege)",
)
def doctor_alert_raise(request: HttpRequest, patient_id: int, payload: DoctorAlertIn):
    """Puts the patient on the doctors' "awaiting review" list with what blocks their dose
    now, in words. 422 when nothing blocks the dose and no ``note`` says why; 409 while an
    earlier alert for the same medication is unanswered. A dose review of the group, a new
    prescription or the lifting of a stop-dose hold answers it."""
    alert = services.doctor_alert_raise(
        actor=request_actor(request),
        patient_id=patient_id,
        group=payload.group,
        slot=payload.slot,
        note=payload.note,
    )
    return Status(201, doctor_alert_out(alert))


@router.get(
    "/clinics/{code}/doctor-alerts",
    response=list[DoctorAlertOut],
    summary="Unanswered doctor alerts at a clinic, newest first (doctor)",
)
def doctor_alerts(request: HttpRequest, code: str):
    """Every patient named is written to the access log as listed."""
    found = selectors.awaiting_review(request_actor(request), clinic_by_code(code))
    return [doctor_alert_out(alert) for alert in found.alerts]


class DoseHoldIn(Input):
    reason: str = Field(..., max_length=500)


class DoseHoldLiftIn(Input):
    note: str = Field(..., max_length=500)


class DoseHoldOut(Schema):
    id: int
    patient: int
    reason: str
    placed_by: str
    placed_at: datetime.datetime
    lifted_by: str | None = None
    lifted_at: datetime.datetime | None = None
    lift_note: str = ""


@router.post(
    "/patients/{int:patient_id}/dose-holds",
    response={201: DoseHoldOut},
    summary="Stop the patient's dosing until a doctor lifts it (doctor, nurse)",
)
def dose_hold_place(request: HttpRequest, patient_id: int, payload: DoseHoldIn):
    """Every dose of the patient is refused (422, with the reason) while the hold lasts,
    at any clinic. 409 when dosing is already stopped."""
    hold = services.dose_hold_place(
        actor=request_actor(request), patient_id=patient_id, reason=payload.reason
    )
    return Status(
        201,
        {
            "id": hold.pk,
            "patient": hold.patient_id,
            "reason": hold.reason,
            "placed_by": hold.placed_by.username,
            "placed_at": hold.placed_at,
        },
    )


@router.post(
    "/patients/{int:patient_id}/dose-holds/lift",
    response={201: DoseHoldOut},
    summary="Lift the patient's stop-dose hold (doctor)",
)
def dose_hold_lift(request: HttpRequest, patient_id: int, payload: DoseHoldLiftIn):
    """403 for anyone but a doctor; 409 when dosing is not stopped."""
    lift = services.dose_hold_lift(
        actor=request_actor(request), patient_id=patient_id, note=payload.note
    )
    hold = lift.hold
    return Status(
        201,
        {
            "id": hold.pk,
            "patient": hold.patient_id,
            "reason": hold.reason,
            "placed_by": hold.placed_by.username,
            "placed_at": hold.placed_at,
            "lifted_by": lift.lifted_by.username,
            "lifted_at": lift.lifted_at,
            "lift_note": lift.note,
        },
    )
