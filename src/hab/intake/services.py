"""Writes of intake: referral, assessment, waitlist, admission, transfer and discharge.

Each runs in one transaction that checks the policy, applies the rules in ``rules.py``,
writes an event row and the access-log row.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.access import Actor, access_log_write
from hab.core.errors import Conflict, FieldError, Invalid, NotFound
from hab.core.models import AccessAction, Clinic, User
from hab.core.name_fields import clean_person_name
from hab.core.policy import Action, clinic_for_action
from hab.intake import rules, seams
from hab.intake.models import (
    CriteriaSet,
    Criterion,
    EligibilityAssessment,
    EndReason,
    Episode,
    EpisodeEvent,
    Phase,
    Referral,
    ReferralEvent,
    ReferralSource,
    ReferralStatus,
)
from hab.intake.selectors import active_criteria_set, episode_for_user, referral_for_user
from hab.patients import services as patient_services
from hab.patients.models import Patient
from hab.patients.selectors import patient_for_user

STATUS_WORDS = dict(ReferralStatus.choices)


def _today() -> datetime.date:
    return clock.today()


def _check_date(
    errors: list[FieldError],
    field: str,
    value: datetime.date | None,
    *,
    not_before: datetime.date | None = None,
    not_before_text: str = "",
) -> datetime.date:
    value = value or _today()
    if value > _today():
        errors.append(FieldError(field, _("The date is in the future.")))
    elif not_before and value < not_before:
        errors.append(FieldError(field, not_before_text))
    return value


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise Invalid(errors)


def _event(referral: Referral, actor: Actor, kind: str, old: str, new: str, note: str = ""):
    ReferralEvent.objects.create(
        referral=referral,
        at=clock.now(),
        by=actor.user,
        kind=kind,
        from_status=old,
        to_status=new,
        note=note,
    )


def _move(referral: Referral, target: ReferralStatus) -> str:
    current = rules.Status(referral.status)
    if not rules.can_move(current, rules.Status(target)):
        raise Conflict(
            _("A referral that is “%(current)s” cannot become “%(target)s”.")
            % {"current": STATUS_WORDS[current], "target": STATUS_WORDS[target]}
        )
    referral.status = target
    return current


def _log(actor: Actor, patient: Patient, what: str, details: dict, action: Action) -> None:
    access_log_write(
        actor=actor,
        patient=patient,
        action=AccessAction.CREATE if details.get("created") else AccessAction.UPDATE,
        what=what,
        details=details,
        policy_action=action,
    )


def _open_episode(patient: Patient) -> Episode | None:
    return patient.episodes.select_related("clinic").filter(ended_on__isnull=True).first()


# --- referrals -------------------------------------------------------------------------


def referral_create(
    *,
    actor: Actor,
    clinic: Clinic,
    source: str,
    referring_organisation: str,
    received_on: datetime.date | None = None,
    referring_contact: str = "",
    documents: str = "",
    note: str = "",
    patient_id: int | None = None,
    new_patient: dict | None = None,
) -> Referral:
    """Registers a referral, and the person too when they are not yet in HAB."""
    clinic_for_action(actor.user, clinic, Action.REFERRAL_CREATE)
    errors: list[FieldError] = []
    if source not in ReferralSource.values:
        errors.append(FieldError("source", _("Choose where the referral comes from.")))
    referring_organisation = " ".join((referring_organisation or "").split())
    if not referring_organisation:
        errors.append(FieldError("referring_organisation", _("This field is required.")))
    received_on = _check_date(errors, "received_on", received_on)
    referring_contact = clean_person_name(
        errors, "referring_contact", referring_contact, max_length=200, required=False
    )
    if (patient_id is None) == (new_patient is None):
        errors.append(
            FieldError("patient", _("Choose a registered patient or register the person."))
        )
    _raise_if(errors)

    if new_patient is not None:
        # Before the transaction: a match at another clinic is logged though refused.
        patient_services.registration_check(
            actor=actor,
            clinic=clinic,
            national_id_value=_national_id(new_patient),
            via="referral",
        )
    with transaction.atomic():
        if patient_id is not None:
            patient = patient_for_user(actor, patient_id, Action.REFERRAL_CREATE, lock=True)
            if patient.clinic_id != clinic.pk:
                raise Conflict(_("The patient is registered at another clinic."))
        else:
            patient = _patient_for_referral(actor, clinic, new_patient)
        episode = _open_episode(patient)
        if episode is not None:
            raise Conflict(
                _("The patient is already in treatment at %(clinic)s.")
                % {"clinic": episode.clinic.name}
            )
        in_progress = patient.referrals.filter(status__in=rules.OPEN_STATUSES).exclude(
            status=ReferralStatus.NOT_ELIGIBLE
        )
        if in_progress.exists():
            raise Conflict(_("The patient already has a referral in progress."))
        referral = Referral.objects.create(
            patient=patient,
            clinic=clinic,
            source=source,
            referring_organisation=referring_organisation,
            referring_contact=referring_contact,
            received_on=received_on,
            documents=documents.strip(),
            note=note.strip(),
            created_by=actor.user,
        )
        _event(referral, actor, "received", "", ReferralStatus.RECEIVED)
        _log(
            actor,
            patient,
            "referral",
            {"created": True, "referral": referral.pk, "source": source},
            Action.REFERRAL_CREATE,
        )
    return referral


def _national_id(values: dict) -> str:
    return "".join(str(values.get("national_id", "")).split())


def _patient_for_referral(actor: Actor, clinic: Clinic, values: dict) -> Patient:
    """The person the referral is about: registered now unless already at this clinic."""
    national_id = _national_id(values)
    existing = Patient.objects.filter(national_id=national_id).first()
    if existing is not None:
        if existing.clinic_id != clinic.pk:
            # Registered elsewhere since the check before the transaction: the same answer.
            raise Conflict(str(patient_services.NOT_HERE))
        return patient_for_user(actor, existing.pk, Action.REFERRAL_CREATE, lock=True)
    return patient_services.patient_create(
        actor=actor,
        clinic=clinic,
        national_id_value=national_id,
        given_name=values.get("given_name", ""),
        family_name=values.get("family_name", ""),
        birth_date=values.get("birth_date"),
        phone=values.get("phone", "") or "",
        address=values.get("address", "") or "",
    )


def referral_set_status(*, actor: Actor, referral_id: int, status: str, note: str = "") -> Referral:
    """Starts an assessment or withdraws the referral (with a reason)."""
    allowed = {ReferralStatus.ASSESSING, ReferralStatus.WITHDRAWN}
    if status not in allowed:
        raise Invalid.one("status", _("Use the assessment, waitlist or admission for this change."))
    if status == ReferralStatus.WITHDRAWN and not note.strip():
        raise Invalid.one("note", _("Write why the referral is withdrawn."))
    with transaction.atomic():
        referral = referral_for_user(actor, referral_id, Action.REFERRAL_MANAGE, lock=True)
        old = _move(referral, ReferralStatus(status))
        referral.save(update_fields=["status"])
        _event(referral, actor, "status", old, status, note.strip())
        _log(
            actor,
            referral.patient,
            "referral",
            {"referral": referral.pk, "status": [old, status]},
            Action.REFERRAL_MANAGE,
        )
    return referral


def referral_assess(
    *,
    actor: Actor,
    referral_id: int,
    answers: dict[str, bool | None],
    eligible: bool,
    notes: str = "",
    criterion_notes: dict[str, str] | None = None,
    assessed_on: datetime.date | None = None,
) -> EligibilityAssessment:
    """A doctor's assessment against the active criteria; it decides the referral's status."""
    criterion_notes = {k: str(v).strip() for k, v in (criterion_notes or {}).items() if v}
    notes = (notes or "").strip()
    with transaction.atomic():
        referral = referral_for_user(actor, referral_id, Action.REFERRAL_ASSESS, lock=True)
        if rules.Status(referral.status) not in rules.ASSESSABLE:
            raise Conflict(
                _("A referral that is “%(current)s” cannot be assessed.")
                % {"current": STATUS_WORDS[referral.status]}
            )
        criteria_set = active_criteria_set()
        criteria = list(criteria_set.criteria.all())
        errors: list[FieldError] = []
        problem_words = {
            "missing": _("Answer yes, no or unknown."),
            "unknown": _("This is not a criterion of the active criteria set."),
            "not_yes_no": _("Answer yes, no or unknown."),
        }
        for code, problem in rules.answer_problems([c.code for c in criteria], answers).items():
            errors.append(FieldError(f"criteria.{code}", problem_words[problem]))
        for code in criterion_notes:
            if code not in answers:
                errors.append(FieldError(f"criterion_notes.{code}", _("No such criterion.")))
        assessed_on = _check_date(
            errors,
            "assessed_on",
            assessed_on,
            not_before=referral.received_on,
            not_before_text=_("The assessment cannot be before the referral was received."),
        )
        age = rules.age_on(referral.patient.birth_date, assessed_on)
        for criterion in criteria:
            answer = answers.get(criterion.code)
            if criterion.min_age is None or answer is None:
                continue
            if bool(answer) != (age >= criterion.min_age):
                errors.append(
                    FieldError(
                        f"criteria.{criterion.code}",
                        _("By the birth date the patient is %(age)s years old.") % {"age": age},
                    )
                )
        if not errors and rules.decision_needs_justification(answers, eligible) and not notes:
            errors.append(
                FieldError(
                    "notes",
                    _(
                        "The decision does not follow from the answers: write the "
                        "justification in the notes."
                    ),
                )
            )
        _raise_if(errors)

        assessment = EligibilityAssessment.objects.create(
            referral=referral,
            criteria_set=criteria_set,
            answers=answers,
            criterion_notes=criterion_notes,
            eligible=eligible,
            notes=notes,
            assessed_on=assessed_on,
            assessed_by=actor.user,
        )
        old = referral.status
        already_eligible = old in (ReferralStatus.ELIGIBLE, ReferralStatus.WAITLISTED)
        if eligible and not already_eligible:
            _move(referral, ReferralStatus.ELIGIBLE)
            referral.eligible_on = assessed_on
        elif not eligible:
            _move(referral, ReferralStatus.NOT_ELIGIBLE)
            referral.eligible_on = None
            referral.offered_on = None
        try:
            with transaction.atomic():
                referral.save(update_fields=["status", "eligible_on", "offered_on"])
        except IntegrityError:
            raise Conflict(_("The patient already has another referral in progress.")) from None
        _event(referral, actor, "assessment", old, referral.status, notes)
        _log(
            actor,
            referral.patient,
            "assessment",
            {"created": True, "referral": referral.pk, "eligible": eligible},
            Action.REFERRAL_ASSESS,
        )
    return assessment


def referral_waitlist(*, actor: Actor, referral_id: int) -> Referral:
    with transaction.atomic():
        referral = referral_for_user(actor, referral_id, Action.REFERRAL_MANAGE, lock=True)
        old = _move(referral, ReferralStatus.WAITLISTED)
        referral.save(update_fields=["status"])
        _event(referral, actor, "waitlisted", old, referral.status)
        _log(
            actor,
            referral.patient,
            "referral",
            {"referral": referral.pk, "status": [old, referral.status]},
            Action.REFERRAL_MANAGE,
        )
    return referral


def referral_set_urgent(
    *, actor: Actor, referral_id: int, urgent: bool, reason: str = ""
) -> Referral:
    reason = " ".join((reason or "").split())
    if urgent and not reason:
        raise Invalid.one("reason", _("Write why the referral is urgent."))
    with transaction.atomic():
        referral = referral_for_user(actor, referral_id, Action.REFERRAL_URGENT, lock=True)
        if rules.Status(referral.status) not in rules.OPEN_STATUSES:
            raise Conflict(_("The referral is closed."))
        referral.urgent = urgent
        referral.urgent_reason = reason if urgent else ""
        referral.save(update_fields=["urgent", "urgent_reason"])
        _event(referral, actor, "urgent" if urgent else "not_urgent", "", "", reason)
        _log(
            actor,
            referral.patient,
            "referral",
            {"referral": referral.pk, "urgent": urgent},
            Action.REFERRAL_URGENT,
        )
    return referral


def referral_offer(
    *, actor: Actor, referral_id: int, offered_on: datetime.date | None = None
) -> Referral:
    """The clinic lead offers a place to someone eligible."""
    with transaction.atomic():
        referral = referral_for_user(actor, referral_id, Action.PLACE_OFFER, lock=True)
        if rules.Status(referral.status) not in rules.ADMISSIBLE:
            raise Conflict(_("A place can only be offered to someone found eligible."))
        errors: list[FieldError] = []
        referral.offered_on = _check_date(
            errors,
            "offered_on",
            offered_on,
            not_before=referral.eligible_on,
            not_before_text=_("The offer cannot be before the patient was found eligible."),
        )
        _raise_if(errors)
        referral.save(update_fields=["offered_on"])
        _event(referral, actor, "offered", "", "", str(referral.offered_on))
        _log(
            actor,
            referral.patient,
            "referral",
            {"referral": referral.pk, "offered_on": str(referral.offered_on)},
            Action.PLACE_OFFER,
        )
    return referral


# --- criteria --------------------------------------------------------------------------


def criteria_set_create(*, actor: Actor, criteria: list[dict], note: str) -> CriteriaSet:
    """A new version of the intake criteria; assessments keep the version they used."""
    if not policy.clinic_ids_where(actor.user, Action.CRITERIA_EDIT):
        raise NotFound(_("Not found."))
    errors: list[FieldError] = []
    if not criteria:
        errors.append(FieldError("criteria", _("A criteria set needs at least one criterion.")))
    codes = [str(c.get("code", "")).strip() for c in criteria]
    for index, (code, item) in enumerate(zip(codes, criteria, strict=True)):
        if not code or not code.replace("_", "").isalnum():
            errors.append(FieldError(f"criteria.{index}.code", _("Use letters, digits and _.")))
        if codes.count(code) > 1:
            errors.append(
                FieldError(f"criteria.{index}.code", _("Each code can be used only once."))
            )
        if not str(item.get("text_nb", "")).strip() or not str(item.get("text_en", "")).strip():
            errors.append(
                FieldError(f"criteria.{index}.text", _("Write the text in both languages."))
            )
    if not note.strip():
        errors.append(FieldError("note", _("Write what changed and why.")))
    _raise_if(errors)
    with transaction.atomic():
        latest = CriteriaSet.objects.select_for_update().order_by("-version").first()
        criteria_set = CriteriaSet.objects.create(
            version=(latest.version + 1) if latest else 1, created_by=actor.user, note=note
        )
        Criterion.objects.bulk_create(
            Criterion(
                criteria_set=criteria_set,
                code=code,
                text_nb=str(item["text_nb"]).strip(),
                text_en=str(item["text_en"]).strip(),
                source=str(item.get("source", "")).strip(),
                min_age=item.get("min_age"),
                position=index,
            )
            for index, (code, item) in enumerate(zip(codes, criteria, strict=True))
        )
    return criteria_set


# --- episodes --------------------------------------------------------------------------


def _coordinator(errors: list[FieldError], clinic: Clinic, username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not (policy.roles_at(user, clinic) & policy.CARE_ROLES):
        errors.append(
            FieldError("coordinator", _("The coordinator must be clinical staff at the clinic."))
        )
        return None
    return user


def _full(clinic: Clinic) -> bool:
    open_count = Episode.objects.filter(clinic=clinic, ended_on__isnull=True).count()
    return rules.places_free(clinic.capacity, open_count) == 0


def _full_message(clinic: Clinic) -> str:
    return _(
        "%(clinic)s is full: all %(capacity)s places are taken. Put the patient on the "
        "waitlist or discharge someone first."
    ) % {"clinic": clinic.name, "capacity": clinic.capacity}


def _episode_event(episode: Episode, actor: Actor, kind: str, on: datetime.date, **details):
    EpisodeEvent.objects.create(
        episode=episode, at=clock.now(), on=on, by=actor.user, kind=kind, details=details
    )


def episode_admit(
    *,
    actor: Actor,
    patient_id: int,
    clinic: Clinic,
    admitted_on: datetime.date | None = None,
    coordinator: str | None = None,
    phase: str = Phase.INDUCTION,
    referral_id: int | None = None,
) -> Episode:
    """Admits an eligible patient within the clinic's capacity."""
    clinic_for_action(actor.user, clinic, Action.EPISODE_ADMIT)
    errors: list[FieldError] = []
    if phase not in (Phase.INDUCTION, Phase.MAINTENANCE):
        errors.append(
            FieldError(
                "phase",
                _("Start in induction, or maintenance when already stabilised elsewhere."),
            )
        )
    admitted_on = _check_date(errors, "admitted_on", admitted_on)
    coordinator_user = _coordinator(errors, clinic, coordinator)
    _raise_if(errors)

    with transaction.atomic():
        # The clinic row is the lock every admission takes: capacity is counted under it.
        clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
        patient = patient_for_user(actor, patient_id, Action.EPISODE_ADMIT, lock=True)
        if patient.clinic_id != clinic.pk:
            raise Conflict(_("The patient is registered at another clinic."))
        episode = _open_episode(patient)
        if episode is not None:
            raise Conflict(
                _("The patient is already in treatment at %(clinic)s.")
                % {"clinic": episode.clinic.name}
            )
        referrals = patient.referrals.filter(clinic=clinic).select_for_update()
        referral = (
            referrals.filter(pk=referral_id).first()
            if referral_id
            else referrals.filter(status__in=rules.ADMISSIBLE).order_by("-received_on").first()
        )
        if referral is None or rules.Status(referral.status) not in rules.ADMISSIBLE:
            raise Conflict(
                _(
                    "The patient has no referral found eligible at this clinic: "
                    "the referral must be assessed first."
                )
            )
        if admitted_on < referral.received_on:
            raise Invalid.one(
                "admitted_on", _("The admission cannot be before the referral was received.")
            )
        if _full(clinic):
            raise Conflict(_full_message(clinic))
        try:
            with transaction.atomic():
                episode = Episode.objects.create(
                    patient=patient,
                    clinic=clinic,
                    referral=referral,
                    admitted_on=admitted_on,
                    phase=phase,
                    coordinator=coordinator_user,
                    created_by=actor.user,
                )
        except IntegrityError:
            raise Conflict(_("The patient is already in treatment.")) from None
        old = _move(referral, ReferralStatus.ADMITTED)
        referral.save(update_fields=["status"])
        _event(referral, actor, "admitted", old, ReferralStatus.ADMITTED)
        _episode_event(
            episode,
            actor,
            "admitted",
            admitted_on,
            phase=phase,
            coordinator=coordinator_user.username if coordinator_user else "",
        )
        _log(
            actor,
            patient,
            "episode",
            {"created": True, "episode": episode.pk, "clinic": clinic.code},
            Action.EPISODE_ADMIT,
        )
        # The course's follow-up schedule, baseline first (the research app's own rule).
        seams.episode_admitted(episode_id=episode.pk)
    return episode


def episode_set_phase(
    *, actor: Actor, episode_id: int, phase: str, on: datetime.date | None = None
) -> Episode:
    with transaction.atomic():
        episode = episode_for_user(actor, episode_id, Action.EPISODE_PHASE, lock=True)
        _require_open(episode)
        if phase not in Phase.values or rules.Phase(phase) not in rules.PHASE_CHANGES.get(
            rules.Phase(episode.phase), frozenset()
        ):
            raise Invalid.one(
                "phase",
                _("From %(phase)s the next phase is %(allowed)s.")
                % {
                    "phase": Phase(episode.phase).label,
                    "allowed": ", ".join(
                        str(Phase(p).label) for p in rules.PHASE_CHANGES[episode.phase]
                    ),
                },
            )
        errors: list[FieldError] = []
        on = _check_date(
            errors,
            "on",
            on,
            not_before=episode.admitted_on,
            not_before_text=_("The date cannot be before the admission."),
        )
        _raise_if(errors)
        old = episode.phase
        episode.phase = phase
        episode.save(update_fields=["phase"])
        _episode_event(episode, actor, "phase", on, old=old, new=phase)
        _log(
            actor,
            episode.patient,
            "episode",
            {"episode": episode.pk, "phase": [old, phase]},
            Action.EPISODE_PHASE,
        )
    return episode


def episode_set_coordinator(*, actor: Actor, episode_id: int, coordinator: str) -> Episode:
    with transaction.atomic():
        episode = episode_for_user(actor, episode_id, Action.EPISODE_COORDINATOR, lock=True)
        _require_open(episode)
        errors: list[FieldError] = []
        user = _coordinator(errors, episode.clinic, coordinator)
        if user is None and not errors:
            errors.append(FieldError("coordinator", _("Choose the coordinator.")))
        _raise_if(errors)
        old = episode.coordinator.username if episode.coordinator else ""
        episode.coordinator = user
        episode.save(update_fields=["coordinator"])
        _episode_event(episode, actor, "coordinator", _today(), old=old, new=user.username)
        _log(
            actor,
            episode.patient,
            "episode",
            {"episode": episode.pk, "coordinator": [old, user.username]},
            Action.EPISODE_COORDINATOR,
        )
    return episode


def _require_open(episode: Episode) -> None:
    if not episode.is_open:
        raise Conflict(_("The episode has ended."))


def episode_discharge(
    *,
    actor: Actor,
    episode_id: int,
    ended_on: datetime.date | None,
    reason: str,
    note: str = "",
    death_on: datetime.date | None = None,
) -> Episode:
    note = (note or "").strip()
    errors: list[FieldError] = []
    reasons = [r for r in EndReason.values if r != EndReason.TRANSFER_HAB]
    if reason not in reasons:
        errors.append(FieldError("reason", _("Choose the reason for discharge.")))
    if reason == EndReason.DEATH:
        if death_on is None:
            errors.append(FieldError("death_on", _("Enter the date of death.")))
        if not note:
            errors.append(FieldError("note", _("Write a note about the death.")))
    with transaction.atomic():
        episode = episode_for_user(actor, episode_id, Action.EPISODE_DISCHARGE, lock=True)
        _require_open(episode)
        ended_on = _check_date(
            errors,
            "ended_on",
            ended_on,
            not_before=episode.admitted_on,
            not_before_text=_("The discharge cannot be before the admission."),
        )
        if death_on and (death_on > ended_on):
            errors.append(
                FieldError("death_on", _("The date of death cannot be after the discharge."))
            )
        _raise_if(errors)
        episode.ended_on = ended_on
        episode.end_reason = reason
        episode.end_note = note
        episode.death_on = death_on if reason == EndReason.DEATH else None
        episode.save(update_fields=["ended_on", "end_reason", "end_note", "death_on"])
        _episode_event(episode, actor, "discharged", ended_on, reason=reason)
        _log(
            actor,
            episode.patient,
            "episode",
            {"episode": episode.pk, "discharged": reason},
            Action.EPISODE_DISCHARGE,
        )
    return episode


def episode_transfer(
    *,
    actor: Actor,
    episode_id: int,
    to_clinic: str,
    on: datetime.date | None = None,
    note: str = "",
) -> Episode:
    """Moves a patient in treatment to another HAB clinic: one episode ends, one opens."""
    with transaction.atomic():
        episode = episode_for_user(actor, episode_id, Action.EPISODE_TRANSFER, lock=True)
        _require_open(episode)
        target = Clinic.objects.select_for_update().filter(code=to_clinic).first()
        errors: list[FieldError] = []
        if target is None or target.pk == episode.clinic_id:
            errors.append(FieldError("clinic", _("Choose another HAB clinic.")))
        on = _check_date(
            errors,
            "on",
            on,
            not_before=episode.admitted_on,
            not_before_text=_("The transfer cannot be before the admission."),
        )
        _raise_if(errors)
        if _full(target):
            raise Conflict(_full_message(target))
        source_clinic = episode.clinic
        episode.ended_on = on
        episode.end_reason = EndReason.TRANSFER_HAB
        episode.end_note = note.strip()
        episode.save(update_fields=["ended_on", "end_reason", "end_note"])
        following = Episode.objects.create(
            patient=episode.patient,
            clinic=target,
            referral=episode.referral,
            previous=episode,
            admitted_on=on,
            phase=episode.phase,
            created_by=actor.user,
        )
        _episode_event(episode, actor, "transfer_out", on, to=target.code)
        _episode_event(following, actor, "transfer_in", on, source=source_clinic.code)
        patient = episode.patient
        # The log row is written while the record is still at the clinic the user works at.
        _log(
            actor,
            patient,
            "episode",
            {"episode": episode.pk, "transfer": [source_clinic.code, target.code]},
            Action.EPISODE_TRANSFER,
        )
        Patient.objects.filter(pk=patient.pk).update(clinic=target)
    return following
