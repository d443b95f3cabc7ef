"""Two-factor authentication (TOTP, django-otp) for the roles that carry the most risk.

Who must use a second factor is derived from the policy table: every role that may
prescribe, export research data or change a clinic's dosing protocol, and everyone who
can open the Django admin (where roles and memberships are granted). HAB_REQUIRE_2FA
turns the requirement on (the default) or off (the demo). A user who has confirmed a
device is always asked for a code, whether or not their role requires one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from hab.core import policy
from hab.core.policy import POLICY, Action
from hab.core.roles import Role

if TYPE_CHECKING:
    from django.http import HttpRequest

    from hab.core.models import User

# The actions whose misuse would hurt most: a prescription, a data export, the protocol.
SECOND_FACTOR_ACTIONS: frozenset[Action] = frozenset(
    {Action.PRESCRIBE, Action.RESEARCH_EXPORT, Action.PROTOCOL_EDIT, Action.PROTOCOL_CONFIRM}
)
ROLES_NEEDING_2FA: frozenset[Role] = frozenset(
    role for role, actions in POLICY.items() if actions & SECOND_FACTOR_ACTIONS
)
# Set in the session when the login's second factor came from the identity provider
# (HelseID logs in with a high assurance level of its own).
SESSION_EXTERNAL_MFA = "hab_external_mfa"
DEVICE_NAME = "HAB"
_CODE = re.compile(r"^\d{6}$")


def role_requires_2fa(user: User) -> bool:
    """True when the user's roles or admin rights make a second factor mandatory."""
    if not getattr(settings, "HAB_REQUIRE_2FA", True):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return any(roles & ROLES_NEEDING_2FA for roles in policy.roles_by_clinic(user).values())


def has_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user: User) -> bool:
    """Whether logging in takes a code (or an enrolment first) after the password."""
    return has_device(user) or role_requires_2fa(user)


def second_factor_done(request: HttpRequest) -> bool:
    """The session was verified by a TOTP code, or by the identity provider."""
    user = request.user
    verified = getattr(user, "is_verified", None)
    if verified is not None and verified():
        return True
    return bool(request.session.get(SESSION_EXTERNAL_MFA))


def normalise_code(code: str | None) -> str:
    """People type codes with spaces ("123 456"); the device wants six digits."""
    return re.sub(r"\s+", "", code or "")


@transaction.atomic
def verify_code(user: User, code: str | None) -> TOTPDevice | None:
    """The confirmed device that accepts the code now, or None (django-otp throttles
    repeated failures per device and refuses a code used once already). One transaction:
    django-otp locks the devices while it checks and records the code, so two requests
    cannot both spend the same code."""
    code = normalise_code(code)
    if not _CODE.match(code):
        return None
    for device in devices_for_user(user, confirmed=True, for_verify=True):
        if isinstance(device, TOTPDevice) and device.verify_token(code):
            return device
    return None


@transaction.atomic
def enrolment_device(user: User) -> TOTPDevice:
    """The user's unconfirmed device to enrol, made once and shown until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def enrolment_confirm(*, user: User, device: TOTPDevice, code: str | None) -> bool:
    """Confirms the device when the code from the app matches; other unconfirmed devices go."""
    code = normalise_code(code)
    if device.user_id != user.pk or device.confirmed or not _CODE.match(code):
        return False
    if not device.verify_token(code):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return True


def device_reset(*, user: User) -> int:
    """Removes the user's devices (a lost phone); they enrol again at the next login."""
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    return deleted


def secret_text(device: TOTPDevice) -> str:
    """The device's key as the apps want it typed: base32 in groups of four."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
