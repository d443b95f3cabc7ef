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

from hab.core.roles import Role

if TYPE_CHECKING:
    from hab.core.models import Clinic, User


class Action(StrEnum):
    CLINIC_VIEW = "clinic.view"
    PATIENT_LIST = "patient.list"
    PATIENT_VIEW = "patient.view"
    PATIENT_CREATE = "patient.create"
    PATIENT_EDIT = "patient.edit"
    CONSENT_RECORD = "consent.record"
    RELATIVE_EDIT = "relative.edit"
    ACCESS_LOG_VIEW = "access_log.view"


A = Action
_CLINICAL_READ = {A.CLINIC_VIEW, A.PATIENT_LIST, A.PATIENT_VIEW}

POLICY: dict[Role, frozenset[Action]] = {
    Role.DOCTOR: frozenset(
        _CLINICAL_READ | {A.PATIENT_CREATE, A.PATIENT_EDIT, A.CONSENT_RECORD, A.RELATIVE_EDIT}
    ),
    Role.NURSE: frozenset(_CLINICAL_READ | {A.PATIENT_EDIT, A.CONSENT_RECORD, A.RELATIVE_EDIT}),
    Role.PSYCHOLOGIST: frozenset(_CLINICAL_READ | {A.CONSENT_RECORD, A.RELATIVE_EDIT}),
    Role.COORDINATOR: frozenset(
        _CLINICAL_READ | {A.PATIENT_CREATE, A.PATIENT_EDIT, A.CONSENT_RECORD, A.RELATIVE_EDIT}
    ),
    Role.CLINIC_LEAD: frozenset(
        _CLINICAL_READ
        | {A.PATIENT_CREATE, A.PATIENT_EDIT, A.CONSENT_RECORD, A.RELATIVE_EDIT, A.ACCESS_LOG_VIEW}
    ),
    # Researchers get pseudonymised exports only, never a patient's record.
    Role.RESEARCHER: frozenset({A.CLINIC_VIEW}),
    # The programme owner follows the programme through aggregates, not records.
    Role.PROGRAMME: frozenset({A.CLINIC_VIEW}),
    # System administration; opening a record needs a stated reason every time.
    Role.ADMIN: frozenset({A.CLINIC_VIEW, A.PATIENT_VIEW, A.ACCESS_LOG_VIEW}),
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
