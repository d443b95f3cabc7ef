"""Writes of prescribing: prescriptions (doctors) and protocol versions (clinic lead with a
doctor). Nothing is edited: each change is a new row."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hab.core import clock, policy, two_factor
from hab.core.access import Actor, access_log_write
from hab.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound, mg_entered
from hab.core.formats import number
from hab.core.models import AccessAction, Clinic, User
from hab.core.policy import Action, clinic_for_action
from hab.intake.models import Episode
from hab.patients.selectors import patient_for_user
from hab.prescribing import rules as prescription_rules
from hab.prescribing.models import (
    ROUTES,
    DosingProtocol,
    Medication,
    Prescription,
    ProtocolSignoff,
)
from hab.prescribing.rules import (
    PROTOCOL_ORDERS,
    PROTOCOL_RANGES,
    PROTOCOL_SWITCHES,
    protocol_problems,
)
from hab.prescribing.selectors import (
    active_prescriptions,
    chain_head,
    coming_prescriptions,
    protocol_in_force,
)


def _mg(errors: list[FieldError], field: str, value, *, required: bool = True) -> Decimal | None:
    if value is None or value == "":
        if required:
            errors.append(FieldError(field, _("Enter the amount in mg.")))
        return None
    amount = mg_entered(errors, field, value)
    if amount is None:
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
    override_reason: str = "",
) -> Prescription:
    """A new prescription; it supersedes the patient's last one of its chain (the same
    medication group, with injected and oral DAM chains of their own). It must fit with
    the patient's prescriptions of other chains in force when it begins or coming later
    (``prescription_rules.prescription_problems``); ``override_reason`` overrides the rule
    that allows it (methadone with slow-release morphine) and is then recorded."""
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
        override = " ".join((override_reason or "").split())
        overridden = False
        if not errors:
            overridden = _check_together(
                errors,
                patient.pk,
                episode.clinic,
                medication,
                doses,
                daily_max,
                override,
                valid_from=valid_from,
                valid_to=valid_to,
            )
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
                    reason=" ".join(reason.split()),
                    override_reason=override if overridden else "",
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
                **({"override_reason": override} if overridden else {}),
            },
            policy_action=Action.PRESCRIBE,
        )
    return prescription


def _check_together(
    errors: list[FieldError],
    patient_id: int,
    clinic: Clinic,
    medication: str,
    doses: dict[str, float],
    daily_max,
    override: str,
    *,
    valid_from: datetime.date,
    valid_to: datetime.date | None,
) -> bool:
    """The rules between the new prescription and the patient's others (in force when it
    begins, or coming before it ends) as field errors; True when ``override`` was needed."""
    others = [
        p
        for p in [
            *active_prescriptions([patient_id], valid_from).get(patient_id, []),
            *coming_prescriptions([patient_id], valid_from).get(patient_id, []),
        ]
        if p.stopped_on is None and (valid_to is None or p.valid_from <= valid_to)
    ]
    if not others:
        return False
    protocol = protocol_in_force(clinic.pk)
    found = prescription_rules.prescription_problems(
        prescription_rules.Planned(medication, doses, float(daily_max)),
        [
            prescription_rules.Planned(
                p.medication,
                {slot: float(mg or 0) for slot, mg in p.doses_mg.items()},
                float(p.daily_max_mg),
            )
            for p in others
        ],
        dam_daily_max_mg=float(protocol.dam_max_daily_mg) if protocol else None,
    )
    overridden = bool(override) and any(p.code in prescription_rules.OVERRIDABLE for p in found)
    names = dict(Medication.choices)
    for problem in found:
        other = str(names[problem.other]).lower()
        if problem.code in prescription_rules.OVERRIDABLE and override:
            continue
        if problem.code == "combined_session":
            message = _(
                "The patient's prescription of %(other)s has a dose in this session: in a "
                "combined regimen each session has one of the two."
            ) % {"other": other}
        elif problem.code == "combined_daily_max":
            message = _(
                "Together with the daily maximum of the prescription of %(other)s, "
                "%(total)s mg a day, above the protocol's diacetylmorphine maximum of "
                "%(limit)s mg: the two share it."
            ) % {"other": other, "total": number(problem.total), "limit": number(problem.limit)}
        else:
            message = _(
                "The patient has a prescription of %(other)s: methadone or slow-release "
                "morphine, not both, unless a doctor overrides this with a reason."
            ) % {"other": other}
        errors.append(FieldError(problem.field, message))
    return overridden


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
    protocol = protocol_in_force(clinic.pk)
    if protocol is None:
        return
    group = prescription_rules.MEDICATION_GROUP[medication]
    limits = {
        prescription_rules.Group.DAM: (protocol.dam_max_single_mg, protocol.dam_max_daily_mg),
        prescription_rules.Group.HYDROMORPHONE: (
            protocol.hydromorphone_max_single_mg,
            protocol.hydromorphone_max_daily_mg,
        ),
        prescription_rules.Group.METHADONE: (None, protocol.methadone_max_daily_mg),
        prescription_rules.Group.MORPHINE: (None, protocol.morphine_max_daily_mg),
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
            reason=reason.strip(),
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


UNITS = {
    "mg": gettext_lazy("mg"),
    "min": gettext_lazy("min"),
    "h": gettext_lazy("hours"),
    "days": gettext_lazy("days"),
    "level": "",
}


def protocol_range_text(name: str) -> str:
    """The setting's allowed values in words, shown beside the field."""
    if name in PROTOCOL_SWITCHES:
        return _(
            "Off: measured before every dose, an empty field is refused. On: measured when "
            "intoxication is suspected, an empty field means not measured."
        )
    bounds = PROTOCOL_RANGES[name]
    text = _("Allowed: %(low)s–%(high)s %(unit)s") % {
        "low": bounds.low,
        "high": bounds.high,
        "unit": UNITS.get(bounds.unit, bounds.unit),
    }
    text = text.strip()
    if bounds.optional:
        text += " " + _("(may be left empty)")
    return text


def _label(name: str) -> str:
    return str(DosingProtocol._meta.get_field(name).verbose_name)


def _range_errors(values: dict) -> list[FieldError]:
    """The clinical ranges (prescribing/rules.py) of a whole version, as field errors."""
    errors = []
    for problem in protocol_problems(values):
        name, other = problem.setting, problem.other
        if problem.code == "required":
            message = _("Enter a value. %(range)s.") % {"range": protocol_range_text(name)}
        elif problem.code == "range":
            message = _("Outside the clinical range. %(range)s.") % {
                "range": protocol_range_text(name)
            }
        elif problem.code == "together":
            message = _("Set this together with “%(other)s”, or leave both empty.") % {
                "other": _label(other)
            }
        else:
            strict = next(
                o.strict for o in PROTOCOL_ORDERS if o.setting == name and o.other == other
            )
            message = (
                _("Must be above “%(other)s” (%(value)s).")
                if strict
                else _("Must be at least “%(other)s” (%(value)s).")
            ) % {"other": _label(other), "value": values.get(other)}
        errors.append(FieldError(name, message))
    return errors


def protocol_create(
    *,
    actor: Actor,
    clinic: Clinic,
    doctor: str,
    reason: str,
    values: dict,
    demo_values: bool = False,
) -> DosingProtocol:
    """A new protocol version from the last one with the given values changed. It is
    proposed, not in force: the named doctor confirms it (``protocol_confirm``)."""
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
    elif approver.pk == actor.user.pk:
        errors.append(FieldError("doctor", _("Name another doctor: a version needs two people.")))
    if not reason.strip():
        errors.append(FieldError("reason", _("Write what changed and why.")))
    # Every setting is a limit, a count or a time: none can be below zero.
    errors += [
        FieldError(name, _("Enter zero or more."))
        for name, value in values.items()
        if name in PROTOCOL_FIELDS and isinstance(value, int | float | Decimal) and value < 0
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
            reason=reason.strip(),
            demo_values=demo_values,
            **(base | values),
        )
        try:
            protocol.full_clean(
                exclude=["clinic", "created_by", "doctor"], validate_constraints=False
            )
        except ValidationError as error:
            problems = getattr(error, "message_dict", {"__all__": [str(error)]})
            raise Invalid(
                [FieldError(field, " ".join(msgs)) for field, msgs in problems.items()]
            ) from None
        # The clinical ranges, on the whole version: a value kept from the last version is
        # checked as well as the ones changed now.
        errors = _range_errors({name: getattr(protocol, name) for name in PROTOCOL_FIELDS})
        if errors:
            raise Invalid(errors)
        try:
            with transaction.atomic():
                protocol.save()
        except IntegrityError:
            raise Conflict(_("The protocol was changed at the same moment. Try again.")) from None
    return protocol


def protocol_confirm(
    *,
    actor: Actor,
    clinic: Clinic,
    version: int,
    password: str,
    otp: str | None = None,
) -> ProtocolSignoff:
    """The named doctor puts a proposed version in force, confirming with their own
    password, and their second factor where they use one or their role requires it. The
    one who proposed it cannot confirm it. Only the newest version can be confirmed."""
    clinic_for_action(actor.user, clinic, Action.PROTOCOL_CONFIRM)
    with transaction.atomic():
        protocol = (
            DosingProtocol.objects.select_for_update()
            .filter(clinic=clinic, version=version)
            .first()
        )
        if protocol is None:
            raise NotFound(_("No such protocol version."))
        user = actor.user
        if protocol.created_by_id == user.pk:
            raise Forbidden(_("You proposed this version: the doctor named in it confirms it."))
        if protocol.doctor_id != user.pk:
            raise Forbidden(_("Only the doctor named in this version can confirm it."))
        if ProtocolSignoff.objects.filter(protocol=protocol).exists():
            raise Conflict(_("This version is already confirmed."))
        newest = DosingProtocol.objects.filter(clinic=clinic).order_by("-version").first()
        if newest.pk != protocol.pk:
            raise Conflict(_("A newer version has been proposed since; confirm that one instead."))
        if not protocol.complete:
            raise Conflict(
                _(
                    "This version lacks the single-dose maximum or the breath-alcohol limit; "
                    "the clinic lead must propose a complete version."
                )
            )
        # Out of range values cannot be in a saved version (the check constraints), but a
        # version is never put in force without the rules having said yes.
        errors = _range_errors({name: getattr(protocol, name) for name in PROTOCOL_FIELDS})
        if errors:
            raise Invalid(errors)
        if not password or authenticate(username=user.get_username(), password=password) is None:
            raise Invalid.one("password", _("The password is not right."))
        second = two_factor.needs_second_factor(user)
        if second:
            if not two_factor.has_device(user):
                raise Invalid.one(
                    "otp",
                    _("Two-factor login is required: log in on the web once to set it up."),
                )
            if two_factor.verify_code(user, otp) is None:
                raise Invalid.one(
                    "otp",
                    _("The two-factor code is not right.")
                    if otp
                    else _("Enter the code from the authenticator app."),
                )
        try:
            with transaction.atomic():
                signoff = ProtocolSignoff.objects.create(
                    protocol=protocol,
                    doctor=user,
                    confirmed_at=clock.now(),
                    channel=actor.channel,
                    ip=actor.ip,
                    second_factor=second,
                )
        except IntegrityError:
            raise Conflict(_("This version is already confirmed.")) from None
    return signoff
