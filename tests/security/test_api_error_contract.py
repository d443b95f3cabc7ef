"""design.md §4's error contract at the edges of the API: whatever answers under /api/ (Django
itself included) answers in JSON with a "detail"; a body too large is 413, one not sent as
JSON 415; a field the operation does not know, or an amount with more decimal places than
its record keeps, is a 422 that names it, and nothing is rounded or written.
"""

from __future__ import annotations

import json
import typing
from decimal import Decimal

import pytest
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseServerError
from django.test import Client, RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st
from ninja.params.models import BodyModel
from pydantic import BaseModel, TypeAdapter, ValidationError

from hab.api import api
from hab.core.api_contract import ApiErrorMiddleware, stored_decimal
from hab.dosing.models import Administration, Observation
from hab.incidents.models import Incident
from hab.prescribing.models import Prescription
from hab.stock.models import LedgerEntry, StockCount
from tests.security.conftest import bearer, error_shape_problem, row_counts
from tests.security.hostile_inputs import ENDPOINTS, names_field, send, with_field

UNKNOWN_PATHS = ["/api/v1/no-such-thing", "/api/v1/patients/abc", "/api/v2/patients", "/api/"]
METHODS = ["get", "post", "put", "patch", "delete"]


def _client(token: str | None = None) -> tuple[Client, dict]:
    # CSRF checks on, as a real server has them (Django's test client turns them off).
    headers = {"Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Client(enforce_csrf_checks=True, raise_request_exception=False), headers


def _detail(response) -> str | list:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    problem = error_shape_problem(response.status_code, response.content)
    assert problem is None, problem
    return response.json()["detail"]


@pytest.fixture
def nurse_token(staff):
    return bearer("nurse.oslo")


# --- unknown paths and methods ------------------------------------------------------------


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no token"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_an_unknown_path_is_a_json_404_whatever_the_method(path, method, with_token, staff):
    client, headers = _client(bearer("nurse.oslo") if with_token else None)
    # when a client sends any method to a path no operation has
    response = client.generic(
        method.upper(), path, json.dumps({"x": 1}), "application/json", headers=headers
    )
    # then it learns that the path is wrong, in JSON: not a CSRF page, not HTML
    assert response.status_code == 404, response.content[:200]
    assert _detail(response) == "No such API path."


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no token"])
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/api/v1/me", "GET"),
        ("put", "/api/v1/incidents", "GET, POST"),
        ("patch", "/api/v1/administrations", "POST"),
        ("get", "/api/v1/stock/receipts", "POST"),
    ],
)
def test_a_method_a_path_does_not_take_is_a_json_405_with_allow(
    method, path, allowed, with_token, staff
):
    client, headers = _client(bearer("nurse.oslo") if with_token else None)
    response = client.generic(method.upper(), path, "{}", "application/json", headers=headers)
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == set(allowed.split(", "))
    assert _detail(response) == (
        f"{method.upper()} is not allowed here. Allowed: {response['Allow']}."
    )


def test_the_interactive_docs_stay_a_page(staff):
    client, headers = _client()
    response = client.get("/api/v1/docs", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_messages_follow_the_language_of_the_request(staff):
    response = Client().delete("/api/v1/me", headers={"Accept-Language": "nb"})
    assert response.status_code == 405
    assert response["Content-Language"] == "nb"
    assert response.json()["detail"].startswith("DELETE er ikke tillatt her.")


# --- bodies too large and not JSON ----------------------------------------------------------


def test_the_six_megabyte_body_of_the_probe_is_a_json_413(nurse_token):
    client, headers = _client(nurse_token)
    body = json.dumps({"description": "x" * (6 * 1024 * 1024)})
    response = client.post("/api/v1/incidents", body, "application/json", headers=headers)
    assert response.status_code == 413
    assert _detail(response) == "The body is too large: at most 5 MB."


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
@pytest.mark.parametrize(("size", "too_large"), [(1999, False), (2000, False), (2001, True)])
@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no token"])
def test_a_body_over_the_limit_is_413_and_one_at_it_is_read(size, too_large, with_token, staff):
    client, headers = _client(bearer("nurse.oslo") if with_token else None)
    # given a JSON body of exactly ``size`` bytes
    padding = size - len(json.dumps({"description": ""}))
    body = json.dumps({"description": "x" * padding})
    assert len(body) == size
    before = row_counts()
    response = client.post("/api/v1/incidents", body, "application/json", headers=headers)
    if too_large:
        assert response.status_code == 413
    else:
        # read and judged: no token is 401, and with one the body lacks the clinic (422)
        assert response.status_code == (422 if with_token else 401)
    _detail(response)
    assert row_counts() == before


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_a_body_not_sent_as_json_is_415(content_type, nurse_token):
    client, headers = _client(nurse_token)
    before = row_counts()
    response = client.generic(
        "POST",
        "/api/v1/incidents",
        b'{"clinic": "oslo"}',
        content_type=content_type,
        headers=headers,
    )
    assert response.status_code == 415
    assert _detail(response) == "Send the body as JSON, with Content-Type: application/json."
    assert row_counts() == before


def test_json_with_a_charset_is_json(nurse_token):
    client, headers = _client(nurse_token)
    response = client.post(
        "/api/v1/incidents", b"{}", content_type="application/json; charset=utf-8", headers=headers
    )
    assert response.status_code == 422
    assert "clinic" in {item["field"] for item in _detail(response)}


def test_the_openapi_document_declares_413_and_415_where_a_body_is_read():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            declared = set(map(str, operation["responses"]))
            reads_body = "requestBody" in operation
            assert ({"413", "415"} <= declared) == reads_body, (method, path)


# --- server errors and anything else Django answers -----------------------------------------


def test_a_server_error_in_the_api_is_json(nurse_token, monkeypatch):
    from hab.core import services as core_services

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    # given a bug behind GET /me
    monkeypatch.setattr(core_services, "token_user", broken)
    client, headers = _client(nurse_token)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 500
    assert response.json() == {
        "detail": "Something went wrong on the server. Try again, and tell the administrator."
    }
    assert b"a bug" not in response.content


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (HttpResponse("<h1>Bad Request (400)</h1>", status=400), 400),
        (HttpResponse("<h1>CSRF verification failed</h1>", status=403), 403),
        (HttpResponseNotAllowed(["GET"]), 405),
        (HttpResponseServerError("<h1>Server Error (500)</h1>"), 500),
    ],
)
def test_every_error_django_answers_under_api_becomes_json(answer, status):
    middleware = ApiErrorMiddleware(lambda request: answer)
    request = RequestFactory().post("/api/v1/anything", headers={"Accept-Language": "en"})
    response = middleware(request)
    assert response.status_code == status
    assert error_shape_problem(status, response.content) is None
    # and a page outside the API keeps its HTML
    page = middleware(RequestFactory().post("/dosing/"))
    assert page is answer


# --- unknown fields -------------------------------------------------------------------------


def _input_schemas() -> set[type[BaseModel]]:
    """Every schema a request body is read into, nested ones included."""
    found: set[type[BaseModel]] = set()

    def walk(annotation) -> None:
        if typing.get_origin(annotation) is not None:
            for argument in typing.get_args(annotation):
                walk(argument)
        elif (
            isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
            and annotation not in found
        ):
            found.add(annotation)
            for field in annotation.model_fields.values():
                walk(field.annotation)

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    if issubclass(model, BodyModel):
                        for field in model.model_fields.values():
                            walk(field.annotation)
    return found


def test_every_request_body_schema_refuses_unknown_fields():
    schemas = _input_schemas()
    assert len(schemas) > 50  # the walk found the API's bodies
    lenient = [s.__qualname__ for s in schemas if s.model_config.get("extra") != "forbid"]
    assert not lenient


@pytest.mark.parametrize(
    ("misspelt", "field"),
    [
        ({"dose_mgs": 150}, "dose_mgs"),
        ({"confirm_breech": True}, "confirm_breech"),
        ({"assessment": {"sedation": 1, "breath_alcohol_permile": 0.5}}, None),
    ],
    ids=["top level", "a flag", "nested"],
)
def test_an_unknown_field_is_a_422_that_names_it(misspelt, field, afternoon_world, api_as):
    from tests.dosing.helpers import dose_body

    api = api_as("nurse.oslo")
    body = dose_body(afternoon_world["patient"]) | misspelt
    before = row_counts()
    response = send(api, "post", "/administrations", body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    named = field or "assessment.breath_alcohol_permile"
    assert {"field": named, "message": "No such field: check its name. Nothing was saved."} in (
        detail
    )
    assert row_counts() == before


# --- decimal places -------------------------------------------------------------------------


def _last_breath_alcohol() -> Decimal:
    return Administration.objects.latest("pk").breath_alcohol_permille


# (endpoint of test_hostile_api, dotted field, a value of the endpoint's kind, places kept,
# and where the value is kept when the answer does not show it)
DECIMALS = [
    ("record a dose", "dose_mg", "150", 1),
    ("record a dose", "assessment.breath_alcohol_permille", "0", 2, _last_breath_alcohol),
    ("prescribe", "daily_max_mg", "450", 1),
    ("prescribe", "doses_mg.morning", "200", 1),
    ("report an incident", "naloxone_mg", "0.4", 2),
    ("receive stock", "quantity_mg", "5000", 1),
    ("waste stock", "quantity_mg", "100", 1),
    ("count stock", "counted_mg", "10000", 1),
    ("change the dosing protocol", "values.dam_max_single_mg", "400", 1),
]


def _with_places(base: str, places: int) -> float:
    """``base`` with ``places`` decimal places, the last not zero: 150 -> 150.01 for 2."""
    value = Decimal(base) + (Decimal(1).scaleb(-places) if places else 0)
    return float(value)


@pytest.mark.parametrize("case", DECIMALS, ids=lambda case: f"{case[0]}: {case[1]}")
def test_an_amount_is_refused_with_more_places_than_kept(case, afternoon_world, api_as):
    from django.db import transaction

    endpoint, field, base, places, *stored = case
    [spec] = [e for e in ENDPOINTS if e.name == endpoint]
    api = api_as(f"{spec.role}.oslo")
    path = spec.path(afternoon_world)
    for sent_places in (places - 1, places, places + 1, 9):
        value = _with_places(base, sent_places)
        body = with_field(spec.body(afternoon_world), field, value)
        with transaction.atomic():
            before = row_counts()
            response = send(api, "post", path, body)
            if sent_places <= places:
                # under and at: kept as sent
                assert response.status_code in (200, 201), (value, response.content)
                kept = {stored[0]()} if stored else _decimals_in(response.json())
                assert Decimal(str(value)) in kept, (value, response.json())
            else:
                # over: refused on the field, not rounded, nothing written
                assert response.status_code == 422, (value, response.content)
                named = {item["field"] for item in response.json()["detail"]}
                assert names_field(field, named), (value, named)
                assert row_counts() == before
            transaction.set_rollback(True)


def _decimals_in(value) -> set[Decimal]:
    if isinstance(value, dict):
        return {d for item in value.values() for d in _decimals_in(item)}
    if isinstance(value, list):
        return {d for item in value for d in _decimals_in(item)}
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        try:
            number = abs(Decimal(value))
        except ArithmeticError:
            return set()
        return {number, number.normalize()}
    return set()


def test_the_titration_steps_are_refused_with_more_places_than_kept(afternoon_world, api_as):
    [spec] = [e for e in ENDPOINTS if e.name == "prescribe"]
    titration = {"start_mg": 50.05, "step_mg": 25, "target_mg": 200.123456789}
    body = spec.body(afternoon_world) | {"titration": titration}
    response = send(api_as("doctor.oslo"), "post", "/prescriptions", body)
    assert response.status_code == 422
    named = {item["field"] for item in response.json()["detail"]}
    assert {"titration.start_mg", "titration.target_mg"} <= named
    assert "titration.step_mg" not in named


def test_the_probes_dose_is_refused_not_rounded(afternoon_world, api_as):
    from tests.dosing.helpers import dose_body

    api = api_as("nurse.oslo")
    before = row_counts()
    body = dose_body(afternoon_world["patient"], dose_mg=10.123456789)
    response = send(api, "post", "/administrations", body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "dose_mg", "message": "Use at most 1 decimal place; the value is not rounded."}
    ]
    assert row_counts() == before


def test_every_decimal_in_a_request_body_has_the_places_of_a_column():
    """A Decimal typed without places would be rounded by the service: a new amount field
    must be typed with stored_decimal. The protocol's values are one dict of settings with
    their own places; the protocol's own validation refuses more (tested above)."""
    loose = []
    for schema in _input_schemas():
        for name, field in schema.model_fields.items():
            if f"{schema.__name__}.{name}" == "ProtocolIn.values":
                continue
            if "Decimal" in str(field.annotation) and not _has_places(field):
                loose.append(f"{schema.__name__}.{name}")
    assert not loose


def _has_places(field) -> bool:
    text = repr(field.annotation) + repr(field.metadata)
    return "decimal_places" in text


COLUMNS = [
    (Administration, "dose_mg"),
    (Administration, "breath_alcohol_permille"),
    (Observation, "naloxone_mg"),
    (Incident, "naloxone_mg"),
    (Prescription, "daily_max_mg"),
    (Prescription, "titration_step_mg"),
    (LedgerEntry, "quantity_mg"),
    (StockCount, "counted_mg"),
]


@pytest.mark.parametrize(("model", "name"), COLUMNS, ids=lambda v: getattr(v, "__name__", v))
@given(
    amount=st.decimals(min_value=0, max_value=99_999, allow_nan=False, places=6),
    places=st.integers(min_value=0, max_value=6),
)
def test_an_amount_is_kept_exactly_or_refused_never_rounded(model, name, amount, places):
    # given an amount with some number of places, sent as a JSON number
    amount = amount.quantize(Decimal(1).scaleb(-places))
    sent = json.loads(json.dumps(float(amount)))
    kept = model._meta.get_field(name).decimal_places
    adapter = TypeAdapter(stored_decimal(model, name))
    try:
        accepted = adapter.validate_python(sent)
    except ValidationError as error:
        # then more places than the column keeps are refused, and only they
        assert error.errors()[0]["type"] == "decimal_max_places"
        assert -Decimal(str(sent)).normalize().as_tuple().exponent > kept
    else:
        # then what is accepted is exactly what was sent, within the column's places
        assert accepted == Decimal(str(sent))
        assert -accepted.normalize().as_tuple().exponent <= kept
