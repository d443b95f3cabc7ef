"""An amount in the controlled-drug book is what the nurse typed: "399,5" is 399.5 mg,
never 3995; an amount that can be read two ways changes nothing and says why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from hab.stock.models import Batch, Kind, LedgerEntry, StockCount
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def a1() -> Batch:
    return Batch.objects.get(product__clinic__code="oslo", product__code="dam-inj", lot="A1")


def in_language(client: Client, language: str) -> Client:
    client.cookies["django_language"] = language
    return client


def count(client: Client, counted: str):
    return client.post(
        "/stock/count/",
        {
            "batch": a1().pk,
            "counted_mg": counted,
            "witness": "doctor.oslo",
            "witness_password": PASSWORD,
        },
        follow=True,
    )


def waste(client: Client, quantity: str):
    return client.post(
        "/stock/waste/",
        {
            "batch": a1().pk,
            "quantity_mg": quantity,
            "reason": "Rest av delvis dose",
            "witness": "doctor.oslo",
            "witness_password": PASSWORD,
        },
        follow=True,
    )


@pytest.mark.parametrize("typed", ["9999,5", "9999.5", "9 999,5", " 9999,50 "])
def test_a_count_stores_the_decimal_typed(web_as, stocked, typed):
    response = count(in_language(web_as("nurse.oslo"), "nb"), typed)

    stored = StockCount.objects.get()
    assert stored.counted_mg == Decimal("9999.5")
    assert stored.difference_mg == Decimal("-0.5")
    content = response.content.decode()
    assert "beholdning med -0,5 mg (telt 9\u00a0999,5, bokført 10\u00a0000)" in content


@pytest.mark.parametrize("typed", ["1.000,5", "1,000.5", "9999,5x", "9,999,5", "1,500", "1e4"])
def test_a_count_that_can_be_read_two_ways_changes_nothing(web_as, stocked, typed):
    response = count(in_language(web_as("nurse.oslo"), "en"), typed)

    assert response.status_code == 200
    assert not StockCount.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == ["counted_mg"]
    # the message stands beside the field, and the field keeps what was typed
    content = response.content.decode()
    assert 'id="id_counted_mg"' in content
    assert f'value="{typed}"' in content
    assert form.errors["counted_mg"][0] in content.replace("&quot;", '"').replace("&#x27;", "'")


@pytest.mark.parametrize(("typed", "left"), [("399,5", "9600.5"), ("0,5", "9999.5")])
def test_waste_stores_the_decimal_typed(web_as, stocked, typed, left):
    response = waste(in_language(web_as("nurse.oslo"), "nb"), typed)

    entry = LedgerEntry.objects.get(kind=Kind.WASTE)
    assert entry.quantity_mg == -Decimal(typed.replace(",", "."))
    assert entry.balance_mg == Decimal(left)
    assert f"Kassasjon av {typed} mg er registrert" in response.content.decode()


def test_waste_of_an_ambiguous_amount_changes_nothing(web_as, stocked):
    response = waste(in_language(web_as("nurse.oslo"), "nb"), "1.000,5")

    assert not LedgerEntry.objects.filter(kind=Kind.WASTE).exists()
    assert "kan leses på to måter" in response.content.decode()
    assert list(response.context["form"].errors) == ["quantity_mg"]


def test_the_stock_page_shows_amounts_the_way_the_language_writes_them(web_as, stocked):
    stocked(quantity="931780.7", batch="B2")

    nb = in_language(web_as("nurse.oslo"), "nb").get("/stock/").content.decode()
    en = in_language(web_as("nurse.oslo"), "en").get("/stock/").content.decode()

    assert "931\u00a0780,7 mg" in nb and "931780.7" not in nb
    assert "931,780.7 mg" in en


def test_the_batch_choices_show_the_balance_the_way_the_language_writes_it(web_as, stocked):
    stocked(quantity="941780.7", batch="B2")

    nb = in_language(web_as("nurse.oslo"), "nb").get("/stock/count/").content.decode()
    en = in_language(web_as("nurse.oslo"), "en").get("/stock/count/").content.decode()

    assert "B2 · 941\u00a0780,7 mg" in nb
    assert "B2 · 941,780.7 mg" in en


def test_the_api_keeps_plain_numbers(api_as, stocked):
    stocked(quantity="941780.7", batch="B2")

    rows = api_as("nurse.oslo").get("/stock/balance", {"clinic": "oslo"}).json()

    assert {row["batch"]: row["balance_mg"] for row in rows}["B2"] == 941780.7
