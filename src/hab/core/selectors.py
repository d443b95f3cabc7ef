"""Reads of the core app: the clinic's staff and role changes, a user's API tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.errors import Forbidden
from hab.core.models import ApiToken, Clinic, Membership, RoleChangeProposal, User
from hab.core.roles import Grant, Role

HISTORY_LIMIT = 100


@dataclass
class StaffRow:
    user: User
    roles: list[str] = field(default_factory=list)


@dataclass
class RolePage:
    clinic: Clinic
    pending: list[RoleChangeProposal]
    decided: list[RoleChangeProposal]
    staff: list[StaffRow]


def role_changes_for(user: User, clinic: Clinic) -> RolePage:
    """The clinic's open proposals, its staff with their roles and the decided history,
    for an administrator or the clinic lead."""
    if not policy.can(user, policy.Action.ROLE_CHANGE, clinic):
        raise Forbidden(_("Only an administrator or the clinic lead manages roles."))
    proposals = RoleChangeProposal.objects.filter(clinic=clinic).select_related(
        "user", "proposed_by", "decision", "decision__by"
    )
    pending = list(proposals.filter(decision__isnull=True).order_by("at", "id"))
    decided = list(proposals.filter(decision__isnull=False)[:HISTORY_LIMIT])
    rows: dict[int, StaffRow] = {}
    for membership in (
        Membership.objects.filter(clinic=clinic, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "role")
    ):
        row = rows.setdefault(membership.user_id, StaffRow(user=membership.user))
        row.roles.append(Role(membership.role).label)
    grant_holders = User.objects.filter(
        pk__in=rows,
        user_permissions__content_type__app_label="research",
        user_permissions__codename="export_dates",
    ).values_list("pk", flat=True)
    for pk in grant_holders:
        rows[pk].roles.append(Grant.RESEARCH_EXPORT_DATES.label)
    return RolePage(clinic=clinic, pending=pending, decided=decided, staff=list(rows.values()))


def tokens_of(user: User) -> list[ApiToken]:
    """The user's own API tokens that still work, newest first."""
    return list(
        ApiToken.objects.filter(
            user=user, revoked_at__isnull=True, expires_at__gt=clock.now()
        ).order_by("-created_at", "-id")
    )
