"""The authorisation table: role × action × own/other clinic, through the API and the UI.

The expectations are written out here, independently of hab.core.policy, so a change to
the policy table that is not also made here fails.
"""

from __future__ import annotations

import pytest

from hab.core import policy
from hab.core.policy import Action
from hab.core.roles import Role
from tests.conftest import synthetic_id

pytestmark = pytest.mark.django_db

CARE = {"doctor", "nurse", "psychologist", "coordinator", "clinic_lead"}
ALLOWED: dict[Action, set[str]] = {
    Action.CLINIC_VIEW: set(Role.values),
    Action.CLINIC_SETTINGS_EDIT: {"clinic_lead"},
    Action.ROLE_CHANGE: {"clinic_lead", "admin"},
    Action.SYSTEM_ADMIN: {"admin"},
    Action.PATIENT_LIST: CARE,
    Action.PATIENT_VIEW: CARE | {"admin"},
    Action.PATIENT_CREATE: {"doctor", "coordinator", "clinic_lead"},
    Action.PATIENT_EDIT: {"doctor", "nurse", "coordinator", "clinic_lead"},
    Action.CONSENT_RECORD: CARE,
    Action.RELATIVE_EDIT: CARE,
    Action.ACCESS_LOG_VIEW: {"clinic_lead", "admin"},
    Action.PATIENT_ACCESS_REPORT: {"clinic_lead"},
    Action.PATIENT_FHIR: {"doctor", "coordinator", "clinic_lead"},
    Action.LMDI_REPORT: {"clinic_lead"},
    Action.CAPACITY_VIEW: CARE | {"researcher", "programme"},
    Action.REFERRAL_VIEW: CARE,
    Action.REFERRAL_CREATE: {"coordinator", "clinic_lead"},
    Action.REFERRAL_MANAGE: {"doctor", "coordinator", "clinic_lead"},
    Action.REFERRAL_ASSESS: {"doctor"},
    Action.REFERRAL_URGENT: {"doctor"},
    Action.PLACE_OFFER: {"clinic_lead"},
    Action.EPISODE_ADMIT: {"clinic_lead"},
    Action.EPISODE_PHASE: {"doctor"},
    Action.EPISODE_COORDINATOR: {"coordinator", "clinic_lead"},
    Action.EPISODE_TRANSFER: {"clinic_lead"},
    Action.EPISODE_DISCHARGE: {"doctor", "clinic_lead"},
    Action.CRITERIA_EDIT: {"programme"},
    Action.PRESCRIBE: {"doctor"},
    Action.PROTOCOL_EDIT: {"clinic_lead"},
    Action.PROTOCOL_CONFIRM: {"doctor"},
    Action.BOARD_VIEW: CARE,
    Action.DOSE: {"nurse", "doctor", "clinic_lead"},
    Action.DOSE_CORRECT: {"nurse", "doctor", "clinic_lead"},
    Action.SESSION_CLOSE: {"nurse", "doctor", "clinic_lead"},
    Action.DOCTOR_ALERT: {"nurse", "doctor", "clinic_lead"},
    Action.DOSE_HOLD: {"nurse", "doctor", "clinic_lead"},
    Action.DOSE_HOLD_LIFT: {"doctor"},
    Action.GUEST_AUTHORISE: {"doctor"},
    Action.STOCK_VIEW: {"nurse", "doctor", "clinic_lead"},
    Action.STOCK_RECEIVE: {"nurse", "clinic_lead"},
    Action.STOCK_WASTE: {"nurse", "doctor", "clinic_lead"},
    Action.STOCK_COUNT: {"nurse", "doctor", "clinic_lead"},
    Action.STOCK_TRANSFER: {"clinic_lead"},
    Action.STOCK_ADJUST: {"clinic_lead"},
    Action.STOCK_MANAGE: {"clinic_lead"},
    Action.INCIDENT_VIEW: CARE,
    Action.INCIDENT_REPORT: CARE,
    Action.INCIDENT_MANAGE: {"clinic_lead"},
    Action.INCIDENT_SUMMARY: {"clinic_lead", "programme"},
    Action.CARE_VIEW: CARE,
    Action.CARE_EDIT: {"doctor", "psychologist", "coordinator", "clinic_lead"},
    Action.CARE_NOTE_WRITE: {"doctor", "psychologist", "coordinator", "clinic_lead"},
    Action.NOTE_READ_CLINICAL: {"doctor", "psychologist"},
    Action.NOTE_READ_PSYCHOLOGY: {"psychologist"},
    Action.ROTA_VIEW: CARE,
    Action.ROTA_EDIT: {"clinic_lead"},
    Action.CONTINGENCY: {"nurse", "doctor", "clinic_lead"},
    Action.FOLLOWUP_VIEW: CARE,
    Action.FOLLOWUP_RECORD: CARE,
    Action.RESEARCH_EXPORT: {"researcher"},
    Action.EVALUATION_VIEW: {"clinic_lead", "researcher", "programme"},
    Action.COSTS_EDIT: {"clinic_lead", "programme"},
}
# Roles that may open a record only with a stated reason (no care relationship).
WITH_REASON = {"admin"}


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
