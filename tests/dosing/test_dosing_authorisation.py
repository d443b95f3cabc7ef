"""The authorisation table for prescribing and dosing: role × action × own/other clinic."""

from __future__ import annotations

import pytest

from hab.core.access import Actor
from hab.core.models import Clinic, User
from hab.core.policy import Action
from hab.core.roles import Role
from hab.dosing import services
from tests.conftest import PASSWORD
from tests.dosing.helpers import TODAY, dose_body
from tests.permissions import ALLOWED, WITH_REASON
from tests.prescribing.helpers import propose

pytestmark = pytest.mark.django_db


def given(patient: int, clinic: str) -> int:
    """A dose given this afternoon, recorded by the clinic's nurse."""
    body = dose_body(patient)
    recorded = services.administration_record(
        actor=Actor.system(User.objects.get(username=f"nurse.{clinic}")),
        clinic=Clinic.objects.get(code=clinic),
        patient_id=patient,
        day=TODAY,
        slot=body["slot"],
        medication=body["medication"],
        dose_mg=body["dose_mg"],
        route=body["route"],
        status="given",
        assessment=body["assessment"],
    )
    return recorded.administration.pk


CALLS = [
    (Action.BOARD_VIEW, "get", "/clinics/{c}/board?slot=afternoon", None),
    (Action.DOSE, "post", "/administrations", "dose"),
    (Action.DOSE_CORRECT, "post", "/administrations/{a}/corrections", "correction"),
    # Ended before the protocol's 20 minutes: with the note that then is needed.
    (
        Action.DOSE,
        "post",
        "/administrations/{a}/observation",
        {"outcome": "no_concern", "note": "Left early, felt well."},
    ),
    (Action.SESSION_CLOSE, "post", "/clinics/{c}/sessions/close", "close"),
    (Action.PRESCRIBE, "post", "/prescriptions", "prescription"),
    (Action.PRESCRIBE, "post", "/prescriptions/{rx}/stop", {"reason": "Avsluttet"}),
    (Action.PATIENT_VIEW, "get", "/patients/{p}/prescriptions", None),
    (Action.GUEST_AUTHORISE, "post", "/patients/{p}/guest-dosing", "guest"),
    (
        Action.PRESCRIBE,
        "post",
        "/patients/{p}/dose-reviews",
        {"group": "dam", "note": "Sett i dag, starter igjen."},
    ),
    (Action.PROTOCOL_EDIT, "post", "/clinics/{c}/protocol", "protocol"),
    (Action.CLINIC_VIEW, "get", "/clinics/{c}/protocol", None),
    (Action.PROTOCOL_CONFIRM, "post", "/clinics/{c}/protocols/{v}/confirm", "confirm"),
]


def body_for(kind, names):
    if kind == "dose":
        return dose_body(names["p"], clinic=names["c"])
    if kind == "correction":
        return {"reason": "Feil dose ført", "dose_mg": 150, "status": "partial"}
    if kind == "close":
        return {"date": str(TODAY), "slot": "morning"}
    if kind == "prescription":
        return {
            "episode": names["e"],
            "medication": "dam_injectable",
            "route": "iv",
            "doses_mg": {"morning": 200, "afternoon": 220},
            "daily_max_mg": 450,
        }
    if kind == "guest":
        other = "bergen" if names["c"] == "oslo" else "oslo"
        return {"clinic": other, "valid_from": str(TODAY), "valid_to": str(TODAY)}
    if kind == "protocol":
        return {"doctor": f"doctor.{names['c']}", "reason": "Ny versjon", "values": {}}
    if kind == "confirm":
        return {"password": PASSWORD}
    return kind


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "method", "path", "body"), CALLS)
@pytest.mark.parametrize("where", ["own", "other"])
def test_dosing_api_authorisation(
    api_as, on_prescription, afternoon, staff, role, action, method, path, body, where
):
    clinic = "oslo" if where == "own" else "bergen"
    made = on_prescription(clinic)
    names = {"c": clinic, "p": made["patient"], "e": made["episode"], "rx": made["id"]}
    if "{a}" in path:
        names["a"] = given(made["patient"], clinic)
    if "{v}" in path:
        # a version the clinic lead proposed, naming the clinic's doctor
        names["v"] = propose(staff, clinic, {"titration_days": 4}).version
    api = api_as(f"{role}.oslo")

    if method == "get":
        response = api.get(path.format(**names))
    else:
        response = api.post(path.format(**names), body_for(body, names))

    if where == "other":
        assert response.status_code == 404, response.content
    elif role not in ALLOWED[action] or (role in WITH_REASON and action == Action.PATIENT_VIEW):
        assert response.status_code == 403, response.content
    else:
        assert response.status_code in (200, 201), response.content


PAGES = [
    (Action.BOARD_VIEW, "/dosing/patients/{p}/?slot=afternoon"),
    (Action.DOSE_CORRECT, "/dosing/records/{a}/correct/"),
    (Action.PRESCRIBE, "/prescribing/patients/{p}/new/"),
    (Action.PRESCRIBE, "/prescribing/{rx}/stop/"),
    (Action.GUEST_AUTHORISE, "/prescribing/patients/{p}/guest/"),
    (Action.PRESCRIBE, "/dosing/patients/{p}/review/"),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "path"), PAGES)
@pytest.mark.parametrize("where", ["own", "other"])
def test_dosing_page_authorisation(web_as, on_prescription, afternoon, role, action, path, where):
    clinic = "oslo" if where == "own" else "bergen"
    made = on_prescription(clinic)
    names = {"p": made["patient"], "rx": made["id"]}
    if "{a}" in path:
        names["a"] = given(made["patient"], clinic)

    response = web_as(f"{role}.oslo").get(path.format(**names))

    if where == "other":
        assert response.status_code == 404
    elif role not in ALLOWED[action]:
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(
    ("action", "path"),
    [(Action.BOARD_VIEW, "/dosing/"), (Action.BOARD_VIEW, "/prescribing/protocol/")],
)
def test_dosing_clinic_pages(web_as, protocols, role, action, path):
    response = web_as(f"{role}.oslo").get(path)

    assert response.status_code == (200 if role in ALLOWED[action] else 403)
