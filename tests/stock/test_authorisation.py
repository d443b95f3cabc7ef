"""Who may do what in the ledger, from the one table in tests/core/test_authorisation.py,
through the API: own clinic as the table says, the other clinic always 404."""

from __future__ import annotations

import pytest

from hab.core.policy import Action
from hab.core.roles import Role
from hab.stock.models import Discrepancy
from tests.permissions import ALLOWED

pytestmark = pytest.mark.django_db

ITEM = {"product": "dam-inj", "batch": "A1"}
CALLS = [
    (Action.STOCK_VIEW, "get", "/stock/balance?clinic={clinic}", None),
    (Action.STOCK_VIEW, "get", "/stock/ledger?clinic={clinic}", None),
    (Action.STOCK_VIEW, "get", "/stock/discrepancies?clinic={clinic}", None),
    (Action.STOCK_RECEIVE, "post", "/stock/receipts", ITEM | {"quantity_mg": 10}),
    (
        Action.STOCK_WASTE,
        "post",
        "/stock/waste",
        ITEM | {"quantity_mg": 1, "witness": "{witness}", "reason": "Søl"},
    ),
    (Action.STOCK_COUNT, "post", "/stock/counts", ITEM | {"counted_mg": 10000}),
    (
        Action.STOCK_TRANSFER,
        "post",
        "/stock/transfers",
        ITEM | {"quantity_mg": 5, "to_clinic": "{other}", "reason": "Lån"},
    ),
    (Action.STOCK_ADJUST, "post", "/stock/adjustments", ITEM | {"quantity_mg": 1, "reason": "x"}),
    (Action.STOCK_MANAGE, "get", "/stock/verify?clinic={clinic}", None),
]


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "method", "path", "body"), CALLS)
@pytest.mark.parametrize("where", ["own", "other"])
def test_stock_authorisation(stocked, api_as, role, action, method, path, body, where):
    clinic = "oslo" if where == "own" else "bergen"
    stocked(clinic="bergen")
    # A nurse is the usual witness; a nurse recording gets the doctor.
    witness = f"{'doctor' if role == 'nurse' else 'nurse'}.{clinic}"
    fill = {"clinic": clinic, "other": "oslo" if clinic == "bergen" else "bergen"}
    fill["witness"] = witness
    api = api_as(f"{role}.oslo")

    if method == "get":
        response = api.get(path.format(**fill))
    else:
        data = {k: v.format(**fill) if isinstance(v, str) else v for k, v in body.items()}
        response = api.post(path, data | {"clinic": clinic})

    if where == "other":
        expected = 404
    elif role not in ALLOWED[action]:
        expected = 403
    else:
        expected = 201 if method == "post" else 200
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("role", Role.values)
def test_resolving_a_discrepancy(stocked, api_as, role):
    api_as("nurse.oslo").post("/stock/counts", {"clinic": "oslo", **ITEM, "counted_mg": 1})
    discrepancy = Discrepancy.objects.get()

    response = api_as(f"{role}.oslo").post(
        f"/stock/discrepancies/{discrepancy.pk}/resolution", {"explanation": "Telt feil"}
    )

    expected = 201 if role in ALLOWED[Action.STOCK_MANAGE] else 403
    if role in ("researcher", "programme", "admin", "psychologist", "coordinator"):
        expected = 403
    assert response.status_code == expected, response.content


def test_a_discrepancy_at_another_clinic_is_not_found(stocked, api_as):
    stocked(clinic="bergen")
    api_as("nurse.bergen").post("/stock/counts", {"clinic": "bergen", **ITEM, "counted_mg": 1})

    response = api_as("clinic_lead.oslo").post(
        f"/stock/discrepancies/{Discrepancy.objects.get().pk}/resolution", {"explanation": "x"}
    )

    assert response.status_code == 404
