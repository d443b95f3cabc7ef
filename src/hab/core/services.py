"""Writes of the core app: API tokens, the demo/admin set-up of clinics and staff, role
changes by two people, the clinic settings, lock-screen PINs and the security log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import time, timedelta

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from hab.core import clock, policy, rules, two_factor
from hab.core.access import client_ip
from hab.core.errors import Conflict, DomainError, FieldError, Forbidden, Invalid, NotFound
from hab.core.models import (
    ApiToken,
    Clinic,
    Membership,
    RoleChangeDecision,
    RoleChangeKind,
    RoleChangeProposal,
    SecurityEvent,
    SecurityEventKind,
    SessionSlot,
    User,
)
from hab.core.name_fields import clean_person_name
from hab.core.roles import Grant, Role, RoleOrGrant
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
        if not (otp or "").strip():
            # Asking for the code is the normal second step of a login, not a failure:
            # it does not count towards the lock-out.
            raise SecondFactorMissing(_("Second factor required."))
        if two_factor.verify_code(user, otp) is None:
            if request is not None:
                # A wrong code counts as a failed login, as on the web.
                user_login_failed.send(
                    sender=__name__, credentials={"username": username}, request=request
                )
            raise SecondFactorMissing(_("The two-factor code is not right."))
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    ApiToken.objects.create(
        user=user,
        key_hash=_hash(raw),
        prefix=raw[:12],
        created_at=now,
        expires_at=now + token_lifetime(),
    )
    return raw


def token_lifetime() -> timedelta:
    return timedelta(hours=envint("HAB_API_TOKEN_HOURS", rules.TOKEN_HOURS_DEFAULT))


def token_user(raw: str) -> tuple[User, ApiToken] | None:
    """The user of a live token, or None for unknown, expired or revoked tokens."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = clock.now()
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


def _tokens_revoke(
    tokens, *, user: User, why: str, request: HttpRequest | None = None, by: User | None = None
) -> int:
    """Revokes the live tokens among ``tokens`` and logs it (TOKEN_REVOKED) when any were."""
    now = clock.now()
    live = list(tokens.filter(revoked_at__isnull=True, expires_at__gt=now).values("pk", "prefix"))
    if not live:
        return 0
    ApiToken.objects.filter(pk__in=[t["pk"] for t in live]).update(revoked_at=now)
    details = {"why": why, "tokens": [t["prefix"] for t in live]}
    if by is not None and by.pk != user.pk:
        details["by"] = by.get_username()
    security_event_record(
        user=user, kind=SecurityEventKind.TOKEN_REVOKED, request=request, details=details
    )
    return len(live)


@transaction.atomic
def token_revoke(*, token: ApiToken, request: HttpRequest | None = None) -> None:
    """The holder revokes the token in use (logging out of the API)."""
    _tokens_revoke(
        ApiToken.objects.filter(pk=token.pk), user=token.user, why="logout", request=request
    )


@transaction.atomic
def token_revoke_own(*, user: User, token_id: int, request: HttpRequest | None = None) -> None:
    """A user revokes one of their own tokens; someone else's is 404 like an unknown one."""
    tokens = ApiToken.objects.filter(pk=token_id, user=user)
    if not tokens.exists():
        raise NotFound(_("No such token."))
    _tokens_revoke(tokens, user=user, why="revoked by holder", request=request)


@transaction.atomic
def tokens_revoke_by_admin(*, tokens, by: User, request: HttpRequest | None = None) -> int:
    """An administrator revokes the chosen tokens (the Django admin's action)."""
    revoked = 0
    for user in User.objects.filter(pk__in=tokens.values("user")):
        revoked += _tokens_revoke(
            tokens.filter(user=user),
            user=user,
            why="revoked by administrator",
            by=by,
            request=request,
        )
    return revoked


@transaction.atomic
def tokens_revoke_all(
    *, user: User, why: str, request: HttpRequest | None = None, by: User | None = None
) -> int:
    """Every live token of the user, when their password changes, a role of theirs is
    removed or they are deactivated: a token must not outlast the trust it was given on."""
    return _tokens_revoke(
        ApiToken.objects.filter(user=user), user=user, why=why, request=request, by=by
    )


@transaction.atomic
def clinic_create(
    *,
    code: str,
    name: str,
    health_region: str,
    capacity: int,
    slots: list[tuple[str, str, time, time]],
    org_number: str = "",
) -> Clinic:
    if org_number and not rules.org_number_valid(org_number):
        raise Invalid.one("org_number", _("Not a valid organisation number (nine digits)."))
    clinic = Clinic.objects.create(
        code=code,
        name=name,
        health_region=health_region,
        capacity=capacity,
        org_number=org_number,
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
    errors: list[FieldError] = []
    first_name = clean_person_name(errors, "first_name", first_name, max_length=150)
    last_name = clean_person_name(errors, "last_name", last_name, max_length=150)
    user = User(username=username, first_name=first_name, last_name=last_name)
    user.hpr_number = hpr_number
    try:
        # The password policy (settings.AUTH_PASSWORD_VALIDATORS) knows the user's name.
        validate_password(password, user)
    except ValidationError as error:
        errors += [FieldError("password", message) for message in error.messages]
    if errors:
        raise Invalid(errors)
    user.set_password(password)
    user.full_clean()
    # Administrators run the Django admin, where no patient data is registered. HAB has
    # no superusers: the admin's rights there come from the role (hab.core.backends).
    user.is_staff = any(role == Role.ADMIN for _c, role in roles)
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
    *,
    by: User,
    clinic: Clinic,
    idle_lock_minutes: int | None = None,
    org_number: str | None = None,
    request: HttpRequest | None = None,
) -> Clinic:
    """The clinic lead's settings of the clinic (``None`` leaves a setting as it is); each
    change is in the security log with its value before and after."""
    if not policy.can(by, policy.Action.CLINIC_SETTINGS_EDIT, clinic):
        raise Forbidden(_("Only the clinic lead changes the clinic's settings."))
    errors: list[FieldError] = []
    if idle_lock_minutes is not None and not rules.idle_lock_minutes_valid(idle_lock_minutes):
        errors.append(
            FieldError(
                "idle_lock_minutes",
                _("Give %(min)d to %(max)d minutes.")
                % {"min": rules.IDLE_LOCK_MIN_MINUTES, "max": rules.IDLE_LOCK_MAX_MINUTES},
            )
        )
    if org_number is not None:
        # Written as on letters ("999 000 019") or as one number: the digits are stored.
        org_number = "".join(org_number.split())
        if org_number and not rules.org_number_valid(org_number):
            errors.append(
                FieldError("org_number", _("Not a valid organisation number (nine digits)."))
            )
    if errors:
        raise Invalid(errors)
    clinic = Clinic.objects.select_for_update().get(pk=clinic.pk)
    wanted = {"idle_lock_minutes": idle_lock_minutes, "org_number": org_number}
    changes = {
        name: {"before": getattr(clinic, name), "after": value}
        for name, value in wanted.items()
        if value is not None and value != getattr(clinic, name)
    }
    if not changes:
        return clinic
    for name, change in changes.items():
        setattr(clinic, name, change["after"])
    clinic.save(update_fields=list(changes))
    security_event_record(
        user=by,
        kind=SecurityEventKind.SETTINGS_CHANGED,
        request=request,
        clinic=clinic,
        details=changes,
    )
    return clinic


# --- role changes: one proposes, a second person approves ------------------------------


def _role_problem_message(problem: str) -> str:
    messages = {
        rules.RoleChangeProblem.OWN_ROLES: _(
            "Nobody proposes or approves changes to their own roles."
        ),
        rules.RoleChangeProblem.ALREADY_HELD: _("The person already has this role."),
        rules.RoleChangeProblem.NOT_HELD: _("The person does not have this role."),
        rules.RoleChangeProblem.PENDING: _(
            "A proposal for this role of this person is already waiting for a decision."
        ),
        rules.RoleChangeProblem.OWN_PROPOSAL: _(
            "A second person must decide: you proposed this change yourself."
        ),
        rules.RoleChangeProblem.DECIDED: _("This proposal has already been decided."),
    }
    return str(messages[problem])


def _grant_permission(code: str) -> Permission:
    app_label, codename = code.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def role_holds(*, user: User, clinic: Clinic, role: str) -> bool:
    """Whether the person has the role at the clinic (or the personal grant, anywhere)."""
    if role in Grant.values:
        return _grant_permission(role).user_set.filter(pk=user.pk).exists()
    return Membership.objects.filter(user=user, clinic=clinic, role=role).exists()


def _pending(*, user: User, clinic: Clinic, role: str):
    return RoleChangeProposal.objects.filter(
        user=user, clinic=clinic, role=role, decision__isnull=True
    )


@transaction.atomic
def role_change_propose(
    *,
    by: User,
    username: str,
    clinic: Clinic,
    kind: str,
    role: str,
    reason: str,
) -> RoleChangeProposal:
    """An administrator or the clinic lead proposes granting or removing a role of a
    person at the clinic. Nothing changes until a second person approves."""
    if not policy.can(by, policy.Action.ROLE_CHANGE, clinic):
        raise Forbidden(_("Only an administrator or the clinic lead proposes role changes."))
    problems = []
    user = User.objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        problems.append(("username", _("No active user has this user name.")))
    if kind not in RoleChangeKind.values:
        problems.append(("kind", _("Choose grant or remove.")))
    if role not in RoleOrGrant.values:
        problems.append(("role", _("Choose a role.")))
    reason = " ".join(reason.split())
    if not reason:
        problems.append(("reason", _("Give a reason.")))
    elif len(reason) > 300:
        problems.append(("reason", _("At most 300 characters.")))
    if problems:
        raise Invalid.from_pairs(problems)
    # One proposal at a time per person: the lock orders proposals and decisions of theirs.
    user = User.objects.select_for_update().get(pk=user.pk)
    problem = rules.role_proposal_problem(
        proposer=by.pk,
        person=user.pk,
        grant=kind == RoleChangeKind.GRANT,
        holds=role_holds(user=user, clinic=clinic, role=role),
        pending=_pending(user=user, clinic=clinic, role=role).exists(),
    )
    if problem == rules.RoleChangeProblem.OWN_ROLES:
        raise Forbidden(_role_problem_message(problem))
    if problem is not None:
        raise Invalid.one("role", _role_problem_message(problem))
    return RoleChangeProposal.objects.create(
        at=clock.now(),
        proposed_by=by,
        user=user,
        clinic=clinic,
        kind=kind,
        role=role,
        reason=reason,
    )


def _apply(proposal: RoleChangeProposal, *, by: User, request: HttpRequest | None) -> None:
    user, clinic, role = proposal.user, proposal.clinic, proposal.role
    grant = proposal.kind == RoleChangeKind.GRANT
    if role in Grant.values:
        permission = _grant_permission(role)
        if grant:
            user.user_permissions.add(permission)
        else:
            user.user_permissions.remove(permission)
    elif grant:
        Membership.objects.create(user=user, clinic=clinic, role=role)
    else:
        Membership.objects.filter(user=user, clinic=clinic, role=role).delete()
    admin = Membership.objects.filter(user=user, role=Role.ADMIN).exists()
    if user.is_staff != admin:
        user.is_staff = admin
        user.save(update_fields=["is_staff"])
    if not grant:
        tokens_revoke_all(user=user, why="role removed", request=request, by=by)


@transaction.atomic
def role_change_decide(
    *,
    by: User,
    proposal_id: int,
    approved: bool,
    note: str = "",
    request: HttpRequest | None = None,
) -> RoleChangeDecision:
    """A second person (another administrator, or the clinic lead) approves or refuses a
    proposal. An approval changes the role in the same transaction; removing a role
    revokes the person's API tokens."""
    proposal = (
        RoleChangeProposal.objects.select_related("user", "clinic").filter(pk=proposal_id).first()
    )
    if proposal is None or not policy.can(by, policy.Action.ROLE_CHANGE, proposal.clinic):
        raise NotFound(_("No such proposal."))
    User.objects.select_for_update().get(pk=proposal.user_id)
    note = " ".join(note.split())
    if len(note) > 300:
        raise Invalid.one("note", _("At most 300 characters."))
    problem = rules.role_decision_problem(
        decider=by.pk,
        proposer=proposal.proposed_by_id,
        person=proposal.user_id,
        decided=RoleChangeDecision.objects.filter(proposal=proposal).exists(),
    )
    if problem == rules.RoleChangeProblem.DECIDED:
        raise Conflict(_role_problem_message(problem))
    if problem is not None:
        raise Forbidden(_role_problem_message(problem))
    if approved:
        holds = role_holds(user=proposal.user, clinic=proposal.clinic, role=proposal.role)
        if holds == (proposal.kind == RoleChangeKind.GRANT):
            # Changed in the meantime (e.g. by a bootstrap): refuse rather than half-apply.
            raise Conflict(
                _role_problem_message(
                    rules.RoleChangeProblem.ALREADY_HELD
                    if holds
                    else rules.RoleChangeProblem.NOT_HELD
                )
            )
    decision = RoleChangeDecision.objects.create(
        proposal=proposal, at=clock.now(), by=by, approved=approved, note=note
    )
    if approved:
        _apply(proposal, by=by, request=request)
    return decision


@transaction.atomic
def role_bootstrap(*, username: str, clinic: Clinic, role: Role) -> User:
    """The first administrators and clinic leads of a clinic, given on the server's command
    line (``hab bootstrap-role``): the two-person flow needs two people who can decide.
    Refused once the clinic has two of them."""
    if role not in (Role.ADMIN, Role.CLINIC_LEAD):
        raise Invalid.one("role", _("Only an administrator or a clinic lead is bootstrapped."))
    deciders = (
        Membership.objects.filter(clinic=clinic, role__in=[Role.ADMIN, Role.CLINIC_LEAD])
        .values("user")
        .distinct()
        .count()
    )
    if deciders >= 2:
        raise Conflict(_("The clinic has two people who decide role changes: use the role page."))
    user, _created = User.objects.get_or_create(username=username)
    if _created:
        user.set_unusable_password()
    if not Membership.objects.filter(user=user, clinic=clinic, role=role).exists():
        Membership.objects.create(user=user, clinic=clinic, role=role)
    user.is_staff = Membership.objects.filter(user=user, role=Role.ADMIN).exists()
    user.save()
    security_event_record(
        user=user,
        kind=SecurityEventKind.ROLE_BOOTSTRAP,
        clinic=clinic,
        details={"role": role.value},
    )
    return user


def user_saved(sender, instance: User, created: bool, **kwargs) -> None:
    """post_save of User (connected in CoreConfig.ready): every path that changes a
    password or deactivates a user (the admin, ``hab changepassword``, a password reset,
    HAB's own pages) ends in this save, so this is the one place their API tokens are
    revoked. ``_password`` is set by ``set_password`` until the save after it; a rehash at
    login clears it first and revokes nothing."""
    if created:
        return
    if getattr(instance, "_password", None) is not None:
        tokens_revoke_all(user=instance, why="password changed")
    elif not instance.is_active:
        tokens_revoke_all(user=instance, why="deactivated")
