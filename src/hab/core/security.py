"""Security plumbing: response headers (CSP), session inactivity, the second-factor gate
and the lock-out after repeated failed logins (django-axes).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from urllib.parse import urlencode

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db.models import Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hab.core import two_factor

# Session keys.
SESSION_LAST_ACTIVE = "hab_last_active"
SESSION_KIOSK = "hab_kiosk"
# A device that is a shared tablet or PC remembers it in this cookie, so the next person
# to log in there gets the kiosk choice ticked.
KIOSK_COOKIE = "hab_shared_device"
# Requests a page makes by itself (the dosing board's refresh every 30 s) send this
# header; they are not activity, or a kiosk session left open would never end.
BACKGROUND_HEADER = "X-HAB-Background"
# Last-activity is written at most this often (seconds): a session write per click
# would cost a database write on every request.
_ACTIVITY_GRANULARITY = 60


def _csp(style_src: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = _csp("'self'")
# The API's Swagger page (vendored by django-ninja) sets style attributes from its
# JavaScript bundle; it holds no patient data, so only its styles are relaxed.
_RELAXED_CSP = _csp("'self' 'unsafe-inline'")
_RELAXED_PATHS = ("/api/v1/docs",)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response.

    Django's SecurityMiddleware writes HSTS, nosniff, Referrer-Policy and COOP;
    XFrameOptionsMiddleware writes X-Frame-Options. CSP is not built into Django 5.2.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            relaxed = request.path.startswith(_RELAXED_PATHS)
            response["Content-Security-Policy"] = (
                _RELAXED_CSP if relaxed else CONTENT_SECURITY_POLICY
            )
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _to_login(request: HttpRequest, **query: str) -> HttpResponse:
    """Back to the login page, remembering where the user was (htmx follows HX-Redirect)."""
    if request.method == "GET" and not _is_htmx(request):
        query.setdefault("next", request.get_full_path())
    url = reverse("login") + ("?" + urlencode(query) if query else "")
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def idle_limit_seconds(request: HttpRequest) -> int:
    if request.session.get(SESSION_KIOSK):
        return settings.HAB_KIOSK_IDLE_MINUTES * 60
    return settings.HAB_SESSION_IDLE_MINUTES * 60


def mark_active(request: HttpRequest) -> None:
    request.session[SESSION_LAST_ACTIVE] = int(time.time())


@receiver(user_logged_in)
def _login_is_activity(sender, request, user, **kwargs) -> None:
    # Every way in (the login page, the identity provider, the tests' force_login) starts
    # the inactivity clock, so the first page after it need not write the session.
    if request is not None and hasattr(request, "session"):
        mark_active(request)


class IdleTimeoutMiddleware:
    """Logs a web session out after HAB_SESSION_IDLE_MINUTES without activity
    (HAB_KIOSK_IDLE_MINUTES on a shared tablet). API tokens are not sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or request.path.startswith("/api/") or not user.is_authenticated:
            return self.get_response(request)
        now = int(time.time())
        last = request.session.get(SESSION_LAST_ACTIVE)
        if last is not None and now - last > idle_limit_seconds(request):
            logout(request)
            return _to_login(request, idle="1")
        background = request.headers.get(BACKGROUND_HEADER) == "1"
        if last is None or (not background and now - last >= _ACTIVITY_GRANULARITY):
            request.session[SESSION_LAST_ACTIVE] = now
        return self.get_response(request)


# The pages a user may reach between the password and the second factor.
def _exempt(path: str) -> bool:
    return path.startswith(("/static/", "/api/", "/i18n/", "/login/", "/logout/", "/oidc/"))


class SecondFactorMiddleware:
    """No page for a signed-in user who must use a second factor and has not.

    The login view never signs such a user in before the code; this catches sessions
    from elsewhere (an old session after the requirement was turned on, a role granted
    while logged in, the admin's own login form)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not _exempt(request.path)
            and two_factor.role_requires_2fa(user)
            and not two_factor.second_factor_done(request)
        ):
            logout(request)
            return _to_login(request)
        return self.get_response(request)


class AxesBackend(AxesStandaloneBackend):
    """django-axes' lock-out check, for logins only.

    A password checked inside a service without an HTTP request (the witness who
    confirms a waste with their password) is not a login attempt; plain AxesBackend
    would refuse it outright.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def failures_towards_lockout(
    per_address: int, per_name: int, address_limit: int, name_limit: int
) -> int:
    """The failures django-axes compares with ``address_limit`` (AXES_FAILURE_LIMIT).

    The user name is locked at one address after ``address_limit`` failures there, and
    everywhere after ``name_limit`` failures from all addresses together: the second
    count is shifted so that it reaches ``address_limit`` exactly at ``name_limit``.
    """
    return max(per_address, per_name - (name_limit - address_limit))


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with two limits (settings.AXES_LOCKOUT_PARAMETERS:
    user name and address first, then the user name alone).

    A nurse who mistypes at one tablet is locked out there after AXES_FAILURE_LIMIT
    tries, not at every tablet, and nobody can lock a colleague out with a few wrong
    passwords from elsewhere. Guessing one user's password from many addresses is still
    stopped: after HAB_LOGIN_USERNAME_FAILURE_LIMIT failures from all addresses the user
    name is locked everywhere until the cool-off ends or an administrator unlocks it.
    """

    def get_failures(self, request, credentials=None) -> int:
        per_address, per_name = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        return failures_towards_lockout(
            per_address,
            per_name,
            get_failure_limit(request, credentials),
            settings.HAB_LOGIN_USERNAME_FAILURE_LIMIT,
        )

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A login forgives the failures at its own address only: the user logging in at
        # one tablet does not wipe out what someone else tried under the name elsewhere.
        per_address = self.filter_user_attempts(request, credentials)[0]
        count, _ = per_address.delete()
        return count


def lockout_minutes(request: HttpRequest) -> int:
    cool_off = get_cool_off(request)
    return max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0


def lockout_message(request: HttpRequest) -> str:
    minutes = lockout_minutes(request)
    if not minutes:
        return _("Too many failed logins. Ask an administrator to unlock your account.")
    return ngettext(
        "Too many failed logins. Try again in %(minutes)d minute, or ask an administrator "
        "to unlock your account.",
        "Too many failed logins. Try again in %(minutes)d minutes, or ask an administrator "
        "to unlock your account.",
        minutes,
    ) % {"minutes": minutes}
