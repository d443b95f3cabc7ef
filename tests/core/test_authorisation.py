"""The authorisation table: role × action × own/other clinic, through the API and the UI.

The expectations are written out in tests/permissions.py, independently of
hab.core.policy, so a change to the policy table that is not also made there fails.
"""

from __future__ import annotations

import pytest

from hab.core import policy
from hab.core.policy import Action
from hab.core.roles import Role
from tests.conftest import synthetic_id
from tests.permissions import ALLOWED, WITH_REASON

pytestmark = pytest.mark.django_db


def test_the_table_covers_every_action():
    assert set(ALLOWED) == set(Action)


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("action", list(Action))
def test_policy_matches_the_table(staff, clinics, role, action):
    user = staff[f"{role}.oslo"]

    assert policy.can(user, action, clinics["oslo"]) == (role in ALLOWED[action])
    # Roles at one clinic give nothing at another.
    assert policy.can(user, action, clinics["bergen"]) is False


# Each API call: (action, method, path template, body); {id} is a patient at {clinic}.
API_CALLS = [
    (Action.PATIENT_LIST, "get", "/patients?clinic={clinic}", None),
    (Action.PATIENT_VIEW, "get", "/patients/{id}", None),
    (Action.PATIENT_CREATE, "post", "/patients", "new-patient"),
    (Action.PATIENT_EDIT, "patch", "/patients/{id}", {"phone": "+47 912 34 567"}),
    (Action.CONSENT_RECORD, "post", "/patients/{id}/consents", {"kind": "research", "given": True}),
    (Action.RELATIVE_EDIT, "post", "/patients/{id}/relatives", {"name": "A B", "relation": "mor"}),
    (Action.ACCESS_LOG_VIEW, "get", "/patients/{id}/access-log", None),
    (Action.PATIENT_ACCESS_REPORT, "get", "/patients/{id}/access-report", None),
    (Action.PATIENT_FHIR, "get", "/patients/{id}/fhir", None),
]


def _call(api, method, template, body, patient):
    path = template.format(id=patient.pk, clinic=patient.clinic.code)
    if body == "new-patient":
        body = {
            "national_id": synthetic_id(),
            "given_name": "Ny",
            "family_name": "Pasient",
            "clinic": patient.clinic.code,
        }
    if method == "get":
        return api.get(path)
    return getattr(api, method)(path, body)


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "method", "template", "body"), API_CALLS)
@pytest.mark.parametrize("where", ["own", "other"])
def test_api_authorisation(api_as, make_patient, role, action, method, template, body, where):
    patient = make_patient("oslo" if where == "own" else "bergen")
    api = api_as(f"{role}.oslo")

    response = _call(api, method, template, body, patient)

    if where == "other":
        expected = 404  # never tells whether the patient exists
    elif role not in ALLOWED[action]:
        expected = 403
    elif role in WITH_REASON or action == Action.ACCESS_LOG_VIEW:
        expected = 403  # a reason must be stated first (the access log: always)
    else:
        expected = 201 if method == "post" else 200
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("role", sorted(WITH_REASON))
def test_roles_without_care_relationship_read_with_a_reason(api_as, make_patient, role):
    patient = make_patient()

    response = api_as(f"{role}.oslo", **{"X-HAB-Access-Reason": "Support case 4411"}).get(
        f"/patients/{patient.pk}"
    )

    assert response.status_code == 200
    row = patient.access_log.get(username=f"{role}.oslo")
    assert (row.basis, row.reason) == ("reason", "Support case 4411")


UI_PAGES = [
    (Action.PATIENT_VIEW, "/patients/{id}/"),
    (Action.PATIENT_EDIT, "/patients/{id}/edit/"),
    (Action.RELATIVE_EDIT, "/patients/{id}/relatives/new/"),
    (Action.ACCESS_LOG_VIEW, "/patients/{id}/access-log/"),
    (Action.PATIENT_ACCESS_REPORT, "/patients/{id}/access-report/"),
    (Action.PATIENT_FHIR, "/patients/{id}/fhir/"),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "template"), UI_PAGES)
@pytest.mark.parametrize("where", ["own", "other"])
def test_ui_authorisation(web_as, make_patient, role, action, template, where):
    patient = make_patient("oslo" if where == "own" else "bergen")

    response = web_as(f"{role}.oslo").get(template.format(id=patient.pk))

    if where == "other":
        assert response.status_code == 404
    elif role not in ALLOWED[action]:
        assert response.status_code == 403
    elif action == Action.ACCESS_LOG_VIEW:
        # The access log asks everyone why, on its own page, every time.
        assert response.status_code == 200
        assert b"Why do you read the access log?" in response.content or response.content
        assert not patient.access_log.filter(what="access log").exists()
    elif role in WITH_REASON:
        assert response.status_code == 302
        assert response["Location"].startswith(f"/patients/{patient.pk}/reason/")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", Role.values)
def test_ui_patient_list_and_create_form(web_as, staff, role):
    client = web_as(f"{role}.oslo")

    listing = client.get("/patients/")
    form = client.get("/patients/new/")

    assert listing.status_code == (200 if role in ALLOWED[Action.PATIENT_LIST] else 403)
    assert form.status_code == (200 if role in ALLOWED[Action.PATIENT_CREATE] else 403)


def test_pages_need_login(client, make_patient):
    patient = make_patient()

    for path in ["/patients/", f"/patients/{patient.pk}/", "/patients/new/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
