"""Who may do what, where: the one place that maps roles to actions.

Every view and API endpoint asks ``can(user, action, clinic)``. A user acts at a
clinic through their memberships there; roles at one clinic give nothing at another.

Care roles read a patient's record on the basis of their care relationship at the
patient's clinic. Roles without one (the administrator) must give a reason for each
record they open; the reason is written to the access log (Normen).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from hab.core.errors import Forbidden, NotFound
from hab.core.roles import Role

if TYPE_CHECKING:
    from hab.core.models import Clinic, User


class Action(StrEnum):
    CLINIC_VIEW = "clinic.view"
    # The clinic's own settings (the idle lock of shared tablets).
    CLINIC_SETTINGS_EDIT = "clinic.settings"
    # Proposing, approving and refusing changes of the clinic's roles (two people each).
    ROLE_CHANGE = "role.change"
    # The Django admin (/admin/): clinics, sessions, users without roles, tokens, 2FA
    # devices and lock-outs. No patient data is registered there.
    SYSTEM_ADMIN = "system.admin"
    PATIENT_LIST = "patient.list"
    PATIENT_VIEW = "patient.view"
    PATIENT_CREATE = "patient.create"
    PATIENT_EDIT = "patient.edit"
    CONSENT_RECORD = "consent.record"
    RELATIVE_EDIT = "relative.edit"
    ACCESS_LOG_VIEW = "access_log.view"
    # Everything HAB holds about a patient, for the patient (right of access, GDPR art. 15).
    PATIENT_ACCESS_REPORT = "patient.access_report"
    # The record as a FHIR Bundle, for handing the patient over to another service.
    PATIENT_FHIR = "patient.fhir"
    # Reporting the clinic's doses to Legemiddelregisteret.
    LMDI_REPORT = "lmdi.report"
    CAPACITY_VIEW = "capacity.view"
    REFERRAL_VIEW = "referral.view"
    REFERRAL_CREATE = "referral.create"
    REFERRAL_MANAGE = "referral.manage"
    REFERRAL_ASSESS = "referral.assess"
    REFERRAL_URGENT = "referral.urgent"
    PLACE_OFFER = "place.offer"
    EPISODE_ADMIT = "episode.admit"
    EPISODE_PHASE = "episode.phase"
    EPISODE_COORDINATOR = "episode.coordinator"
    EPISODE_TRANSFER = "episode.transfer"
    EPISODE_DISCHARGE = "episode.discharge"
    CRITERIA_EDIT = "criteria.edit"
    PRESCRIBE = "prescription.write"
    PROTOCOL_EDIT = "protocol.edit"
    # The named doctor's confirmation that puts a protocol version in force.
    PROTOCOL_CONFIRM = "protocol.confirm"
    BOARD_VIEW = "board.view"
    DOSE = "dose.record"
    DOSE_CORRECT = "dose.correct"
    SESSION_CLOSE = "session.close"
    # Asking the doctor to look at a blocked patient ("Varsle lege").
    DOCTOR_ALERT = "doctor_alert.raise"
    # Stopping a patient's dosing until a doctor lifts it ("Stopp dosering").
    DOSE_HOLD = "dose_hold.place"
    DOSE_HOLD_LIFT = "dose_hold.lift"
    GUEST_AUTHORISE = "guest.authorise"
    STOCK_VIEW = "stock.view"
    STOCK_RECEIVE = "stock.receive"
    STOCK_WASTE = "stock.waste"
    STOCK_COUNT = "stock.count"
    STOCK_TRANSFER = "stock.transfer"
    STOCK_ADJUST = "stock.adjust"
    STOCK_MANAGE = "stock.manage"
    INCIDENT_VIEW = "incident.view"
    INCIDENT_REPORT = "incident.report"
    INCIDENT_MANAGE = "incident.manage"
    INCIDENT_SUMMARY = "incident.summary"
    CARE_VIEW = "care.view"
    CARE_EDIT = "care.edit"
    CARE_NOTE_WRITE = "care.note.write"
    NOTE_READ_CLINICAL = "care.note.read_clinical"
    NOTE_READ_PSYCHOLOGY = "care.note.read_psychology"
    ROTA_VIEW = "rota.view"
    ROTA_EDIT = "rota.edit"
    CONTINGENCY = "contingency.print"
    FOLLOWUP_VIEW = "followup.view"
    FOLLOWUP_RECORD = "followup.record"
    RESEARCH_EXPORT = "research.export"
    EVALUATION_VIEW = "evaluation.view"
    COSTS_EDIT = "evaluation.costs"


A = Action
# What everyone with a care relationship at the clinic may read.
_CLINICAL_READ = {
    A.CLINIC_VIEW,
    A.CAPACITY_VIEW,
    A.PATIENT_LIST,
    A.PATIENT_VIEW,
    A.REFERRAL_VIEW,
    A.BOARD_VIEW,
}
# The dosing room: nurses dose; doctors and the clinic lead can step in.
_DOSING = {A.DOSE, A.DOSE_CORRECT, A.SESSION_CLOSE, A.DOCTOR_ALERT, A.DOSE_HOLD}
_CONTACT = {A.CONSENT_RECORD, A.RELATIVE_EDIT}
# Incidents are reported and read by everyone in the care team; followed up by the lead.
_INCIDENTS = {A.INCIDENT_VIEW, A.INCIDENT_REPORT}
# Care plans and status are read by the whole care team.
_CARE = {A.CARE_VIEW, A.ROTA_VIEW, A.FOLLOWUP_VIEW, A.FOLLOWUP_RECORD}
# The controlled-drug ledger: those who handle the drugs see it, count it and witness waste.
_STOCK = {A.STOCK_VIEW, A.STOCK_WASTE, A.STOCK_COUNT}

POLICY: dict[Role, frozenset[Action]] = {
    Role.DOCTOR: frozenset(
        _CLINICAL_READ
        | _CONTACT
        | _INCIDENTS
        | _CARE
        | {A.CARE_EDIT, A.CARE_NOTE_WRITE, A.NOTE_READ_CLINICAL, A.CONTINGENCY}
        | {A.PATIENT_CREATE, A.PATIENT_EDIT, A.REFERRAL_MANAGE, A.REFERRAL_ASSESS}
        | {A.PATIENT_FHIR}
        | {A.REFERRAL_URGENT, A.EPISODE_PHASE, A.EPISODE_DISCHARGE}
        | {A.PRESCRIBE, A.GUEST_AUTHORISE, A.PROTOCOL_CONFIRM}
        # Only a doctor lifts a stop-dose hold, whoever placed it.
        | {A.DOSE_HOLD_LIFT}
        | _DOSING
        | _STOCK
    ),
    Role.NURSE: frozenset(
        _CLINICAL_READ
        | _CONTACT
        | _DOSING
        | {A.PATIENT_EDIT}
        | _STOCK
        | {A.STOCK_RECEIVE}
        | _INCIDENTS
        | _CARE
        | {A.CONTINGENCY}
    ),
    Role.PSYCHOLOGIST: frozenset(
        _CLINICAL_READ
        | _CONTACT
        | _INCIDENTS
        | _CARE
        | {A.CARE_EDIT, A.CARE_NOTE_WRITE, A.NOTE_READ_CLINICAL, A.NOTE_READ_PSYCHOLOGY}
    ),
    Role.COORDINATOR: frozenset(
        _CLINICAL_READ
        | _CONTACT
        | _INCIDENTS
        | _CARE
        | {A.CARE_EDIT, A.CARE_NOTE_WRITE}
        | {A.PATIENT_CREATE, A.PATIENT_EDIT, A.REFERRAL_CREATE, A.REFERRAL_MANAGE}
        | {A.EPISODE_COORDINATOR, A.PATIENT_FHIR}
    ),
    Role.CLINIC_LEAD: frozenset(
        _CLINICAL_READ
        | _CONTACT
        | _INCIDENTS
        | _CARE
        | {A.INCIDENT_MANAGE, A.INCIDENT_SUMMARY, A.CARE_EDIT, A.CARE_NOTE_WRITE}
        | {A.ROTA_EDIT, A.CONTINGENCY, A.EVALUATION_VIEW, A.COSTS_EDIT}
        | {A.CLINIC_SETTINGS_EDIT, A.ROLE_CHANGE}
        | {A.PATIENT_CREATE, A.PATIENT_EDIT, A.ACCESS_LOG_VIEW, A.PATIENT_ACCESS_REPORT}
        | {A.PATIENT_FHIR, A.LMDI_REPORT}
        | {A.REFERRAL_CREATE, A.REFERRAL_MANAGE, A.PLACE_OFFER, A.EPISODE_ADMIT}
        | {A.EPISODE_COORDINATOR, A.EPISODE_TRANSFER, A.EPISODE_DISCHARGE}
        | {A.PROTOCOL_EDIT}
        | _DOSING
        | _STOCK
        # Adjusting the book, moving stock between clinics, products, resolving
        # discrepancies and verifying the chain are the clinic lead's.
        | {A.STOCK_RECEIVE, A.STOCK_TRANSFER, A.STOCK_ADJUST, A.STOCK_MANAGE}
    ),
    # Researchers get pseudonymised exports only, never a patient's record; the clinic's
    # capacity figures are aggregates.
    Role.RESEARCHER: frozenset(
        {A.CLINIC_VIEW, A.CAPACITY_VIEW, A.RESEARCH_EXPORT, A.EVALUATION_VIEW}
    ),
    # The programme owner follows the programme through aggregates, not records, and owns
    # the trial's intake criteria.
    Role.PROGRAMME: frozenset(
        {A.CLINIC_VIEW, A.CAPACITY_VIEW, A.CRITERIA_EDIT, A.INCIDENT_SUMMARY}
        | {A.EVALUATION_VIEW, A.COSTS_EDIT}
    ),
    # System administration; opening a record needs a stated reason every time.
    Role.ADMIN: frozenset(
        {A.CLINIC_VIEW, A.PATIENT_VIEW, A.ACCESS_LOG_VIEW, A.ROLE_CHANGE, A.SYSTEM_ADMIN}
    ),
}

# Roles whose reading of a record rests on a care relationship at the clinic.
CARE_ROLES: frozenset[Role] = frozenset(
    {Role.DOCTOR, Role.NURSE, Role.PSYCHOLOGIST, Role.COORDINATOR, Role.CLINIC_LEAD}
)


def roles_by_clinic(user: User) -> dict[int, frozenset[Role]]:
    """The user's roles at each clinic id, read once per user object."""
    cached = getattr(user, "_hab_roles_by_clinic", None)
    if cached is None:
        found: dict[int, set[Role]] = {}
        if user.is_authenticated and user.is_active:
            for clinic_id, role in user.memberships.values_list("clinic_id", "role"):
                found.setdefault(clinic_id, set()).add(Role(role))
        cached = {clinic_id: frozenset(roles) for clinic_id, roles in found.items()}
        user._hab_roles_by_clinic = cached
    return cached


def roles_at(user: User, clinic: Clinic | int) -> frozenset[Role]:
    clinic_id = clinic if isinstance(clinic, int) else clinic.pk
    return roles_by_clinic(user).get(clinic_id, frozenset())


def can(user: User, action: Action, clinic: Clinic | int) -> bool:
    return any(action in POLICY[role] for role in roles_at(user, clinic))


def is_member(user: User, clinic: Clinic | int) -> bool:
    return bool(roles_at(user, clinic))


def needs_reason(user: User, action: Action, clinic: Clinic | int) -> bool:
    """True when the user may do this only with a stated reason (no care relationship)."""
    granting = {role for role in roles_at(user, clinic) if action in POLICY[role]}
    return bool(granting) and not (granting & CARE_ROLES)


def clinic_ids_where(user: User, action: Action) -> list[int]:
    return [
        clinic_id
        for clinic_id, roles in roles_by_clinic(user).items()
        if any(action in POLICY[role] for role in roles)
    ]


def clinic_for_action(user: User, clinic: Clinic, action: Action) -> Clinic:
    """The clinic when the user may act there; 404 outside their clinics, 403 for their role."""
    if not is_member(user, clinic):
        raise NotFound(_("No such clinic."))
    if not can(user, action, clinic):
        raise Forbidden(_("Your role does not give access to this."))
    return clinic
