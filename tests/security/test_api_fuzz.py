"""Fuzzing the v1 API with schemathesis, as each role, in-process against a seeded clinic.

For every operation (but logging in and out) and every role, a few requests that follow the
OpenAPI document and a few that break it: none may be a server error, each response must
have a status the operation declares and a body that matches its schema, and every 4xx
must be design.md §4's error shape. Bounded and derandomised so that CI runs the same cases
in about a minute; HAB_FUZZ_EXAMPLES=50 looks harder locally.
"""

from __future__ import annotations

import functools
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hab.api import api
from hab.core.roles import Role
from tests.security.conftest import DjangoTestWSGI, bearer, error_shape_problem

# Logging in is fuzzed by nobody here: wrong passwords lock accounts out (django-axes), and
# logging out would revoke the token the rest of the run uses.
SKIPPED = {("POST", "/api/v1/auth/token"), ("DELETE", "/api/v1/auth/token")}

EXAMPLES = int(os.environ.get("HAB_FUZZ_EXAMPLES", "4"))
CASES = {GenerationMode.POSITIVE: EXAMPLES, GenerationMode.NEGATIVE: max(1, EXAMPLES // 2)}


@functools.cache
def schema():
    return schemathesis.openapi.from_dict(api.get_openapi_schema())


def follows_error_contract(ctx, response, case) -> None:
    """design.md §4: a 4xx is JSON with a "detail"; a 422 lists every field with a reason."""
    if 400 <= response.status_code < 500:
        problem = error_shape_problem(response.status_code, response.content)
        assert problem is None, problem


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    follows_error_contract,
]


def known_values(world: dict) -> dict:
    """The world's ids and codes, by the parameter and field names that carry them."""
    return {
        "patient_id": world["patient"],
        "patient": world["patient"],
        "referral_id": world["referral"],
        "episode_id": world["episode"],
        "episode": world["episode"],
        "prescription_id": world["prescription"],
        "administration_id": world["administration"],
        "administration": world["administration"],
        "incident_id": world["incident"],
        "follow_up_id": world["follow_up"],
        "code": "oslo",
        "clinic": "oslo",
        "to_clinic": "bergen",
        "product": "dam-inj",
        "batch": "A1",
        "witness": "doctor.oslo",
        "coordinator": "coordinator.oslo",
        "username": "nurse.oslo",
    }


def pin(case, known: dict) -> None:
    """Rewrites ids and codes in a generated case to the world's, so that the case reaches a
    real patient, episode or clinic instead of stopping at 404."""
    for container in (case.path_parameters, case.query):
        for name in set(container or {}) & set(known):
            container[name] = known[name]
    if isinstance(case.body, dict):
        for name in set(case.body) & set(known):
            case.body[name] = known[name]


@functools.cache
def generated_cases() -> list[tuple[bool, object]]:
    """The cases, generated once and sent as every role: generating costs more than sending,
    and the roles are then compared on the same requests. Each comes with whether to pin
    it to the world (half the conforming ones) when it is sent."""
    cases = []
    for result in schema().get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        for mode, examples in CASES.items():
            to_pin = st.booleans() if mode is GenerationMode.POSITIVE else st.just(False)

            @settings(
                max_examples=examples,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(pinned=to_pin, case=operation.as_strategy(generation_mode=mode))
            def collect(pinned, case):
                cases.append((pinned, case))

            collect()
    return cases


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_no_operation_breaks_its_contract_for_a(role, world):
    # given a user of the role at HAB Oslo, and a clinic with a patient in treatment
    app = DjangoTestWSGI()
    headers = {"Authorization": f"Bearer {bearer(f'{role}.oslo')}", "Accept-Language": "en"}
    known = known_values(world)
    failures: dict[tuple, str] = {}

    for pinned, case in generated_cases():
        if pinned:
            pin(case, known)
        # when the role sends it
        app.exceptions.clear()
        response = case.call(app=app, headers=headers)
        # then the response keeps the contract (collected, so that one run reports all)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseExceptionGroup as found:
            for failure in found.exceptions:
                key = (case.operation.label, response.status_code, failure.title)
                failures.setdefault(
                    key,
                    f"{failure.title}: {failure.message}\n"
                    f"{case.as_curl_command(headers=headers)}\n"
                    f"{response.content[:500]!r}\n" + "".join(repr(e) for e in app.exceptions),
                )

    report = "\n\n".join(f"{key[0]} → {key[1]}\n{text}" for key, text in failures.items())
    assert not failures, f"{len(failures)} contract failures as {role}:\n\n{report}"


def test_every_request_and_response_schema_has_its_own_name():
    """Two schemas of one name would share one entry in the OpenAPI document, and one of the
    operations would document (and be validated against) the other's fields."""
    # given every ninja Schema the API modules define
    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names: dict[str, str] = {}
    clashes = []
    for model in subclasses(Schema):
        if not model.__module__.startswith("hab."):
            continue
        where = f"{model.__module__}.{model.__qualname__}"
        if names.setdefault(model.__name__, where) != where:
            clashes.append((names[model.__name__], where))
    # then no name is used twice
    assert not clashes
