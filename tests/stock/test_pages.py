"""The ledger's pages: who sees which page, witnessed waste, counts that open a
discrepancy, the filtered ledger and its PDF extract. Texts are asserted in English (the
language cookie): the stock strings may not be translated yet."""

from __future__ import annotations

import re

import pypdfium2
import pytest
from django.test import Client

from hab.core.policy import Action
from hab.core.roles import Role
from hab.stock.models import Batch, Discrepancy, Kind, LedgerEntry, StockCount
from tests.conftest import PASSWORD
from tests.permissions import ALLOWED

pytestmark = pytest.mark.django_db

PAGES = [
    (Action.STOCK_VIEW, "/stock/"),
    (Action.STOCK_VIEW, "/stock/ledger/"),
    (Action.STOCK_VIEW, "/stock/ledger.pdf"),
    (Action.STOCK_RECEIVE, "/stock/receipt/"),
    (Action.STOCK_WASTE, "/stock/waste/"),
    (Action.STOCK_COUNT, "/stock/count/"),
    (Action.STOCK_TRANSFER, "/stock/transfer/"),
    (Action.STOCK_ADJUST, "/stock/adjustment/"),
    (Action.STOCK_MANAGE, "/stock/discrepancies/{d}/"),
    (Action.STOCK_MANAGE, "/stock/products/"),
    (Action.STOCK_MANAGE, "/stock/verify/"),
]


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def a1() -> Batch:
    return Batch.objects.get(product__clinic__code="oslo", product__code="dam-inj", lot="A1")


def count_with_difference(web_as, counted: str = "9990") -> Client:
    """The nurse and the doctor count batch A1 (10,000 mg in the book) to ``counted``."""
    client = english(web_as("nurse.oslo"))
    response = client.post(
        "/stock/count/",
        {
            "batch": a1().pk,
            "counted_mg": counted,
            "witness": "doctor.oslo",
            "witness_password": PASSWORD,
            "note": "Kveldstelling",
        },
        follow=True,
    )
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize(("action", "path"), PAGES)
def test_stock_page_authorisation(web_as, stocked, api_as, role, action, path):
    api_as("nurse.oslo").post(
        "/stock/counts", {"clinic": "oslo", "product": "dam-inj", "batch": "A1", "counted_mg": 1}
    )
    url = path.format(d=Discrepancy.objects.get().pk)

    response = web_as(f"{role}.oslo").get(url)

    assert response.status_code == (200 if role in ALLOWED[action] else 403), url


@pytest.mark.parametrize("role", ["psychologist", "coordinator", "researcher"])
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/stock/receipt/", {"product": "dam-inj", "batch": "B2", "quantity_mg": "5"}),
        ("/stock/waste/", {"quantity_mg": "5", "reason": "Søl"}),
        ("/stock/count/", {"counted_mg": "5"}),
        ("/stock/adjustment/", {"quantity_mg": "5", "reason": "x"}),
    ],
)
def test_roles_without_the_ledger_cannot_post(web_as, stocked, role, path, data):
    before = LedgerEntry.objects.count()

    response = web_as(f"{role}.oslo").post(path, data | {"batch": data.get("batch", a1().pk)})

    assert response.status_code == 403
    assert LedgerEntry.objects.count() == before
    assert not StockCount.objects.exists()


def test_another_clinics_discrepancy_is_not_found(web_as, stocked, api_as):
    stocked(clinic="bergen")
    api_as("nurse.bergen").post(
        "/stock/counts", {"clinic": "bergen", "product": "dam-inj", "batch": "A1", "counted_mg": 1}
    )

    response = web_as("clinic_lead.oslo").get(
        f"/stock/discrepancies/{Discrepancy.objects.get().pk}/"
    )

    assert response.status_code == 404


def test_the_overview_shows_balances_and_what_is_due(web_as, stocked):
    response = english(web_as("nurse.oslo")).get("/stock/")

    content = response.content.decode()
    assert response.status_code == 200
    [line] = response.context["lines"]
    assert (line.batch.lot, line.balance_mg, line.count_due) == ("A1", 10000, True)
    assert "10,000 mg" in content
    assert "count due" in content
    assert "at least every 8 hours" in content


def test_a_receipt_from_the_page(web_as, stocked):
    client = english(web_as("nurse.oslo"))

    response = client.post(
        "/stock/receipt/",
        {
            "product": "dam-tab",
            "batch": "T-77",
            "expires_on": "2099-01-31",
            "quantity_mg": "2000",
            "reference": "Levering 4712",
        },
        follow=True,
    )

    entry = LedgerEntry.objects.get(batch__lot="T-77")
    assert (entry.kind, entry.quantity_mg, entry.balance_mg) == (Kind.RECEIPT, 2000, 2000)
    assert "Received 2,000 mg of Diacetylmorfin 200 mg tabletter, batch T-77." in (
        response.content.decode()
    )


def test_waste_with_the_witness_password(web_as, stocked):
    client = english(web_as("nurse.oslo"))

    response = client.post(
        "/stock/waste/",
        {
            "batch": a1().pk,
            "quantity_mg": "35",
            "reason": "Rest av delvis dose",
            "witness": "doctor.oslo",
            "witness_password": PASSWORD,
        },
        follow=True,
    )

    waste = LedgerEntry.objects.get(kind=Kind.WASTE)
    assert (waste.quantity_mg, waste.balance_mg) == (-35, 9965)
    assert waste.witness.username == "doctor.oslo"
    assert "Waste of 35 mg recorded, witnessed by" in response.content.decode()


def test_the_witness_list_holds_only_others_who_handle_the_drugs(web_as, stocked):
    form = web_as("nurse.oslo").get("/stock/waste/").context["form"]

    offered = {value for value, _label in form.fields["witness"].choices if value}
    assert offered == {"doctor.oslo", "clinic_lead.oslo"}


@pytest.mark.parametrize(
    ("password", "error"),
    [("", "This field is required."), ("wrong-password", "The witness's password is not right.")],
)
def test_waste_without_the_right_witness_password_writes_nothing(web_as, stocked, password, error):
    before = LedgerEntry.objects.count()

    response = english(web_as("nurse.oslo")).post(
        "/stock/waste/",
        {
            "batch": a1().pk,
            "quantity_mg": "35",
            "reason": "Rest av delvis dose",
            "witness": "doctor.oslo",
            "witness_password": password,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"witness_password": [error]}
    field = re.search(
        r'<div class="field has-error[^"]*">\s*<label for="id_witness_password".*?</div>',
        response.content.decode(),
        re.S,
    )
    assert field, "the error is not beside the password field"
    assert error.replace("'", "&#x27;") in field.group(0)
    assert LedgerEntry.objects.count() == before


def test_waste_cannot_be_witnessed_by_oneself(web_as, stocked):
    response = english(web_as("nurse.oslo")).post(
        "/stock/waste/",
        {
            "batch": a1().pk,
            "quantity_mg": "35",
            "reason": "Søl",
            "witness": "nurse.oslo",
            "witness_password": PASSWORD,
        },
    )

    assert "witness" in response.context["form"].errors
    assert not LedgerEntry.objects.filter(kind=Kind.WASTE).exists()


def test_a_count_that_matches(web_as, stocked):
    response = count_with_difference(web_as, counted="10000")

    assert "The count matches the book." in response.content.decode()
    assert StockCount.objects.get().difference_mg == 0
    assert not Discrepancy.objects.exists()


def test_a_count_that_differs_opens_a_discrepancy_for_the_lead(web_as, stocked):
    response = count_with_difference(web_as, counted="9990")

    assert (
        "The count differs from the book by -10 mg (counted 9,990, book 10,000). "
        "A discrepancy is opened for the clinic lead."
    ) in response.content.decode()
    discrepancy = Discrepancy.objects.get()
    assert discrepancy.count.witness.username == "doctor.oslo"
    # The count alone does not change the book.
    assert LedgerEntry.objects.filter(kind=Kind.COUNT_ADJUSTMENT).count() == 0

    lead = english(web_as("clinic_lead.oslo")).get("/stock/")
    content = lead.content.decode()
    assert list(lead.context["discrepancies"]) == [discrepancy]
    assert "Open discrepancies" in content
    assert f'href="/stock/discrepancies/{discrepancy.pk}/">Resolve</a>' in content

    # A nurse sees the discrepancy but cannot resolve it.
    nurse = english(web_as("nurse.oslo")).get("/stock/").content.decode()
    assert "Open discrepancies" in nurse
    assert "/stock/discrepancies/" not in nurse


def test_the_lead_resolves_a_discrepancy_with_an_adjustment(web_as, stocked):
    count_with_difference(web_as, counted="9990")
    discrepancy = Discrepancy.objects.get()
    client = english(web_as("clinic_lead.oslo"))

    page = client.get(f"/stock/discrepancies/{discrepancy.pk}/")
    resolved = client.post(
        f"/stock/discrepancies/{discrepancy.pk}/",
        {"explanation": "Søl ved rekonstituering, ikke ført", "adjust": "on"},
        follow=True,
    )

    assert "counted 9,990 mg, book 10,000 mg, difference -10 mg" in page.content.decode()
    assert "The discrepancy is resolved." in resolved.content.decode()
    assert not resolved.context["discrepancies"]
    adjustment = LedgerEntry.objects.get(kind=Kind.COUNT_ADJUSTMENT)
    assert (adjustment.quantity_mg, adjustment.balance_mg) == (-10, 9990)
    assert discrepancy.resolution.adjustment == adjustment


def test_the_ledger_filtered_by_kind(web_as, stocked):
    stocked(quantity=500, batch="A2")
    client = english(web_as("nurse.oslo"))
    client.post(
        "/stock/waste/",
        {
            "batch": a1().pk,
            "quantity_mg": "20",
            "reason": "Søl",
            "witness": "doctor.oslo",
            "witness_password": PASSWORD,
        },
    )

    everything = client.get("/stock/ledger/")
    waste = client.get("/stock/ledger/", {"kind": "waste"})
    receipts = client.get("/stock/ledger/", {"kind": "receipt"})

    assert [e.kind for e in everything.context["page"].object_list] == [
        "waste",
        "receipt",
        "receipt",
    ]
    assert [e.kind for e in waste.context["page"].object_list] == ["waste"]
    assert [e.kind for e in receipts.context["page"].object_list] == ["receipt", "receipt"]
    rows = re.findall(r"<tr>\s*<td>\d+</td>.*?</tr>", waste.content.decode(), re.S)
    assert len(rows) == 1 and "Waste" in rows[0] and "Receipt" not in rows[0]
    # The PDF link keeps the filter.
    assert 'href="/stock/ledger.pdf?kind=waste"' in waste.content.decode()


def test_the_pdf_extract(web_as, stocked, clinics):
    stocked(quantity=750, batch="LOT-2026-042", product="metadon")

    response = web_as("nurse.oslo").get("/stock/ledger.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('inline; filename="narkotikaregnskap-oslo-')
    pdf = pypdfium2.PdfDocument(response.content)
    text = " ".join(page.get_textpage().get_text_range() for page in pdf)
    assert "HAB Oslo" in text
    assert "LOT-2026-042" in text
    assert "A1" in text
    assert "Levering 4711" in text


def test_a_nurse_has_no_lead_buttons(web_as, stocked):
    nurse = english(web_as("nurse.oslo")).get("/stock/").content.decode()
    lead = english(web_as("clinic_lead.oslo")).get("/stock/").content.decode()

    for button in ("Adjust the book", "Transfer", "Check the chain", "Products"):
        assert button not in nurse
        assert button in lead
    for button in ("Receive stock", "Count", "Record waste"):
        assert button in nurse


def test_a_doctor_cannot_receive(web_as, stocked):
    doctor = english(web_as("doctor.oslo")).get("/stock/").content.decode()

    assert "Record waste" in doctor
    assert "Receive stock" not in doctor


def test_the_chain_check_page(web_as, stocked):
    response = english(web_as("clinic_lead.oslo")).get("/stock/verify/")

    assert response.context["result"].ok
    assert "Intact" in response.content.decode()
    assert "1 entry checked; the chain is whole." in response.content.decode()
