"""Writes of the follow-up: the schedule of a course of treatment, the sweep that records
missed time points, and interview responses (append-only; a correction is a new response).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from hab.core import clock
from hab.core.access import Actor, access_log_write
from hab.core.errors import Conflict, Invalid, NotFound
from hab.core.models import AccessAction
from hab.core.policy import Action
from hab.patients.selectors import patient_for_user
from hab.research import instruments, rules, selectors
from hab.research.models import Answer, FollowUp, ItemType, Missed, Response
from hab.research.selectors import Course

REASON_MAX = 500


def _rows_for(course: Course) -> list[FollowUp]:
    return [
        FollowUp(
            episode_id=course.root_id,
            patient_id=course.patient_id,
            timepoint=slot.timepoint,
            due_on=slot.due_on,
            window_from=slot.window_from,
            window_to=slot.window_to,
        )
        for slot in rules.schedule(course.admitted_on)
    ]


def follow_ups_ensure(found: Iterable[Course]) -> int:
    """Makes the time points of these courses that are not there yet (idempotent: run it
    as often as you like). Returns how many were made."""
    found = list(found)
    if not found:
        return 0
    have = set(
        FollowUp.objects.filter(episode_id__in=[c.root_id for c in found]).values_list(
            "episode_id", "timepoint"
        )
    )
    new = [
        row
        for course in found
        for row in _rows_for(course)
        if (row.episode_id, row.timepoint) not in have
    ]
    # ignore_conflicts: two requests scheduling the same course at once make it once.
    FollowUp.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)


def follow_ups_schedule(*, episode_id: int) -> int:
    """The schedule of the course this episode belongs to (at admission, or later)."""
    course = selectors.course_of(episode_id)
    return follow_ups_ensure([course]) if course else 0


def missed_sweep(
    *, today: datetime.date | None = None, found: dict[int, Course] | None = None
) -> int:
    """Records as missed every unanswered time point whose window has closed, and those
    whose window opens after the course ended. Idempotent; returns how many it recorded."""
    today = today or clock.today()
    found = selectors.courses() if found is None else found
    if not found:
        return 0
    answered = Response.objects.filter(follow_up=OuterRef("pk"))
    candidates = FollowUp.objects.filter(episode_id__in=list(found), missed__isnull=True).exclude(
        Exists(answered)
    )
    now = clock.now()
    new = []
    for follow_up in candidates:
        course = found[follow_up.episode_id]
        reason = rules.missed_reason(
            selectors.slot_of(follow_up), today, course.ended_on, answered=False
        )
        if reason:
            new.append(Missed(follow_up=follow_up, recorded_at=now, reason=reason))
    # A response recorded meanwhile holds its follow-up's row lock; the one-to-one key
    # keeps a second sweep from recording a time point twice.
    Missed.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    return len(new)


def clinic_refresh(clinic_id: int, *, today: datetime.date | None = None) -> None:
    """Before a clinic's lists are read: the schedules made and the sweep run."""
    found = selectors.courses(clinic_id=clinic_id)
    follow_ups_ensure(found.values())
    missed_sweep(today=today, found=found)


def patient_refresh(patient_id: int, *, today: datetime.date | None = None) -> None:
    found = selectors.courses(patient_ids=[patient_id])
    follow_ups_ensure(found.values())
    missed_sweep(today=today, found=found)


@dataclass
class Recorded:
    response: Response
    warnings: list[str] = field(default_factory=list)


def response_record(
    *,
    actor: Actor,
    follow_up_id: int,
    instrument: str,
    answered_on: datetime.date | None,
    answers: dict,
    corrects: int | None = None,
    correction_reason: str = "",
) -> Recorded:
    """Records an interview's answers for a time point. Every answer is checked against
    its item; nothing is written unless all are valid. A second response for the same
    time point and instrument must say which response it corrects, and why."""
    found = selectors.follow_up(follow_up_id)
    if found is None:
        raise NotFound(_("No such follow-up."))
    patient = patient_for_user(actor, found.patient_id, Action.FOLLOWUP_RECORD)
    form = instruments.instrument_by_code(instrument or "")
    problems: list[tuple[str, str]] = []
    if form is None:
        problems.append(("instrument", _("No such instrument in use.")))
    today = clock.today()
    if answered_on is None:
        problems.append(("answered_on", _("Enter the date of the interview.")))
    elif answered_on > today:
        problems.append(("answered_on", _("The interview date cannot be in the future.")))
    elif answered_on < found.window_from:
        problems.append(
            (
                "answered_on",
                _("Before the window opened (%(day)s): that is not this time point.")
                % {"day": found.window_from.strftime("%d.%m.%Y")},
            )
        )
    elif answered_on > found.window_to:
        problems.append(
            (
                "answered_on",
                _("After the window closed (%(day)s): that is not this time point.")
                % {"day": found.window_to.strftime("%d.%m.%Y")},
            )
        )
    reason = (correction_reason or "").strip()
    if corrects and not reason:
        problems.append(("correction_reason", _("Say why the answers are corrected.")))
    elif len(reason) > REASON_MAX:
        problems.append(("correction_reason", _("At most 500 characters.")))
    checked = instruments.check_answers(form, answers) if form else None
    if checked:
        problems += checked.errors
    if problems:
        raise Invalid.from_pairs(problems)

    warnings = []
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=found.pk)
        current = selectors.current_response(locked.pk, form.code)
        if corrects:
            if current is None:
                raise Conflict(_("There is no response to correct."))
            if current.pk != corrects:
                raise Conflict(
                    _("Only the response in force can be corrected: response %(id)s.")
                    % {"id": current.pk}
                )
        else:
            if current is not None:
                raise Conflict(
                    _(
                        "This time point already has a response (%(id)s). "
                        "Record a correction of it instead."
                    )
                    % {"id": current.pk}
                )
            course = selectors.course_of(locked.episode_id)
            if course and rules.not_reached(selectors.slot_of(locked), course.ended_on):
                raise Conflict(
                    _("The treatment ended on %(day)s, before this time point.")
                    % {"day": course.ended_on.strftime("%d.%m.%Y")}
                )
            if Missed.objects.filter(follow_up=locked).exists() or today > locked.window_to:
                raise Conflict(
                    _("The window closed on %(day)s: the follow-up is recorded as missed.")
                    % {"day": locked.window_to.strftime("%d.%m.%Y")}
                )
            if today < locked.window_from:
                raise Conflict(
                    _("The window opens on %(day)s.")
                    % {"day": locked.window_from.strftime("%d.%m.%Y")}
                )
            if answered_on > locked.due_on:
                warnings.append(
                    _("Answered %(n)s days after the due date (the window closes %(day)s).")
                    % {
                        "n": (answered_on - locked.due_on).days,
                        "day": locked.window_to.strftime("%d.%m.%Y"),
                    }
                )
        made = Response.objects.create(
            follow_up=locked,
            instrument=form,
            answered_on=answered_on,
            recorded_at=clock.now(),
            recorded_by=actor.user,
            corrects_id=corrects or None,
            correction_reason=reason if corrects else "",
        )
        Answer.objects.bulk_create(_answers(made, form, checked.values))
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE if not corrects else AccessAction.UPDATE,
            what="follow-up response",
            details={
                "follow_up": locked.pk,
                "timepoint": locked.timepoint,
                "response": made.pk,
                "corrects": corrects,
            },
            policy_action=Action.FOLLOWUP_RECORD,
        )
    return Recorded(response=made, warnings=warnings)


def _answers(response: Response, form, values: dict) -> list[Answer]:
    rows = []
    for item in form.items.all():
        value = values.get(item.code)
        if value is None or value == "":
            continue
        answer = Answer(response=response, item=item)
        if item.type == ItemType.DATE:
            answer.value_date = value
        elif item.type == ItemType.TEXT:
            answer.value_text = value
        else:
            answer.value_int = value
        rows.append(answer)
    return rows
