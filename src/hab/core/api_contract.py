"""The API's error contract (docs/api.md), where the API is assembled: the error bodies, the
statuses every operation declares in the OpenAPI document, the base of every request body
(no unknown fields, no more decimals than the record keeps), the parser and decorator that
turn values no record can hold into a 422 with their field instead of a server error, and
the middleware that answers in JSON whatever Django itself answers under /api/."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from ninja import Schema
from ninja.parser import Parser
from pydantic import BaseModel, ConfigDict, Field

from hab.core import storable
from hab.core.errors import DomainError, Invalid

API_PREFIX = "/api/"


class Input(Schema):
    """The base of every request body and of every object nested in one.

    A field the schema does not declare is a 422 naming it, not silently dropped: in a
    clinical API a misspelt ``dose_mg`` or ``confirm_breach`` must not pass as "left out"."""

    model_config = ConfigDict(extra="forbid")


def stored_decimal(model: type[models.Model], field_name: str) -> Any:
    """The body type of a decimal kept in ``model.field_name``: a value with more decimal
    places than the column keeps (``dose_mg: 10.123456789`` for a dose kept to 0.1 mg) is a
    422 naming the field, where the service would otherwise round it. Trailing zeros are
    not places (``10.10`` is ``10.1``)."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.DecimalField), f"{model.__name__}.{field_name}"
    return Annotated[Decimal, Field(decimal_places=field.decimal_places)]


def validation_message(error: dict) -> str:
    """A pydantic error's message, in the request's language for the ones this contract
    adds (unknown fields, too many decimals); pydantic's own words otherwise."""
    kind = error.get("type")
    if kind == "extra_forbidden":
        return _("No such field: check its name. Nothing was saved.")
    if kind == "decimal_max_places":
        places = (error.get("ctx") or {}).get("decimal_places", 0)
        return ngettext(
            "Use at most %(places)s decimal place; the value is not rounded.",
            "Use at most %(places)s decimal places; the value is not rounded.",
            places,
        ) % {"places": places}
    return error.get("msg", _("Invalid value."))


class ErrorOut(Schema):
    """401, 403, 404 and 409: what went wrong, in words."""

    detail: str


class FieldErrorOut(Schema):
    field: str
    message: str


class InvalidOut(Schema):
    """422: every problem with the field it concerns."""

    detail: list[FieldErrorOut]


class UnsupportedMediaType(DomainError):
    """A body in another format than JSON, for an operation that reads a JSON body."""

    status = 415


_ERROR_DESCRIPTIONS = {
    "401": "Unauthenticated: no valid bearer token.",
    "403": "The caller's role may not do this.",
    "404": "Unknown, or outside the caller's clinics.",
    "409": "Conflicts with the current state.",
    "413": "The body is larger than the server accepts.",
    "415": "The body is not JSON (Content-Type: application/json).",
    "422": "Invalid or unsafe input: every problem with its field.",
}


def declare_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds §4's error responses to every operation of an OpenAPI document.

    Every authenticated operation may answer 401, 403 (role), 404 (unknown or another
    clinic's) and 422 (invalid input); every write may also answer 409 (conflict with the
    current state); every operation that reads a body 413 (too large) and 415 (not JSON).
    An operation's own declaration of a status wins."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    invalid = InvalidOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(invalid.pop("$defs", {}))
    components["InvalidOut"] = invalid
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            statuses = ["422"]
            if operation.get("security"):
                statuses += ["401", "403", "404"]
                if method != "get":
                    statuses.append("409")
            if "requestBody" in operation:
                statuses += ["413", "415"]
            responses = operation.setdefault("responses", {})
            for status in statuses:
                if status in responses or int(status) in responses:
                    continue
                body = "InvalidOut" if status == "422" else "ErrorOut"
                responses[status] = {
                    "description": _ERROR_DESCRIPTIONS[status],
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}
                    },
                }
    return schema


class StorableParser(Parser):
    """Ninja's JSON parser, refusing a body that is not sent as JSON (415) and what no
    record can hold (hab.core.storable: NUL and lone surrogates in text, integers beyond 64
    bits) with the field it is in.

    Ninja turns any error in ``parse_body`` into a 400 ("Cannot parse request body"); the
    API's handler for that looks at the cause and answers 415, or 422 with these fields."""

    def parse_body(self, request: HttpRequest) -> Any:
        if request.content_type != "application/json":
            raise UnsupportedMediaType(
                _("Send the body as JSON, with Content-Type: application/json.")
            )
        data = json.loads(request.body)
        if problems := storable.problems(data):
            raise Invalid(problems)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        if problems := storable.problems(parsed):
            raise Invalid(problems)
        return parsed


def unparsable_body() -> Invalid:
    return Invalid.one("body", _("The body is not valid JSON."))


# Exempt: no operation answers here, so there is nothing for a CSRF check to protect, and a
# bearer-token client's PUT to a mistyped path should learn that the path is wrong.
@csrf_exempt
def unknown_path(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": _("No such API path.")}, status=404)


def refuse_unstorable_arguments(view: Callable) -> Callable:
    """An operation decorator (it runs after ninja has validated the arguments): path,
    query and body values no record can hold, such as the year 9999 or an id beyond 64 bits,
    are a 422 naming the field before the view looks anything up with them."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        found = []
        for name, value in kwargs.items():
            found += storable.problems(value, "" if isinstance(value, BaseModel) else name)
        if found:
            raise Invalid(found)
        return view(request, *args, **kwargs)

    return checked


def _json_content_type(response: HttpResponse) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _error_message(status: int, request: HttpRequest, response: HttpResponse | None) -> str:
    if status == 404:
        return _("No such API path.")
    if status == 405:
        allowed = response.get("Allow", "") if response is not None else ""
        return _("%(method)s is not allowed here. Allowed: %(allowed)s.") % {
            "method": request.method,
            "allowed": allowed or "-",
        }
    if status == 413:
        return _("The body is too large: at most %(megabytes)s MB.") % {
            "megabytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        }
    if status >= 500:
        return _("Something went wrong on the server. Try again, and tell the administrator.")
    if status == 403:
        return _("The request was refused.")
    if status == 401:
        return _("Log in first: send Authorization: Bearer <token>.")
    return _("The request could not be read.")


class ApiErrorMiddleware:
    """Every error under /api/ in the contract's shape, ``{"detail": "..."}``, also those
    Django answers before or around the API: a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413,
    answered before anything reads it), a method a path does not take (405, with Allow),
    a path outside /api/v1/ (404), a refused CSRF check, a server error (500). The API's
    own answers are JSON already and pass untouched, as does the HTML of /api/v1/docs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        if self._too_large(request):
            return self._answer(request, 413, None)
        response = self.get_response(request)
        if response.status_code < 400 or _json_content_type(response):
            return response
        return self._answer(request, response.status_code, response)

    @staticmethod
    def _too_large(request: HttpRequest) -> bool:
        # Django's own test (HttpRequest.body), made before a middleware or the view reads
        # the body and turns RequestDataTooBig into the site's HTML 400.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return limit is not None and length > limit

    @staticmethod
    def _answer(request: HttpRequest, status: int, original: HttpResponse | None) -> JsonResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            answer = JsonResponse(
                {"detail": _error_message(status, request, original)}, status=status
            )
        if original is not None:
            # Allow, WWW-Authenticate, Retry-After, Vary and the security headers stay.
            for header, value in original.items():
                if header.lower() not in {"content-type", "content-length", "content-language"}:
                    answer[header] = value
            answer.cookies = original.cookies
        answer["Content-Language"] = language
        return answer
