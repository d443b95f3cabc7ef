from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Router, Schema, Status

from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input
from hab.intake import selectors, services
from hab.intake.models import Episode, Referral
from hab.patients.models import Patient
from hab.patients.selectors import patient_open

router = Router(tags=["intake and episodes"])


class NewPerson(Input):
    national_id: str
    given_name: str
    family_name: str
    birth_date: datetime.date | None = None
    phone: str = ""


class ReferralIn(Input):
    patient: int | None = None
    person: NewPerson | None = None
    clinic: str | None = None
    source: str
    received_on: datetime.date
    referring_organisation: str = ""
    referring_contact: str = ""
    documents: str = ""
    note: str = ""


class ReferralOut(Schema):
    id: int
    patient: int
    clinic: str
    status: str
    source: str
    referring_organisation: str
    referring_contact: str
    received_on: datetime.date
    documents: str
    note: str
    eligible_on: datetime.date | None
    urgent: bool
    urgent_reason: str
    offered_on: datetime.date | None


class ReferralEventOut(Schema):
    at: datetime.datetime
    by: str
    kind: str
    from_status: str
    to_status: str
    note: str


class AssessmentOut(Schema):
    id: int
    criteria_version: int
    answers: dict[str, bool | None]
    criterion_notes: dict[str, str]
    eligible: bool
    notes: str
    assessed_on: datetime.date
    assessed_by: str


class ReferralDetail(ReferralOut):
    events: list[ReferralEventOut]
    assessments: list[AssessmentOut]


class ReferralStatusIn(Input):
    status: str
    note: str = ""


class ReferralAssessmentIn(Input):
    criteria: dict[str, bool | None]
    eligible: bool
    notes: str = ""
    criterion_notes: dict[str, str] = {}
    assessed_on: datetime.date | None = None


class UrgentIn(Input):
    urgent: bool
    reason: str = ""


class OfferIn(Input):
    offered_on: datetime.date | None = None


class CriterionOut(Schema):
    code: str
    text: str
    source: str
    min_age: int | None


class CriteriaOut(Schema):
    version: int
    note: str
    criteria: list[CriterionOut]


class CriterionIn(Input):
    code: str
    text_nb: str
    text_en: str
    source: str = ""
    min_age: int | None = None


class CriteriaIn(Input):
    note: str
    criteria: list[CriterionIn]


class EpisodeIn(Input):
    patient: int
    clinic: str
    admitted_on: datetime.date
    coordinator: str | None = None
    phase: str = "induction"
    referral: int | None = None


class EpisodeOut(Schema):
    id: int
    patient: int
    clinic: str
    referral: int | None
    previous: int | None
    admitted_on: datetime.date
    phase: str
    coordinator: str | None
    ended_on: datetime.date | None
    end_reason: str
    end_note: str
    death_on: datetime.date | None


class DischargeIn(Input):
    ended_on: datetime.date
    reason: str
    note: str = ""
    death_on: datetime.date | None = None


class EpisodeTransferIn(Input):
    clinic: str
    on: datetime.date | None = None
    note: str = ""


class PhaseIn(Input):
    phase: str
    on: datetime.date | None = None


class CoordinatorIn(Input):
    coordinator: str


class WaitlistOut(Schema):
    position: int
    referral: int
    patient: int
    name: str
    urgent: bool
    urgent_reason: str
    eligible_on: datetime.date | None
    days_waiting: int
    offered_on: datetime.date | None


class CapacityOut(Schema):
    clinic: str
    capacity: int
    used: int
    free: int
    waitlist_length: int
    median_days_waiting: float | None
    offered: int
    without_coordinator: int
    coordinator_overdue: int


def referral_out(referral: Referral) -> dict:
    return {
        "id": referral.pk,
        "patient": referral.patient_id,
        "clinic": referral.clinic.code,
        "status": referral.status,
        "source": referral.source,
        "referring_organisation": referral.referring_organisation,
        "referring_contact": referral.referring_contact,
        "received_on": referral.received_on,
        "documents": referral.documents,
        "note": referral.note,
        "eligible_on": referral.eligible_on,
        "urgent": referral.urgent,
        "urgent_reason": referral.urgent_reason,
        "offered_on": referral.offered_on,
    }


def episode_out(episode: Episode) -> dict:
    return {
        "id": episode.pk,
        "patient": episode.patient_id,
        "clinic": episode.clinic.code,
        "referral": episode.referral_id,
        "previous": episode.previous_id,
        "admitted_on": episode.admitted_on,
        "phase": episode.phase,
        "coordinator": episode.coordinator.username if episode.coordinator else None,
        "ended_on": episode.ended_on,
        "end_reason": episode.end_reason,
        "end_note": episode.end_note,
        "death_on": episode.death_on,
    }


# --- referrals -------------------------------------------------------------------------


@router.post("/referrals", response={201: ReferralOut}, summary="Register a referral")
def referral_create(request: HttpRequest, payload: ReferralIn):
    """For a registered patient give ``patient``; for a person not yet in HAB give
    ``person`` and ``clinic`` and the person is registered with the referral."""
    if payload.patient is not None and payload.clinic is None:
        found = Patient.objects.filter(pk=payload.patient).select_related("clinic").first()
        clinic_code = found.clinic.code if found else ""
    else:
        clinic_code = payload.clinic or ""
    referral = services.referral_create(
        actor=request_actor(request),
        clinic=clinic_by_code(clinic_code),
        source=payload.source,
        received_on=payload.received_on,
        referring_organisation=payload.referring_organisation,
        referring_contact=payload.referring_contact,
        documents=payload.documents,
        note=payload.note,
        patient_id=payload.patient,
        new_patient=payload.person.model_dump() if payload.person else None,
    )
    return Status(201, referral_out(referral))


@router.get("/referrals", response=list[ReferralOut], summary="The referral inbox of a clinic")
def referral_list(request: HttpRequest, clinic: str, status: str | None = None):
    statuses = status.split(",") if status else None
    return [
        referral_out(r)
        for r in selectors.referrals_for_clinic(
            request_actor(request), clinic_by_code(clinic), statuses
        )
    ]


@router.get("/referrals/{int:referral_id}", response=ReferralDetail, summary="A referral")
def referral_get(request: HttpRequest, referral_id: int):
    referral = selectors.referral_open(request_actor(request), referral_id)
    return referral_out(referral) | {
        "events": [
            {
                "at": e.at,
                "by": e.by.username,
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in referral.events.select_related("by")
        ],
        "assessments": [
            {
                "id": a.pk,
                "criteria_version": a.criteria_set.version,
                "answers": a.answers,
                "criterion_notes": a.criterion_notes,
                "eligible": a.eligible,
                "notes": a.notes,
                "assessed_on": a.assessed_on,
                "assessed_by": a.assessed_by.username,
            }
            for a in referral.assessments.select_related("criteria_set", "assessed_by")
        ],
    }


@router.post(
    "/referrals/{int:referral_id}/status",
    response=ReferralOut,
    summary="Start the assessment, or withdraw the referral",
)
def referral_status(request: HttpRequest, referral_id: int, payload: ReferralStatusIn):
    referral = services.referral_set_status(
        actor=request_actor(request),
        referral_id=referral_id,
        status=payload.status,
        note=payload.note,
    )
    return referral_out(referral)


@router.post(
    "/referrals/{int:referral_id}/assessment",
    response={201: AssessmentOut},
    summary="Assess eligibility (doctor)",
)
def referral_assess(request: HttpRequest, referral_id: int, payload: ReferralAssessmentIn):
    assessment = services.referral_assess(
        actor=request_actor(request),
        referral_id=referral_id,
        answers=payload.criteria,
        eligible=payload.eligible,
        notes=payload.notes,
        criterion_notes=payload.criterion_notes,
        assessed_on=payload.assessed_on,
    )
    return Status(
        201,
        {
            "id": assessment.pk,
            "criteria_version": assessment.criteria_set.version,
            "answers": assessment.answers,
            "criterion_notes": assessment.criterion_notes,
            "eligible": assessment.eligible,
            "notes": assessment.notes,
            "assessed_on": assessment.assessed_on,
            "assessed_by": assessment.assessed_by.username,
        },
    )


@router.post(
    "/referrals/{int:referral_id}/waitlist", response=ReferralOut, summary="Put on the waitlist"
)
def referral_waitlist(request: HttpRequest, referral_id: int):
    return referral_out(
        services.referral_waitlist(actor=request_actor(request), referral_id=referral_id)
    )


@router.post(
    "/referrals/{int:referral_id}/urgent", response=ReferralOut, summary="Mark urgent (doctor)"
)
def referral_urgent(request: HttpRequest, referral_id: int, payload: UrgentIn):
    referral = services.referral_set_urgent(
        actor=request_actor(request),
        referral_id=referral_id,
        urgent=payload.urgent,
        reason=payload.reason,
    )
    return referral_out(referral)


@router.post("/referrals/{int:referral_id}/offer", response=ReferralOut, summary="Offer a place")
def referral_offer(request: HttpRequest, referral_id: int, payload: OfferIn):
    referral = services.referral_offer(
        actor=request_actor(request), referral_id=referral_id, offered_on=payload.offered_on
    )
    return referral_out(referral)


# --- criteria --------------------------------------------------------------------------


def _criteria_out(criteria_set) -> dict:
    language = get_language() or "nb"
    return {
        "version": criteria_set.version,
        "note": criteria_set.note,
        "criteria": [
            {"code": c.code, "text": c.text(language), "source": c.source, "min_age": c.min_age}
            for c in criteria_set.criteria.all()
        ],
    }


@router.get("/eligibility/criteria", response=CriteriaOut, summary="The active criteria set")
def criteria_get(request: HttpRequest):
    return _criteria_out(selectors.active_criteria_set())


@router.post(
    "/eligibility/criteria",
    response={201: CriteriaOut},
    summary="A new version of the criteria (programme owner)",
)
def criteria_create(request: HttpRequest, payload: CriteriaIn):
    criteria_set = services.criteria_set_create(
        actor=request_actor(request),
        criteria=[c.model_dump() for c in payload.criteria],
        note=payload.note,
    )
    return Status(201, _criteria_out(criteria_set))


# --- waitlist and capacity ---------------------------------------------------------------


@router.get("/clinics/{code}/waitlist", response=list[WaitlistOut], summary="The waitlist")
def waitlist(request: HttpRequest, code: str):
    return [
        {
            "position": row.position,
            "referral": row.referral.pk,
            "patient": row.referral.patient_id,
            "name": row.referral.patient.full_name,
            "urgent": row.referral.urgent,
            "urgent_reason": row.referral.urgent_reason,
            "eligible_on": row.referral.eligible_on,
            "days_waiting": row.days_waiting,
            "offered_on": row.referral.offered_on,
        }
        for row in selectors.waitlist(request_actor(request), clinic_by_code(code))
    ]


@router.get("/clinics/{code}/capacity", response=CapacityOut, summary="Places used and free")
def capacity(request: HttpRequest, code: str):
    overview = selectors.capacity(request_actor(request), clinic_by_code(code))
    return {name: getattr(overview, name) for name in CapacityOut.model_fields} | {"clinic": code}


# --- episodes --------------------------------------------------------------------------


@router.post("/episodes", response={201: EpisodeOut}, summary="Admit (clinic lead)")
def episode_admit(request: HttpRequest, payload: EpisodeIn):
    episode = services.episode_admit(
        actor=request_actor(request),
        patient_id=payload.patient,
        clinic=clinic_by_code(payload.clinic),
        admitted_on=payload.admitted_on,
        coordinator=payload.coordinator,
        phase=payload.phase,
        referral_id=payload.referral,
    )
    return Status(201, episode_out(episode))


@router.get("/episodes", response=list[EpisodeOut], summary="The open episodes of a clinic")
def episode_list(request: HttpRequest, clinic: str, without_coordinator: bool = False):
    actor = request_actor(request)
    place = clinic_by_code(clinic)
    if without_coordinator:
        episodes = selectors.episodes_without_coordinator(actor, place)
    else:
        episodes = selectors.open_episodes(actor, place)
    return [episode_out(e) for e in episodes]


@router.get("/episodes/{int:episode_id}", response=EpisodeOut, summary="An episode")
def episode_get(request: HttpRequest, episode_id: int):
    return episode_out(selectors.episode_open(request_actor(request), episode_id))


@router.post("/episodes/{int:episode_id}/discharge", response=EpisodeOut, summary="Discharge")
def episode_discharge(request: HttpRequest, episode_id: int, payload: DischargeIn):
    episode = services.episode_discharge(
        actor=request_actor(request),
        episode_id=episode_id,
        ended_on=payload.ended_on,
        reason=payload.reason,
        note=payload.note,
        death_on=payload.death_on,
    )
    return episode_out(episode)


@router.post(
    "/episodes/{int:episode_id}/transfer",
    response={201: EpisodeOut},
    summary="Transfer to another HAB clinic",
)
def episode_transfer(request: HttpRequest, episode_id: int, payload: EpisodeTransferIn):
    episode = services.episode_transfer(
        actor=request_actor(request),
        episode_id=episode_id,
        to_clinic=payload.clinic,
        on=payload.on,
        note=payload.note,
    )
    return Status(201, episode_out(episode))


@router.post("/episodes/{int:episode_id}/phase", response=EpisodeOut, summary="Change phase")
def episode_phase(request: HttpRequest, episode_id: int, payload: PhaseIn):
    episode = services.episode_set_phase(
        actor=request_actor(request), episode_id=episode_id, phase=payload.phase, on=payload.on
    )
    return episode_out(episode)


@router.post(
    "/episodes/{int:episode_id}/coordinator", response=EpisodeOut, summary="Set coordinator"
)
def episode_coordinator(request: HttpRequest, episode_id: int, payload: CoordinatorIn):
    episode = services.episode_set_coordinator(
        actor=request_actor(request), episode_id=episode_id, coordinator=payload.coordinator
    )
    return episode_out(episode)


@router.get("/patients/{int:patient_id}/timeline", summary="Referrals, assessments and episodes")
def timeline(request: HttpRequest, patient_id: int):
    patient = patient_open(request_actor(request), patient_id, what="timeline")
    return [
        {"on": e.on, "kind": e.kind, "title": e.title, "detail": e.detail}
        for e in selectors.patient_timeline(patient)
    ]
