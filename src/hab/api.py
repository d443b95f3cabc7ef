"""The v1 JSON API, assembled from each app's router. Errors are mapped here, once."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import re_path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from hab.care.api import router as care_router
from hab.core.api import BearerAuth
from hab.core.api import router as core_router
from hab.core.api_contract import (
    StorableParser,
    declare_errors,
    refuse_unstorable_arguments,
    unknown_path,
    unparsable_body,
    validation_message,
)
from hab.core.errors import DomainError, Invalid
from hab.dosing.api import router as dosing_router
from hab.evaluation.api import router as evaluation_router
from hab.incidents.api import router as incidents_router
from hab.intake.api import router as intake_router
from hab.interop.api import router as interop_router
from hab.operations.api import router as operations_router
from hab.patients.api import router as patients_router
from hab.prescribing.api import router as prescribing_router
from hab.research.api import router as research_router
from hab.research.export_api import router as research_export_router
from hab.stock.api import router as stock_router


class HabAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        # §4's error responses, declared once for every operation rather than route by route.
        return declare_errors(super().get_openapi_schema(*args, **kwargs))

    @property
    def urls(self):
        # A path no operation matches (an id that is not a number, /patients/null) is a JSON
        # 404 like any other unknown thing, not the site's HTML page.
        patterns, app_name, namespace = super().urls
        return [*patterns, re_path(r"^", unknown_path)], app_name, namespace


api = HabAPI(
    title="HAB API",
    version="1",
    description="Heroin-assisted treatment: referral to evaluation. Bearer tokens from "
    "POST /api/v1/auth/token.",
    auth=BearerAuth(),
    urls_namespace="api-v1",
    parser=StorableParser(),
)
api.add_decorator(refuse_unstorable_arguments)
api.add_router("", core_router)
api.add_router("/patients", patients_router)
api.add_router("", intake_router)
api.add_router("", prescribing_router)
api.add_router("", dosing_router)
api.add_router("", stock_router)
api.add_router("", incidents_router)
api.add_router("", care_router)
api.add_router("", operations_router)
api.add_router("", research_router)
api.add_router("", research_export_router)
api.add_router("", evaluation_router)
api.add_router("", interop_router)

_LOCATION_PREFIXES = {"body", "payload", "query", "path", "form", "file", "data", "params"}


def _field_of(location: tuple | list) -> str:
    parts = [str(part) for part in location if str(part) not in _LOCATION_PREFIXES]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def _invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    detail = [
        {"field": _field_of(error.get("loc", ())), "message": validation_message(error)}
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if isinstance(exc, Invalid):
        detail = [{"field": e.field, "message": e.message} for e in exc.errors]
        return api.create_response(request, {"detail": detail}, status=422)
    return api.create_response(request, {"detail": exc.message}, status=exc.status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "Log in first: send Authorization: Bearer <token>."}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # Ninja's "Cannot parse request body": a 415 for a body not sent as JSON, else
        # invalid input, so §4's 422 with the field(s), those the parser named (unstorable
        # text) or the body as a whole (not JSON).
        cause = exc.__cause__
        return _domain_error(
            request, cause if isinstance(cause, DomainError) else unparsable_body()
        )
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
