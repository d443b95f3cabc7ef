"""Writes of the patient registry. Each runs in one transaction with its access-log row."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hab.core import clock, policy
from hab.core.access import Actor, access_log_write
from hab.core.errors import Conflict, FieldError, Invalid, NotFound
from hab.core.models import AccessAction, Clinic, SecurityEventKind
from hab.core.name_fields import clean_person_name
from hab.core.policy import Action, clinic_for_action
from hab.core.services import security_event_record
from hab.patients import national_id
from hab.patients.models import Consent, ConsentKind, Patient, Relative
from hab.patients.selectors import patient_for_user

PHONE_RE = re.compile(r"^\+?[0-9 ]{8,20}$")
PATIENT_FIELDS = ("given_name", "family_name", "birth_date", "phone", "address")


def national_id_message(error: national_id.NationalIdError) -> str:
    """The validator's reason in the user's language."""
    messages = {
        "length": _("The national id must have 11 digits."),
        "not_digits": _("The national id may contain only digits."),
        "check_digit_1": _("The national id is not valid: the first check digit is wrong."),
        "check_digit_2": _("The national id is not valid: the second check digit is wrong."),
        "date": _("The national id does not contain a valid birth date."),
        "individual_number": _(
            "The national id is not valid: its individual number does not fit the birth year."
        ),
        "synthetic_not_allowed": _("Synthetic test ids are not accepted in this installation."),
        "unsupported_kind": _("Only fødselsnummer and D-number are accepted."),
        "birth_date_mismatch": _("The birth date does not match the national id."),
        "birth_date_required": _(
            "This national id does not show the birth year: enter the birth date."
        ),
    }
    return messages.get(error.code, error.message)


def research_id_for(value: str) -> str:
    """A stable pseudonym: HMAC-SHA256 of the id under HAB_RESEARCH_KEY, shortened."""
    digest = hmac.new(settings.RESEARCH_KEY.encode(), value.encode(), hashlib.sha256).digest()
    return "R" + base64.b32encode(digest).decode()[:12]


def _clean_text(errors: list[FieldError], field: str, value: str, *, required: bool) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        errors.append(FieldError(field, _("This field is required.")))
    return value


def _clean_name(errors: list[FieldError], model: type, field: str, value: object) -> str:
    """A person's name as stored (hab.core.names), within the model field's length."""
    max_length = model._meta.get_field(field).max_length
    return clean_person_name(errors, field, value, max_length=max_length)


def _clean_phone(errors: list[FieldError], value: str) -> str:
    value = (value or "").strip()
    if value and not PHONE_RE.match(value):
        errors.append(
            FieldError("phone", _("Write the phone number with digits, e.g. +47 912 34 567."))
        )
    return value


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise Invalid(errors)


def patient_create(
    *,
    actor: Actor,
    clinic: Clinic,
    national_id_value: str,
    given_name: str,
    family_name: str,
    birth_date: datetime.date | None = None,
    phone: str = "",
    address: str = "",
    photo: UploadedFile | None = None,
) -> Patient:
    clinic_for_action(actor.user, clinic, Action.PATIENT_CREATE)
    errors: list[FieldError] = []
    nid = None
    born = None
    try:
        nid = national_id.parse(
            national_id_value or "", allow_synthetic=settings.ALLOW_SYNTHETIC_IDS
        )
        born = national_id.resolve_birth_date(nid, birth_date)
    except national_id.NationalIdError as error:
        field = "birth_date" if error.code.startswith("birth_date") else "national_id"
        errors.append(FieldError(field, national_id_message(error)))
    if born and born > clock.today():
        errors.append(FieldError("birth_date", _("The birth date is in the future.")))
    given_name = _clean_name(errors, Patient, "given_name", given_name)
    family_name = _clean_name(errors, Patient, "family_name", family_name)
    phone = _clean_phone(errors, phone)
    address = _clean_text(errors, "address", address, required=False)
    _raise_if(errors)
    assert nid is not None and born is not None

    registration_check(actor=actor, clinic=clinic, national_id_value=nid.value, via="patient")
    with transaction.atomic():
        try:
            with transaction.atomic():
                patient = Patient.objects.create(
                    clinic=clinic,
                    national_id=nid.value,
                    id_kind=nid.kind,
                    synthetic_id=nid.synthetic,
                    birth_date=born,
                    given_name=given_name,
                    family_name=family_name,
                    phone=phone,
                    address=address,
                    photo=photo or "",
                    research_id=research_id_for(nid.value),
                    created_by=actor.user,
                )
        except IntegrityError:
            # Two registrations of one person raced; the other one won (this answer only
            # says so to those who may see the winner's clinic).
            raise _registered_conflict(actor, nid.value) from None
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="patient",
            details={"fields": ["national_id", *PATIENT_FIELDS] + (["photo"] if photo else [])},
            policy_action=Action.PATIENT_CREATE,
        )
    return patient


def _registered_conflict(actor: Actor, national_id_value: str) -> Conflict:
    clinic_id = (
        Patient.objects.filter(national_id=national_id_value)
        .values_list("clinic_id", flat=True)
        .first()
    )
    if clinic_id is not None and policy.is_member(actor.user, clinic_id):
        return Conflict(_("A patient with this national id is already registered at this clinic."))
    return Conflict(str(NOT_HERE))


# The answer to registering (or referring as new) a person HAB holds at a clinic the staff
# member does not work at: it says neither that nor where. The same words whichever way
# the person came (registration or referral, web or API).
NOT_HERE = gettext_lazy(
    "This person cannot be registered at this clinic. The attempt is logged for the "
    "programme, which follows it up. A patient moves between HAB clinics only by a transfer "
    "from the clinic that has them."
)


def registration_check(*, actor: Actor, clinic: Clinic, national_id_value: str, via: str) -> None:
    """Refuses to register a national id HAB already holds. At a clinic of the staff
    member's own the duplicate is told plainly (they may see the patient); elsewhere the
    answer does not say so, and the attempt is written to the security log for the
    programme to follow up, with which clinic asked and how, nothing about the person.
    Runs outside the registration's transaction: the log row stays though the answer is
    a refusal."""
    home = (
        Patient.objects.filter(national_id=national_id_value)
        .values_list("clinic_id", flat=True)
        .first()
    )
    if home is None:
        return
    if policy.is_member(actor.user, home):
        raise Conflict(_("A patient with this national id is already registered at this clinic."))
    security_event_record(
        user=actor.user,
        kind=SecurityEventKind.REGISTRATION_MATCH,
        clinic=clinic,
        details={"clinic": clinic.code, "via": via, "channel": actor.channel.value},
    )
    raise Conflict(str(NOT_HERE))


def patient_update(
    *,
    actor: Actor,
    patient_id: int,
    changes: dict[str, object],
    photo: UploadedFile | None = None,
) -> Patient:
    """Changes contact details and names. The national id never changes once registered."""
    unknown = set(changes) - set(PATIENT_FIELDS)
    if unknown:
        raise Invalid([FieldError(name, _("This field cannot be changed.")) for name in unknown])
    with transaction.atomic():
        patient = patient_for_user(actor, patient_id, Action.PATIENT_EDIT, lock=True)
        errors: list[FieldError] = []
        cleaned: dict[str, object] = {}
        for name in ("given_name", "family_name"):
            if name in changes:
                cleaned[name] = _clean_name(errors, Patient, name, changes[name])
        if "address" in changes:
            cleaned["address"] = _clean_text(
                errors, "address", str(changes["address"]), required=False
            )
        if "phone" in changes:
            cleaned["phone"] = _clean_phone(errors, str(changes["phone"]))
        if "birth_date" in changes:
            try:
                nid = national_id.parse(patient.national_id, allow_synthetic=True)
                cleaned["birth_date"] = national_id.resolve_birth_date(nid, changes["birth_date"])
            except national_id.NationalIdError as error:
                errors.append(FieldError("birth_date", national_id_message(error)))
        _raise_if(errors)
        changed = {
            name: [str(getattr(patient, name)), str(value)]
            for name, value in cleaned.items()
            if getattr(patient, name) != value
        }
        for name, value in cleaned.items():
            setattr(patient, name, value)
        if photo:
            patient.photo = photo
            changed["photo"] = ["", "new photo"]
        if not changed:
            return patient
        patient.save()
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.UPDATE,
            what="patient",
            details={"changed": changed},
            policy_action=Action.PATIENT_EDIT,
        )
    return patient


def consent_record(
    *, actor: Actor, patient_id: int, kind: str, given: bool, note: str = ""
) -> Consent:
    if kind not in ConsentKind.values:
        raise Invalid.one("kind", _("Unknown kind of consent."))
    with transaction.atomic():
        patient = patient_for_user(actor, patient_id, Action.CONSENT_RECORD, lock=True)
        consent = Consent.objects.create(
            patient=patient,
            kind=kind,
            given=given,
            at=clock.now(),
            recorded_by=actor.user,
            note=" ".join(note.split())[:500],
        )
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.CREATE,
            what="consent",
            details={"kind": kind, "given": given},
            policy_action=Action.CONSENT_RECORD,
        )
    return consent


RELATIVE_FIELDS = ("name", "relation", "phone", "email", "is_next_of_kin", "note")


def _clean_relative(values: dict[str, object]) -> dict[str, object]:
    errors: list[FieldError] = []
    cleaned: dict[str, object] = {
        "name": _clean_name(errors, Relative, "name", values.get("name", "")),
        "relation": _clean_text(errors, "relation", str(values.get("relation", "")), required=True),
        "phone": _clean_phone(errors, str(values.get("phone", "") or "")),
        "email": str(values.get("email", "") or "").strip(),
        "is_next_of_kin": bool(values.get("is_next_of_kin", False)),
        "note": _clean_text(errors, "note", str(values.get("note", "") or ""), required=False),
    }
    email = cleaned["email"]
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", str(email)):
        errors.append(FieldError("email", _("Enter a valid e-mail address.")))
    _raise_if(errors)
    return cleaned


def relative_save(
    *, actor: Actor, patient_id: int, values: dict[str, object], relative_id: int | None = None
) -> Relative:
    """Adds a relative, or changes one when ``relative_id`` is given."""
    cleaned = _clean_relative(values)
    with transaction.atomic():
        patient = patient_for_user(actor, patient_id, Action.RELATIVE_EDIT, lock=True)
        if relative_id is None:
            relative = Relative.objects.create(patient=patient, **cleaned)
            action, details = AccessAction.CREATE, {"relative": relative.pk}
        else:
            relative = _relative_of(patient, relative_id)
            changed = {
                name: [str(getattr(relative, name)), str(value)]
                for name, value in cleaned.items()
                if getattr(relative, name) != value
            }
            for name, value in cleaned.items():
                setattr(relative, name, value)
            relative.save()
            action, details = AccessAction.UPDATE, {"relative": relative.pk, "changed": changed}
        access_log_write(
            actor=actor,
            patient=patient,
            action=action,
            what="relative",
            details=details,
            policy_action=Action.RELATIVE_EDIT,
        )
    return relative


def relative_remove(*, actor: Actor, patient_id: int, relative_id: int) -> Relative:
    with transaction.atomic():
        patient = patient_for_user(actor, patient_id, Action.RELATIVE_EDIT, lock=True)
        relative = _relative_of(patient, relative_id)
        relative.removed_at = clock.now()
        relative.save(update_fields=["removed_at"])
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.UPDATE,
            what="relative",
            details={"relative": relative.pk, "removed": True},
            policy_action=Action.RELATIVE_EDIT,
        )
    return relative


def _relative_of(patient: Patient, relative_id: int) -> Relative:
    relative = Relative.objects.filter(
        patient=patient, pk=relative_id, removed_at__isnull=True
    ).first()
    if relative is None:
        raise NotFound(_("No such relative."))
    return relative
