"""The acting person of a request, and the access log writer (Normen)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.errors import ReasonRequired
from hab.core.models import AccessAction, AccessBasis, AccessLog, Channel

if TYPE_CHECKING:
    from django.http import HttpRequest

    from hab.core.models import User
    from hab.patients.models import Patient

REASON_HEADER = "X-HAB-Access-Reason"


@dataclass(frozen=True)
class Actor:
    """Who is acting, through which channel, from where, and the reasons they stated."""

    user: User
    channel: Channel
    ip: str | None = None
    # A reason given for the whole request (API header), or per patient id (web session).
    reason: str = ""
    reasons: Mapping[int, str] = field(default_factory=dict)

    def reason_for(self, patient_id: int) -> str:
        return self.reasons.get(patient_id, "") or self.reason

    @classmethod
    def system(cls, user: User) -> Actor:
        return cls(user=user, channel=Channel.SYSTEM)


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy, the proxy is expected to set REMOTE_ADDR (gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


def actor_from_request(request: HttpRequest, channel: Channel) -> Actor:
    if channel == Channel.API:
        reason = (request.headers.get(REASON_HEADER) or "").strip()[:300]
        return Actor(user=request.user, channel=channel, ip=client_ip(request), reason=reason)
    # Web pages add the per-patient reasons kept in the session (hab.core.web.web_actor).
    return Actor(user=request.user, channel=channel, ip=client_ip(request))


def basis_for(actor: Actor, patient: Patient, action: policy.Action) -> tuple[str, str]:
    """The basis of this access and the reason, or ReasonRequired when one is owed."""
    if not policy.needs_reason(actor.user, action, patient.clinic_id):
        return AccessBasis.CARE, ""
    reason = actor.reason_for(patient.pk)
    if not reason:
        raise ReasonRequired(
            _("State why you need to open this record. The reason is written to the access log.")
        )
    return AccessBasis.REASON, reason


def _roles_text(actor: Actor, clinic_id: int) -> str:
    return ",".join(sorted(policy.roles_at(actor.user, clinic_id)))


def access_log_write(
    *,
    actor: Actor,
    patient: Patient,
    action: AccessAction,
    what: str,
    details: dict | None = None,
    policy_action: policy.Action = policy.Action.PATIENT_VIEW,
    basis: AccessBasis | None = None,
    clinic_id: int | None = None,
    reason: str = "",
) -> AccessLog:
    """``basis`` (and ``reason``) are given where the caller established them (a guest dose
    at another clinic; the reason every read of the access log takes)."""
    basis, reason = (basis, reason) if basis else basis_for(actor, patient, policy_action)
    return AccessLog.objects.create(
        at=clock.now(),
        user=actor.user,
        username=actor.user.get_username(),
        roles=_roles_text(actor, clinic_id or patient.clinic_id),
        patient=patient,
        clinic_id=clinic_id or patient.clinic_id,
        action=action,
        what=what,
        details=details or {},
        channel=actor.channel,
        ip=actor.ip,
        basis=basis,
        reason=reason,
    )


class Listed(Protocol):
    """A patient as a list shows them: a model object or a lighter record of its columns."""

    pk: int
    clinic_id: int


# A list shown again to the same person within this time is not logged again: the dosing
# board refreshes every 30 seconds, and the record of who saw whom stays just as true.
LIST_REPEAT = timedelta(minutes=15)


def access_log_listed(
    *,
    actor: Actor,
    patients: Iterable[Listed],
    details: dict,
    basis: AccessBasis = AccessBasis.CARE,
    clinic_id: int | None = None,
) -> None:
    """One row per patient shown in a list: their name was on the screen. ``clinic_id``
    is where they were shown, when that is not their own clinic (guests)."""
    now = clock.now()
    # Whom this person was shown or opened lately (by the user's index, a few hundred rows
    # at most); a list of the ids in the query cost more than reading them all. A patient
    # whose record or dose panel was just opened is not logged again as listed on it.
    seen = set(
        AccessLog.objects.filter(
            user=actor.user,
            action__in=(AccessAction.LIST, AccessAction.VIEW),
            at__gte=now - LIST_REPEAT,
        ).values_list("patient_id", flat=True)
    )
    patients = [p for p in patients if p.pk not in seen]
    rows = [
        AccessLog(
            at=now,
            user=actor.user,
            username=actor.user.get_username(),
            roles=_roles_text(actor, clinic_id or patient.clinic_id),
            patient_id=patient.pk,
            clinic_id=clinic_id or patient.clinic_id,
            action=AccessAction.LIST,
            what="patient list",
            details=details,
            channel=actor.channel,
            ip=actor.ip,
            basis=basis,
        )
        for patient in patients
    ]
    AccessLog.objects.bulk_create(rows)
