"""design.md §4's error contract, where the API is assembled: the error bodies, the
statuses every operation declares in the OpenAPI document, and a request parser that turns
text the database cannot store into a 422 instead of a server error."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import Schema
from ninja.parser import Parser

from hab.core.errors import FieldError, Invalid


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


def _is_lone_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def unstorable_text(value: Any, field: str = "") -> list[FieldError]:
    """Text no database here can store: NUL (PostgreSQL refuses it in text) and lone UTF-16
    surrogates (JSON can spell them, "\\ud800", but they are not characters and cannot be
    encoded). Looks into lists and objects; ``field`` is the dotted path so far."""
    if isinstance(value, str):
        if "\x00" in value:
            return [FieldError(field or "body", _("Text may not contain NUL characters."))]
        if any(_is_lone_surrogate(char) for char in value):
            return [FieldError(field or "body", _("Text may not contain invalid characters."))]
        return []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            path = f"{field}.{key}" if field else str(key)
            found += unstorable_text(key, path) + unstorable_text(item, path)
        return found
    if isinstance(value, list):
        found = []
        for index, item in enumerate(value):
            found += unstorable_text(item, f"{field}.{index}" if field else str(index))
        return found
    return []


class TextSafeParser(Parser):
    """Ninja's JSON parser, refusing unstorable text with the field it is in.

    Ninja turns any error in ``parse_body`` into a 400 ("Cannot parse request body"); the
    API's handler for that looks at the cause and answers 422 with these fields."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        if problems := unstorable_text(data):
            raise Invalid(problems)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        if problems := unstorable_text(parsed):
            raise Invalid(problems)
        return parsed


def unparsable_body() -> Invalid:
    return Invalid.one("body", _("The body is not valid JSON."))


def unknown_path(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": _("No such API path.")}, status=404)
