"""Writes of the core app: API tokens, the demo/admin set-up of clinics and staff, the
clinic settings, lock-screen PINs and the security log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import time, timedelta

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core import clock, policy, rules, two_factor
from hab.core.access import client_ip
from hab.core.errors import DomainError, Forbidden, Invalid
from hab.core.models import (
    ApiToken,
    Clinic,
    Membership,
    SecurityEvent,
    SecurityEventKind,
    SessionSlot,
    User,
)
from hab.core.roles import Role
from hab.env import envint

TOKEN_PREFIX = "hab_"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class SecondFactorMissing(DomainError):
    """The password was right, but the user's login needs a code that was not right."""

    status = 401


def token_create(
    *,
    username: str,
    password: str,
    otp: str | None = None,
    request: HttpRequest | None = None,
) -> str | None:
    """A new bearer token for valid credentials (returned once, stored hashed), else None.

    A user with a two-factor device, or whose role requires one (HAB_REQUIRE_2FA),
    must also give the current code as ``otp``; otherwise SecondFactorMissing. With
    ``request`` the attempt counts towards django-axes' lock-out (the API passes it).
    """
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return None
    if two_factor.needs_second_factor(user):
        if not two_factor.has_device(user):
            raise SecondFactorMissing(
                _("Two-factor login is required: log in on the web once to set it up.")
            )
        if two_factor.verify_code(user, otp) is None:
            if request is not None:
                # A wrong code counts as a failed login, as on the web.
                user_login_failed.send(
                    sender=__name__, credentials={"username": username}, request=request
                )
            if otp:
                raise SecondFactorMissing(_("The two-factor code is not right."))
            raise SecondFactorMissing(_("Give the two-factor code from the app as otp."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    lifetime = timedelta(hours=envint("HAB_API_TOKEN_HOURS", 24 * 30))
    ApiToken.objects.create(
        user=user,
        key_hash=_hash(raw),
        prefix=raw[:12],
        expires_at=timezone.now() + lifetime,
    )
    return raw


def token_user(raw: str) -> tuple[User, ApiToken] | None:
    """The user of a live token, or None for unknown, expired or revoked tokens."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(raw), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    # Touch at most every few minutes: a write per request would slow the dosing round.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def clinic_create(
    *,
    code: str,
    name: str,
    health_region: str,
    capacity: int,
    slots: list[tuple[str, str, time, time]],
) -> Clinic:
    clinic = Clinic.objects.create(
        code=code, name=name, health_region=health_region, capacity=capacity
    )
    SessionSlot.objects.bulk_create(
        SessionSlot(clinic=clinic, code=c, name=n, starts_at=s, ends_at=e) for c, n, s, e in slots
    )
    return clinic


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str,
    first_name: str,
    last_name: str,
    roles: list[tuple[Clinic, Role]],
    hpr_number: str = "",
) -> User:
    user = User(username=username, first_name=first_name, last_name=last_name)
    user.hpr_number = hpr_number
    user.set_password(password)
    user.full_clean()
    # Administrators run the Django admin, where no patient data is registered.
    user.is_staff = user.is_superuser = any(role == Role.ADMIN for _c, role in roles)
    user.save()
    Membership.objects.bulk_create(
        Membership(user=user, clinic=clinic, role=role) for clinic, role in roles
    )
    return user


def security_event_record(
    *,
    user: User,
    kind: SecurityEventKind,
    request: HttpRequest | None = None,
    clinic: Clinic | None = None,
    details: dict | None = None,
) -> SecurityEvent:
    """One row of the security log (append-only), at the clock's time."""
    return SecurityEvent.objects.create(
        at=clock.now(),
        user=user,
        username=user.get_username(),
        clinic=clinic,
        kind=kind,
        details=details or {},
        ip=client_ip(request) if request is not None else None,
    )


def pin_message(problem: str) -> str:
    messages = {
        rules.PinProblem.NOT_DIGITS: _("The PIN is digits only."),
        rules.PinProblem.LENGTH: _("The PIN is %(min)d to %(max)d digits.")
        % {"min": rules.PIN_MIN_DIGITS, "max": rules.PIN_MAX_DIGITS},
        rules.PinProblem.GUESSABLE: _(
            "Choose a PIN that is harder to guess: not one digit repeated or a straight run "
            "such as 1234."
        ),
    }
    return str(messages[problem])


@transaction.atomic
def pin_set(*, user: User, pin: str, password: str, request: HttpRequest | None = None) -> None:
    """Sets the user's lock-screen PIN, stored hashed with the password hasher. Asks for
    the password: whoever finds a tablet unlocked must not give themselves a PIN."""
    if not user.check_password(password):
        raise Invalid.one("password", _("The password is not right."))
    problem = rules.pin_problem(pin)
    if problem is not None:
        raise Invalid.one("pin", pin_message(problem))
    user.lock_pin = make_password(pin)
    user.save(update_fields=["lock_pin"])
    security_event_record(user=user, kind=SecurityEventKind.PIN_SET, request=request)


@transaction.atomic
def pin_remove(*, user: User, password: str, request: HttpRequest | None = None) -> None:
    if not user.check_password(password):
        raise Invalid.one("password", _("The password is not right."))
    user.lock_pin = ""
    user.save(update_fields=["lock_pin"])
    security_event_record(user=user, kind=SecurityEventKind.PIN_REMOVED, request=request)


@transaction.atomic
def clinic_settings_update(
    *, by: User, clinic: Clinic, idle_lock_minutes: int, request: HttpRequest | None = None
) -> Clinic:
    """The clinic lead's settings of the clinic; the change is in the security log."""
    if not policy.can(by, policy.Action.CLINIC_SETTINGS_EDIT, clinic):
        raise Forbidden(_("Only the clinic lead changes the clinic's settings."))
    if not rules.idle_lock_minutes_valid(idle_lock_minutes):
        raise Invalid.one(
            "idle_lock_minutes",
            _("Give %(min)d to %(max)d minutes.")
            % {"min": rules.IDLE_LOCK_MIN_MINUTES, "max": rules.IDLE_LOCK_MAX_MINUTES},
        )
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    before = clinic.idle_lock_minutes
    if before == idle_lock_minutes:
        return clinic
    clinic.idle_lock_minutes = idle_lock_minutes
    clinic.save(update_fields=["idle_lock_minutes"])
    security_event_record(
        user=by,
        kind=SecurityEventKind.SETTINGS_CHANGED,
        request=request,
        clinic=clinic,
        details={"idle_lock_minutes": {"before": before, "after": idle_lock_minutes}},
    )
    return clinic
