from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from hab.core import policy
from hab.core.models import Clinic

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
