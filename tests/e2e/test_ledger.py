"""A shift's work in the controlled-drug ledger (narkotikaregnskap) at HAB Oslo.

The nurse records a delivery, wastes the rest of a dose with the doctor as witness (who
confirms with their own password) and counts together with the doctor, finding less than
the book. The clinic lead sees the open discrepancy, resolves it by adjusting the book,
checks the chain and reads the ledger filtered to waste. Expected texts are computed with
nb(): the stock strings may not be in the bokmål catalogue yet.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from hab.core import clock
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.stock import services
from hab.stock.models import Batch, Discrepancy, Kind, LedgerEntry, StockCount
from tests.conftest import PASSWORD
from tests.e2e.conftest import check_accessibility, login, screenshot
from tests.e2e.helpers import nb
from tests.fixtures.stock import PRODUCTS

pytestmark = pytest.mark.e2e

LOT = "DAM-2026-117"


@pytest.fixture
def products(staff):
    """HAB Oslo's controlled-drug products, as the stock tests' fixture makes them."""
    for code, name, medication, form, concentration in PRODUCTS:
        services.product_create(
            actor=Actor.system(staff["clinic_lead.oslo"]),
            clinic=Clinic.objects.get(code="oslo"),
            code=code,
            name=name,
            medication=medication,
            form=form,
            concentration_mg_per_ml=concentration,
        )


def nb_count(singular: str, plural: str, n: int) -> str:
    with translation.override("nb"):
        return translation.ngettext(singular, plural, n) % {"n": n}


def switch_user(page: Page, live_server, username: str) -> None:
    """Logs the current person out from the header and the next one in."""
    page.locator("header form[action$='/logout/'] button").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    login(page, live_server, username)


def open_ledger(page: Page) -> None:
    """The main menu's link to the ledger's overview."""
    page.locator("header nav a[href$='/stock/']").click()
    expect(page).to_have_url(re.compile(r"/stock/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("HAB Oslo")


def action(page: Page, path: str) -> None:
    """A button of the overview's action bar, e.g. /stock/waste/."""
    page.locator(f".actions-bar a[href='{path}']").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))


def save(page: Page) -> None:
    page.locator("form.form button[type=submit].primary").click()


def messages(page: Page):
    return page.locator("main .messages")


def test_a_shift_in_the_ledger_and_the_leads_follow_up(live_server, page: Page, staff, products):
    expires = clock.today() + timedelta(days=400)

    # The nurse records the delivery.
    login(page, live_server, "nurse.oslo")
    open_ledger(page)
    expect(page.locator(".actions-bar a[href='/stock/adjustment/']")).to_have_count(0)
    expect(page.locator(".actions-bar a[href='/stock/transfer/']")).to_have_count(0)
    action(page, "/stock/receipt/")
    page.locator("#id_product").select_option("dam-inj")
    page.locator("#id_batch").fill(LOT)
    page.locator("#id_expires_on").fill(expires.isoformat())
    page.locator("#id_quantity_mg").fill("10000")
    page.locator("#id_reference").fill("Levering 4711")
    check_accessibility(page)
    save(page)
    expect(page).to_have_url(re.compile(r"/stock/$"))
    expect(messages(page)).to_contain_text(
        nb("Received %(mg)s mg of %(product)s, batch %(lot)s.")
        % {"mg": "10 000", "product": "Diacetylmorfin 10 g pulver til injeksjon", "lot": LOT}
    )
    batch = Batch.objects.get(lot=LOT, product__clinic__code="oslo")
    balances = page.locator("section[aria-labelledby=balance-title] table tbody tr")
    expect(balances).to_have_count(1)
    expect(balances.first).to_contain_text(LOT)
    expect(balances.first).to_contain_text("10 000 mg")
    expect(balances.first.locator(".badge.warn")).to_have_text(nb("count due"))

    # Waste: the doctor witnesses and confirms with their own password.
    action(page, "/stock/waste/")
    page.locator("#id_batch").select_option(str(batch.pk))
    page.locator("#id_quantity_mg").fill("40")
    page.locator("#id_reason").fill("Rest av delvis dose, pasient ville ikke ha mer")
    page.locator("#id_witness").select_option("doctor.oslo")
    page.locator("#id_witness_password").fill(PASSWORD)
    check_accessibility(page)
    screenshot(page, "ledger-waste")
    save(page)
    expect(page).to_have_url(re.compile(r"/stock/$"))
    expect(messages(page)).to_contain_text(
        nb("Waste of %(mg)s mg recorded, witnessed by %(witness)s.")
        % {"mg": "40", "witness": str(staff["doctor.oslo"])}
    )
    expect(balances.first).to_contain_text("9 960 mg")

    # The count at the shift change: two people, and 10 mg less than the book.
    balances.first.locator("a[href^='/stock/count/?batch=']").click()
    expect(page).to_have_url(re.compile(rf"/stock/count/\?batch={batch.pk}$"))
    expect(page.locator("#id_batch")).to_have_value(str(batch.pk))
    page.locator("#id_counted_mg").fill("9950")
    page.locator("#id_witness").select_option("doctor.oslo")
    page.locator("#id_witness_password").fill(PASSWORD)
    page.locator("#id_note").fill("Vaktskifte kveld")
    check_accessibility(page)
    screenshot(page, "ledger-count")
    save(page)
    expect(page).to_have_url(re.compile(r"/stock/$"))
    expect(messages(page).locator(".message.error")).to_contain_text(
        nb(
            "The count differs from the book by %(diff)s mg (counted %(counted)s, "
            "book %(book)s). A discrepancy is opened for the clinic lead."
        )
        % {"diff": "-10", "counted": "9 950", "book": "9 960"}
    )
    check_accessibility(page)
    # The nurse sees the discrepancy, but resolving it is the clinic lead's.
    discrepancies = page.locator("section[aria-labelledby=discrepancies-title] tbody tr")
    expect(discrepancies).to_have_count(1)
    expect(discrepancies.get_by_role("link")).to_have_count(0)

    # The clinic lead finds the open discrepancy on the overview.
    switch_user(page, live_server, "clinic_lead.oslo")
    open_ledger(page)
    expect(page.locator(".stats .stat").first.locator(".value")).to_have_text("1")
    expect(discrepancies).to_have_count(1)
    expect(discrepancies.first).to_contain_text(LOT)
    expect(discrepancies.first.locator(".badge.bad")).to_have_text("-10")
    discrepancy = Discrepancy.objects.get()
    resolve = discrepancies.first.locator(f"a[href='/stock/discrepancies/{discrepancy.pk}/']")
    expect(resolve).to_have_text(nb("Resolve"))
    check_accessibility(page)
    screenshot(page, "ledger-overview")

    # Resolved with an adjustment of the book by the difference.
    resolve.click()
    expect(page).to_have_url(re.compile(rf"/stock/discrepancies/{discrepancy.pk}/$"))
    expect(page.locator("main p.hint").first).to_contain_text(LOT)
    page.locator("#id_explanation").fill("Søl ved opptrekk, ikke ført som kassasjon")
    page.locator("#id_adjust").check()
    check_accessibility(page)
    save(page)
    expect(page).to_have_url(re.compile(r"/stock/$"))
    expect(messages(page)).to_contain_text(nb("The discrepancy is resolved."))
    expect(discrepancies).to_have_count(0)
    expect(balances.first).to_contain_text("9 950 mg")

    # The chain check.
    page.locator(".head-actions a[href='/stock/verify/']").click()
    expect(page).to_have_url(re.compile(r"/stock/verify/$"))
    verdict = page.locator("p.verdict.ok[role=status]")
    expect(verdict.locator(".badge.ok")).to_have_text(nb("Intact"))
    expect(verdict).to_contain_text(
        nb_count(
            "%(n)s entry checked; the chain is whole.",
            "%(n)s entries checked; the chain is whole.",
            3,
        )
    )
    check_accessibility(page)
    screenshot(page, "ledger-verify")

    # The ledger, filtered to waste.
    page.locator("main a[href='/stock/']").click()
    page.locator(".head-actions a[href='/stock/ledger/']").click()
    expect(page).to_have_url(re.compile(r"/stock/ledger/$"))
    expect(page.locator("table.ledger tbody tr")).to_have_count(3)
    page.locator("#id_kind").select_option("waste")
    page.locator("form.ledger-filter button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"[?&]kind=waste"))
    rows = page.locator("table.ledger tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(nb(Kind.WASTE.label))
    expect(rows.first).to_contain_text("-40")
    expect(rows.first).to_contain_text(str(staff["doctor.oslo"]))
    expect(page.locator(".head-actions a[href^='/stock/ledger.pdf']")).to_have_attribute(
        "href", re.compile(r"kind=waste")
    )
    check_accessibility(page)
    screenshot(page, "ledger-ledger")

    kinds = list(LedgerEntry.objects.order_by("seq").values_list("kind", "quantity_mg"))
    assert kinds == [
        (Kind.RECEIPT, 10000),
        (Kind.WASTE, -40),
        (Kind.COUNT_ADJUSTMENT, -10),
    ]
    waste = LedgerEntry.objects.get(kind=Kind.WASTE)
    assert (waste.recorded_by, waste.witness) == (staff["nurse.oslo"], staff["doctor.oslo"])
    count = StockCount.objects.get()
    assert (count.counted_by, count.witness) == (staff["nurse.oslo"], staff["doctor.oslo"])
    assert discrepancy.resolution.resolved_by == staff["clinic_lead.oslo"]
