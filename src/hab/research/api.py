"""The follow-up in the API: a clinic's due, overdue and missed lists, one patient's time
points, the instruments in use, and recording an interview's answers."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from hab.core import clock
from hab.core.access import access_log_listed
from hab.core.api import clinic_by_code, request_actor
from hab.core.api_contract import Input
from hab.core.errors import Invalid, NotFound
from hab.core.models import User
from hab.core.policy import Action, clinic_for_action
from hab.patients.selectors import patient_open
from hab.research import instruments, selectors, services
from hab.research.models import Instrument

router = Router(tags=["research"])


class FollowUpOut(Schema):
    id: int
    patient: int
    patient_name: str
    episode: int
    timepoint: str
    due_on: datetime.date
    window_from: datetime.date
    window_to: datetime.date
    state: str
    missed_reason: str
    coordinator: str | None
    response: int | None
    answered_on: datetime.date | None


class OptionOut(Schema):
    code: int
    label_nb: str
    label_en: str


class ItemOut(Schema):
    code: str
    order: int
    type: str
    text_nb: str
    text_en: str
    min_value: int | None
    max_value: int | None
    required: bool
    domain: str
    options: list[OptionOut]


class InstrumentOut(Schema):
    code: str
    version: int
    name_nb: str
    name_en: str
    items: list[ItemOut]


class ResponseIn(Input):
    instrument: str
    answered_on: datetime.date | None = None
    answers: dict = {}
    corrects: int | None = None
    correction_reason: str = ""


class ResponseOut(Schema):
    id: int
    follow_up: int
    instrument: str
    version: int
    answered_on: datetime.date
    recorded_at: datetime.datetime
    recorded_by: str
    corrects: int | None
    correction_reason: str
    answers: dict
    warnings: list[str] = []


class ListFilter(Schema):
    state: str = "due"
    coordinator: str = ""


def _usernames(rows) -> dict[int, str]:
    ids = {r.course.coordinator_id for r in rows if r.course.coordinator_id}
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))


def _row_out(row, names: dict[int, str]) -> dict:
    f = row.follow_up
    return {
        "id": f.pk,
        "patient": f.patient_id,
        "patient_name": f.patient.full_name,
        "episode": f.episode_id,
        "timepoint": f.timepoint,
        "due_on": f.due_on,
        "window_from": f.window_from,
        "window_to": f.window_to,
        "state": row.state.value,
        "missed_reason": row.missed_reason,
        "coordinator": names.get(row.course.coordinator_id),
        "response": row.response_id,
        "answered_on": row.answered_on,
    }


def instrument_out(instrument: Instrument) -> dict:
    return {
        "code": instrument.code,
        "version": instrument.version,
        "name_nb": instrument.name_nb,
        "name_en": instrument.name_en,
        "items": [
            {
                "code": item.code,
                "order": item.order,
                "type": item.type,
                "text_nb": item.text_nb,
                "text_en": item.text_en,
                "min_value": item.min_value,
                "max_value": item.max_value,
                "required": item.required,
                "domain": item.domain,
                "options": [
                    {"code": o.code, "label_nb": o.label_nb, "label_en": o.label_en}
                    for o in item.options.all()
                ],
            }
            for item in instrument.items.all()
        ],
    }


def response_out(response, warnings: list[str] | None = None) -> dict:
    form = instruments.instrument_by_id(response.instrument_id)
    stored = {a.item_id: a for a in response.answers.all()}
    return {
        "id": response.pk,
        "follow_up": response.follow_up_id,
        "instrument": form.code,
        "version": form.version,
        "answered_on": response.answered_on,
        "recorded_at": response.recorded_at,
        "recorded_by": response.recorded_by.username,
        "corrects": response.corrects_id,
        "correction_reason": response.correction_reason,
        "answers": {
            item.code: _json(instruments.answer_value(item, stored.get(item.pk)))
            for item in form.items.all()
        },
        "warnings": warnings or [],
    }


def _json(value):
    return value.isoformat() if isinstance(value, datetime.date) else value


@router.get(
    "/clinics/{code}/follow-ups",
    response=list[FollowUpOut],
    summary="A clinic's follow-ups: due, overdue, missed, upcoming or done",
)
def clinic_list(request: HttpRequest, code: str, filters: Query[ListFilter]):
    clinic = clinic_for_action(request.user, clinic_by_code(code), Action.FOLLOWUP_VIEW)
    if filters.state not in selectors.STATES:
        raise Invalid.one("state", _("Choose due, overdue, missed, upcoming or done."))
    coordinator_id = None
    if filters.coordinator:
        coordinator_id = (
            User.objects.filter(username=filters.coordinator).values_list("pk", flat=True).first()
        )
        if coordinator_id is None:
            raise Invalid.one("coordinator", _("No such staff member."))
    today = clock.today()
    services.clinic_refresh(clinic.pk, today=today)
    rows = selectors.clinic_follow_ups(
        clinic.pk, state=filters.state, today=today, coordinator_id=coordinator_id
    ).rows
    if rows:
        access_log_listed(
            actor=request_actor(request),
            patients=[r.patient for r in rows],
            details={"list": f"follow-ups {filters.state}"},
            clinic_id=clinic.pk,
        )
    names = _usernames(rows)
    return [_row_out(r, names) for r in rows]


@router.get(
    "/patients/{patient_id}/follow-ups",
    response=list[FollowUpOut],
    summary="A patient's follow-up time points",
)
def patient_list(request: HttpRequest, patient_id: int):
    actor = request_actor(request)
    patient = patient_open(actor, patient_id, Action.FOLLOWUP_VIEW, what="follow-ups")
    today = clock.today()
    services.patient_refresh(patient.pk, today=today)
    rows = selectors.patient_follow_ups(patient.pk, today=today)
    names = _usernames(rows)
    return [_row_out(r, names) for r in rows]


@router.get(
    "/research/instruments",
    response=list[InstrumentOut],
    summary="The instruments in use, with their items and coded options (bokmål, English)",
)
def instrument_list(request: HttpRequest):
    return [instrument_out(i) for i in instruments.active_instruments()]


@router.post(
    "/follow-ups/{follow_up_id}/responses",
    response={201: ResponseOut},
    summary="Record an interview's answers (or a correction of them)",
)
def response_create(request: HttpRequest, follow_up_id: int, payload: ResponseIn):
    recorded = services.response_record(
        actor=request_actor(request),
        follow_up_id=follow_up_id,
        instrument=payload.instrument,
        answered_on=payload.answered_on,
        answers=payload.answers,
        corrects=payload.corrects,
        correction_reason=payload.correction_reason,
    )
    made = selectors.response(recorded.response.pk)
    return Status(201, response_out(made, recorded.warnings))


@router.get(
    "/follow-ups/{follow_up_id}/responses",
    response=list[ResponseOut],
    summary="Every response recorded for a time point, newest first (corrections included)",
)
def response_list(request: HttpRequest, follow_up_id: int):
    found = selectors.follow_up(follow_up_id)
    if found is None:
        raise NotFound(_("No such follow-up."))
    actor = request_actor(request)
    patient_open(
        actor,
        found.patient_id,
        Action.FOLLOWUP_VIEW,
        what="follow-up responses",
        details={"follow_up": found.pk},
    )
    return [response_out(selectors.response(r.pk)) for r in selectors.responses_of(found.pk)]
