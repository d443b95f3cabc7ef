"""Tamper evidence: the hash chain names the first entry where a row was changed, inserted
or deleted directly in the database, behind HAB's back."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from hab.core.models import Clinic
from hab.stock import chain, services
from hab.stock.models import LedgerEntry
from tests.stock.tamper import sql, triggers_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def five(stocked, api_as):
    """Oslo's chain: a receipt, three wastes, a second receipt (seq 1-5)."""
    nurse = api_as("nurse.oslo")
    for amount in (10, 20, 30):
        body = {
            "clinic": "oslo",
            "product": "dam-inj",
            "batch": "A1",
            "quantity_mg": amount,
            "witness": "doctor.oslo",
            "reason": "Søl",
        }
        assert nurse.post("/stock/waste", body).status_code == 201
    stocked(quantity=500)
    return Clinic.objects.get(code="oslo")


def entry(clinic, seq):
    return LedgerEntry.objects.get(clinic=clinic, seq=seq)


def test_an_untouched_chain_verifies(five, api_as):
    result = services.verify(five)

    assert (result.ok, result.entries) == (True, 5)
    assert api_as("clinic_lead.oslo").get("/stock/verify", {"clinic": "oslo"}).json() == {
        "clinic": "oslo",
        "entries": 5,
        "ok": True,
        "first_broken_seq": None,
        "problem": None,
    }


def test_a_changed_quantity_is_found(five):
    with triggers_off():
        sql("UPDATE stock_ledgerentry SET quantity_mg = -1 WHERE id = %s", [entry(five, 3).pk])

    result = services.verify(five)

    assert result.broken == chain.Break(3, "changed")
    assert result.entries == 2


def test_a_changed_witness_is_found(five, staff):
    with triggers_off():
        sql(
            "UPDATE stock_ledgerentry SET witness_id = %s WHERE id = %s",
            [staff["clinic_lead.oslo"].pk, entry(five, 2).pk],
        )

    assert services.verify(five).broken == chain.Break(2, "changed")


def test_a_deleted_row_is_found(five):
    with triggers_off():
        sql("DELETE FROM stock_ledgerentry WHERE id = %s", [entry(five, 3).pk])

    assert services.verify(five).broken == chain.Break(4, "missing")


def test_a_deleted_newest_row_is_found(five):
    with triggers_off():
        sql("DELETE FROM stock_ledgerentry WHERE id = %s", [entry(five, 5).pk])

    assert services.verify(five).broken == chain.Break(5, "missing")


def test_a_row_inserted_with_a_forged_hash_is_found(five, staff):
    last = entry(five, 5)
    forged = services.content_of(last) | {"seq": 6, "quantity_mg": last.quantity_mg}
    digest = chain.entry_hash(forged, last.hash)
    sql(
        "INSERT INTO stock_ledgerentry (clinic_id, seq, product_id, batch_id, kind, quantity_mg,"
        " balance_mg, at, recorded_by_id, reason, reference, prev_hash, hash)"
        " VALUES (%s, 6, %s, %s, 'receipt', %s, %s, %s, %s, '', %s, %s, %s)",
        [
            five.pk,
            last.product_id,
            last.batch_id,
            last.quantity_mg,
            last.balance_mg,
            last.at,
            last.recorded_by_id,
            last.reference,
            last.hash,
            digest,
        ],
    )

    assert services.verify(five).broken == chain.Break(6, "inserted")


def test_renumbering_to_hide_a_deletion_is_found(five):
    with triggers_off():
        sql("DELETE FROM stock_ledgerentry WHERE id = %s", [entry(five, 2).pk])
        for seq in (3, 4, 5):
            sql(
                "UPDATE stock_ledgerentry SET seq = %s WHERE clinic_id = %s AND seq = %s",
                [seq - 1, five.pk, seq],
            )

    assert services.verify(five).broken == chain.Break(2, "link")


def test_the_command_names_the_first_broken_entry(five):
    with triggers_off():
        sql("UPDATE stock_ledgerentry SET reason = 'x' WHERE id = %s", [entry(five, 4).pk])
    out = io.StringIO()

    with pytest.raises(SystemExit) as exit_code:
        call_command("verify-ledger", "--clinic", "oslo", stdout=out)

    assert exit_code.value.code == 1
    assert "oslo" in out.getvalue()
    assert "4" in out.getvalue()


def test_the_command_passes_on_a_whole_chain(five):
    out = io.StringIO()

    call_command("verify-ledger", stdout=out)

    assert "oslo: 5 entries, chain intact" in out.getvalue()


def test_the_chain_is_one_per_clinic(stocked, five):
    stocked(clinic="bergen")

    bergen = Clinic.objects.get(code="bergen")
    assert entry(bergen, 1).prev_hash == chain.GENESIS
    assert services.verify(bergen).ok
    assert services.verify(five).ok
