"""The controlled-drug ledger through the API: receipts, witnessed waste, transfers,
adjustments, counts and discrepancies. Every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core import clock
from hab.stock.models import Discrepancy, LedgerEntry, StockCount
from tests.stock.conftest import balance_of

pytestmark = pytest.mark.django_db


def waste_body(**extra):
    return {
        "clinic": "oslo",
        "product": "dam-inj",
        "batch": "A1",
        "quantity_mg": 30,
        "witness": "doctor.oslo",
        "reason": "Rest av delvis dose",
    } | extra


# --- receipts -----------------------------------------------------------------------------


def test_a_receipt_registers_the_batch_and_raises_the_balance(stocked, api_as):
    nurse = api_as("nurse.oslo")

    second = stocked(quantity=2500)

    assert second["kind"] == "receipt"
    assert second["quantity_mg"] == 2500
    assert second["balance_mg"] == 12500
    assert second["reference"] == "Levering 4711"
    assert balance_of(nurse) == 12500
    assert len(second["hash"]) == 64


def test_a_new_batch_without_expiry_is_refused(products, api_as):
    response = api_as("nurse.oslo").post(
        "/stock/receipts",
        {"clinic": "oslo", "product": "dam-inj", "batch": "NEW", "quantity_mg": 1000},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "expires_on"
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("quantity", [0, -5, "abc"])
def test_a_receipt_must_be_a_positive_amount(stocked, api_as, quantity):
    before = LedgerEntry.objects.count()

    response = api_as("nurse.oslo").post(
        "/stock/receipts",
        {"clinic": "oslo", "product": "dam-inj", "batch": "A1", "quantity_mg": quantity},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "quantity_mg"
    assert LedgerEntry.objects.count() == before


def test_an_unknown_product_is_named(products, api_as):
    response = api_as("nurse.oslo").post(
        "/stock/receipts",
        {
            "clinic": "oslo",
            "product": "nope",
            "batch": "A1",
            "quantity_mg": 10,
            "expires_on": "2030-01-01",
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "product", "message": "No such product at the clinic."}
    ]


def test_a_batch_keeps_its_expiry(stocked, api_as):
    response = api_as("nurse.oslo").post(
        "/stock/receipts",
        {
            "clinic": "oslo",
            "product": "dam-inj",
            "batch": "A1",
            "quantity_mg": 10,
            "expires_on": "2099-01-01",
        },
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "expires_on"


# --- waste --------------------------------------------------------------------------------


def test_witnessed_waste_is_debited(stocked, api_as):
    response = api_as("nurse.oslo").post("/stock/waste", waste_body())

    assert response.status_code == 201, response.content
    entry = response.json()
    assert entry["kind"] == "waste"
    assert entry["quantity_mg"] == -30
    assert entry["witness"] == "doctor.oslo"
    assert entry["recorded_by"] == "nurse.oslo"
    assert balance_of(api_as("nurse.oslo")) == 9970


@pytest.mark.parametrize(
    ("witness", "message"),
    [
        ("", "A second member of staff must witness this."),
        ("nurse.oslo", "The witness must be someone other than you."),
        ("nurse.bergen", "The witness must be a nurse, doctor or clinic lead at this clinic."),
        ("researcher.oslo", "The witness must be a nurse, doctor or clinic lead at this clinic."),
        ("nobody", "The witness must be a nurse, doctor or clinic lead at this clinic."),
    ],
)
def test_waste_without_a_second_person_is_refused(stocked, api_as, witness, message):
    before = LedgerEntry.objects.count()

    response = api_as("nurse.oslo").post("/stock/waste", waste_body(witness=witness))

    assert response.status_code == 422
    assert {"field": "witness", "message": message} in response.json()["detail"]
    assert LedgerEntry.objects.count() == before


def test_waste_needs_a_reason(stocked, api_as):
    response = api_as("nurse.oslo").post("/stock/waste", waste_body(reason=" "))

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "reason"


def test_the_balance_never_goes_negative(stocked, api_as):
    before = LedgerEntry.objects.count()

    response = api_as("nurse.oslo").post("/stock/waste", waste_body(quantity_mg=10000.1))

    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["field"] == "quantity_mg"
    assert "only 10,000 mg" in detail["message"]
    assert LedgerEntry.objects.count() == before
    assert balance_of(api_as("nurse.oslo")) == 10000


def test_the_whole_batch_may_be_wasted(stocked, api_as):
    response = api_as("nurse.oslo").post(
        "/stock/waste", waste_body(quantity_mg=10000, reason="Utgått på dato")
    )

    assert response.status_code == 201
    assert balance_of(api_as("nurse.oslo")) == 0


# --- transfers and adjustments --------------------------------------------------------------


def test_a_transfer_writes_two_linked_entries(stocked, api_as):
    lead = api_as("clinic_lead.oslo")

    response = lead.post(
        "/stock/transfers",
        {
            "clinic": "oslo",
            "to_clinic": "bergen",
            "product": "dam-inj",
            "batch": "A1",
            "quantity_mg": 4000,
            "reason": "Bergen venter på levering",
        },
    )

    assert response.status_code == 201, response.content
    out, into = response.json()
    assert (out["clinic"], out["quantity_mg"]) == ("oslo", -4000)
    assert (into["clinic"], into["quantity_mg"]) == ("bergen", 4000)
    assert into["transfer_from"] == out["id"]
    assert balance_of(lead) == 6000
    assert balance_of(api_as("nurse.bergen"), clinic="bergen") == 4000


def test_a_transfer_is_the_clinic_leads(stocked, api_as):
    response = api_as("nurse.oslo").post(
        "/stock/transfers",
        {
            "clinic": "oslo",
            "to_clinic": "bergen",
            "product": "dam-inj",
            "batch": "A1",
            "quantity_mg": 10,
            "reason": "x",
        },
    )

    assert response.status_code == 403


def test_a_transfer_of_more_than_the_batch_holds_writes_nothing(stocked, api_as):
    before = LedgerEntry.objects.count()

    response = api_as("clinic_lead.oslo").post(
        "/stock/transfers",
        {
            "clinic": "oslo",
            "to_clinic": "bergen",
            "product": "dam-inj",
            "batch": "A1",
            "quantity_mg": 20000,
            "reason": "x",
        },
    )

    assert response.status_code == 422
    assert LedgerEntry.objects.count() == before


def test_the_clinic_lead_adjusts_with_a_reason(stocked, api_as):
    lead = api_as("clinic_lead.oslo")
    body = {"clinic": "oslo", "product": "dam-inj", "batch": "A1", "quantity_mg": -12.5}

    refused = lead.post("/stock/adjustments", body)
    made = lead.post("/stock/adjustments", body | {"reason": "Veiefeil ved mottak"})

    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "reason"
    assert made.status_code == 201
    assert made.json()["kind"] == "count_adjustment"
    assert balance_of(lead) == 9987.5


def test_a_nurse_cannot_adjust_the_book(stocked, api_as):
    response = api_as("nurse.oslo").post(
        "/stock/adjustments",
        {"clinic": "oslo", "product": "dam-inj", "batch": "A1", "quantity_mg": 5, "reason": "x"},
    )

    assert response.status_code == 403


# --- counts and discrepancies ---------------------------------------------------------------


def test_a_matching_count_opens_nothing(stocked, api_as):
    response = api_as("nurse.oslo").post(
        "/stock/counts",
        {
            "clinic": "oslo",
            "product": "dam-inj",
            "batch": "A1",
            "counted_mg": 10000,
            "witness": "doctor.oslo",
        },
    )

    assert response.status_code == 201
    assert response.json() | {"id": 0} == {
        "id": 0,
        "product": "dam-inj",
        "batch": "A1",
        "counted_mg": 10000,
        "book_mg": 10000,
        "difference_mg": 0,
        "discrepancy": None,
    }
    assert not Discrepancy.objects.exists()


def test_a_difference_opens_a_discrepancy_the_lead_resolves(stocked, api_as):
    nurse, lead = api_as("nurse.oslo"), api_as("clinic_lead.oslo")

    counted = nurse.post(
        "/stock/counts",
        {"clinic": "oslo", "product": "dam-inj", "batch": "A1", "counted_mg": 9950},
    ).json()
    listed = nurse.get("/stock/discrepancies", {"clinic": "oslo"}).json()
    not_nurse = nurse.post(
        f"/stock/discrepancies/{counted['discrepancy']}/resolution",
        {"explanation": "x", "adjust": True},
    )
    unexplained = lead.post(
        f"/stock/discrepancies/{counted['discrepancy']}/resolution", {"adjust": True}
    )
    resolved = lead.post(
        f"/stock/discrepancies/{counted['discrepancy']}/resolution",
        {"explanation": "Søl ved rekonstituering, ikke registrert", "adjust": True},
    )
    again = lead.post(
        f"/stock/discrepancies/{counted['discrepancy']}/resolution",
        {"explanation": "igjen", "adjust": True},
    )

    assert (counted["book_mg"], counted["difference_mg"]) == (10000, -50)
    assert [d["id"] for d in listed] == [counted["discrepancy"]]
    assert not_nurse.status_code == 403
    assert unexplained.status_code == 422
    assert resolved.status_code == 201
    assert resolved.json()["resolved"] is True
    assert again.status_code == 409
    assert balance_of(lead) == 9950
    assert nurse.get("/stock/discrepancies", {"clinic": "oslo"}).json() == []


def test_a_count_needs_a_number(stocked, api_as):
    response = api_as("nurse.oslo").post(
        "/stock/counts",
        {"clinic": "oslo", "product": "dam-inj", "batch": "A1", "counted_mg": -1},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "counted_mg"
    assert not StockCount.objects.exists()


# --- reading ----------------------------------------------------------------------------------


def test_the_balance_shows_expiry_and_counts_due(stocked, api_as):
    stocked(batch="OLD", quantity=500, days=10)
    nurse = api_as("nurse.oslo")

    rows = {row["batch"]: row for row in nurse.get("/stock/balance", {"clinic": "oslo"}).json()}

    assert rows["OLD"]["expires_soon"] is True
    assert rows["A1"]["expires_soon"] is False
    assert rows["A1"]["count_due"] is True  # never counted
    assert rows["A1"]["balance_ml"] == 100.0  # 10,000 mg at 100 mg/ml


def test_the_ledger_lists_newest_first_with_filters(stocked, api_as):
    nurse = api_as("nurse.oslo")
    nurse.post("/stock/waste", waste_body())
    stocked(batch="B2", quantity=300, product="dam-tab")

    everything = nurse.get("/stock/ledger", {"clinic": "oslo"}).json()
    wastes = nurse.get("/stock/ledger", {"clinic": "oslo", "kind": "waste"}).json()
    tablets = nurse.get("/stock/ledger", {"clinic": "oslo", "product": "dam-tab"}).json()
    by_doctor = nurse.get("/stock/ledger", {"clinic": "oslo", "user": "doctor.oslo"}).json()
    future = nurse.get(
        "/stock/ledger",
        {"clinic": "oslo", "date_from": (clock.today() + timedelta(days=1)).isoformat()},
    ).json()
    bad_kind = nurse.get("/stock/ledger", {"clinic": "oslo", "kind": "gift"})

    assert [e["seq"] for e in everything] == [3, 2, 1]
    assert [e["kind"] for e in wastes] == ["waste"]
    assert [e["batch"] for e in tablets] == ["B2"]
    assert by_doctor == []
    assert future == []
    assert bad_kind.status_code == 422


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("nurse.bergen", 404),
        ("researcher.oslo", 403),
        ("programme.oslo", 403),
        ("psychologist.oslo", 403),
        ("coordinator.oslo", 403),
        ("doctor.oslo", 200),
        ("clinic_lead.oslo", 200),
    ],
)
def test_who_sees_the_ledger(stocked, api_as, user, status):
    response = api_as(user).get("/stock/ledger", {"clinic": "oslo"})

    assert response.status_code == status


def test_no_endpoint_changes_or_deletes_an_entry(stocked, api_as):
    lead = api_as("clinic_lead.oslo")
    entry = LedgerEntry.objects.get()

    for method in ("put", "patch", "delete"):
        response = getattr(lead.client, method)(f"/api/v1/stock/ledger/{entry.pk}")
        assert response.status_code in (404, 405)

    assert LedgerEntry.objects.get().quantity_mg == entry.quantity_mg


def test_the_django_admin_neither_shows_nor_changes_the_ledger(stocked, client, staff):
    # HAB has no superuser; the administrator role's rights in /admin/ leave the ledger
    # out (hab.core.admin_rights): it is the clinic lead's, in HAB.
    client.force_login(staff["admin.oslo"])
    entry = LedgerEntry.objects.get()

    listing = client.get("/admin/stock/ledgerentry/")
    change = client.post(f"/admin/stock/ledgerentry/{entry.pk}/change/", {"quantity_mg": 1})
    delete = client.post(f"/admin/stock/ledgerentry/{entry.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert LedgerEntry.objects.get().quantity_mg == entry.quantity_mg
