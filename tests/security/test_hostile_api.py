"""Hostile input at the API's writing endpoints, from a table (hostile_inputs.py).

Each endpoint has a body that would be accepted; one field at a time is replaced by a
hostile value of its kind. Values that cannot be right (NaN, a negative dose, the year 9999,
NUL, an id beyond 64 bits, a national id with a bad check digit) must get a 4xx in design.md
§4's shape (a 422 names the field) with no row written anywhere in HAB. Odd but possible
text (markup, SQL, right-to-left override, combining marks, emoji, a megabyte) may be
refused the same way or accepted, and then it is stored exactly as sent.
"""

from __future__ import annotations

import unicodedata

import pytest
from django.db import transaction

from hab.core import clock
from tests.security.conftest import error_shape_problem, row_counts, stored_somewhere
from tests.security.hostile_inputs import (
    ENDPOINTS,
    KINDS,
    MEGABYTE,
    SCRIPT,
    names_field,
    patient_body,
    send,
    with_field,
)


def _values_in(value) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _values_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in _values_in(item)]
    return [value] if isinstance(value, str) else []


def _attempt(
    api,
    method: str,
    path: str,
    body: dict,
    field: str,
    label: str,
    refused: bool,
    composed: bool = False,
):
    """Sends one hostile body and says what is wrong with the answer, or None. Whatever it
    wrote is rolled back, so that every attempt meets the same world."""
    with transaction.atomic():
        before = row_counts()
        response = send(api, method, path, body)
        status = response.status_code
        where = f"{field} = {label}: {status}"
        problem = None
        if status >= 500:
            problem = f"{where} server error"
        elif status >= 400:
            # then a refusal is in §4's shape, names the field, and nothing was written
            if shape := error_shape_problem(status, response.content):
                problem = f"{where} {shape}"
            elif status == 422 and not names_field(
                field, named := {item["field"] for item in response.json()["detail"]}
            ):
                problem = f"{where} names {sorted(named)}, not {field}"
            elif row_counts() != before:
                problem = f"{where} but rows were written"
        elif refused:
            problem = f"{where} accepted"
        else:
            # then odd text that was accepted is kept exactly as it was sent
            value = body
            for part in field.split("."):
                value = value[part]
            if composed:
                value = unicodedata.normalize("NFC", value)
            if not (value in _values_in(response.json()) or stored_somewhere(value)):
                problem = f"{where} accepted but not stored as sent"
        transaction.set_rollback(True)
    return problem


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_hostile_values_are_refused_or_stored_as_sent(endpoint, afternoon_world, api_as):
    world = afternoon_world
    api = api_as(f"{endpoint.role}.oslo")
    method = "patch" if endpoint.name.startswith("change a patient") else "post"
    path = endpoint.path(world)
    # given a body the endpoint accepts (tried, then rolled back)
    with transaction.atomic():
        response = send(api, method, path, endpoint.body(world))
        assert response.status_code in (200, 201), response.content
        transaction.set_rollback(True)
    problems = []
    for field, kind in endpoint.fields.items():
        refused, odd = KINDS[kind]
        for label, value in (refused | odd).items():
            # when one field holds a hostile value
            body = with_field(endpoint.body(world), field, value() if callable(value) else value)
            problems.append(
                _attempt(api, method, path, body, field, label, label in refused, kind == "name")
            )
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)


def test_a_synthetic_national_id_is_refused_where_they_are_not_allowed(world, api_as, settings):
    # given an installation for real patients
    settings.ALLOW_SYNTHETIC_IDS = False
    api = api_as("coordinator.oslo")
    before = row_counts()
    # when a test id is registered
    response = send(api, "post", "/patients", patient_body(world))
    # then it is refused beside the national id, and nothing is written
    assert response.status_code == 422
    assert [item["field"] for item in response.json()["detail"]] == ["national_id"]
    assert row_counts() == before


@pytest.mark.parametrize(
    "body",
    [
        {"username": "nobody.oslo\x00", "password": "x"},
        {"username": "\ud800", "password": "x"},
        {"username": "nobody.oslo", "password": MEGABYTE},
        {"username": SCRIPT, "password": "'; DROP TABLE core_user; --"},
        {"username": ["nobody.oslo"], "password": 1},
        {"username": "nobody.oslo"},
    ],
    ids=["NUL", "lone surrogate", "megabyte password", "markup and SQL", "types", "missing"],
)
def test_logging_in_with_hostile_credentials_is_refused_plainly(body, staff, api_as):
    # Kept apart from the fuzzing: a user name nobody has, so that no one is locked out.
    response = send(api_as(None), "post", "/auth/token", body)
    assert response.status_code in (401, 422), response.content
    assert error_shape_problem(response.status_code, response.content) is None
    assert "token" not in response.json()


def test_a_protocol_setting_without_a_name_is_refused_as_a_field_of_values(world, api_as):
    # Found by fuzzing: the setting "" came back as a 422 about the field "".
    body = {"doctor": "doctor.oslo", "reason": "Ny avtale", "values": {"": 1}}
    response = send(api_as("clinic_lead.oslo"), "post", "/clinics/oslo/protocol", body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "values", "message": "No such protocol setting."}
    ]


def test_markup_accepted_through_the_api_is_shown_as_text_on_the_pages(world, api_as, web_as):
    # given markup in a patient's name, an incident and a care-plan note, sent to the API
    patient = world["patient"]
    coordinator = api_as("coordinator.oslo")
    renamed = send(coordinator, "patch", f"/patients/{patient}", {"given_name": SCRIPT})
    note = send(
        coordinator,
        "post",
        f"/patients/{patient}/care-plan/notes",
        {"text": SCRIPT, "visibility": "team"},
    )
    incident = send(
        api_as("nurse.oslo"),
        "post",
        "/incidents",
        {
            "clinic": "oslo",
            "kind": "overdose",
            "severity": "moderate",
            "occurred_at": clock.now().isoformat(),
            "description": SCRIPT,
        },
    )
    assert [renamed.status_code, note.status_code, incident.status_code] == [200, 201, 201]
    # when the pages that show them are opened
    pages = [
        f"/patients/{patient}/",
        f"/care/patients/{patient}/",
        f"/incidents/{incident.json()['id']}/",
    ]
    for path in pages:
        page = web_as("coordinator.oslo" if "incidents" not in path else "nurse.oslo").get(path)
        text = page.content.decode()
        # then the markup is there as text, never as a tag
        assert page.status_code == 200, path
        assert SCRIPT not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
