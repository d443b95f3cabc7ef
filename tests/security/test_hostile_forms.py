"""Hostile input in the pages' forms, from a table.

Each form has data that would be saved; one field at a time gets a hostile value of its
kind. A value that cannot be right comes back as the same form (200) with the error beside
the field, and nothing is written. Odd but possible text may be saved; then it is stored as
sent and the page that shows it shows it escaped. No answer ever carries a script tag raw.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.utils import timezone

from hab.core import clock
from hab.prescribing.models import DosingProtocol
from hab.prescribing.services import PROTOCOL_FIELDS
from hab.stock.models import Batch
from tests.conftest import PASSWORD, synthetic_id
from tests.dosing.helpers import TODAY, local
from tests.security.conftest import row_counts, stored_somewhere
from tests.security.hostile_inputs import BAD_NATIONAL_IDS, NOT_NAMES, SCRIPT

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# Form data cannot carry a lone surrogate (it is not UTF-8), so NUL is the one text that
# is never right.
REFUSED_TEXT = {"NUL byte": "Kari\x00"}
ODD_TEXT = {
    "script tag": SCRIPT,
    "SQL": "Robert'); DROP TABLE patients_patient;--",
    "right-to-left override": "\u202eirak",
    "combining marks": "Ka" + "\u0301" * 40 + "ri",
    "emoji": "Kari 👩‍⚕️💉",
    "one megabyte": "x" * 1_000_000,
}
NOT_NUMBERS = {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity", "words": "mye"}
BAD_QUANTITIES = NOT_NUMBERS | {"negative": "-200", "1e308": "1e308"}
BAD_DOSES = BAD_QUANTITIES | {"a kilogram": "1000000"}
BAD_DATES = {
    "year 1": "0001-01-01",
    "year 9999": "9999-12-31",
    "30 February": "2026-02-30",
    "words": "i går",
}
KINDS: dict[str, tuple[dict, dict]] = {
    "text": (REFUSED_TEXT, ODD_TEXT),
    # a person's name is stored composed (NFC): "combining marks" is kept once composed
    "name": (
        REFUSED_TEXT | NOT_NAMES,
        {label: text for label, text in ODD_TEXT.items() if label not in NOT_NAMES},
    ),
    "dose": (BAD_DOSES, {}),
    "quantity": (BAD_QUANTITIES, {}),
    "date": (BAD_DATES, {}),
    "national_id": (BAD_NATIONAL_IDS | REFUSED_TEXT, {}),
}


@dataclass
class Form:
    name: str
    role: str
    url: Callable[[dict], str]
    data: Callable[[dict], dict]
    fields: dict[str, str]
    # The page that shows what was saved (None: where the form redirects; "": none does).
    shows: Callable[[dict], str] | str | None = None


FORMS = [
    Form(
        "register a patient",
        "coordinator",
        lambda w: "/patients/new/",
        lambda w: {
            "national_id": synthetic_id(),
            "given_name": "Kari",
            "family_name": "Nordmann",
            "address": "Storgata 1",
        },
        {
            "national_id": "national_id",
            "given_name": "name",
            "family_name": "name",
            "address": "text",
            "birth_date": "date",
        },
    ),
    Form(
        "record a dose",
        "nurse",
        lambda w: f"/dosing/patients/{w['patient']}/",
        lambda w: {
            "identity_checked": "on",
            "sedation": "1",
            "breath_alcohol_permille": "0.00",
            "status": "given",
            "dose_mg": "200",
            "slot": "afternoon",
            "date": str(TODAY),
        },
        {"dose_mg": "dose", "breath_alcohol_permille": "quantity", "notes": "text"},
        shows="",
    ),
    Form(
        "prescribe",
        "doctor",
        lambda w: f"/prescribing/patients/{w['patient']}/new/",
        lambda w: {
            "medication": "dam_injectable",
            "route": "iv",
            "dose_morning": "200",
            "dose_afternoon": "200",
            "daily_max_mg": "450",
            "valid_from": str(TODAY),
            "reason": "Stabil",
        },
        {
            "dose_morning": "dose",
            "daily_max_mg": "dose",
            "valid_from": "date",
            "valid_to": "date",
            "reason": "text",
        },
        shows=lambda w: f"/patients/{w['patient']}/",
    ),
    Form(
        "receive stock",
        "nurse",
        lambda w: "/stock/receipt/",
        lambda w: {
            "product": "dam-inj",
            "batch": "B7",
            "quantity_mg": "5000",
            "expires_on": str(TODAY.replace(year=TODAY.year + 1)),
            "reference": "Levering 4712",
        },
        {"quantity_mg": "quantity", "expires_on": "date", "batch": "text", "reference": "text"},
        shows=lambda w: "/stock/ledger/",
    ),
    Form(
        "waste stock",
        "nurse",
        lambda w: "/stock/waste/",
        lambda w: {
            "batch": str(Batch.objects.get(lot="A1", product__clinic__code="oslo").pk),
            "quantity_mg": "100",
            "reason": "Knust ampulle",
            "witness": "doctor.oslo",
            "witness_password": PASSWORD,
        },
        {"quantity_mg": "quantity", "reason": "text"},
        shows=lambda w: "/stock/ledger/",
    ),
    Form(
        "change the dosing protocol",
        "clinic_lead",
        lambda w: "/prescribing/protocol/",
        lambda w: _protocol_now() | {"doctor": "doctor.oslo", "reason": "Ny avtale"},
        {"dam_max_single_mg": "dose", "dam_max_daily_mg": "dose", "reason": "text"},
    ),
    Form(
        "report an incident",
        "nurse",
        lambda w: "/incidents/new/",
        lambda w: {
            "kind": "overdose",
            "severity": "moderate",
            "occurred_at": timezone.localtime(clock.now()).strftime("%Y-%m-%dT%H:%M"),
            "description": "Pustet dårlig.",
        },
        {
            "description": "text",
            "immediate_actions": "text",
            "naloxone_mg": "dose",
            "occurred_at": "date",
        },
    ),
    Form(
        "write a care-plan note",
        "coordinator",
        lambda w: f"/care/patients/{w['patient']}/notes/new/",
        lambda w: {"note-visibility": "team", "note-text": "Godt møte."},
        {"note-text": "text"},
        shows=lambda w: f"/care/patients/{w['patient']}/",
    ),
]


def _protocol_now() -> dict:
    """The form data of the protocol in force, as the page fills it in."""
    protocol = DosingProtocol.objects.filter(clinic__code="oslo").latest("version")
    values = {name: getattr(protocol, name) for name in PROTOCOL_FIELDS}
    return {name: str(value) for name, value in values.items() if value is not None}


def _attempt(
    client,
    form: Form,
    world: dict,
    field: str,
    label: str,
    value,
    refused: bool,
    name: bool = False,
):
    """Posts the form with one hostile value; what is wrong with the outcome, or None. What
    it saved is rolled back, so that every attempt meets the same world."""
    with transaction.atomic():
        before = row_counts()
        response = client.post(form.url(world), form.data(world) | {field: value})
        status = response.status_code
        where = f"{field} = {label}: {status}"
        page = response.content.decode()
        problem = None
        if SCRIPT in page:
            problem = f"{where} the script tag is in the page unescaped"
        elif status == 200 and ('class="field-error"' in page or 'class="error"' in page):
            # then the form came back with the error beside the field, and nothing was saved
            if f'id="id_{field}_error"' not in page:
                problem = f"{where} the error is not beside the field"
            elif row_counts() != before:
                problem = f"{where} but rows were written"
        elif status >= 400:
            problem = f"{where} an error page, not the form"
        elif refused:
            problem = f"{where} saved"
        elif not stored_somewhere(unicodedata.normalize("NFC", value) if name else value):
            problem = f"{where} saved, but not as sent"
        elif label == "script tag" and form.shows != "":
            # then the page that shows it shows it as text
            shown = client.get(form.shows(world) if form.shows else response["Location"])
            text = shown.content.decode()
            if SCRIPT in text or ESCAPED not in text:
                problem = f"{where} not shown escaped on {shown.wsgi_request.path}"
        transaction.set_rollback(True)
    return problem


@pytest.fixture
def afternoon_world(world):
    with clock.at(local(TODAY, 15)):
        yield world


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_hostile_values_get_a_form_error_or_are_saved_and_shown_escaped(
    form, afternoon_world, web_as
):
    world = afternoon_world
    client = web_as(f"{form.role}.oslo")
    # given data the form saves (tried, then rolled back)
    with transaction.atomic():
        response = client.post(form.url(world), form.data(world))
        assert response.status_code == 302 or "HX-Trigger" in response, response.content[-3000:]
        transaction.set_rollback(True)
    problems = []
    for field, kind in form.fields.items():
        refused, odd = KINDS[kind]
        for label, value in (refused | odd).items():
            # when one field holds a hostile value
            value = value() if callable(value) else value
            problems.append(
                _attempt(client, form, world, field, label, value, label in refused, kind == "name")
            )
    problems = [problem for problem in problems if problem]
    assert not problems, "\n".join(problems)
