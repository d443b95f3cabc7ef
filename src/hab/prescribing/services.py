"""Writes of prescribing: prescriptions (doctors) and protocol versions (clinic lead with a
doctor). Nothing is edited: each change is a new row."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.access import Actor, access_log_write
from hab.core.errors import Conflict, FieldError, Invalid
from hab.core.models import AccessAction, Clinic, User
from hab.core.policy import Action
from hab.dosing import rules
from hab.intake.models import Episode
from hab.patients.selectors import clinic_for_action, patient_for_user
from hab.prescribing.models import ROUTES, DosingProtocol, Medication, Prescription
from hab.prescribing.selectors import chain_head, latest_protocol


def _mg(errors: list[FieldError], field: str, value, *, required: bool = True) -> Decimal | None:
    if value is None or value == "":
        if required:
            errors.append(FieldError(field, _("Enter the amount in mg.")))
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, _("Enter the amount in mg, e.g. 150 or 7.5.")))
        return None
    if amount < 0 or amount > 5000:
        errors.append(FieldError(field, _("The amount must be between 0 and 5000 mg.")))
        return None
    return amount


def prescription_create(
    *,
    actor: Actor,
    episode_id: int,
    medication: str,
    route: str,
    doses_mg: dict[str, object],
    daily_max_mg,
    valid_from: datetime.date | None = None,
    valid_to: datetime.date | None = None,
    reason: str = "",
    titration: dict | None = None,
) -> Prescription:
    """A new prescription; it supersedes the patient's last one of the same medication group."""
    with transaction.atomic():
        episode = Episode.objects.select_related("clinic").filter(pk=episode_id).first()
        patient = patient_for_user(
            actor, episode.patient_id if episode else 0, Action.PRESCRIBE, lock=True
        )
        errors: list[FieldError] = []
        if episode.ended_on is not None or episode.clinic_id != patient.clinic_id:
            raise Conflict(_("The episode has ended."))
        if medication not in Medication.values:
            errors.append(FieldError("medication", _("Choose the medication.")))
        elif route not in ROUTES[medication]:
            errors.append(FieldError("route", _("This route does not fit the medication.")))
        slots = set(episode.clinic.slots.values_list("code", flat=True))
        doses: dict[str, float] = {}
        for slot, value in (doses_mg or {}).items():
            amount = _mg(errors, f"doses_mg.{slot}", value)
            if slot not in slots:
                errors.append(FieldError(f"doses_mg.{slot}", _("No such session at the clinic.")))
            elif amount is not None and amount > 0:
                doses[slot] = float(amount)
        if not doses and not any(e.field.startswith("doses_mg") for e in errors):
            errors.append(FieldError("doses_mg", _("Prescribe a dose for at least one session.")))
        daily_max = _mg(errors, "daily_max_mg", daily_max_mg)
        if daily_max is not None and daily_max <= 0:
            errors.append(FieldError("daily_max_mg", _("The daily maximum must be above 0.")))
        if daily_max and doses and sum(doses.values()) > float(daily_max):
            errors.append(
                FieldError(
                    "daily_max_mg",
                    _("The session doses add up to more than the daily maximum."),
                )
            )
        today = clock.today()
        valid_from = valid_from or today
        if valid_from < today:
            errors.append(FieldError("valid_from", _("A prescription cannot start in the past.")))
        if valid_to is not None and valid_to < valid_from:
            errors.append(FieldError("valid_to", _("The end is before the start.")))
        plan = _titration(errors, titration or {})
        if not errors and medication in Medication.values:
            _check_against_protocol(errors, episode.clinic, medication, doses, daily_max)
        if errors:
            raise Invalid(errors)
        previous = chain_head(patient.pk, medication)
        try:
            with transaction.atomic():
                prescription = Prescription.objects.create(
                    patient=patient,
                    episode=episode,
                    medication=medication,
                    route=route,
                    doses_mg=doses,
                    daily_max_mg=daily_max,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    titration_start_mg=plan[0],
                    titration_step_mg=plan[1],
                    titration_target_mg=plan[2],
                    reason=" ".join(reason.split())[:500],
                    supersedes=previous,
                    created_at=clock.now(),
                    created_by=actor.user,
                )
        except IntegrityError:
            raise Conflict(
                _("Another prescription was saved at the same moment. Reload and try again.")
            ) from None
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="prescription",
            details={
                "prescription": prescription.pk,
                "medication": medication,
                "doses_mg": doses,
                "daily_max_mg": str(daily_max),
                "supersedes": previous.pk if previous else None,
            },
            policy_action=Action.PRESCRIBE,
        )
    return prescription


def _titration(errors: list[FieldError], plan: dict) -> tuple:
    values = [plan.get(k) for k in ("start_mg", "step_mg", "target_mg")]
    if all(v in (None, "") for v in values):
        return (None, None, None)
    start = _mg(errors, "titration.start_mg", values[0])
    step = _mg(errors, "titration.step_mg", values[1])
    target = _mg(errors, "titration.target_mg", values[2])
    if start is not None and target is not None and start > target:
        errors.append(FieldError("titration.start_mg", _("The first dose is above the target.")))
    if step is not None and step <= 0:
        errors.append(FieldError("titration.step_mg", _("The step must be above 0.")))
    return (start, step, target)


def _check_against_protocol(errors, clinic: Clinic, medication: str, doses, daily_max) -> None:
    protocol = latest_protocol(clinic.pk)
    if protocol is None:
        return
    group = rules.MEDICATION_GROUP[medication]
    limits = {
        rules.Group.DAM: (protocol.dam_max_single_mg, protocol.dam_max_daily_mg),
        rules.Group.HYDROMORPHONE: (
            protocol.hydromorphone_max_single_mg,
            protocol.hydromorphone_max_daily_mg,
        ),
        rules.Group.METHADONE: (None, protocol.methadone_max_daily_mg),
        rules.Group.MORPHINE: (None, protocol.morphine_max_daily_mg),
    }[group]
    single, daily = limits
    if daily_max is not None and daily_max > daily:
        errors.append(
            FieldError(
                "daily_max_mg",
                _("Above the clinic protocol's daily maximum of %(max)s mg.") % {"max": daily},
            )
        )
    for slot, amount in doses.items():
        if single is not None and amount > float(single):
            errors.append(
                FieldError(
                    f"doses_mg.{slot}",
                    _("Above the clinic protocol's single-dose maximum of %(max)s mg.")
                    % {"max": single},
                )
            )


def prescription_stop(
    *, actor: Actor, prescription_id: int, reason: str, on: datetime.date | None = None
) -> Prescription:
    """Stops a prescription from the day ``on`` (today by default): a new row, with no
    doses, at the end of its chain. Prescriptions of the chain that would have begun
    later (from a day after ``on``) end with it; one that begins by ``on`` has already
    replaced it."""
    if not reason.strip():
        raise Invalid.one("reason", _("Write why the prescription is stopped."))
    with transaction.atomic():
        current = Prescription.objects.filter(pk=prescription_id).first()
        patient = patient_for_user(
            actor, current.patient_id if current else 0, Action.PRESCRIBE, lock=True
        )
        if current.stopped_on is not None:
            raise Conflict(_("This prescription is already stopped."))
        on = on or clock.today()
        head = current
        while (after := Prescription.objects.filter(supersedes=head).first()) is not None:
            if after.valid_from <= on:
                raise Conflict(_("This prescription has already been replaced."))
            head = after
        if current.patient_id != patient.pk:
            raise Conflict(_("This prescription has already been replaced."))
        stop = Prescription.objects.create(
            patient=patient,
            episode=current.episode,
            medication=current.medication,
            route=current.route,
            doses_mg={},
            daily_max_mg=current.daily_max_mg,
            valid_from=on,
            stopped_on=on,
            reason=reason.strip()[:500],
            supersedes=head,
            created_at=clock.now(),
            created_by=actor.user,
        )
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="prescription",
            details={"prescription": stop.pk, "stops": current.pk, "supersedes": head.pk},
            policy_action=Action.PRESCRIBE,
        )
    return stop


PROTOCOL_FIELDS = [
    f.name
    for f in DosingProtocol._meta.get_fields()
    if f.concrete
    and f.name
    not in {
        "id",
        "clinic",
        "version",
        "created_at",
        "created_by",
        "doctor",
        "reason",
        "demo_values",
    }
]


def protocol_create(
    *,
    actor: Actor,
    clinic: Clinic,
    doctor: str,
    reason: str,
    values: dict,
    demo_values: bool = False,
) -> DosingProtocol:
    """A new protocol version from the last one with the given values changed."""
    clinic_for_action(actor.user, clinic, Action.PROTOCOL_EDIT)
    errors: list[FieldError] = []
    unknown = set(values) - set(PROTOCOL_FIELDS)
    # A nameless setting ("") is still a field of the body: "values".
    errors += [
        FieldError(name or "values", _("No such protocol setting.")) for name in sorted(unknown)
    ]
    approver = User.objects.filter(username=doctor, is_active=True).first()
    if approver is None or "doctor" not in policy.roles_at(approver, clinic):
        errors.append(FieldError("doctor", _("Name a doctor at the clinic who agreed.")))
    if not reason.strip():
        errors.append(FieldError("reason", _("Write what changed and why.")))
    # Every setting is a limit, a count or a time: none can be below zero.
    errors += [
        FieldError(name, _("Enter zero or more."))
        for name, value in values.items()
        if isinstance(value, int | float | Decimal) and value < 0
    ]
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        previous = (
            DosingProtocol.objects.select_for_update()
            .filter(clinic=clinic)
            .order_by("-version")
            .first()
        )
        base = {name: getattr(previous, name) for name in PROTOCOL_FIELDS} if previous else {}
        # Numbers arrive as floats from JSON; decimals are kept as written (0.2, not 0.2000…1).
        values = {
            name: Decimal(str(value)) if isinstance(value, float) else value
            for name, value in values.items()
        }
        protocol = DosingProtocol(
            clinic=clinic,
            version=(previous.version + 1) if previous else 1,
            created_at=clock.now(),
            created_by=actor.user,
            doctor=approver,
            reason=reason.strip()[:500],
            demo_values=demo_values,
            **(base | values),
        )
        try:
            protocol.full_clean(exclude=["clinic", "created_by", "doctor"])
        except ValidationError as error:
            problems = getattr(error, "message_dict", {"__all__": [str(error)]})
            raise Invalid(
                [FieldError(field, " ".join(msgs)) for field, msgs in problems.items()]
            ) from None
        try:
            with transaction.atomic():
                protocol.save()
        except IntegrityError:
            raise Conflict(_("The protocol was changed at the same moment. Try again.")) from None
    return protocol
