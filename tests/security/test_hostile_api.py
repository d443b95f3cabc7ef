"""Hostile input at the API's writing endpoints, from a table.

Each endpoint has a body that would be accepted; one field at a time is replaced by a
hostile value of its kind. Values that cannot be right (NaN, a negative dose, the year 9999,
NUL, an id beyond 64 bits, a national id with a bad check digit) must get a 4xx in design.md
§4's shape (a 422 names the field) with no row written anywhere in HAB. Odd but possible
text (markup, SQL, right-to-left override, combining marks, emoji, a megabyte) may be
refused the same way or accepted, and then it is stored exactly as sent.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction

from hab.core import clock
from tests.conftest import synthetic_id
from tests.dosing.helpers import TODAY, dose_body
from tests.security.conftest import error_shape_problem, row_counts, stored_somewhere

SCRIPT = "<script>alert(1)</script>"
MEGABYTE = "x" * 1_000_000

# Never storable: NUL (PostgreSQL refuses it) and a lone UTF-16 surrogate (not a character).
REFUSED_TEXT = {"NUL byte": "Kari\x00", "lone surrogate": "\ud800"}
ODD_TEXT = {
    "script tag": SCRIPT,
    "SQL": "Robert'); DROP TABLE patients_patient;--",
    "right-to-left override": "\u202eirak",
    "combining marks": "Ka" + "\u0301" * 40 + "ri",
    "emoji": "Kari 👩‍⚕️💉",
    "one megabyte": MEGABYTE,
}
NOT_NUMBERS = {
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
    "'NaN' as text": "NaN",
    "words": "two hundred",
    "list": [200],
    "object": {"mg": 200},
}
BAD_QUANTITIES = NOT_NUMBERS | {"negative": -200, "1e308": 1e308}
BAD_DOSES = BAD_QUANTITIES | {"a kilogram": 1e6}
BAD_DATES = {
    "year 1": "0001-01-01",
    "year 9999": "9999-12-31",
    "30 February": "2026-02-30",
    "words": "yesterday",
    "number": 20260101,
}
BAD_IDS = {"beyond 64 bits": 2**64, "negative": -1, "fraction": 1.5, "SQL": "1 OR 1=1"}


def _bad_check_digit() -> str:
    valid = synthetic_id()
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


BAD_NATIONAL_IDS = {
    "bad check digit": _bad_check_digit,
    "ten digits": lambda: synthetic_id()[:-1],
    "twelve digits": lambda: synthetic_id() + "0",
    "letters": lambda: synthetic_id()[:6] + "ABCDE",
    "impossible day": lambda: "32" + synthetic_id()[2:],
}

# A person's name also needs a letter and holds nothing invisible (hab.core.names).
NOT_NAMES = {
    "right-to-left override": "\u202eirak",
    "zero-width spaces only": "\u200b\u200b",
    "no letter": "--",
}
ODD_NAMES = {label: text for label, text in ODD_TEXT.items() if label not in NOT_NAMES}

# What each kind of field gets: values that must be refused, and odd ones that may pass.
KINDS: dict[str, tuple[dict, dict]] = {
    "text": (REFUSED_TEXT, ODD_TEXT),
    # stored composed (NFC): "combining marks" is kept as sent once composed
    "name": (REFUSED_TEXT | NOT_NAMES, ODD_NAMES),
    "code": (REFUSED_TEXT | {"script tag": SCRIPT, "one megabyte": MEGABYTE}, {}),
    "dose": (BAD_DOSES, {}),
    "quantity": (BAD_QUANTITIES, {}),
    "number": (NOT_NUMBERS, {}),
    "date": (BAD_DATES, {}),
    "id": (BAD_IDS, {}),
    "national_id": (BAD_NATIONAL_IDS | REFUSED_TEXT, {}),
}


@dataclass
class Endpoint:
    name: str
    role: str
    path: Callable[[dict], str]
    body: Callable[[dict], dict]
    fields: dict[str, str]


def _patient_body(world: dict) -> dict:
    return {
        "national_id": synthetic_id(),
        "given_name": "Kari",
        "family_name": "Nordmann",
        "clinic": "oslo",
        "phone": "+47 912 34 567",
        "address": "Storgata 1, 0155 Oslo",
    }


ENDPOINTS = [
    Endpoint(
        "register a patient",
        "coordinator",
        lambda w: "/patients",
        _patient_body,
        {
            "national_id": "national_id",
            "given_name": "name",
            "family_name": "name",
            "address": "text",
            "clinic": "code",
            "birth_date": "date",
        },
    ),
    Endpoint(
        "change a patient's names",
        "coordinator",
        lambda w: f"/patients/{w['patient']}",
        lambda w: {"given_name": "Kari"},
        {"given_name": "name", "family_name": "name", "birth_date": "date"},
    ),
    Endpoint(
        "refer a patient",
        "coordinator",
        lambda w: "/referrals",
        lambda w: {
            "patient": w["spare_patient"],
            "source": "lar",
            "received_on": str(TODAY),
            "referring_organisation": "LAR Oslo øst",
        },
        {
            "patient": "id",
            "received_on": "date",
            "referring_organisation": "text",
            "note": "text",
            "source": "code",
        },
    ),
    Endpoint(
        "prescribe",
        "doctor",
        lambda w: "/prescriptions",
        lambda w: {
            "episode": w["episode"],
            "medication": "dam_injectable",
            "route": "iv",
            "doses_mg": {"morning": 200, "afternoon": 200},
            "daily_max_mg": 450,
            "valid_from": str(TODAY),
            "reason": "Stabil",
        },
        {
            "daily_max_mg": "dose",
            "doses_mg.morning": "dose",
            "valid_from": "date",
            "episode": "id",
            "reason": "text",
        },
    ),
    Endpoint(
        "record a dose",
        "nurse",
        lambda w: "/administrations",
        lambda w: dose_body(w["patient"]),
        {
            "dose_mg": "dose",
            "date": "date",
            "patient": "id",
            "assessment.breath_alcohol_permille": "number",
            "slot": "code",
        },
    ),
    Endpoint(
        "change the dosing protocol",
        "clinic_lead",
        lambda w: "/clinics/oslo/protocol",
        lambda w: {
            "doctor": "doctor.oslo",
            "reason": "Ny avtale",
            "values": {"dam_max_single_mg": 400},
        },
        {"values.dam_max_single_mg": "dose", "reason": "text", "doctor": "code"},
    ),
    Endpoint(
        "receive stock",
        "nurse",
        lambda w: "/stock/receipts",
        lambda w: {
            "clinic": "oslo",
            "product": "dam-inj",
            "batch": "B7",
            "quantity_mg": 5000,
            "expires_on": str(TODAY.replace(year=TODAY.year + 1)),
            "reference": "Levering 4712",
        },
        {
            "quantity_mg": "quantity",
            "expires_on": "date",
            "batch": "text",
            "product": "code",
            "reference": "text",
        },
    ),
    Endpoint(
        "waste stock",
        "nurse",
        lambda w: "/stock/waste",
        lambda w: {
            "clinic": "oslo",
            "product": "dam-inj",
            "batch": "A1",
            "quantity_mg": 100,
            "witness": "doctor.oslo",
            "reason": "Knust ampulle",
        },
        {"quantity_mg": "quantity", "witness": "code", "reason": "text"},
    ),
    Endpoint(
        "count stock",
        "nurse",
        lambda w: "/stock/counts",
        lambda w: {
            "clinic": "oslo",
            "product": "dam-inj",
            "batch": "A1",
            "counted_mg": 10000,
            "witness": "doctor.oslo",
        },
        {"counted_mg": "quantity", "note": "text"},
    ),
    Endpoint(
        "report an incident",
        "nurse",
        lambda w: "/incidents",
        lambda w: {
            "clinic": "oslo",
            "kind": "overdose",
            "severity": "moderate",
            "occurred_at": clock.now().isoformat(),
            "patient": w["patient"],
            "naloxone_mg": 0.4,
            "description": "Pustet dårlig.",
        },
        {
            "description": "text",
            "immediate_actions": "text",
            "naloxone_mg": "dose",
            "occurred_at": "date",
            "patient": "id",
            "kind": "code",
        },
    ),
    Endpoint(
        "write a care-plan note",
        "coordinator",
        lambda w: f"/patients/{w['patient']}/care-plan/notes",
        lambda w: {"text": "Godt møte.", "visibility": "team"},
        {"text": "text", "visibility": "code"},
    ),
    Endpoint(
        "add a relative",
        "coordinator",
        lambda w: f"/patients/{w['patient']}/relatives",
        lambda w: {"name": "Randi Hansen", "relation": "mor"},
        {"name": "name", "relation": "text", "note": "text"},
    ),
    Endpoint(
        "discharge",
        "clinic_lead",
        lambda w: f"/episodes/{w['episode']}/discharge",
        lambda w: {"ended_on": str(TODAY), "reason": "discharged"},
        {"ended_on": "date", "death_on": "date", "note": "text"},
    ),
]


def _with(body: dict, field: str, value) -> dict:
    """The body with one (dotted) field set to value."""
    body = json.loads(json.dumps(body))
    *outer, last = field.split(".")
    target = body
    for part in outer:
        target = target.setdefault(part, {})
    target[last] = value
    return body


def _send(api, method: str, path: str, body: dict):
    # json.dumps writes NaN and Infinity as bare words, as a hostile client would.
    return getattr(api.client, method)(
        f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=api.headers
    )


def _values_in(value) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _values_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in _values_in(item)]
    return [value] if isinstance(value, str) else []


def _names(field: str, named: set[str]) -> bool:
    """Whether a 422's fields name ``field`` (dotted; a service may name only its last part,
    pydantic may add the type it tried after it)."""
    last = field.split(".")[-1]
    return any(name in (field, last) or name.startswith(f"{field}.") for name in named)


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
        response = _send(api, method, path, body)
        status = response.status_code
        where = f"{field} = {label}: {status}"
        problem = None
        if status >= 500:
            problem = f"{where} server error"
        elif status >= 400:
            # then a refusal is in §4's shape, names the field, and nothing was written
            if shape := error_shape_problem(status, response.content):
                problem = f"{where} {shape}"
            elif status == 422 and not _names(
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
        response = _send(api, method, path, endpoint.body(world))
        assert response.status_code in (200, 201), response.content
        transaction.set_rollback(True)
    problems = []
    for field, kind in endpoint.fields.items():
        refused, odd = KINDS[kind]
        for label, value in (refused | odd).items():
            # when one field holds a hostile value
            body = _with(endpoint.body(world), field, value() if callable(value) else value)
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
    response = _send(api, "post", "/patients", _patient_body(world))
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
    response = _send(api_as(None), "post", "/auth/token", body)
    assert response.status_code in (401, 422), response.content
    assert error_shape_problem(response.status_code, response.content) is None
    assert "token" not in response.json()


def test_a_protocol_setting_without_a_name_is_refused_as_a_field_of_values(world, api_as):
    # Found by fuzzing: the setting "" came back as a 422 about the field "".
    body = {"doctor": "doctor.oslo", "reason": "Ny avtale", "values": {"": 1}}
    response = _send(api_as("clinic_lead.oslo"), "post", "/clinics/oslo/protocol", body)
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "values", "message": "No such protocol setting."}
    ]


def test_markup_accepted_through_the_api_is_shown_as_text_on_the_pages(world, api_as, web_as):
    # given markup in a patient's name, an incident and a care-plan note, sent to the API
    patient = world["patient"]
    coordinator = api_as("coordinator.oslo")
    renamed = _send(coordinator, "patch", f"/patients/{patient}", {"given_name": SCRIPT})
    note = _send(
        coordinator,
        "post",
        f"/patients/{patient}/care-plan/notes",
        {"text": SCRIPT, "visibility": "team"},
    )
    incident = _send(
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
