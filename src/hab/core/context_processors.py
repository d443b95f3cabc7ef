from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hab.core import policy
from hab.core.policy import Action

# The menu: (label, url name, action that must be allowed at the current clinic).
MENU = [
    (_("Awaiting review"), "dosing:alerts", Action.PRESCRIBE),
    (_("Dosing"), "dosing:board", Action.BOARD_VIEW),
    (_("Patients"), "patients:list", Action.PATIENT_LIST),
    (_("Referrals"), "intake:inbox", Action.REFERRAL_VIEW),
    (_("Waitlist"), "intake:waitlist", Action.REFERRAL_VIEW),
    (_("Capacity"), "intake:capacity", Action.CAPACITY_VIEW),
    (_("Incidents"), "incidents:list", Action.INCIDENT_VIEW),
    (_("Ledger"), "stock:overview", Action.STOCK_VIEW),
    (_("Individual plans"), "care:clinic", Action.CARE_EDIT),
    (_("Follow-up"), "research:list", Action.FOLLOWUP_VIEW),
    (_("Protocol"), "prescribing:protocol", Action.BOARD_VIEW),
    (_("Rota"), "operations:week", Action.ROTA_VIEW),
    (_("Evaluation"), "evaluation:dashboard", Action.EVALUATION_VIEW),
    (_("Medicines registry"), "interop:lmdi", Action.LMDI_REPORT),
    (_("Clinic settings"), "clinic-settings", Action.CLINIC_SETTINGS_EDIT),
    (_("Roles"), "clinic-roles", Action.ROLE_CHANGE),
]
# Aggregates for those who see no records: (label, url name, action, unless this action).
MENU_AGGREGATES = [
    (_("Incidents"), "incidents:summary", Action.INCIDENT_SUMMARY, Action.INCIDENT_VIEW),
    (_("Research export"), "research-export", Action.RESEARCH_EXPORT, Action.PATIENT_VIEW),
]


def navigation(request: HttpRequest) -> dict:
    clinic = getattr(request, "clinic", None)
    user = getattr(request, "user", None)
    if clinic is None or user is None or not user.is_authenticated:
        return {"menu": []}
    menu = [
        {"label": label, "url": reverse(name), "active": request.path.startswith(reverse(name))}
        for label, name, action in MENU
        if policy.can(user, action, clinic)
    ]
    menu += [
        {"label": label, "url": reverse(name), "active": request.path.startswith(reverse(name))}
        for label, name, action, unless in MENU_AGGREGATES
        if policy.can(user, action, clinic) and not policy.can(user, unless, clinic)
    ]
    # One item is the current page: the longest match ("Awaiting review" lives under
    # /dosing/ too, and is not the board).
    current = max(
        (item for item in menu if item["active"]), key=lambda i: len(i["url"]), default=None
    )
    for item in menu:
        item["active"] = item is current
    return {
        "menu": menu,
        "current_roles": sorted(policy.roles_at(user, clinic)),
    }
