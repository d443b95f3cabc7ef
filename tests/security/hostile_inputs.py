"""Hostile input for the API's writing endpoints, shared by the security tests: values of
each kind of field that must be refused and odd ones that may be stored, and for each
writing endpoint a body it accepts and the kind of each of its fields (hostile values are
sent one field at a time, see test_hostile_api.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from hab.core import clock
from tests.conftest import synthetic_id
from tests.dosing.helpers import TODAY, dose_body

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


def patient_body(world: dict) -> dict:
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
        patient_body,
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


def with_field(body: dict, field: str, value) -> dict:
    """The body with one (dotted) field set to value."""
    body = json.loads(json.dumps(body))
    *outer, last = field.split(".")
    target = body
    for part in outer:
        target = target.setdefault(part, {})
    target[last] = value
    return body


def send(api, method: str, path: str, body: dict):
    # json.dumps writes NaN and Infinity as bare words, as a hostile client would.
    return getattr(api.client, method)(
        f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=api.headers
    )


def names_field(field: str, named: set[str]) -> bool:
    """Whether a 422's fields name ``field`` (dotted; a service may name only its last part,
    pydantic may add the type it tried after it)."""
    last = field.split(".")[-1]
    return any(name in (field, last) or name.startswith(f"{field}.") for name in named)
