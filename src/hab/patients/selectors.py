"""Reads of the patient registry. Opening a record writes its access-log row."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from hab.core import policy
from hab.core.access import Actor, access_log_listed, access_log_write, basis_for
from hab.core.errors import Forbidden, NotFound, ReasonRequired
from hab.core.models import AccessAction, AccessBasis, AccessLog, Clinic
from hab.core.policy import Action, clinic_for_action
from hab.patients.models import Consent, ConsentKind, Patient, Relative

LIST_LIMIT = 50


def patient_for_user(
    actor: Actor, patient_id: int, action: Action = Action.PATIENT_VIEW, *, lock: bool = False
) -> Patient:
    """The patient, or 404 when unknown or outside the user's clinics (never telling which),
    403 when the role may not do this, or ReasonRequired when a reason is owed first."""
    queryset = Patient.objects.select_related("clinic")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    patient = queryset.filter(pk=patient_id).first()
    if patient is None or not policy.is_member(actor.user, patient.clinic_id):
        raise NotFound(_("No such patient."))
    if not policy.can(actor.user, action, patient.clinic_id):
        raise Forbidden(_("Your role does not give access to this."))
    basis_for(actor, patient, action)
    return patient


def patient_open(
    actor: Actor,
    patient_id: int,
    action: Action = Action.PATIENT_VIEW,
    *,
    what: str = "record",
    details: dict | None = None,
    shown: bool = True,
) -> Patient:
    """The patient for a page or an answer that shows their data, checked for ``action``;
    the read is written to the access log here, so no view can forget it.

    ``shown=False`` for the POST of a form: its service writes the row of the change (one
    row per write, not a read and a write), and a form shown again with errors shows what
    was typed, already logged when the form was opened."""
    patient = patient_for_user(actor, patient_id, action)
    if shown:
        access_log_write(
            actor=actor,
            patient=patient,
            action=AccessAction.VIEW,
            what=what,
            details=details,
            policy_action=action,
        )
    return patient


def patient_search(actor: Actor, clinic: Clinic, query: str = "") -> list[Patient]:
    """Patients of a clinic matching a name or id; everyone shown is logged as listed."""
    clinic_for_action(actor.user, clinic, Action.PATIENT_LIST)
    patients = Patient.objects.filter(clinic=clinic)
    query = " ".join(query.split())
    if query.replace(" ", "").isdigit():
        patients = patients.filter(national_id__startswith=query.replace(" ", ""))
    elif query:
        for term in query.split():
            patients = patients.filter(
                Q(given_name__icontains=term) | Q(family_name__icontains=term)
            )
    found = list(patients[:LIST_LIMIT])
    if found:
        access_log_listed(actor=actor, patients=found, details={"query": query})
    return found


def current_consents(patient: Patient) -> dict[str, Consent | None]:
    """The consent in force for each kind: the latest given or withdrawn."""
    latest: dict[str, Consent | None] = dict.fromkeys(ConsentKind.values)
    for consent in patient.consents.select_related("recorded_by").order_by("at", "id"):
        latest[consent.kind] = consent
    return latest


def consent_history(patient: Patient) -> QuerySet[Consent]:
    return patient.consents.select_related("recorded_by")


def active_relatives(patient: Patient) -> QuerySet[Relative]:
    return patient.relatives.filter(removed_at__isnull=True)


def access_log_for(
    actor: Actor, patient_id: int, *, reason: str, limit: int = 500
) -> tuple[Patient, list]:
    """The patient's access log. Reading it always takes a reason given for this read,
    care relationship or not (it shows who looked at the patient), and the read is itself
    written to the access log with that reason. Without one: ReasonRequired, after the
    checks that make it a 404 or 403 for those who may not read it at all."""
    patient = Patient.objects.select_related("clinic").filter(pk=patient_id).first()
    if patient is None or not policy.is_member(actor.user, patient.clinic_id):
        raise NotFound(_("No such patient."))
    if not policy.can(actor.user, Action.ACCESS_LOG_VIEW, patient.clinic_id):
        raise Forbidden(_("Your role does not give access to this."))
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise ReasonRequired(
            _("State why you read the access log. The reason is written to the access log.")
        )
    access_log_write(
        actor=actor,
        patient=patient,
        action=AccessAction.VIEW,
        what="access log",
        basis=AccessBasis.REASON,
        reason=reason,
    )
    rows = list(AccessLog.objects.filter(patient=patient).order_by("-at", "-id")[:limit])
    return patient, rows
