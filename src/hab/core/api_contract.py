"""design.md §4's error contract, where the API is assembled: the error bodies, the
statuses every operation declares in the OpenAPI document, and the parser and decorator that
turn values no record can hold into a 422 with their field instead of a server error."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.parser import Parser
from pydantic import BaseModel

from hab.core import storable
from hab.core.errors import Invalid


class ErrorOut(Schema):
    """401, 403, 404 and 409: what went wrong, in words."""

    detail: str


class FieldErrorOut(Schema):
    field: str
    message: str


class InvalidOut(Schema):
    """422: every problem with the field it concerns."""

    detail: list[FieldErrorOut]


_ERROR_DESCRIPTIONS = {
    "401": "Unauthenticated: no valid bearer token.",
    "403": "The caller's role may not do this.",
    "404": "Unknown, or outside the caller's clinics.",
    "409": "Conflicts with the current state.",
    "422": "Invalid or unsafe input: every problem with its field.",
}


def declare_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds §4's error responses to every operation of an OpenAPI document.

    Every authenticated operation may answer 401, 403 (role), 404 (unknown or another
    clinic's) and 422 (invalid input); every write may also answer 409 (conflict with the
    current state). An operation's own declaration of a status wins."""
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
    """Ninja's JSON parser, refusing what no record can hold (hab.core.storable: NUL and
    lone surrogates in text, integers beyond 64 bits) with the field it is in.

    Ninja turns any error in ``parse_body`` into a 400 ("Cannot parse request body"); the
    API's handler for that looks at the cause and answers 422 with these fields."""

    def parse_body(self, request: HttpRequest) -> Any:
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
