"""The authorisation table for intake: role × action × own/other clinic, through the API."""

from __future__ import annotations

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from tests.conftest import synthetic_id
from tests.helpers import all_yes, days_ago
from tests.permissions import ALLOWED, WITH_REASON

pytestmark = pytest.mark.django_db


def person(clinic):
    return {
        "person": {"national_id": synthetic_id(), "given_name": "Ny", "family_name": "Person"},
        "clinic": clinic,
        "source": "lar",
        "received_on": str(days_ago(1)),
        "referring_organisation": "LAR",
    }


# (action, what to set up, method, path, body). {r} referral, {e} episode, {p} patient,
# {c} clinic code.
CALLS = [
    (Action.REFERRAL_VIEW, "referral", "get", "/referrals?clinic={c}", None),
    (Action.REFERRAL_VIEW, "referral", "get", "/referrals/{r}", None),
    (Action.REFERRAL_VIEW, "referral", "get", "/clinics/{c}/waitlist", None),
    (Action.CAPACITY_VIEW, "referral", "get", "/clinics/{c}/capacity", None),
    (Action.REFERRAL_CREATE, None, "post", "/referrals", "person"),
    (Action.REFERRAL_MANAGE, "referral", "post", "/referrals/{r}/status", {"status": "assessing"}),
    (Action.REFERRAL_MANAGE, "eligible", "post", "/referrals/{r}/waitlist", {}),
    (
        Action.REFERRAL_ASSESS,
        "referral",
        "post",
        "/referrals/{r}/assessment",
        "all-yes",
    ),
    (
        Action.REFERRAL_URGENT,
        "eligible",
        "post",
        "/referrals/{r}/urgent",
        {"urgent": True, "reason": "r"},
    ),
    (Action.PLACE_OFFER, "eligible", "post", "/referrals/{r}/offer", {}),
    (Action.EPISODE_ADMIT, "eligible", "post", "/episodes", "admit"),
    (Action.PATIENT_VIEW, "episode", "get", "/episodes/{e}", None),
    (Action.PATIENT_VIEW, "episode", "get", "/patients/{p}/timeline", None),
    (Action.PATIENT_LIST, "episode", "get", "/episodes?clinic={c}", None),
    (Action.EPISODE_PHASE, "episode", "post", "/episodes/{e}/phase", {"phase": "maintenance"}),
    (
        Action.EPISODE_COORDINATOR,
        "episode",
        "post",
        "/episodes/{e}/coordinator",
        {"coordinator": "nurse.{c}"},
    ),
    (Action.EPISODE_TRANSFER, "episode", "post", "/episodes/{e}/transfer", {"clinic": "{o}"}),
    (
        Action.EPISODE_DISCHARGE,
        "episode",
        "post",
        "/episodes/{e}/discharge",
        {"ended_on": "{today}", "reason": "dropout"},
    ),
]


def fill(value, names):
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "setup", "method", "path", "body"), CALLS)
@pytest.mark.parametrize("where", ["own", "other"])
def test_intake_api_authorisation(
    api_as, referral, eligible, admitted, role, action, setup, method, path, body, where
):
    clinic = "oslo" if where == "own" else "bergen"
    names = {"c": clinic, "o": "bergen" if clinic == "oslo" else "oslo", "today": days_ago(0)}
    if setup == "referral":
        made = referral(clinic)
        names |= {"r": made["id"], "p": made["patient"]}
    elif setup == "eligible":
        made = eligible(clinic)
        names |= {"r": made["id"], "p": made["patient"]}
    elif setup == "episode":
        made = admitted(clinic)
        names |= {"e": made["id"], "p": made["patient"]}
    if body == "person":
        body = person(clinic)
    elif body == "all-yes":
        body = {"criteria": all_yes(), "eligible": True}
    elif body == "admit":
        body = {"patient": names["p"], "clinic": clinic, "admitted_on": str(days_ago(0))}
    api = api_as(f"{role}.oslo")

    if method == "get":
        response = api.get(fill(path, names))
    else:
        response = api.post(fill(path, names), fill(body, names))

    if where == "other":
        assert response.status_code == 404, response.content
    elif role not in ALLOWED[action] or role in WITH_REASON:
        assert response.status_code == 403, response.content
    else:
        assert response.status_code in (200, 201), response.content


# Pages: (action, setup, path). Object pages are tried at the own and the other clinic.
PAGES = [
    (Action.REFERRAL_VIEW, "referral", "/intake/referrals/{r}/"),
    (Action.REFERRAL_ASSESS, "referral", "/intake/referrals/{r}/assess/"),
    (Action.REFERRAL_MANAGE, "referral", "/intake/referrals/{r}/withdraw/"),
    (Action.REFERRAL_URGENT, "eligible", "/intake/referrals/{r}/urgent/"),
    (Action.EPISODE_ADMIT, "eligible", "/intake/referrals/{r}/admit/"),
    (Action.EPISODE_PHASE, "episode", "/intake/episodes/{e}/phase/"),
    (Action.EPISODE_COORDINATOR, "episode", "/intake/episodes/{e}/coordinator/"),
    (Action.EPISODE_TRANSFER, "episode", "/intake/episodes/{e}/transfer/"),
    (Action.EPISODE_DISCHARGE, "episode", "/intake/episodes/{e}/discharge/"),
]
CLINIC_PAGES = [
    (Action.REFERRAL_VIEW, "/intake/referrals/"),
    (Action.REFERRAL_VIEW, "/intake/waitlist/"),
    (Action.CAPACITY_VIEW, "/intake/capacity/"),
    (Action.REFERRAL_CREATE, "/intake/referrals/new/"),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "setup", "path"), PAGES)
@pytest.mark.parametrize("where", ["own", "other"])
def test_intake_page_authorisation(
    web_as, referral, eligible, admitted, role, action, setup, path, where
):
    clinic = "oslo" if where == "own" else "bergen"
    made = {"referral": referral, "eligible": eligible, "episode": admitted}[setup](clinic)
    url = path.format(r=made["id"], e=made["id"])

    response = web_as(f"{role}.oslo").get(url)

    if where == "other":
        assert response.status_code == 404
    elif role not in ALLOWED[action]:
        assert response.status_code == 403
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "path"), CLINIC_PAGES)
def test_intake_clinic_page_authorisation(web_as, staff, role, action, path):
    response = web_as(f"{role}.oslo").get(path)

    assert response.status_code == (200 if role in ALLOWED[action] else 403)
