from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _

from hab.core import policy
from hab.core.models import Clinic
from hab.core.web import BadQuery

SESSION_CLINIC = "hab_clinic"


class CurrentClinicMiddleware:
    """Sets ``request.clinic``: the clinic the user works in now (chosen in the switcher)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.clinic = None
        request.clinics = []
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith("/api/"):
            clinic_ids = policy.roles_by_clinic(user)
            if clinic_ids:
                request.clinics = list(Clinic.objects.filter(pk__in=clinic_ids))
                chosen = request.session.get(SESSION_CLINIC)
                request.clinic = next(
                    (c for c in request.clinics if c.code == chosen), request.clinics[0]
                )
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every answer that may hold patient data.

    One rule instead of a decorator per view: every response to a logged-in request and
    every response under ``/api/`` (a bearer token is checked inside the API, after the
    middleware) is kept by no browser or proxy, so a shared tablet's back button, disk
    cache or a proxy never shows a record to the next person. Static files are the one
    exception: they hold no data and are meant to be cached. The headers are those the
    lock screen (hab.core.lock) and the login pages already send
    (``add_never_cache_headers``), merged into whatever the view set; a view that set
    no-store itself keeps its header as it is.

    Sits outside everything that answers for a view (the API error contract, the
    session gates) and inside WhiteNoise, which answers static files before it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(settings.STATIC_URL):
            return response
        api = request.path.startswith("/api/")
        user = getattr(request, "user", None)
        logged_in = user is not None and user.is_authenticated
        # A view that already said no-store (the photo, the access log) keeps its words.
        if (api or logged_in) and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        # Whoever asks decides what comes back: a cache that ignores no-store must
        # still not hand one person's answer to another.
        if api:
            patch_vary_headers(response, ("Authorization", "Cookie"))
        elif logged_in:
            patch_vary_headers(response, ("Cookie",))
        return response


class NulQueryMiddleware:
    """A NUL character in the address is a 400 page, before any view reads it.

    No text HAB keeps may hold NUL, and PostgreSQL refuses one in a query (a server error
    had a search or a session code carried it in). Forms refuse it beside the field
    (Django's text fields do); the address has no field to say it beside. The API's own
    contract answers for /api/. After the session gates: the page needs the user.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            raise BadQuery(_("The address holds a character no page can use."))
        return self.get_response(request)
