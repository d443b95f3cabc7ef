"""Writes of the dosing room. Each re-checks the dose decision inside one transaction,
with the patient's row locked, so two nurses can never dose the same patient twice."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hab.core import clock, policy
from hab.core.access import Actor, access_log_write
from hab.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound, mg_entered
from hab.core.formats import number
from hab.core.models import AccessAction, AccessBasis, Clinic
from hab.core.policy import Action, clinic_for_action
from hab.dosing import messages, rules, seams, summaries
from hab.dosing.models import (
    Administration,
    DoctorAlert,
    DoseHold,
    DoseHoldLift,
    DoseReview,
    GuestAuthorisation,
    Observation,
    Outcome,
    SessionClose,
    Status,
)
from hab.dosing.selectors import (
    Context,
    active_holds,
    as_dose,
    clinic_slots,
    context_for,
    current_slot,
    doses_to_miss,
    effective,
    expected_patients,
    open_alerts,
    patient_for_dosing,
    slot_codes,
    to_rule,
    under_observation,
)
from hab.patients.models import Patient
from hab.patients.selectors import patient_for_user
from hab.prescribing import rules as prescription_rules
from hab.prescribing.selectors import InForce
from hab.stock import services as stock_services

RECORDABLE = {*rules.TAKEN, Status.WITHHELD, Status.REFUSED}


@dataclass(frozen=True)
class Recorded:
    administration: Administration
    warnings: list[str]


def _amount(errors: list[FieldError], field: str, value) -> Decimal:
    """An amount in mg read by the one mg parser (``mg_entered``); 0 mg stands in while
    the entry's other fields are checked when it is no amount."""
    amount = mg_entered(errors, field, value)
    if amount is None:
        return Decimal(0)
    if amount < 0:
        errors.append(FieldError(field, _("The amount cannot be negative.")))
    return amount


def _assessment(
    errors: list[FieldError], values: dict | None, needed: bool, alcohol_needed: bool = True
) -> rules.Assessment:
    """The pre-dose assessment, checked; ``needed`` for a dose given. Whether breath
    alcohol may be missing depends on the protocol (``_alcohol_missing``): a caller that
    reads it later passes ``alcohol_needed=False`` and asks then."""
    values = values or {}
    sedation = values.get("sedation")
    alcohol = values.get("breath_alcohol_permille")
    rate = values.get("respiratory_rate")
    intoxication = values.get("intoxication") or None
    if intoxication is not None and intoxication not in rules.Intoxication.__members__.values():
        errors.append(
            FieldError("assessment.intoxication", _("Choose none, suspected or obvious."))
        )
    if needed and sedation is None:
        errors.append(FieldError("assessment.sedation", _("Record the sedation score (POSS).")))
    if sedation is not None and sedation not in (1, 2, 3, 4):
        errors.append(FieldError("assessment.sedation", _("POSS is 1, 2, 3 or 4.")))
    if needed and alcohol_needed and alcohol is None:
        errors.append(
            FieldError("assessment.breath_alcohol_permille", _("Record the breath alcohol."))
        )
    if alcohol is not None and not 0 <= float(alcohol) <= 5:
        errors.append(
            FieldError(
                "assessment.breath_alcohol_permille", _("Breath alcohol must be between 0 and 5 ‰.")
            )
        )
    if rate is not None and not 0 < int(rate) < 80:
        errors.append(
            FieldError(
                "assessment.respiratory_rate",
                _("Respiratory rate must be breaths a minute (1–79)."),
            )
        )
    return rules.Assessment(
        sedation=sedation,
        breath_alcohol_permille=None if alcohol is None else float(alcohol),
        respiratory_rate=None if rate is None else int(rate),
        intoxication=intoxication,
    )


def _alcohol_missing(protocol: rules.Protocol | None, checked: rules.Assessment) -> None:
    """A dose needs a breath-alcohol measurement unless the clinic's protocol measures it
    only on suspicion (then an empty field means "not measured")."""
    if checked.breath_alcohol_permille is None and not (
        protocol is not None and protocol.breath_alcohol_on_suspicion_only
    ):
        raise Invalid.one("assessment.breath_alcohol_permille", _("Record the breath alcohol."))


def _check_status(errors, status: str, dose: Decimal, reason: str) -> None:
    if status in rules.TAKEN and dose <= 0:
        errors.append(FieldError("dose_mg", _("Enter the dose given.")))
    if status in (Status.WITHHELD, Status.REFUSED, Status.MISSED) and dose != 0:
        errors.append(FieldError("dose_mg", _("Leave the dose at 0 when none was given.")))
    if status == Status.WITHHELD and not reason.strip():
        errors.append(FieldError("withheld_reason", _("Write why the dose is withheld.")))


def _entry(
    errors: list[FieldError],
    *,
    status: str,
    allowed: Collection[str],
    status_text: str,
    dose_mg,
    withheld_reason: str,
    medication: str | None = None,
    assessment: dict | None = None,
    assessment_needed: bool | None = None,
) -> tuple[Decimal, rules.Assessment]:
    """The fields every dose write takes, checked in one order (the forms show the errors
    in it): the status, the medication, the amount, the assessment, then whether the
    amount fits the status. ``medication`` None: the record's own (a correction);
    ``assessment_needed`` None: the assessment is read later, if at all."""
    if status not in allowed:
        errors.append(FieldError("status", status_text))
    if medication is not None and medication not in rules.MEDICATION_GROUP:
        errors.append(FieldError("medication", _("Choose the medication.")))
    dose = _amount(errors, "dose_mg", dose_mg)
    checked = rules.Assessment()
    if assessment_needed is not None:
        # Breath alcohol is asked for inside the transaction, by the protocol.
        checked = _assessment(errors, assessment, needed=assessment_needed, alcohol_needed=False)
    _check_status(errors, status, dose, withheld_reason)
    return dose, checked


def _administration(
    *,
    patient,
    clinic: Clinic,
    day: datetime.date,
    slot: str,
    medication: str,
    status: str,
    dose,
    given_at: datetime.datetime,
    nurse,
    episode_id: int,
    prescription_id: int | None,
    protocol_id: int | None,
    route: str,
    prescribed_mg,
    max_allowed_mg=Decimal(0),
    reasons: list[str] | None = None,
    checked: rules.Assessment | None = None,
    withheld_reason: str = "",
    notes: str = "",
    top_up: bool = False,
    observe_until: datetime.datetime | None = None,
    back_entered_by=None,
    corrects: Administration | None = None,
    correction_reason: str = "",
    breaches: list[str] | None = None,
    breach_reason: str = "",
) -> Administration:
    """The one place a dose record's fields are put together, unsaved: every writer (the
    dose, the paper dose, the correction, the session's missed records) builds it here,
    so a field means the same on each. A correction continues its record's chain and
    group."""
    checked = checked or rules.Assessment()
    now = clock.now()
    return Administration(
        patient=patient,
        episode_id=episode_id,
        prescription_id=prescription_id,
        protocol_id=protocol_id,
        clinic=clinic,
        day=day,
        slot=slot,
        medication=medication,
        group=corrects.group if corrects is not None else rules.MEDICATION_GROUP[medication],
        route=route,
        status=status,
        dose_mg=dose,
        prescribed_mg=prescribed_mg,
        max_allowed_mg=max_allowed_mg,
        reasons=reasons if reasons is not None else [],
        withheld_reason=withheld_reason.strip()[:500],
        sedation=checked.sedation,
        breath_alcohol_permille=checked.breath_alcohol_permille,
        respiratory_rate=checked.respiratory_rate,
        intoxication=checked.intoxication or "",
        top_up=top_up,
        notes=notes.strip()[:500],
        given_at=given_at,
        nurse=nurse,
        observe_until=observe_until,
        corrects=corrects,
        original_id=(corrects.original_id or corrects.pk) if corrects is not None else None,
        correction_reason=correction_reason.strip()[:500],
        back_entered_by=back_entered_by,
        back_entered_at=now if back_entered_by is not None else None,
        breaches=breaches or [],
        breach_reason=breach_reason[:500] if breaches else "",
        breach_confirmed_at=now if breaches else None,
    )


def _decided(decision: rules.Decision) -> dict:
    """The decision as a record keeps it: what was prescribed, the most allowed, why."""
    return {
        "prescribed_mg": Decimal(str(decision.prescribed_mg)),
        "max_allowed_mg": Decimal(str(decision.max_mg)),
        "reasons": messages.texts(decision.reasons),
    }


def _refuse_second(
    ctx: Context, decision: rules.Decision, patient_id: int, day, slot: str, group: str, clinic
) -> None:
    """409 when the session already has a record of the group, naming who made it."""
    if any(r.code == "already_recorded" for r in decision.reasons):
        raise already_recorded(_in_session(ctx, patient_id, day, slot, group), clinic)


def _write(
    actor: Actor,
    patient,
    record: Administration,
    *,
    replaces: Administration | None = None,
    breach_why: str = "",
) -> Administration:
    """Writes a dose record with everything that goes with it, in the caller's transaction
    (the patient's row locked): the record (the database's unique constraint is the last
    guard against a double dose: a clash is a 409 and nothing is written), the ledger
    debit, the incident for a confirmed breach, and the access-log row."""
    try:
        # No savepoint: a clash ends the whole transaction anyway (409, nothing written).
        with transaction.atomic(savepoint=False):
            record.save(force_insert=True)
    except IntegrityError:
        raise Conflict(_("Already recorded for this patient in this session.")) from None
    _debit(record, replaces)
    summaries.recorded([record], replaces)
    if record.breaches:
        seams.breach_confirmed(
            actor=actor,
            administration=record,
            breaches=record.breaches,
            reason=breach_why,
            **({"corrected": replaces} if replaces is not None else {}),
        )
    _log(actor, patient, record, replaces)
    return record


def _taken_mg(record: Administration | None) -> Decimal:
    """What the patient took by the record: its dose when given, whole or in part."""
    if record is None or record.status not in rules.TAKEN:
        return Decimal(0)
    return Decimal(record.dose_mg)


def _debit(record: Administration, replaces: Administration | None = None) -> None:
    """The controlled-drug ledger is debited in the same transaction (or nothing is); a
    correction moves it only by the difference to the record it replaces, given back to
    the batch its chain took from."""
    chain_ids: list[int] = []
    if replaces is not None and _taken_mg(record) < _taken_mg(replaces):
        root = replaces.original_id or replaces.pk
        chain_ids = [
            root,
            *Administration.objects.filter(original_id=root).values_list("pk", flat=True),
        ]
    stock_services.administration_debit(
        record,
        given_mg=_taken_mg(record),
        replaced_mg=_taken_mg(replaces) if replaces is not None else Decimal(0),
        chain_ids=chain_ids,
    )


def _log(
    actor: Actor, patient, record: Administration, replaces: Administration | None = None
) -> None:
    """The access-log row of a dose write: a guest's dose is logged as a guest dose at the
    clinic that gave it."""
    if replaces is not None:
        action, policy_action = AccessAction.UPDATE, Action.DOSE_CORRECT
        details = {
            "administration": record.pk,
            "corrects": replaces.pk,
            "status": [replaces.status, record.status],
            "dose_mg": [str(replaces.dose_mg), str(record.dose_mg)],
        }
    else:
        action, policy_action = AccessAction.CREATE, Action.DOSE
        details = {
            "administration": record.pk,
            "status": record.status,
            "dose_mg": str(record.dose_mg),
        }
        if record.back_entered_by_id is not None:
            details["back_entered"] = True
    guest = patient.clinic_id != record.clinic_id
    access_log_write(
        actor=actor,
        patient=patient,
        action=action,
        what="administration",
        details=details,
        policy_action=policy_action,
        basis=AccessBasis.GUEST if guest else None,
        clinic_id=record.clinic_id if guest else None,
    )


def administration_record(
    *,
    actor: Actor,
    clinic: Clinic,
    patient_id: int,
    day: datetime.date,
    slot: str,
    medication: str,
    dose_mg,
    status: str,
    route: str = "",
    assessment: dict | None = None,
    withheld_reason: str = "",
    notes: str = "",
    top_up: bool = False,
) -> Recorded:
    """Records a supervised dose, or why none was given. Refuses, and writes nothing,
    when the dose is not safe now: 409 when this session already has a record, 422 with
    every reason otherwise. ``top_up`` records the first day's immediate top-up after
    the first injection, a second record in the session."""
    errors: list[FieldError] = []
    taken = status in rules.TAKEN
    dose, checked = _entry(
        errors,
        status=status,
        allowed=RECORDABLE,
        status_text=_("Choose given, partly given, withheld or refused."),
        dose_mg=dose_mg,
        withheld_reason=withheld_reason,
        medication=medication,
        assessment=assessment,
        assessment_needed=taken,
    )
    if top_up and not taken:
        errors.append(FieldError("status", _("A top-up is a dose given.")))
    if day != clock.today():
        errors.append(
            FieldError("date", _("Only today's doses are recorded here; correct earlier ones."))
        )
    if slot not in slot_codes(clinic):
        errors.append(FieldError("slot", _("No such session at the clinic.")))
    if errors:
        raise Invalid(errors)
    # The user's roles, read before the transaction: on SQLite every write waits for the
    # one before it to commit, so what need not be inside stays out.
    policy.roles_by_clinic(actor.user)

    with transaction.atomic():
        # Locks the patient's row: concurrent requests for one patient queue here.
        patient = patient_for_dosing(actor, patient_id, clinic, day, Action.DOSE, lock=True)
        ctx = context_for(clinic, [patient.pk], day)
        group = rules.MEDICATION_GROUP[medication]
        prescription = _prescription_for(ctx.prescriptions.get(patient.pk, []), medication)
        if prescription is not None and prescription.medication != medication:
            raise Invalid.one("medication", _("The prescription is for another form."))
        if prescription is not None and route and route != prescription.route:
            raise Invalid.one("route", _("The prescription is for another route."))
        if taken:
            _alcohol_missing(ctx.protocol, checked)
        now = clock.now()
        decision = (
            ctx.decide(patient.pk, prescription, slot, now, checked, top_up=top_up)
            if prescription is not None
            else rules.decide(
                protocol=ctx.protocol,
                prescription=None,
                history=[],
                now=now,
                day=day,
                slot=slot,
                slots_per_day=ctx.slots_per_day,
                in_episode=patient.pk in ctx.open_episode,
            )
        )
        _refuse_second(ctx, decision, patient.pk, day, slot, group, clinic)
        if taken:
            _refuse_unsafe(decision, dose)
        episode = ctx.open_episode.get(patient.pk)
        if episode is None:
            raise Invalid.one(
                "patient", messages.text(rules.Reason("no_episode", rules.Severity.BLOCK))
            )
        # The warnings for the dose given, which may be less than the most allowed.
        warnings = messages.texts(
            r
            for r in rules.for_dose_given(decision.reasons, float(dose))
            if r.severity != rules.Severity.BLOCK
        )
        warnings += _late(clinic, slot, now)
        observe = (
            now + timedelta(minutes=ctx.protocol.observation_minutes)
            if taken and ctx.protocol
            else None
        )
        record = _administration(
            patient=patient,
            clinic=clinic,
            day=day,
            slot=slot,
            medication=medication,
            status=status,
            dose=dose,
            given_at=now,
            nurse=actor.user,
            episode_id=episode,
            prescription_id=prescription.pk if prescription else None,
            protocol_id=ctx.protocol_id,
            route=route or (prescription.route if prescription else ""),
            **_decided(decision),
            checked=checked,
            withheld_reason=withheld_reason,
            notes=notes,
            top_up=top_up,
            observe_until=observe,
        )
        _write(actor, patient, record)
    return Recorded(record, warnings)


def _in_session(ctx: Context, patient_id: int, day, slot: str, group: str) -> int | None:
    """The first record of the patient's medication group in the session (its chain's
    original: who recorded the dose, not who corrected it)."""
    found = [
        r
        for r in ctx.history.get(patient_id, [])
        if r.day == day and r.slot == slot and r.group == group
    ]
    return min((r.original_id or r.pk for r in found), default=None)


def already_recorded(record_id: int | None, clinic: Clinic) -> Conflict:
    """The refusal of a second record in a session (409), naming who recorded the first
    and when: two nurses with the same patient's panel open learn who was first, instead
    of the panel silently showing the other record."""
    record = (
        Administration.objects.select_related("nurse", "clinic").filter(pk=record_id).first()
        if record_id is not None
        else None
    )
    if record is None:
        return Conflict(_("Already recorded for this patient in this session."))
    values = {
        "name": record.nurse.get_full_name() or record.nurse.username,
        "time": timezone.localtime(record.given_at).strftime("%H:%M"),
        "clinic": record.clinic.name,
    }
    if record.clinic_id != clinic.pk:
        return Conflict(_("Already recorded by %(name)s at %(time)s at %(clinic)s.") % values)
    return Conflict(_("Already recorded by %(name)s at %(time)s.") % values)


def _prescription_for(in_force: list[InForce], medication: str) -> InForce | None:
    """The prescription a dose of ``medication`` is given under: its own (a combined
    regimen has an injectable and an oral one of the same group), else the group's, whose
    other form the caller refuses."""
    group = rules.MEDICATION_GROUP[medication]
    same_group = [p for p in in_force if rules.MEDICATION_GROUP[p.medication] == group]
    chain = prescription_rules.chain_of(medication)
    same_chain = [p for p in same_group if prescription_rules.chain_of(p.medication) == chain]
    return (
        next((p for p in same_chain if p.medication == medication), None)
        or next(iter(same_chain), None)
        or next(iter(same_group), None)
    )


def _refuse_unsafe(decision: rules.Decision, dose: Decimal) -> None:
    """A dose that is not safe now is refused with every reason, blocking and limiting
    (the nurse sees all that stands in the way); nothing is adjusted."""
    if decision.blocked:
        raise Invalid(
            [
                FieldError("dose_mg", messages.text(r))
                for r in decision.reasons
                if r.severity in (rules.Severity.BLOCK, rules.Severity.LIMIT)
            ]
        )
    if float(dose) > decision.max_mg:
        problems = [
            FieldError(
                "dose_mg",
                _("%(dose)s mg is more than the %(max)s mg that may be given now.")
                % {"dose": number(dose), "max": number(decision.max_mg)},
            )
        ]
        problems += [
            FieldError("dose_mg", messages.text(r))
            for r in decision.reasons
            if r.severity == rules.Severity.LIMIT
        ]
        raise Invalid(problems)


def _late(clinic: Clinic, slot: str, now: datetime.datetime) -> list[str]:
    """A dose outside its session's hours is allowed (the intervals guard safety) but noted."""
    window = next((s for s in clinic_slots(clinic) if s.code == slot), None)
    local = timezone.localtime(now).time()
    if window and not (window.starts_at <= local <= window.ends_at):
        return [
            _("Outside the session's hours (%(start)s–%(end)s).")
            % {
                "start": window.starts_at.strftime("%H:%M"),
                "end": window.ends_at.strftime("%H:%M"),
            }
        ]
    return []


# A correction or paper dose records what happened, so it is never refused as unsafe:
# the day is checked as it would stand with it, and any breach must be confirmed.

# What the day check covers for the whole day, in both directions: the decision at the
# paper's time would only see the doses before it.
_DAY_CHECKED = frozenset(
    {"interval", "daily_max_reached", "oral_daily_step_reached", "prev_day_none"}
)


def _day_breaches(
    ctx: Context,
    patient_id: int,
    medication: str,
    day: datetime.date,
    doses: list[rules.Dose],
    in_force: list[InForce],
    prescribed: dict[tuple[str, str], float],
) -> list[rules.Reason]:
    if ctx.protocol is None:
        return []
    group = rules.MEDICATION_GROUP[medication]
    return rules.day_breaches(
        protocol=ctx.protocol,
        prescriptions={
            p.medication: to_rule(p, "")
            for p in in_force
            if rules.MEDICATION_GROUP[p.medication] == group
        },
        doses=doses,
        group=group,
        day=day,
        slots_per_day=ctx.slots_per_day,
        taken_before_window=ctx.before.get((patient_id, group)),
        prescribed=prescribed,
    )


def _confirmed(breaches: list[rules.Reason], confirm_breach: bool, reason: str) -> list[str]:
    """The breaches in words, once the nurse has confirmed them with a reason; until then a
    422 that lists every one of them (and nothing is written)."""
    texts = messages.texts(breaches)
    if not texts or (confirm_breach and reason.strip()):
        return texts
    errors = [FieldError("dose_mg", text) for text in texts]
    if confirm_breach:
        errors.append(FieldError("breach_reason", _("Write why the limits were broken.")))
    else:
        errors.append(
            FieldError(
                "confirm_breach",
                _(
                    "This record breaks the day's limits. If it is what happened, confirm "
                    "the breach and write why: an incident is opened, and the patient's "
                    "next dose of this medication waits for a doctor's review."
                ),
            )
        )
    raise Invalid(errors)


def _breach_notice() -> str:
    return _(
        "Breach confirmed: an incident is opened, and the patient's next dose of this "
        "medication waits for a doctor's review."
    )


def administration_correct(
    *,
    actor: Actor,
    administration_id: int,
    reason: str,
    dose_mg,
    status: str,
    assessment: dict | None = None,
    confirm_breach: bool = False,
    breach_reason: str = "",
) -> Recorded:
    """A correction: a new record pointing at the one it corrects; the original stays.
    Turning a record without a dose into a dose is a dose now, checked like one.

    A correction that raises a dose records what was given: the day is checked as it
    stands with it (``rules.day_breaches``), and a breach is recorded only when
    ``confirm_breach`` is true (the reason is ``breach_reason``, or the correction's own
    reason); it then opens a dosing-error incident and blocks the group's next dose until
    a doctor reviews. Without the confirmation: 422 listing every breach."""
    errors: list[FieldError] = []
    if not (reason or "").strip():
        errors.append(FieldError("reason", _("Write why the record is corrected.")))
    dose, checked = _entry(
        errors,
        status=status,
        allowed=RECORDABLE | {Status.MISSED},
        status_text=_("Choose a status."),
        dose_mg=dose_mg,
        # A correction has no reason for withholding of its own: its reason says why.
        withheld_reason=reason or "x",
    )
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        target = (
            Administration.objects.select_related("clinic").filter(pk=administration_id).first()
        )
        if target is None:
            raise NotFound(_("No such record."))
        patient = patient_for_dosing(
            actor, target.patient_id, target.clinic, target.day, Action.DOSE_CORRECT, lock=True
        )
        chain = target.original_id or target.pk
        newest = effective(
            Administration.objects.filter(pk=chain)
            | Administration.objects.filter(original_id=chain)
        )[0]
        if newest.pk != target.pk:
            raise Conflict(_("This record has already been corrected; correct the newest one."))
        warnings: list[str] = []
        starts_dose = status in rules.TAKEN and target.status not in rules.TAKEN
        if starts_dose:
            checked = _assessment(errors, assessment, needed=True, alcohol_needed=False)
            if errors:
                raise Invalid(errors)
            ctx = context_for(target.clinic, [patient.pk], target.day)
            _alcohol_missing(ctx.protocol, checked)
            if target.day != clock.today() or target.prescription is None:
                raise Conflict(_("A dose can only be recorded for today."))
            decision = ctx.decide(
                patient.pk,
                InForce.of(target.prescription),
                target.slot,
                clock.now(),
                checked,
                ignore=chain,
                # A top-up given after all is decided as the top-up it was recorded as.
                top_up=target.top_up,
            )
            _refuse_unsafe(decision, dose)
            warnings = messages.texts(decision.reasons)
        breaches: list[rules.Reason] = []
        if not starts_dose and status in rules.TAKEN and dose > _taken_mg(target):
            ctx = context_for(target.clinic, [patient.pk], target.day)
            in_force = ctx.prescriptions.get(patient.pk, [])
            if target.prescription is not None:
                # The prescription the dose was given under, whatever came after it.
                in_force = [InForce.of(target.prescription)] + [
                    p for p in in_force if p.medication != target.medication
                ]
            changed = replace(as_dose(target), mg=float(dose), status=status)
            breaches = _day_breaches(
                ctx,
                patient.pk,
                target.medication,
                target.day,
                [*ctx.doses(patient.pk, ignore=chain), changed],
                in_force,
                {(target.medication, target.slot): float(target.prescribed_mg)},
            )
        why = (breach_reason or "").strip() or reason.strip()
        confirmed = _confirmed(breaches, confirm_breach, why)
        record = _administration(
            patient=patient,
            clinic=target.clinic,
            day=target.day,
            slot=target.slot,
            medication=target.medication,
            status=status,
            dose=dose,
            given_at=clock.now() if starts_dose else target.given_at,
            nurse=actor.user,
            episode_id=target.episode_id,
            prescription_id=target.prescription_id,
            protocol_id=target.protocol_id,
            route=target.route,
            prescribed_mg=target.prescribed_mg,
            max_allowed_mg=target.max_allowed_mg,
            reasons=target.reasons,
            # The assessment is the new one only for a dose that starts now; the
            # correction keeps neither the intoxication nor the notes (as it always has).
            checked=rules.Assessment(
                sedation=checked.sedation if starts_dose else target.sedation,
                breath_alcohol_permille=checked.breath_alcohol_permille
                if starts_dose
                else target.breath_alcohol_permille,
                respiratory_rate=target.respiratory_rate,
            ),
            # The correction describes the same dose: the first day's top-up stays one
            # (the day's checks let it follow the first injection at once).
            top_up=target.top_up,
            observe_until=target.observe_until,
            corrects=target,
            correction_reason=reason,
            breaches=confirmed,
            breach_reason=why,
        )
        # Only the difference to the corrected record moves the ledger.
        _write(actor, patient, record, replaces=target, breach_why=why)
        if confirmed:
            warnings = [_breach_notice(), *confirmed]
    return Recorded(record, warnings)


def observation_end(
    *,
    actor: Actor,
    administration_id: int,
    outcome: str,
    note: str = "",
    naloxone_mg=None,
) -> Observation:
    errors: list[FieldError] = []
    if outcome not in Outcome.values:
        errors.append(FieldError("outcome", _("Choose the outcome.")))
    if outcome in (Outcome.OVERDOSE, Outcome.SEDATED) and not note.strip():
        errors.append(FieldError("note", _("Describe what happened.")))
    naloxone = None
    if naloxone_mg not in (None, ""):
        naloxone = _amount(errors, "naloxone_mg", naloxone_mg)
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        record = (
            Administration.objects.select_related("clinic").filter(pk=administration_id).first()
        )
        if record is None:
            raise NotFound(_("No such record."))
        patient = patient_for_dosing(
            actor, record.patient_id, record.clinic, record.day, Action.DOSE, lock=True
        )
        if record.status not in rules.TAKEN:
            raise Conflict(_("No dose was given, so there is no observation."))
        if Observation.objects.filter(administration=record).exists():
            raise Conflict(_("The observation has already ended."))
        left = _observation_left(record, clock.now())
        if left and not note.strip():
            raise Invalid.one(
                "note",
                ngettext(
                    "%(left)s minute of observation is left: write why it ends now.",
                    "%(left)s minutes of observation are left: write why it ends now.",
                    left,
                )
                % {"left": left},
            )
        observation = Observation.objects.create(
            administration=record,
            ended_at=clock.now(),
            outcome=outcome,
            naloxone_mg=naloxone,
            note=note.strip()[:500],
            by=actor.user,
        )
        if outcome == Outcome.OVERDOSE:
            # An overdose is an incident (avvik) at once, linked to the dose.
            seams.overdose_recorded(actor=actor, observation=observation)
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="observation",
            details={"administration": record.pk, "outcome": outcome},
            policy_action=Action.DOSE,
            basis=AccessBasis.GUEST if patient.clinic_id != record.clinic_id else None,
            clinic_id=record.clinic_id,
        )
    return observation


def _observation_left(record: Administration, now: datetime.datetime) -> int:
    """Minutes left of the protocol's observation after the dose (0 when it is over)."""
    if record.observe_until is None:
        return 0
    minutes = round((record.observe_until - record.given_at).total_seconds() / 60)
    return rules.observation_minutes_left(record.given_at, now, minutes)


def session_close(
    *,
    actor: Actor,
    clinic: Clinic,
    day: datetime.date,
    slot: str,
    observing_confirmed: Collection[int] = (),
) -> SessionClose:
    """Closes the session: ``missed`` for every expected patient not seen here or at
    another clinic, unless another clinic may still dose them in this session.

    A patient still under observation (dosed here, no outcome yet) does not stop the
    close, but the close must name them: 422 on ``observing_confirmed`` listing them,
    unless the caller confirms each of them by patient id. The session ends when the
    doors close, while the last patients dosed are often still watched for their 20
    minutes; refusing until then would keep no-shows unrecorded for nothing (the
    observation's outcome is still recorded from the board after the close). Naming them
    keeps the nurse from closing up believing the room is empty; ids, not a yes, so a
    patient dosed after the confirmation was shown is not closed over unseen."""
    clinic_for_action(actor.user, clinic, Action.SESSION_CLOSE)
    if slot not in slot_codes(clinic):
        raise Invalid.one("slot", _("No such session at the clinic."))
    if day > clock.today():
        raise Invalid.one("date", _("A session cannot be closed before its day."))
    with transaction.atomic():
        if SessionClose.objects.filter(clinic=clinic, day=day, slot=slot).exists():
            raise Conflict(_("The session is already closed."))
        unconfirmed = [
            p for p in under_observation(clinic, day, slot) if p.pk not in set(observing_confirmed)
        ]
        if unconfirmed:
            raise Invalid.one(
                "observing_confirmed",
                ngettext(
                    "Still under observation: %(names)s. Confirm that the session closes "
                    "while this patient is observed.",
                    "Still under observation: %(names)s. Confirm that the session closes "
                    "while these patients are observed.",
                    len(unconfirmed),
                )
                % {"names": ", ".join(p.full_name for p in unconfirmed)},
            )
        patients, _guests = expected_patients(clinic, day)
        ctx = context_for(clinic, [p.pk for p in patients], day)
        now = clock.now()
        to_miss = doses_to_miss(clinic, day, slot, patients, ctx)
        # The patients as models, for their records' access-log rows, locked (in id order)
        # as every dose write locks its patient: their day summaries are recomputed.
        missed_patients = {
            patient.pk: patient
            for patient in Patient.objects.select_for_update()
            .filter(pk__in={m.patient.pk for m in to_miss})
            .order_by("pk")
        }
        missed = [
            _administration(
                patient=missed_patients[m.patient.pk],
                clinic=clinic,
                day=day,
                slot=slot,
                medication=m.prescription.medication,
                status=Status.MISSED,
                dose=0,
                given_at=now,
                nurse=actor.user,
                episode_id=ctx.open_episode[m.patient.pk],
                prescription_id=m.prescription.pk,
                protocol_id=ctx.protocol_id,
                route=m.prescription.route,
                prescribed_mg=m.prescription.dose_for(slot),
            )
            for m in to_miss
        ]
        try:
            with transaction.atomic():
                closed = SessionClose.objects.create(
                    clinic=clinic,
                    day=day,
                    slot=slot,
                    closed_at=now,
                    closed_by=actor.user,
                    missed=len(missed),
                )
                Administration.objects.bulk_create(missed)
        except IntegrityError:
            raise Conflict(
                _("Someone recorded a dose while the session was closing. Try again.")
            ) from None
        # Written in one statement (a session can miss many), then logged like any dose
        # record; a missed record takes nothing from the ledger.
        summaries.recorded(missed)
        for record in missed:
            _debit(record)
            _log(actor, record.patient, record)
    return closed


def guest_authorise(
    *,
    actor: Actor,
    patient_id: int,
    clinic_code: str,
    valid_from: datetime.date,
    valid_to: datetime.date,
    reason: str = "",
) -> GuestAuthorisation:
    """The home clinic's doctor lets another clinic dose the patient on these days."""
    with transaction.atomic():
        patient = patient_for_user(actor, patient_id, Action.GUEST_AUTHORISE, lock=True)
        clinic = Clinic.objects.filter(code=clinic_code).first()
        errors: list[FieldError] = []
        if clinic is None or clinic.pk == patient.clinic_id:
            errors.append(FieldError("clinic", _("Choose the other HAB clinic.")))
        if valid_from < clock.today():
            errors.append(FieldError("valid_from", _("Guest dosing cannot start before today.")))
        if valid_to < valid_from:
            errors.append(FieldError("valid_to", _("The end is before the start.")))
        elif (valid_to - valid_from).days > 90:
            errors.append(FieldError("valid_to", _("At most 90 days at a time.")))
        if errors:
            raise Invalid(errors)
        authorisation = GuestAuthorisation.objects.create(
            patient=patient,
            clinic=clinic,
            valid_from=valid_from,
            valid_to=valid_to,
            reason=reason.strip()[:300],
            created_at=clock.now(),
            created_by=actor.user,
        )
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="guest dosing",
            details={"clinic": clinic.code, "from": str(valid_from), "to": str(valid_to)},
            policy_action=Action.GUEST_AUTHORISE,
        )
    return authorisation


# A paper record from the contingency list is typed in within this many days.
BACK_ENTRY_DAYS = 7


def administration_back_enter(
    *,
    actor: Actor,
    clinic: Clinic,
    patient_id: int,
    day: datetime.date,
    slot: str,
    medication: str,
    dose_mg,
    status: str,
    given_at: datetime.datetime,
    given_by: str,
    assessment: dict | None = None,
    withheld_reason: str = "",
    notes: str = "",
    confirm_breach: bool = False,
    breach_reason: str = "",
) -> Recorded:
    """Types in a record from the paper contingency list, used while HAB was unavailable:
    marked as back-entered, by whom and when; the nurse and time are the paper's.

    What the paper says happened is recorded as it happened, never adjusted. The day is
    checked as it stands with the paper dose, in both directions (a dose typed in after a
    later electronic one is checked against both), with what the rules would have refused
    at the paper's time (the assessment, missed days). A breach is recorded only when
    ``confirm_breach`` is true with a ``breach_reason`` (otherwise 422 listing every
    breach, nothing written); it then opens a dosing-error incident and blocks the
    group's next dose until a doctor reviews. 409 when the session already has a record."""
    errors: list[FieldError] = []
    taken = status in rules.TAKEN
    dose, checked = _entry(
        errors,
        status=status,
        allowed=RECORDABLE | {Status.MISSED},
        status_text=_("Choose a status."),
        dose_mg=dose_mg,
        withheld_reason=withheld_reason,
        medication=medication,
        assessment=assessment,
        assessment_needed=False,
    )
    today = clock.today()
    if not today - timedelta(days=BACK_ENTRY_DAYS) <= day <= today:
        errors.append(
            FieldError(
                "date",
                _("Paper records are entered within %(days)s days.") % {"days": BACK_ENTRY_DAYS},
            )
        )
    if given_at is None or timezone.localdate(given_at) != day or given_at > clock.now():
        errors.append(FieldError("given_at", _("The time on the paper, on the session's day.")))
    if slot not in slot_codes(clinic):
        errors.append(FieldError("slot", _("No such session at the clinic.")))
    from hab.core.models import User

    nurse = User.objects.filter(username=given_by, is_active=True).first()
    if nurse is None or not policy.can(nurse, Action.DOSE, clinic):
        errors.append(FieldError("given_by", _("Choose who gave the dose (signed the paper).")))
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        patient = patient_for_dosing(actor, patient_id, clinic, day, Action.DOSE, lock=True)
        ctx = context_for(clinic, [patient.pk], day)
        group = rules.MEDICATION_GROUP[medication]
        prescription = _prescription_for(ctx.prescriptions.get(patient.pk, []), medication)
        if prescription is None or prescription.medication != medication:
            raise Invalid.one("medication", _("The patient had no such prescription that day."))
        decision = ctx.decide(patient.pk, prescription, slot, given_at, checked)
        _refuse_second(ctx, decision, patient.pk, day, slot, group, clinic)
        episode = ctx.open_episode.get(patient.pk)
        if episode is None:
            raise Invalid.one(
                "patient", messages.text(rules.Reason("no_episode", rules.Severity.BLOCK))
            )
        breaches: list[rules.Reason] = []
        if taken:
            paper = rules.Dose(
                at=given_at,
                day=day,
                slot=slot,
                medication=medication,
                mg=float(dose),
                status=status,
            )
            breaches = _day_breaches(
                ctx,
                patient.pk,
                medication,
                day,
                [*ctx.doses(patient.pk), paper],
                ctx.prescriptions.get(patient.pk, []),
                {(medication, slot): decision.prescribed_mg},
            )
            # What the paper's moment shows: the assessment, missed days, a breach not
            # yet reviewed (one confirmed before the paper dose was given).
            breach_at = ctx.breaches.get((patient.pk, group))
            breaches += [
                r
                for r in decision.reasons
                if r.severity == rules.Severity.BLOCK
                and r.code not in _DAY_CHECKED
                and not (r.code == "breach_review" and breach_at and breach_at >= given_at)
            ]
            if not breaches and float(dose) > decision.max_mg:
                # A limit of the moment (a reduction for sedation or missed days).
                breaches.append(
                    rules.Reason(
                        "breach_allowed",
                        rules.Severity.BLOCK,
                        {"mg": float(dose), "max": decision.max_mg},
                    )
                )
        why = (breach_reason or "").strip()
        confirmed = _confirmed(breaches, confirm_breach, why)
        record = _administration(
            patient=patient,
            clinic=clinic,
            day=day,
            slot=slot,
            medication=medication,
            status=status,
            dose=dose,
            given_at=given_at,
            nurse=nurse,
            episode_id=episode,
            prescription_id=prescription.pk,
            protocol_id=ctx.protocol_id,
            route=prescription.route,
            **_decided(decision),
            # The paper's intoxication is read for the decision but not kept (as always).
            checked=replace(checked, intoxication=None),
            withheld_reason=withheld_reason,
            notes=notes,
            back_entered_by=actor.user,
            breaches=confirmed,
            breach_reason=why,
        )
        _write(actor, patient, record, breach_why=why)
        warnings = [_breach_notice(), *confirmed] if confirmed else []
    return Recorded(record, warnings)


def dose_review(*, actor: Actor, patient_id: int, group: str, note: str) -> DoseReview:
    """A doctor's review of the patient's doses of one medication group, after missed days
    or a confirmed breach: the block it lifts is one that began before it (a review never
    clears what happens after it)."""
    errors: list[FieldError] = []
    if group not in rules.Group.__members__.values():
        errors.append(FieldError("group", _("Choose the medication group.")))
    if not (note or "").strip():
        errors.append(FieldError("note", _("Write your assessment and the plan.")))
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        patient = patient_for_user(actor, patient_id, Action.PRESCRIBE, lock=True)
        review = DoseReview.objects.create(
            patient=patient,
            group=group,
            clinic_id=patient.clinic_id,
            reviewed_at=clock.now(),
            doctor=actor.user,
            note=note.strip(),
        )
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="dose review",
            details={"dose_review": review.pk, "group": group},
            policy_action=Action.PRESCRIBE,
        )
    return review


def _blocking_reasons(patient, group: str, slot: str) -> dict[str, list[str]]:
    """What stands in the way of each of the patient's prescribed medication groups in the
    session now, in words: {group: [reason, ...]} for the blocked ones."""
    clinic = patient.clinic
    day = clock.today()
    ctx = context_for(clinic, [patient.pk], day)
    now = clock.now()
    blocked: dict[str, list[str]] = {}
    for prescription in ctx.prescriptions.get(patient.pk, []):
        this = rules.MEDICATION_GROUP[prescription.medication].value
        if (group and this != group) or prescription.dose_for(slot) <= 0:
            continue
        decision = ctx.decide(patient.pk, prescription, slot, now)
        # A session already recorded is done, not blocked: nothing for the doctor there.
        if decision.blocked and not any(r.code == "already_recorded" for r in decision.blocks):
            blocked.setdefault(this, []).extend(messages.texts(decision.blocks))
    return blocked


def doctor_alert_raise(
    *, actor: Actor, patient_id: int, group: str = "", note: str = "", slot: str = ""
) -> DoctorAlert:
    """Notify the doctor ("Varsle lege"): puts a blocked patient on the doctor's start
    page, with what blocks them in words (the rows' own reasons, worked out here, not
    taken from the caller). A patient who is not blocked needs a note saying why the
    doctor is wanted. 409 while the doctor's answer to an earlier alert for the same
    medication is still awaited."""
    group, note = (group or "").strip(), (note or "").strip()
    errors: list[FieldError] = []
    if group and group not in rules.Group.__members__.values():
        errors.append(FieldError("group", _("Choose the medication group.")))
    if len(note) > 300:
        errors.append(FieldError("note", _("At most 300 characters.")))
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        # Locks the patient's row: two nurses alerting at once write one alert.
        patient = patient_for_user(actor, patient_id, Action.DOCTOR_ALERT, lock=True)
        slot = slot or current_slot(patient.clinic)
        if slot not in slot_codes(patient.clinic):
            raise Invalid.one("slot", _("No such session at the clinic."))
        blocked = _blocking_reasons(patient, group, slot)
        if not blocked and not note:
            raise Invalid.one(
                "note", _("Nothing blocks this patient's dose now: write why the doctor is needed.")
            )
        group = group or next(iter(blocked), "")
        reason = " ".join(blocked.get(group, [])) or note
        for alert in open_alerts(patient_ids=[patient.pk]):
            if not alert.group or not group or alert.group == group:
                raise Conflict(
                    _("The doctor was already alerted at %(time)s by %(who)s.")
                    % {
                        "time": timezone.localtime(alert.raised_at).strftime("%H:%M"),
                        "who": alert.raised_by.get_full_name() or alert.raised_by.username,
                    }
                )
        alert = DoctorAlert.objects.create(
            patient=patient,
            clinic_id=patient.clinic_id,
            group=group,
            reason=reason[:1000],
            note=note,
            raised_at=clock.now(),
            raised_by=actor.user,
        )
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="doctor alert",
            details={"doctor_alert": alert.pk, "group": group},
            policy_action=Action.DOCTOR_ALERT,
        )
    return alert


def dose_hold_place(*, actor: Actor, patient_id: int, reason: str) -> DoseHold:
    """Stop dosing ("Stopp dosering"): no dose of any medication may be given to the
    patient, at any clinic, until a doctor lifts the hold. A doctor or a nurse places it,
    with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid.one("reason", _("Write why dosing is stopped."))
    if len(reason) > 500:
        raise Invalid.one("reason", _("At most 500 characters."))
    with transaction.atomic():
        patient = patient_for_user(actor, patient_id, Action.DOSE_HOLD, lock=True)
        current = active_holds([patient.pk]).get(patient.pk)
        if current is not None:
            raise Conflict(
                _("Dosing is already stopped (%(reason)s), since %(time)s.")
                % {
                    "reason": current.reason,
                    "time": timezone.localtime(current.placed_at).strftime("%d.%m.%Y %H:%M"),
                }
            )
        hold = DoseHold.objects.create(
            patient=patient,
            clinic_id=patient.clinic_id,
            reason=reason,
            placed_at=clock.now(),
            placed_by=actor.user,
        )
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="dose hold",
            details={"dose_hold": hold.pk},
            policy_action=Action.DOSE_HOLD,
        )
    return hold


def dose_hold_lift(*, actor: Actor, patient_id: int, note: str) -> DoseHoldLift:
    """A doctor lifts the patient's stop-dose hold, with a note; dosing follows the
    prescription and the protocol again. Anyone else is refused, whoever placed it."""
    note = (note or "").strip()
    with transaction.atomic():
        patient = patient_for_user(actor, patient_id, Action.PATIENT_VIEW, lock=True)
        if not policy.can(actor.user, Action.DOSE_HOLD_LIFT, patient.clinic_id):
            raise Forbidden(_("Only a doctor can lift a stop-dose hold."))
        if not note:
            raise Invalid.one("note", _("Write your assessment: why dosing may go on."))
        if len(note) > 500:
            raise Invalid.one("note", _("At most 500 characters."))
        hold = active_holds([patient.pk]).get(patient.pk)
        if hold is None:
            raise Conflict(_("Dosing is not stopped for this patient."))
        try:
            with transaction.atomic(savepoint=False):
                lift = DoseHoldLift.objects.create(
                    hold=hold, note=note, lifted_at=clock.now(), lifted_by=actor.user
                )
        except IntegrityError:
            raise Conflict(_("Dosing is not stopped for this patient.")) from None
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="dose hold lifted",
            details={"dose_hold": hold.pk, "lift": lift.pk},
            policy_action=Action.DOSE_HOLD_LIFT,
        )
    return lift
