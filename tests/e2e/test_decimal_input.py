"""A decimal comma typed into the controlled-drug book in a real browser is stored exactly.

A browser's number input turned "399,5" into 3995 in the ledger. The nurse types the
count key by key, as on the ward PC, in a Norwegian browser; the book keeps 9 999,5 mg
and the overview shows it the Norwegian way. An amount that can be read two ways is
refused beside the field and nothing is written.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from hab.core import clock
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.stock import services
from hab.stock.models import Batch, StockCount
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

LOT = "DAM-2026-201"
NBSP = "\u00a0"


@pytest.fixture
def batch(staff, products) -> Batch:
    """10 000 mg of diacetylmorphine powder in the book at HAB Oslo."""
    services.receipt_record(
        actor=Actor.system(staff["nurse.oslo"]),
        clinic=Clinic.objects.get(code="oslo"),
        product="dam-inj",
        batch=LOT,
        quantity_mg=Decimal(10000),
        expires_on=clock.today() + timedelta(days=400),
        reference="Levering 4711",
    )
    return Batch.objects.get(lot=LOT)


def fill_count(page: Page, batch: Batch, typed: str) -> None:
    page.goto(page.url.split("/stock/")[0] + f"/stock/count/?batch={batch.pk}")
    expect(page.locator("#id_batch")).to_have_value(str(batch.pk))
    counted = page.locator("#id_counted_mg")
    counted.fill("")
    # key by key, as a person types: a number input would drop the comma here
    counted.press_sequentially(typed)
    expect(counted).to_have_value(typed)
    page.locator("#id_witness").select_option("doctor.oslo")
    page.locator("#id_witness_password").fill(PASSWORD)
    page.locator("form.form button[type=submit].primary").click()


def test_a_decimal_comma_in_a_stock_count_is_stored_exactly(live_server, page: Page, batch):
    login(page, live_server, "nurse.oslo")
    page.goto(f"{live_server.url}/stock/")

    # An amount that can be read two ways: refused beside the field, nothing written.
    fill_count(page, batch, "9.999,5")
    expect(page).to_have_url(re.compile(r"/stock/count/"))
    expect(page.locator("main")).to_contain_text("kan leses på to måter")
    expect(page.locator("#id_counted_mg")).to_have_value("9.999,5")
    assert not StockCount.objects.exists()

    # The decimal comma: 9 999,5 mg, not 99 995.
    fill_count(page, batch, "9999,5")
    expect(page).to_have_url(re.compile(r"/stock/$"))
    count = StockCount.objects.get()
    assert count.counted_mg == Decimal("9999.5")
    assert count.difference_mg == Decimal("-0.5")
    message = page.locator("main .messages")
    expect(message).to_contain_text(f"-0,5 mg (telt 9{NBSP}999,5, bokført 10{NBSP}000)")
    balance = page.locator("section[aria-labelledby=balance-title] tbody tr").first
    expect(balance).to_contain_text(f"10{NBSP}000 mg")
    listed = page.locator("section[aria-labelledby=counts-title] tbody tr").first
    expect(listed).to_contain_text(f"9{NBSP}999,5")
    expect(listed.locator(".badge.bad")).to_have_text("-0,5")
