"""The expected permissions: role × action, written out independently of hab.core.policy.

Kept apart from the tests that read it (the authorisation tests of every app), so that a
change to the policy table that is not also made here fails, and no test module imports
another.
"""

from __future__ import annotations

from hab.core.policy import Action
from hab.core.roles import Role

CARE = {"doctor", "nurse", "psychologist", "coordinator", "clinic_lead"}
ALLOWED: dict[Action, set[str]] = {
    Action.CLINIC_VIEW: set(Role.values),
    Action.CLINIC_SETTINGS_EDIT: {"clinic_lead"},
    Action.ROLE_CHANGE: {"clinic_lead", "admin"},
    Action.SYSTEM_ADMIN: {"admin"},
    Action.PATIENT_LIST: CARE,
    Action.PATIENT_VIEW: CARE | {"admin"},
    Action.PATIENT_CREATE: {"doctor", "coordinator", "clinic_lead"},
    Action.PATIENT_EDIT: {"doctor", "nurse", "coordinator", "clinic_lead"},
    Action.CONSENT_RECORD: CARE,
    Action.RELATIVE_EDIT: CARE,
    Action.ACCESS_LOG_VIEW: {"clinic_lead", "admin"},
    Action.PATIENT_ACCESS_REPORT: {"clinic_lead"},
    Action.PATIENT_FHIR: {"doctor", "coordinator", "clinic_lead"},
    Action.LMDI_REPORT: {"clinic_lead"},
    Action.CAPACITY_VIEW: CARE | {"researcher", "programme"},
    Action.REFERRAL_VIEW: CARE,
    Action.REFERRAL_CREATE: {"coordinator", "clinic_lead"},
    Action.REFERRAL_MANAGE: {"doctor", "coordinator", "clinic_lead"},
    Action.REFERRAL_ASSESS: {"doctor"},
    Action.REFERRAL_URGENT: {"doctor"},
    Action.PLACE_OFFER: {"clinic_lead"},
    Action.EPISODE_ADMIT: {"clinic_lead"},
    Action.EPISODE_PHASE: {"doctor"},
    Action.EPISODE_COORDINATOR: {"coordinator", "clinic_lead"},
    Action.EPISODE_TRANSFER: {"clinic_lead"},
    Action.EPISODE_DISCHARGE: {"doctor", "clinic_lead"},
    Action.CRITERIA_EDIT: {"programme"},
    Action.PRESCRIBE: {"doctor"},
    Action.PROTOCOL_EDIT: {"clinic_lead"},
    Action.PROTOCOL_CONFIRM: {"doctor"},
    Action.BOARD_VIEW: CARE,
    Action.DOSE: {"nurse", "doctor", "clinic_lead"},
    Action.DOSE_CORRECT: {"nurse", "doctor", "clinic_lead"},
    Action.SESSION_CLOSE: {"nurse", "doctor", "clinic_lead"},
    Action.DOCTOR_ALERT: {"nurse", "doctor", "clinic_lead"},
    Action.DOSE_HOLD: {"nurse", "doctor", "clinic_lead"},
    Action.DOSE_HOLD_LIFT: {"doctor"},
    Action.GUEST_AUTHORISE: {"doctor"},
    Action.STOCK_VIEW: {"nurse", "doctor", "clinic_lead"},
    Action.STOCK_RECEIVE: {"nurse", "clinic_lead"},
    Action.STOCK_WASTE: {"nurse", "doctor", "clinic_lead"},
    Action.STOCK_COUNT: {"nurse", "doctor", "clinic_lead"},
    Action.STOCK_TRANSFER: {"clinic_lead"},
    Action.STOCK_ADJUST: {"clinic_lead"},
    Action.STOCK_MANAGE: {"clinic_lead"},
    Action.INCIDENT_VIEW: CARE,
    Action.INCIDENT_REPORT: CARE,
    Action.INCIDENT_MANAGE: {"clinic_lead"},
    Action.INCIDENT_SUMMARY: {"clinic_lead", "programme"},
    Action.CARE_VIEW: CARE,
    Action.CARE_EDIT: {"doctor", "psychologist", "coordinator", "clinic_lead"},
    Action.CARE_NOTE_WRITE: {"doctor", "psychologist", "coordinator", "clinic_lead"},
    Action.NOTE_READ_CLINICAL: {"doctor", "psychologist"},
    Action.NOTE_READ_PSYCHOLOGY: {"psychologist"},
    Action.ROTA_VIEW: CARE,
    Action.ROTA_EDIT: {"clinic_lead"},
    Action.CONTINGENCY: {"nurse", "doctor", "clinic_lead"},
    Action.FOLLOWUP_VIEW: CARE,
    Action.FOLLOWUP_RECORD: CARE,
    Action.RESEARCH_EXPORT: {"researcher"},
    Action.EVALUATION_VIEW: {"clinic_lead", "researcher", "programme"},
    Action.COSTS_EDIT: {"clinic_lead", "programme"},
}
# Roles that may open a record only with a stated reason (no care relationship).
WITH_REASON = {"admin"}
