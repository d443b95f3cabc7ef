"""A small clinic world for the security tests, and helpers they share.

The world has what the fuzzer and the hostile inputs need to get past "not found": a
patient in treatment at HAB Oslo with a prescription, ten days of doses, an incident, a
care-plan goal, a follow-up schedule, stock on the shelf and a calendar.
"""

from __future__ import annotations

import json

import pytest
from django.apps import apps as django_apps
from django.core.signals import request_finished
from django.db import close_old_connections, connection, models
from django.test.client import ClientHandler

from hab.core import clock
from hab.core import services as core_services
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.dosing.models import Administration
from hab.intake.models import Referral
from hab.operations import services as operations_services
from hab.research.models import FollowUp
from tests.dosing.helpers import TODAY, local
from tests.research.conftest import ensure_instrument


def hab_models() -> list:
    return [
        model
        for config in django_apps.get_app_configs()
        if config.name.startswith("hab.")
        for model in config.get_models()
    ]


# Opening a patient's record is logged by design (design.md §1), so a refused form, which
# shows the record again, adds to the access log; it writes nothing else.
READ_LOGS = {"core.AccessLog"}


def row_counts() -> dict[str, int]:
    """The number of rows in every table of HAB's own apps but the read log (one query)."""
    found = [model for model in hab_models() if model._meta.label not in READ_LOGS]
    tables = [connection.ops.quote_name(model._meta.db_table) for model in found]
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {table})" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        counts = cursor.fetchone()
    return {model._meta.label: count for model, count in zip(found, counts, strict=True)}


def stored_somewhere(value: str) -> bool:
    """Whether some text column of a HAB table that can hold ``value`` holds exactly it."""
    for model in hab_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField):
                continue
            if field.max_length and field.max_length < len(value):
                continue
            if model.objects.filter(**{field.name: value}).exists():
                return True
    return False


@pytest.fixture
def afternoon_world(world, make_patient):
    """The world at 15:00 today, in the afternoon session, with a spare patient."""
    with clock.at(local(TODAY, 15)):
        yield world | {"spare_patient": make_patient("oslo").pk}


@pytest.fixture
def world(on_prescription, stocked, api_as, staff) -> dict:
    ensure_instrument()
    treated = on_prescription("oslo")
    patient = treated["patient"]
    nurse = api_as("nurse.oslo")
    incident = nurse.post(
        "/incidents",
        {
            "clinic": "oslo",
            "kind": "overdose",
            "severity": "moderate",
            "occurred_at": clock.now().isoformat(),
            "patient": patient,
            "description": "Pustet dårlig etter dosen.",
        },
    )
    assert incident.status_code == 201, incident.content
    goal = api_as("coordinator.oslo").post(
        f"/patients/{patient}/care-plan/goals", {"domain": "housing", "text": "Egen bolig"}
    )
    assert goal.status_code == 201, goal.content
    operations_services.calendar_generate(
        actor=Actor.system(staff["clinic_lead.oslo"]),
        clinic=Clinic.objects.get(code="oslo"),
        days=7,
    )
    return {
        "patient": patient,
        "episode": treated["episode"],
        "prescription": treated["id"],
        "administration": Administration.objects.filter(patient_id=patient).latest("pk").pk,
        "referral": Referral.objects.get(patient_id=patient).pk,
        "incident": incident.json()["id"],
        "follow_up": FollowUp.objects.filter(episode_id=treated["episode"]).earliest("pk").pk,
        "today": clock.today(),
    }


def bearer(username: str) -> str:
    from tests.conftest import PASSWORD

    token = core_services.token_create(username=username, password=PASSWORD)
    assert token, f"could not log in {username}"
    return token


class DjangoTestWSGI:
    """A WSGI application over Django's test handler: the request runs inside the test's
    transaction (the handler does not close the connection at the end of each request, as
    the real one would) and an exception that became a 500 is kept for the report."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=False)
        self.exceptions: list[BaseException] = []

    def __call__(self, environ, start_response):
        from django.core.signals import got_request_exception

        def keep(sender, request=None, **kwargs):
            import sys

            self.exceptions.append(sys.exc_info()[1])

        got_request_exception.connect(keep)
        try:
            response = self.handler(environ)
        finally:
            got_request_exception.disconnect(keep)
        headers = list(response.items())
        headers += [("Set-Cookie", c.output(header="")) for c in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        content = b"".join(response) if response.streaming else response.content
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        return [content]


def error_shape_problem(status: int, content: bytes) -> str | None:
    """What is wrong with a 4xx body by design.md §4, or None: JSON with a "detail" that is a
    sentence, or for 422 a non-empty list of {"field", "message"}."""
    try:
        body = json.loads(content)
    except ValueError:
        return f"{status} is not JSON: {content[:200]!r}"
    if not isinstance(body, dict) or "detail" not in body:
        return f"{status} has no detail: {body!r}"
    detail = body["detail"]
    if status == 422:
        if not isinstance(detail, list) or not detail:
            return f"422 without a list of fields: {detail!r}"
        for item in detail:
            if not (
                isinstance(item, dict)
                and set(item) == {"field", "message"}
                and isinstance(item["field"], str)
                and item["field"]
                and isinstance(item["message"], str)
                and item["message"]
            ):
                return f"422 item is not {{field, message}}: {item!r}"
    elif not isinstance(detail, str) or not detail:
        return f"{status} detail is not a sentence: {detail!r}"
    return None
