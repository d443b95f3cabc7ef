"""Personas and factories shared by all tests.

Every clinic has one person per role, named as in the demo: ``nurse.oslo``,
``doctor.bergen``, ... (like healthchecks' alice, bob and charlie).
"""

from __future__ import annotations

import importlib
import itertools
from datetime import date

import pytest
from django.apps import apps as django_apps
from django.test import Client
from hypothesis import settings as hypothesis_settings

from hab.core import services as core_services
from hab.core.access import Actor
from hab.core.demo import SLOTS
from hab.core.models import Clinic, User
from hab.core.roles import HealthRegion, Role
from hab.intake.models import CriteriaSet
from hab.patients import services as patient_services
from hab.patients.models import Patient
from hab.patients.national_id import make_synthetic
from tests import clock as test_clock
from tests.helpers import all_yes, days_ago

# Fixtures that tests in several directories use (each file says which).
pytest_plugins = [
    "tests.fixtures.dosing",
    "tests.fixtures.evaluation",
    "tests.fixtures.stock",
]

# No time limit per example: on CI's two shared cores a slow example is load, not a bug
# (a property that sets its own deadline keeps it).
hypothesis_settings.register_profile("hab", deadline=None)
hypothesis_settings.load_profile("hab")

PASSWORD = "test-pass-2026"
_serial = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "clock(moment): run the test at another instant than HAB_TEST_NOW's (an ISO time, "
        "date and time, or aware instant, as in tests/clock.py); clock(None): the real clock",
    )


@pytest.fixture(autouse=True)
def fixed_clock(request):
    """Every test runs at a known instant (tests/clock.py), unless it says otherwise."""
    marker = request.node.get_closest_marker("clock")
    moment = test_clock.NOW
    if marker is not None:
        moment = marker.args[0] if marker.args else None
        if isinstance(moment, str):
            moment = test_clock.resolve(moment)
    with test_clock.fixed(moment):
        yield moment


def ensure_migration_data() -> None:
    """Rows that data migrations create, put back after a transactional test emptied the
    database (Django flushes it after each of them)."""
    if not CriteriaSet.objects.exists():
        module = importlib.import_module("hab.intake.migrations.0002_default_criteria")
        module.forwards(django_apps, None)


@pytest.fixture
def clinics(db) -> dict[str, Clinic]:
    ensure_migration_data()
    return {
        code: core_services.clinic_create(
            code=code, name=name, health_region=region, capacity=capacity, slots=SLOTS
        )
        for code, name, region, capacity in [
            ("oslo", "HAB Oslo", HealthRegion.SOUTH_EAST, 200),
            ("bergen", "HAB Bergen", HealthRegion.WEST, 100),
        ]
    }


@pytest.fixture
def staff(clinics) -> dict[str, User]:
    """One user per role and clinic: staff["nurse.oslo"]."""
    return {
        f"{role.value}.{code}": core_services.staff_create(
            username=f"{role.value}.{code}",
            password=PASSWORD,
            first_name=role.label,
            last_name=code.title(),
            roles=[(clinic, role)],
        )
        for code, clinic in clinics.items()
        for role in Role
    }


def synthetic_id(born: date | None = None) -> str:
    """A fresh valid synthetic national id, different on every call."""
    born = born or date(1980, 1, 1)
    while True:
        # Individual numbers 000-499 are for the 1900s, 500-999 for 2000-2039.
        offset = 500 if born.year >= 2000 else 0
        value = make_synthetic(born, offset + next(_serial) % 500)
        if value:
            return value


@pytest.fixture
def make_patient(staff):
    def make(clinic: str = "oslo", **fields) -> Patient:
        values = {
            "national_id_value": synthetic_id(fields.pop("born", None)),
            "given_name": "Kari",
            "family_name": "Testesen",
        } | fields
        return patient_services.patient_create(
            actor=Actor.system(staff[f"coordinator.{clinic}"]),
            clinic=Clinic.objects.get(code=clinic),
            **values,
        )

    return make


class Api:
    """A JSON client for /api/v1 acting as one staff member (or nobody)."""

    def __init__(self, token: str | None = None, headers: dict | None = None) -> None:
        self.client = Client()
        # API messages follow Accept-Language (Norwegian by default); tests read English.
        self.headers = {"Accept-Language": "en"} | dict(headers or {})
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, data=None, **extra):
        kwargs = {"headers": self.headers | extra.pop("headers", {})}
        if method in ("post", "patch", "put"):
            kwargs |= {"data": data or {}, "content_type": "application/json"}
        elif data is not None:
            kwargs["data"] = data
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path, data=None, **extra):
        return self._call("get", path, data, **extra)

    def post(self, path, data=None, **extra):
        return self._call("post", path, data, **extra)

    def patch(self, path, data=None, **extra):
        return self._call("patch", path, data, **extra)

    def delete(self, path, **extra):
        return self._call("delete", path, **extra)


@pytest.fixture
def api_as(staff):
    def login(username: str | None, **headers) -> Api:
        if username is None:
            return Api(headers=headers)
        token = core_services.token_create(username=username, password=PASSWORD)
        assert token, f"could not log in {username}"
        return Api(token, headers)

    return login


@pytest.fixture
def web_as(staff):
    """A browser-less web client logged in as a persona."""

    def login(username: str) -> Client:
        client = Client()
        client.force_login(staff[username])
        return client

    return login


# --- intake: referral → eligible → admitted, through the API --------------------------


@pytest.fixture
def referral(api_as, make_patient):
    """A received referral of a new patient at a clinic (Oslo by default)."""

    def make(clinic: str = "oslo", **patient_fields):
        patient = make_patient(clinic, **patient_fields)
        response = api_as(f"coordinator.{clinic}").post(
            "/referrals",
            {
                "patient": patient.pk,
                "source": "lar",
                "received_on": str(days_ago(30)),
                "referring_organisation": "LAR Oslo øst",
            },
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make


@pytest.fixture
def eligible(referral, api_as):
    """A referral assessed eligible (all criteria met)."""

    def make(clinic: str = "oslo", **patient_fields):
        made = referral(clinic, **patient_fields)
        response = api_as(f"doctor.{clinic}").post(
            f"/referrals/{made['id']}/assessment",
            {"criteria": all_yes(), "eligible": True, "assessed_on": str(days_ago(20))},
        )
        assert response.status_code == 201, response.content
        return made

    return make


@pytest.fixture
def admitted(eligible, api_as):
    """An open episode of a newly admitted patient."""

    def make(clinic: str = "oslo", **fields):
        made = eligible(clinic)
        response = api_as(f"clinic_lead.{clinic}").post(
            "/episodes",
            {"patient": made["patient"], "clinic": clinic, "admitted_on": str(days_ago(10))}
            | fields,
        )
        assert response.status_code == 201, response.content
        return response.json()

    return make
