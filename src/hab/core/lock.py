"""The lock screen of a shared tablet.

A session logged in as *shared tablet or PC* (the login page's box, remembered by the
device) hides patient data behind the lock screen after the clinic's
``idle_lock_minutes`` without activity. The server decides, not the page: the
middleware keeps the time of the user's last request (the board's own refresh, sent with
``X-HAB-Background: 1``, is not activity) and, once the session is idle longer than the
clinic allows, answers every request with the way to the lock screen and nothing else.
The page's script (static/hab/js/lock.js) hides the data on the same timer so it leaves
the screen without waiting for a request.

The lock sits inside the kiosk session's own limit (HAB_KIOSK_IDLE_MINUTES,
hab.core.security): a tablet left locked is still logged out then. Sessions not logged
in as shared never lock. Times come from hab.core.clock, so tests move them.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from hab.core import clock, policy, rules
from hab.core.models import Clinic, SecurityEventKind
from hab.core.security import BACKGROUND_HEADER, SESSION_KIOSK
from hab.core.services import security_event_record

# Session keys: the clock time (seconds) of the last activity, whether the screen is
# locked, and the wrong PINs or passwords given at the lock screen since it locked.
SESSION_LOCK_ACTIVE = "hab_lock_active"
SESSION_LOCKED = "hab_locked"
SESSION_UNLOCK_FAILURES = "hab_unlock_failures"

LOCK_PATH = "/lock/"
# What the lock never stands in front of: the lock screen itself, logging in and out,
# the language switch and static files.
_OPEN_PREFIXES = ("/static/", "/login/", "/logout/", "/i18n/", "/oidc/")


def is_shared(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and request.session.get(SESSION_KIOSK))


def limit_minutes(request: HttpRequest) -> int:
    """The idle-lock minutes of the clinic the tablet works in; where the request has no
    current clinic (the API), the strictest of the user's clinics."""
    clinic = getattr(request, "clinic", None)
    if clinic is not None:
        return clinic.idle_lock_minutes
    minutes = Clinic.objects.filter(pk__in=list(policy.roles_by_clinic(request.user))).values_list(
        "idle_lock_minutes", flat=True
    )
    return min(minutes, default=rules.IDLE_LOCK_DEFAULT_MINUTES)


def _now() -> float:
    return clock.now().timestamp()


def mark_active(request: HttpRequest) -> None:
    request.session[SESSION_LOCK_ACTIVE] = _now()


def is_locked(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_LOCKED))


def lock(request: HttpRequest, *, reason: str) -> None:
    """Locks the session (once: a locked session is not locked again) and logs it."""
    if is_locked(request):
        return
    last = request.session.get(SESSION_LOCK_ACTIVE)
    request.session[SESSION_LOCKED] = True
    request.session[SESSION_UNLOCK_FAILURES] = 0
    details = {"reason": reason}
    if last is not None:
        details["idle_seconds"] = round(_now() - last)
    security_event_record(
        user=request.user,
        kind=SecurityEventKind.LOCKED,
        request=request,
        clinic=getattr(request, "clinic", None),
        details=details,
    )


def unlock(request: HttpRequest) -> None:
    request.session[SESSION_LOCKED] = False
    request.session[SESSION_UNLOCK_FAILURES] = 0
    mark_active(request)


@receiver(user_logged_in)
def _login_unlocks(sender, request, user, **kwargs) -> None:
    # A login starts unlocked, whatever the session held before, and starts the idle
    # clock (whether the session is shared is known only after this).
    if request is not None and hasattr(request, "session"):
        unlock(request)


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """A path on this site to go back to after unlocking, else the start page."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(candidate)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith("/") and not path.startswith(LOCK_PATH):
            return path
    return reverse("home")


def lock_url(next_url: str) -> str:
    return LOCK_PATH + "?" + urlencode({"next": next_url})


def _page_behind(request: HttpRequest) -> str:
    """The page the user was on: the address itself for a page, the page that sent an
    htmx request or a form for the rest."""
    if request.headers.get("HX-Request") == "true":
        return safe_next(request, request.headers.get("HX-Current-URL"))
    if request.method == "GET":
        return safe_next(request, request.get_full_path())
    return safe_next(request, request.headers.get("Referer"))


def locked_response(request: HttpRequest) -> HttpResponse:
    """No data for a locked session: the way to the lock screen."""
    url = lock_url(_page_behind(request))
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("The screen is locked.")}, status=401)
    if request.headers.get("HX-Request") == "true":
        # htmx leaves the page for the lock screen instead of swapping anything in.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


class IdleLockMiddleware:
    """Locks a shared session that has been idle longer than the clinic allows, and
    answers a locked one with the lock screen only. After CurrentClinicMiddleware (the
    limit is the current clinic's)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.hab_locked = False
        request.hab_lock_after = None
        if (
            not is_shared(request)
            or request.path == LOCK_PATH
            or request.path.startswith(_OPEN_PREFIXES)
            # A bearer token is not this session, whatever cookie came along.
            or (request.path.startswith("/api/") and "Authorization" in request.headers)
        ):
            return self.get_response(request)
        limit = limit_minutes(request) * 60
        last = request.session.get(SESSION_LOCK_ACTIVE)
        if not is_locked(request) and last is not None and rules.is_idle(last, _now(), limit):
            lock(request, reason="idle")
        if is_locked(request):
            return locked_response(request)
        if last is None or request.headers.get(BACKGROUND_HEADER) != "1":
            mark_active(request)
        request.hab_lock_after = limit
        response = self.get_response(request)
        # A shared device keeps no copy of a page: the back button after the lock must
        # ask the server again, which answers with the lock screen.
        if "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response
