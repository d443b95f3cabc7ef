"""Every page and API read of a patient's data writes one access-log row (Normen).

The URL conf is walked, web and API alike: every URL that names a patient, or a record of
one (an episode, a referral, a prescription, a dose, a relative, a goal, an incident, a
follow-up...), is requested with the small demo's data as each persona of the patient's
clinic. Whoever is shown the page must leave exactly one new row in the patient's access
log, on the basis of care, or of the reason they gave where their role owes one. A new URL
is walked the day it is added: nothing here lists the pages to check, only the exceptions.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from hab.core import policy
from hab.core import services as core_services
from hab.core.access import REASON_HEADER
from hab.core.models import AccessLog, User
from hab.core.policy import Action
from hab.core.web import SESSION_REASONS
from tests import clock as test_clock
from tests.pages import PERSONAS, url_arguments

pytestmark = pytest.mark.django_db

REASON = "Feilsøking av sak 4711"

# URL parameters that name a patient's record, with the model that holds it and how to
# reach its patient's id from there.
PATIENT_RECORDS = {
    "patient_id": ("patients", "Patient", "pk"),
    "referral_id": ("intake", "Referral", "patient_id"),
    "episode_id": ("intake", "Episode", "patient_id"),
    "prescription_id": ("prescribing", "Prescription", "patient_id"),
    "administration_id": ("dosing", "Administration", "patient_id"),
    "incident_id": ("incidents", "Incident", "patient_id"),
    "follow_up_id": ("research", "FollowUp", "patient_id"),
    "response_id": ("research", "Response", "follow_up__patient_id"),
}

# URLs that name a patient but show none of their data when read, each with the reason.
# (A URL that answers GET with 405 is a write only; its service logs the write.)
NOT_A_READ: dict[str, str] = {
    "patients:reason": "the form asking an administrator why they open the record: it "
    "shows no data of the patient, and the record opened after it is logged",
    "patients:photo": "the photo is fetched by the record's page, which logged the read",
    "patients:access-log": "its GET asks why the log is read; the log is shown (and the "
    "read logged) in the answer to that POST",
}
# Routes whose read always rests on a stated reason, whatever the role.
BY_REASON = {"api/v1/patients/<int:patient_id>/access-log"}


@dataclass
class Visit:
    route: str
    url: str
    persona: str
    status: int
    rows: list[tuple[str, str, str, str]]  # (action, what, basis, reason) of the new rows
    expected_basis: str


def patient_routes() -> list[tuple[str, str | None, list[str]]]:
    """(route, view name or None for the API, parameters) of every URL naming a patient."""
    found = []

    def walk(patterns, namespace: str, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                space = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, space, route)
            elif isinstance(pattern, URLPattern):
                params = list(getattr(pattern.pattern, "converters", {}))
                if not params:
                    # A ninja path's parameters are untyped (``<patient_id>``).
                    params = [p.split(">")[0].split(":")[-1] for p in route.split("<")[1:]]
                if set(params) & set(PATIENT_RECORDS) and not route.startswith("admin/"):
                    name = namespace + pattern.name if pattern.name else None
                    found.append((route, name if not route.startswith("api/") else None, params))

    walk(get_resolver().url_patterns, "", "")
    return found


def patient_of(kwargs: dict) -> int | None:
    for name, (app, model, path) in PATIENT_RECORDS.items():
        if name in kwargs:
            values = apps.get_model(app, model).objects.filter(pk=kwargs[name])
            return values.values_list(path, flat=True).first()
    return None


def fill(route: str, kwargs: dict) -> str:
    path = route
    for name, value in kwargs.items():
        for form in (f"<int:{name}>", f"<{name}>", f"<str:{name}>"):
            path = path.replace(form, str(value))
    return "/" + path


def walk_reads() -> tuple[list[Visit], list[str]]:
    users = {u.username: u for u in User.objects.filter(username__in=PERSONAS)}
    arguments = url_arguments()
    incidents = apps.get_model("incidents", "Incident").objects.filter(patient__clinic__code="oslo")
    arguments[frozenset(["incident_id"])] = [
        {"incident_id": pk} for pk in incidents.order_by("-pk").values_list("pk", flat=True)[:2]
    ]
    visits: list[Visit] = []
    unfilled: list[str] = []
    tokens = {}
    for route, name, params in patient_routes():
        if name in NOT_A_READ:
            continue
        filled = arguments.get(frozenset(params), [])
        if not filled:
            unfilled.append(route)
        for kwargs in filled:
            patient_id = patient_of(kwargs)
            if patient_id is None:
                continue
            url = reverse(name, kwargs=kwargs) if name else fill(route, kwargs)
            for persona in PERSONAS:
                user = users[persona]
                client = Client(raise_request_exception=False)
                headers = {REASON_HEADER: REASON, "Accept-Language": "en"}
                if name:
                    client.force_login(user)
                    session = client.session
                    session[SESSION_REASONS] = {
                        str(patient_id): {"reason": REASON, "until": 4102444800}
                    }
                    session.save()
                else:
                    if persona not in tokens:
                        tokens[persona] = core_services.token_create(
                            username=persona, password=settings.DEMO_PASSWORD
                        )
                    headers["Authorization"] = f"Bearer {tokens[persona]}"
                before = AccessLog.objects.filter(patient_id=patient_id).count()
                response = client.get(url, headers=headers)
                rows = list(
                    AccessLog.objects.filter(patient_id=patient_id)
                    .order_by("id")
                    .values_list("action", "what", "basis", "reason")[before:]
                )
                clinic_id = apps.get_model("patients", "Patient").objects.get(pk=patient_id)
                needs = policy.needs_reason(user, Action.PATIENT_VIEW, clinic_id.clinic_id)
                visits.append(
                    Visit(
                        route,
                        url,
                        persona,
                        response.status_code,
                        rows,
                        "reason" if needs or route in BY_REASON else "care",
                    )
                )
    return visits, unfilled


@dataclass
class Walk:
    visits: list[Visit]
    unfilled: list[str]
    routes: list[tuple[str, str | None, list[str]]]


@pytest.fixture(scope="module")
def reads(django_db_setup, django_db_blocker) -> Walk:
    """The demo, built and walked once for the module, and rolled back after."""
    with django_db_blocker.unblock(), test_clock.fixed(test_clock.NOW), transaction.atomic():
        call_command("demo", "--scale", "0.05", stdout=io.StringIO())
        visits, unfilled = walk_reads()
        routes = patient_routes()
        transaction.set_rollback(True)
    return Walk(visits, unfilled, routes)


def test_every_url_naming_a_patient_is_walked(reads):
    assert reads.unfilled == [], "no demo object fills these URLs"
    assert len(reads.routes) >= 60


def test_every_read_of_a_patient_leaves_one_row_with_its_basis(reads):
    wrong: dict[str, str] = {}
    for v in reads.visits:
        if v.status != 200:
            continue
        if len(v.rows) != 1 or v.rows[0][0] == "list" or v.rows[0][2] != v.expected_basis:
            # One example per URL: enough to find the view.
            wrong.setdefault(v.route, f"{v.persona} {v.url}: {v.rows}")
    assert wrong == {}, "\n".join(wrong.values())


def test_a_refused_read_leaves_no_row(reads):
    # (A 404 after the check may leave one: prescribing for a patient not in treatment
    # tells that they are not, a read of the record.)
    wrong = [
        f"{v.persona} {v.url}: {v.status} {v.rows}"
        for v in reads.visits
        if v.status in (403, 405) and v.rows
    ]
    assert wrong == []


def test_every_url_naming_a_patient_is_read_by_someone_or_is_a_write(reads):
    statuses: dict[str, set[int]] = {}
    for visit in reads.visits:
        statuses.setdefault(visit.route, set()).add(visit.status)
    unread = {route: codes for route, codes in statuses.items() if 200 not in codes}
    assert {r: c for r, c in unread.items() if c != {405}} == {}
