"""Reads of the follow-up: courses of treatment, the due/overdue/missed lists of a clinic
or a coordinator, one patient's time points, responses, and research consent."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Subquery

from hab.intake.models import Episode
from hab.patients.models import Consent, ConsentKind
from hab.research import rules
from hab.research.models import FollowUp, Response
from hab.research.rules import State

# "Upcoming" lists the windows that open within this many days.
UPCOMING_DAYS = 90
STATES = [s.value for s in (State.DUE, State.OVERDUE, State.MISSED, State.UPCOMING, State.DONE)]


@dataclass(frozen=True)
class Course:
    """A course of treatment: the first episode and the transfers that continued it.
    Where and with whom it is now are the latest episode's."""

    root_id: int
    patient_id: int
    admitted_on: datetime.date
    clinic_id: int
    coordinator_id: int | None
    ended_on: datetime.date | None
    end_reason: str


def _build(episodes: list[dict]) -> dict[int, Course]:
    by_id = {e["id"]: e for e in episodes}
    following = {e["previous_id"]: e for e in episodes if e["previous_id"]}
    found: dict[int, Course] = {}
    for episode in episodes:
        if episode["previous_id"] and episode["previous_id"] in by_id:
            continue  # not the first of its course
        last = episode
        while last["id"] in following:
            last = following[last["id"]]
        found[episode["id"]] = Course(
            root_id=episode["id"],
            patient_id=episode["patient_id"],
            admitted_on=episode["admitted_on"],
            clinic_id=last["clinic_id"],
            coordinator_id=last["coordinator_id"],
            ended_on=last["ended_on"],
            end_reason=last["end_reason"],
        )
    return found


_FIELDS = (
    "id",
    "previous_id",
    "patient_id",
    "clinic_id",
    "coordinator_id",
    "admitted_on",
    "ended_on",
    "end_reason",
)


def courses(
    *, patient_ids: Iterable[int] | None = None, clinic_id: int | None = None
) -> dict[int, Course]:
    """Courses by their first episode's id: of these patients, or those whose latest
    episode is at this clinic (a patient transferred here is followed up here)."""
    episodes = Episode.objects.all()
    if clinic_id is not None:
        here = Episode.objects.filter(clinic_id=clinic_id).values("patient_id")
        episodes = episodes.filter(patient_id__in=here)
    if patient_ids is not None:
        episodes = episodes.filter(patient_id__in=list(patient_ids))
    found = _build(list(episodes.values(*_FIELDS)))
    if clinic_id is not None:
        found = {k: c for k, c in found.items() if c.clinic_id == clinic_id}
    return found


def course_of(episode_id: int) -> Course | None:
    """The course an episode belongs to (following ``previous`` back to the first)."""
    patient_ids = Episode.objects.filter(pk=episode_id).values("patient_id")
    episodes = list(Episode.objects.filter(patient_id__in=patient_ids).values(*_FIELDS))
    by_id = {e["id"]: e for e in episodes}
    if episode_id not in by_id:
        return None
    root = by_id[episode_id]
    while root["previous_id"] in by_id:
        root = by_id[root["previous_id"]]
    return _build(episodes)[root["id"]]


def slot_of(follow_up: FollowUp) -> rules.Slot:
    months = dict(rules.TIMEPOINTS)[follow_up.timepoint]
    return rules.Slot(
        follow_up.timepoint,
        months,
        follow_up.due_on,
        follow_up.window_from,
        follow_up.window_to,
    )


@dataclass
class Row:
    follow_up: FollowUp
    course: Course
    state: State
    missed_reason: str
    response_id: int | None
    answered_on: datetime.date | None

    @property
    def patient(self):
        return self.follow_up.patient


def _rows(follow_ups, found: dict[int, Course], today: datetime.date) -> list[Row]:
    current = Response.objects.filter(follow_up=OuterRef("pk"), corrected_by__isnull=True).order_by(
        "-recorded_at", "-id"
    )
    follow_ups = follow_ups.select_related("patient", "missed").annotate(
        answered=Exists(Response.objects.filter(follow_up=OuterRef("pk"))),
        response_id=Subquery(current.values("pk")[:1]),
        answered_on=Subquery(current.values("answered_on")[:1]),
    )
    rows = []
    for follow_up in follow_ups:
        course = found[follow_up.episode_id]
        slot = slot_of(follow_up)
        recorded = getattr(follow_up, "missed", None)
        reason = (
            recorded.reason
            if recorded
            else rules.missed_reason(slot, today, course.ended_on, answered=follow_up.answered)
        )
        state = rules.state(slot, today, answered=follow_up.answered, missed=bool(reason))
        rows.append(
            Row(
                follow_up=follow_up,
                course=course,
                state=state,
                missed_reason=reason if state == State.MISSED else "",
                response_id=follow_up.response_id,
                answered_on=follow_up.answered_on,
            )
        )
    return rows


def _in_list(row: Row, state: str, today: datetime.date) -> bool:
    if row.state != state:
        return False
    if state == State.UPCOMING:
        return row.follow_up.window_from <= today + datetime.timedelta(days=UPCOMING_DAYS)
    if state == State.MISSED:
        # Time points after an ended course are recorded at once; listed when due.
        return row.follow_up.due_on <= today
    return True


_ORDER = {
    State.DUE: lambda r: (r.follow_up.due_on, r.follow_up.pk),
    State.OVERDUE: lambda r: (r.follow_up.window_to, r.follow_up.pk),
    State.UPCOMING: lambda r: (r.follow_up.window_from, r.follow_up.pk),
    State.MISSED: lambda r: (-r.follow_up.due_on.toordinal(), -r.follow_up.pk),
    State.DONE: lambda r: (-(r.answered_on or r.follow_up.due_on).toordinal(), -r.follow_up.pk),
}


@dataclass
class ClinicList:
    rows: list[Row]
    counts: dict[str, int]


def clinic_follow_ups(
    clinic_id: int,
    *,
    state: str,
    today: datetime.date,
    coordinator_id: int | None = None,
    limit: int = 500,
) -> ClinicList:
    """The clinic's follow-ups in one state (and how many there are in each), for the
    courses followed up here, or only those of one coordinator."""
    found = courses(clinic_id=clinic_id)
    if coordinator_id is not None:
        found = {k: c for k, c in found.items() if c.coordinator_id == coordinator_id}
    rows = _rows(FollowUp.objects.filter(episode_id__in=list(found)), found, today)
    counts = {s: sum(1 for r in rows if _in_list(r, s, today)) for s in STATES}
    chosen = sorted((r for r in rows if _in_list(r, state, today)), key=_ORDER[State(state)])
    return ClinicList(rows=chosen[:limit], counts=counts)


def patient_follow_ups(patient_id: int, *, today: datetime.date) -> list[Row]:
    """All time points of all the patient's courses, the latest course first."""
    found = courses(patient_ids=[patient_id])
    rows = _rows(FollowUp.objects.filter(episode_id__in=list(found)), found, today)
    return sorted(
        rows,
        key=lambda r: (-r.course.admitted_on.toordinal(), r.follow_up.due_on),
    )


def follow_up(follow_up_id: int) -> FollowUp | None:
    return FollowUp.objects.select_related("patient", "episode").filter(pk=follow_up_id).first()


def responses_of(follow_up_id: int) -> list[Response]:
    """Every response recorded for the time point, newest first (corrections included)."""
    return list(
        Response.objects.filter(follow_up_id=follow_up_id)
        .select_related("instrument", "recorded_by", "corrects")
        .order_by("-recorded_at", "-id")
    )


def current_response(follow_up_id: int, instrument_code: str) -> Response | None:
    """The response that counts: the newest one not corrected by another."""
    return (
        Response.objects.filter(
            follow_up_id=follow_up_id,
            instrument__code=instrument_code,
            corrected_by__isnull=True,
        )
        .order_by("-recorded_at", "-id")
        .first()
    )


def response(response_id: int) -> Response | None:
    return (
        Response.objects.select_related(
            "follow_up", "follow_up__patient", "instrument", "recorded_by", "corrects"
        )
        .prefetch_related("answers")
        .filter(pk=response_id)
        .first()
    )


def research_consented(patient_ids: Iterable[int]) -> set[int]:
    """The patients whose latest research consent is given (a withdrawal removes them)."""
    latest: dict[int, bool] = {}
    rows = (
        Consent.objects.filter(kind=ConsentKind.RESEARCH, patient_id__in=list(patient_ids))
        .order_by("at", "id")
        .values_list("patient_id", "given")
    )
    for patient_id, given in rows:
        latest[patient_id] = given
    return {patient_id for patient_id, given in latest.items() if given}
