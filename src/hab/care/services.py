"""Writes of the individual plan. Each runs in one transaction: the policy check (through
``patient_for_user``, which also locks the patient so that writes to one plan and a
change of consent happen one after the other), the checks of the input, the new row and
its access-log row. Nothing is ever changed: a change is a new row that replaces one.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from hab.care import rules
from hab.care.models import (
    ActionStatus,
    CareNote,
    Goal,
    GoalStatus,
    Involvement,
    OwnerKind,
    PlanAction,
    Review,
    StatusRecord,
)
from hab.care.selectors import note_levels, relatives_consent
from hab.core import clock, policy
from hab.core.access import Actor, access_log_write
from hab.core.errors import Conflict, FieldError, Invalid
from hab.core.formats import number
from hab.core.models import AccessAction, User
from hab.core.policy import Action
from hab.intake.models import Episode
from hab.patients.models import Patient
from hab.patients.selectors import patient_for_user

TEXT_MAX = 500
NOTES_MAX = 10_000
WHAT = "care plan"


def _text(errors: list[FieldError], field: str, value: str, *, required: bool, limit: int):
    """Spaces trimmed; line breaks kept (a note or review may have paragraphs)."""
    value = "\n".join(" ".join(line.split()) for line in (value or "").strip().splitlines())
    if required and not value:
        errors.append(FieldError(field, _("This field is required.")))
    elif len(value) > limit:
        errors.append(
            FieldError(field, _("Write at most %(n)s characters.") % {"n": number(limit)})
        )
    return value


def _code(errors: list[FieldError], field: str, value: str, catalogue, message: str) -> str:
    if value not in rules.codes(catalogue):
        errors.append(FieldError(field, message))
    return value


def _not_future(errors: list[FieldError], field: str, day: datetime.date) -> None:
    if day > clock.today():
        errors.append(FieldError(field, _("The date is in the future.")))


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise Invalid(errors)


def _open_episode(patient: Patient) -> Episode:
    episode = Episode.objects.filter(patient=patient, ended_on__isnull=True).first()
    if episode is None:
        raise Conflict(_("The patient is not in treatment: the plan can only be read."))
    return episode


def _plan_patient(actor: Actor, patient_id: int, action: Action) -> tuple[Patient, Episode]:
    patient = patient_for_user(actor, patient_id, action, lock=True)
    return patient, _open_episode(patient)


def _replaced(
    errors: list[FieldError],
    model: type[models.Model],
    patient: Patient,
    replaces: int | None,
    what: str,
):
    """The row a new version replaces: of this patient, and still current."""
    if replaces is None:
        return None
    old = model.objects.filter(pk=replaces, patient=patient).first()
    if old is None:
        errors.append(FieldError("replaces", _("No such %(what)s in this plan.") % {"what": what}))
        return None
    if model.objects.filter(replaces=old).exists():
        raise Conflict(_("Someone changed this meanwhile. Open the plan again and retry."))
    return old


def _save(row):
    """Inserts the row. The patient is locked, so a second version of the same row is
    caught by ``_replaced``; should one still slip through, the one-to-one ``replaces``
    refuses it and the whole transaction rolls back."""
    try:
        row.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            _("Someone changed this meanwhile. Open the plan again and retry.")
        ) from None
    return row


def _log(actor: Actor, patient: Patient, details: dict, action: Action) -> None:
    access_log_write(
        actor=actor,
        patient=patient,
        action=AccessAction.UPDATE if details.get("replaces") else AccessAction.CREATE,
        what=WHAT,
        details=details,
        policy_action=action,
    )


def _require_relatives_consent(errors: list[FieldError], patient: Patient, field: str) -> bool:
    if relatives_consent(patient):
        return True
    errors.append(
        FieldError(
            field,
            _(
                "The patient has not consented to sharing with relatives: relatives cannot "
                "be part of the plan."
            ),
        )
    )
    return False


def _care_staff(username: str, clinic_id: int) -> User | None:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not (policy.roles_at(user, clinic_id) & policy.CARE_ROLES):
        return None
    return user


# --- goals and actions ------------------------------------------------------------------


def goal_record(
    *,
    actor: Actor,
    patient_id: int,
    domain: str,
    text: str,
    status: str = GoalStatus.ACTIVE,
    replaces: int | None = None,
) -> Goal:
    """A goal in the patient's own words, or a new version of one (``replaces``)."""
    errors: list[FieldError] = []
    _code(errors, "domain", domain, rules.DOMAINS, _("Choose the domain of life."))
    text = _text(errors, "text", text, required=True, limit=TEXT_MAX)
    if status not in GoalStatus.values:
        errors.append(FieldError("status", _("Choose working on it, achieved or dropped.")))
    with transaction.atomic():
        patient, episode = _plan_patient(actor, patient_id, Action.CARE_EDIT)
        old = _replaced(errors, Goal, patient, replaces, _("goal"))
        if old is not None and old.domain != domain:
            errors.append(
                FieldError("domain", _("A goal keeps its domain; write a new goal instead."))
            )
        _raise_if(errors)
        goal = _save(
            Goal(
                patient=patient,
                episode=episode,
                domain=domain,
                text=text,
                status=status,
                replaces=old,
                at=clock.now(),
                by=actor.user,
            )
        )
        _log(
            actor,
            patient,
            {"goal": goal.pk, "domain": domain, "status": status, "replaces": replaces},
            Action.CARE_EDIT,
        )
    return goal


def action_record(
    *,
    actor: Actor,
    patient_id: int,
    domain: str,
    text: str,
    owner: str,
    due_on: datetime.date | None = None,
    status: str = ActionStatus.OPEN,
    replaces: int | None = None,
) -> PlanAction:
    """An agreed action: ``owner`` is a staff member's username, ``patient`` or
    ``relative`` (the last only with the patient's consent to sharing with relatives)."""
    errors: list[FieldError] = []
    _code(errors, "domain", domain, rules.DOMAINS, _("Choose the domain of life."))
    text = _text(errors, "text", text, required=True, limit=TEXT_MAX)
    if status not in ActionStatus.values:
        errors.append(FieldError("status", _("Choose open, done or dropped.")))
    owner = (owner or "").strip()
    with transaction.atomic():
        patient, episode = _plan_patient(actor, patient_id, Action.CARE_EDIT)
        owner_kind, owner_user = OwnerKind.STAFF, None
        if owner == OwnerKind.PATIENT:
            owner_kind = OwnerKind.PATIENT
        elif owner == OwnerKind.RELATIVE:
            owner_kind = OwnerKind.RELATIVE
            _require_relatives_consent(errors, patient, "owner")
        elif not owner:
            errors.append(FieldError("owner", _("Choose who is responsible.")))
        else:
            owner_user = _care_staff(owner, patient.clinic_id)
            if owner_user is None:
                errors.append(
                    FieldError(
                        "owner",
                        _(
                            "The person responsible must be the patient, a relative or "
                            "clinical staff at the clinic."
                        ),
                    )
                )
        old = _replaced(errors, PlanAction, patient, replaces, _("action"))
        if old is not None and old.domain != domain:
            errors.append(
                FieldError("domain", _("An action keeps its domain; write a new one instead."))
            )
        _raise_if(errors)
        row = _save(
            PlanAction(
                patient=patient,
                episode=episode,
                domain=domain,
                text=text,
                owner_kind=owner_kind,
                owner_user=owner_user,
                due_on=due_on,
                status=status,
                replaces=old,
                at=clock.now(),
                by=actor.user,
            )
        )
        _log(
            actor,
            patient,
            {"action": row.pk, "domain": domain, "status": status, "replaces": replaces},
            Action.CARE_EDIT,
        )
    return row


# --- reviews and status -----------------------------------------------------------------


def review_record(
    *,
    actor: Actor,
    patient_id: int,
    held_on: datetime.date,
    patient_attended: bool = True,
    staff: Iterable[str] = (),
    others: str = "",
    relatives: Iterable[int] = (),
    notes: str = "",
    next_on: datetime.date | None = None,
    replaces: int | None = None,
) -> Review:
    """A review held: who took part, what was agreed and when the next one is (three
    months later unless another date is agreed)."""
    errors: list[FieldError] = []
    _not_future(errors, "held_on", held_on)
    next_on = next_on or rules.default_next_review(held_on)
    if next_on <= held_on:
        errors.append(FieldError("next_on", _("The next review must come after this one.")))
    others = _text(errors, "others", others, required=False, limit=300)
    notes = _text(errors, "notes", notes, required=False, limit=NOTES_MAX)
    usernames = list(dict.fromkeys(s.strip() for s in staff if s and s.strip()))
    relative_ids = list(dict.fromkeys(int(r) for r in relatives))
    with transaction.atomic():
        patient, episode = _plan_patient(actor, patient_id, Action.CARE_EDIT)
        unknown = [u for u in usernames if _care_staff(u, patient.clinic_id) is None]
        if unknown:
            errors.append(
                FieldError(
                    "staff",
                    _("Not clinical staff at the clinic: %(names)s.")
                    % {"names": ", ".join(unknown)},
                )
            )
        if relative_ids and _require_relatives_consent(errors, patient, "relatives"):
            known = set(
                patient.relatives.filter(pk__in=relative_ids, removed_at__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            if set(relative_ids) - known:
                errors.append(FieldError("relatives", _("Choose among the patient's relatives.")))
        if not (patient_attended or usernames or others or relative_ids):
            errors.append(FieldError("staff", _("Record who took part in the review.")))
        old = _replaced(errors, Review, patient, replaces, _("review"))
        _raise_if(errors)
        review = _save(
            Review(
                patient=patient,
                episode=episode,
                held_on=held_on,
                patient_attended=patient_attended,
                staff_attended=usernames,
                others_attended=others,
                relatives_attended=relative_ids,
                notes=notes,
                next_on=next_on,
                replaces=old,
                at=clock.now(),
                by=actor.user,
            )
        )
        _log(
            actor,
            patient,
            {"review": review.pk, "held_on": str(held_on), "replaces": replaces},
            Action.CARE_EDIT,
        )
    return review


def status_record(
    *,
    actor: Actor,
    patient_id: int,
    housing: str,
    activity: str,
    on: datetime.date | None = None,
    note: str = "",
    replaces: int | None = None,
) -> StatusRecord:
    """Where the patient lives and what fills their day, as of ``on`` (today)."""
    errors: list[FieldError] = []
    on = on or clock.today()
    _not_future(errors, "on", on)
    _code(errors, "housing", housing, rules.HOUSING, _("Choose the housing situation."))
    _code(errors, "activity", activity, rules.ACTIVITY, _("Choose the daily activity."))
    note = _text(errors, "note", note, required=False, limit=TEXT_MAX)
    with transaction.atomic():
        patient, episode = _plan_patient(actor, patient_id, Action.CARE_EDIT)
        old = _replaced(errors, StatusRecord, patient, replaces, _("status record"))
        _raise_if(errors)
        row = _save(
            StatusRecord(
                patient=patient,
                episode=episode,
                on=on,
                housing=housing,
                activity=activity,
                note=note,
                replaces=old,
                at=clock.now(),
                by=actor.user,
            )
        )
        _log(
            actor,
            patient,
            {"status": row.pk, "housing": housing, "activity": activity, "replaces": replaces},
            Action.CARE_EDIT,
        )
    return row


# --- notes and relatives ----------------------------------------------------------------


def note_write(
    *,
    actor: Actor,
    patient_id: int,
    text: str,
    visibility: str = rules.Visibility.TEAM,
    replaces: int | None = None,
) -> CareNote:
    """A note at a visibility level the author can read; a correction (``replaces``) is
    the author's own, at the same level."""
    errors: list[FieldError] = []
    text = _text(errors, "text", text, required=True, limit=NOTES_MAX)
    with transaction.atomic():
        patient, episode = _plan_patient(actor, patient_id, Action.CARE_NOTE_WRITE)
        levels = note_levels(actor.user, patient.clinic_id)
        if visibility not in {level.value for level in rules.Visibility}:
            errors.append(FieldError("visibility", _("Choose who may read the note.")))
        elif not rules.may_choose(visibility, levels):
            errors.append(
                FieldError(
                    "visibility", _("You can only write notes at a level you can read yourself.")
                )
            )
        old = None
        if replaces is not None:
            # Only notes the author can read are looked at: others are "no such note".
            old = CareNote.objects.filter(
                pk=replaces, patient=patient, visibility__in=list(levels)
            ).first()
            if old is None:
                errors.append(FieldError("replaces", _("No such note in this plan.")))
            elif old.by_id != actor.user.pk:
                errors.append(FieldError("replaces", _("Only the author can correct a note.")))
            elif old.visibility != visibility:
                errors.append(
                    FieldError("visibility", _("A correction keeps the note's visibility."))
                )
            elif CareNote.objects.filter(replaces=old).exists():
                raise Conflict(_("Someone changed this meanwhile. Open the plan again and retry."))
        _raise_if(errors)
        note = _save(
            CareNote(
                patient=patient,
                episode=episode,
                visibility=visibility,
                text=text,
                roles=",".join(sorted(policy.roles_at(actor.user, patient.clinic_id))),
                replaces=old,
                at=clock.now(),
                by=actor.user,
            )
        )
        _log(
            actor,
            patient,
            {"note": note.pk, "visibility": visibility, "replaces": replaces},
            Action.CARE_NOTE_WRITE,
        )
    return note


def involvement_record(
    *,
    actor: Actor,
    patient_id: int,
    relative_id: int,
    kind: str,
    note: str = "",
    active: bool = True,
    replaces: int | None = None,
) -> Involvement:
    """A relative's part in the plan (e.g. invited to the responsibility group). Refused
    without the patient's current consent to sharing with relatives."""
    errors: list[FieldError] = []
    _code(errors, "kind", kind, rules.INVOLVEMENT, _("Choose how the relative takes part."))
    note = _text(errors, "note", note, required=False, limit=TEXT_MAX)
    with transaction.atomic():
        patient, episode = _plan_patient(actor, patient_id, Action.CARE_EDIT)
        relative = None
        if _require_relatives_consent(errors, patient, "relative"):
            relative = patient.relatives.filter(pk=relative_id, removed_at__isnull=True).first()
            if relative is None:
                errors.append(FieldError("relative", _("Choose among the patient's relatives.")))
        old = _replaced(errors, Involvement, patient, replaces, _("involvement"))
        if old is not None and relative is not None and old.relative_id != relative.pk:
            errors.append(FieldError("relative", _("A change concerns the same relative.")))
        _raise_if(errors)
        row = _save(
            Involvement(
                patient=patient,
                episode=episode,
                relative=relative,
                kind=kind,
                note=note,
                active=active,
                replaces=old,
                at=clock.now(),
                by=actor.user,
            )
        )
        _log(
            actor,
            patient,
            {"involvement": row.pk, "kind": kind, "active": active, "replaces": replaces},
            Action.CARE_EDIT,
        )
    return row
