"""The ledger's anchor: each clinic's chain head signed daily with HAB_LEDGER_KEY. Someone
with write access to the database who rewrites entries and re-hashes the chain, deletes
the newest entries and winds the head back, or forges a checkpoint, is reported by
``hab verify-ledger`` (exit status 1), though the hash chain alone verifies again."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from hab.core import clock
from hab.core.models import Clinic
from hab.stock import checkpoint, services
from hab.stock.models import LedgerCheckpoint, LedgerEntry
from tests.dosing.helpers import TODAY, local
from tests.stock.tamper import rehash, rewind, sql, triggers_off

pytestmark = pytest.mark.django_db

YESTERDAY = TODAY - timedelta(days=1)

# The key this run signs with: tests/settings.py's default, or what scripts/test exports.
SUITE_KEY = django_settings.LEDGER_KEY


def waste(api, amount):
    body = {
        "clinic": "oslo",
        "product": "dam-inj",
        "batch": "A1",
        "quantity_mg": amount,
        "witness": "doctor.oslo",
        "reason": "Søl",
    }
    assert api.post("/stock/waste", body).status_code == 201


@pytest.fixture
def signed(stocked, api_as):
    """Oslo's chain: a receipt and two wastes signed last night (seq 3), then two more
    wastes today (seq 4-5)."""
    nurse = api_as("nurse.oslo")
    oslo = Clinic.objects.get(code="oslo")
    with clock.at(local(YESTERDAY, 12)):
        waste(nurse, 10)
        waste(nurse, 20)
    with clock.at(local(YESTERDAY, 23, 55)):
        services.checkpoint_record(oslo)
    waste(nurse, 30)
    waste(nurse, 40)
    return oslo


def verify_ledger(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify-ledger", *args, stdout=out)
    except SystemExit as exit_code:
        return exit_code.code, out.getvalue()
    return 0, out.getvalue()


def findings(clinic):
    return [(f.day, f.seq, f.problem) for f in services.verify_checkpoints(clinic)[1]]


# --- signing ------------------------------------------------------------------------------


def test_the_checkpoint_signs_the_head_as_it_stands(signed):
    made = LedgerCheckpoint.objects.get(clinic=signed)
    third = LedgerEntry.objects.get(clinic=signed, seq=3)

    assert (made.day, made.seq, made.head_hash) == (YESTERDAY, 3, third.hash)
    assert made.key_id == checkpoint.key_id(SUITE_KEY)
    fields = {"clinic": signed.pk, "day": YESTERDAY, "seq": 3, "head_hash": third.hash}
    assert made.signature == checkpoint.sign(SUITE_KEY, created_at=made.created_at, **fields)
    assert made.signature != checkpoint.sign(
        "another-key-" + "z" * 40, created_at=made.created_at, **fields
    )


def test_a_second_run_on_the_same_day_keeps_the_first(signed):
    first, new = services.checkpoint_record(signed)
    again, new_again = services.checkpoint_record(signed)

    assert (new, new_again) == (True, False)
    assert again.pk == first.pk and first.seq == 5
    assert LedgerCheckpoint.objects.filter(clinic=signed).count() == 2


def test_the_command_signs_every_clinic(signed, stocked):
    stocked(clinic="bergen")
    out = io.StringIO()

    call_command("ledger-checkpoint", stdout=out)

    assert f"bergen: {TODAY} signed at entry no. 1" in out.getvalue()
    assert f"oslo: {TODAY} signed at entry no. 5" in out.getvalue()
    code, report = verify_ledger()
    assert code == 0, report
    assert f"oslo: 2 signed checkpoints hold (newest {TODAY}, entry no. 5)" in report


def test_a_chain_broken_since_the_last_checkpoint_is_not_signed(signed):
    with triggers_off():
        sql(
            "UPDATE stock_ledgerentry SET reason = 'x' WHERE clinic_id = %s AND seq = 4",
            [signed.pk],
        )
    out = io.StringIO()

    with pytest.raises(SystemExit) as exit_code:
        call_command("ledger-checkpoint", "--clinic", "oslo", stdout=out)

    assert exit_code.value.code == 1
    assert "oslo: NOT SIGNED" in out.getvalue() and "entry no. 4" in out.getvalue()
    assert not LedgerCheckpoint.objects.filter(day=TODAY).exists()


def test_a_head_is_not_signed_when_the_last_checkpoint_does_not_hold(signed):
    with triggers_off():
        sql(
            "UPDATE stock_ledgerentry SET reason = 'x' WHERE clinic_id = %s AND seq = 2",
            [signed.pk],
        )
        rehash(signed, 2)

    with pytest.raises(services.CheckpointRefused, match="re-hashed"):
        services.checkpoint_record(signed)


# --- tampering ----------------------------------------------------------------------------


def test_an_untouched_ledger_verifies_with_its_checkpoints(signed):
    code, report = verify_ledger()

    assert code == 0, report
    assert "oslo: 5 entries, chain intact" in report
    assert f"oslo: 1 signed checkpoints hold (newest {YESTERDAY}, entry no. 3)" in report


def test_an_entry_rewritten_and_the_chain_re_hashed_is_found(signed):
    with triggers_off():
        sql(
            "UPDATE stock_ledgerentry SET quantity_mg = -1, balance_mg = 9999 "
            "WHERE clinic_id = %s AND seq = 2",
            [signed.pk],
        )
        rehash(signed, 2)

    # the hash chain alone is whole again
    assert services.verify(signed).ok
    # but it no longer passes through the signed head
    assert findings(signed) == [(YESTERDAY, 3, "changed")]
    code, report = verify_ledger()
    assert code == 1
    assert f"oslo: CHECKPOINT of {YESTERDAY} (entry no. 3" in report
    assert "entries were rewritten and re-hashed" in report


def test_an_entry_after_the_checkpoint_rewritten_is_found_by_the_next_one(signed):
    services.checkpoint_record(signed)  # tonight's, at seq 5
    with triggers_off():
        sql(
            "UPDATE stock_ledgerentry SET reason = 'x' WHERE clinic_id = %s AND seq = 4",
            [signed.pk],
        )
        rehash(signed, 4)

    assert services.verify(signed).ok
    assert findings(signed) == [(TODAY, 5, "changed")]


def test_the_newest_entries_deleted_and_the_head_wound_back_are_found(signed):
    services.checkpoint_record(signed)  # at seq 5

    rewind(signed, 3)

    assert services.verify(signed).ok  # entries 1-3 and the head agree
    assert findings(signed) == [(TODAY, 5, "missing")]
    code, report = verify_ledger()
    assert code == 1
    assert "the newest entries were deleted" in report


def test_a_checkpoint_moved_to_a_rewritten_head_is_found(signed):
    with triggers_off("stock_ledgerentry", "stock_ledgercheckpoint"):
        sql(
            "UPDATE stock_ledgerentry SET reason = 'x' WHERE clinic_id = %s AND seq = 2",
            [signed.pk],
        )
        rehash(signed, 2)
        third = LedgerEntry.objects.get(clinic=signed, seq=3)
        sql("UPDATE stock_ledgercheckpoint SET head_hash = %s", [third.hash])

    assert findings(signed) == [(YESTERDAY, 3, "signature")]


def test_a_checkpoint_forged_without_the_key_is_found(signed):
    # given an attacker's checkpoint of the head today: the key's id is no secret (every
    # checkpoint shows it), the key is
    made = LedgerCheckpoint.objects.get(clinic=signed)
    head = LedgerEntry.objects.get(clinic=signed, seq=5)
    now = clock.now()
    fields = {"clinic": signed.pk, "day": TODAY, "seq": 5, "head_hash": head.hash}
    LedgerCheckpoint.objects.create(
        **(fields | {"clinic": signed}),
        key_id=made.key_id,
        signature=checkpoint.sign("a-guessed-key-" + "q" * 40, created_at=now, **fields),
        created_at=now,
    )

    assert findings(signed) == [(TODAY, 5, "signature")]
    code, report = verify_ledger()
    assert code == 1 and "the checkpoint was forged or altered" in report


def test_a_checkpoint_of_another_key_says_which_key_signed_it(signed, settings):
    settings.LEDGER_KEY = "the-new-servers-key-" + "n" * 40

    code, report = verify_ledger()

    assert findings(signed) == [(YESTERDAY, 3, "key")]
    assert code == 1
    assert checkpoint.key_id(SUITE_KEY) in report
    assert "give the server the key that signed it" in report


# --- how old the newest checkpoint may be -------------------------------------------------


@pytest.mark.parametrize(("max_age", "code"), [(0, 1), (1, 0), (2, 0)])
def test_max_age_fails_when_the_newest_checkpoint_is_older(signed, max_age, code):
    # the newest is yesterday's: one day old
    found, report = verify_ledger("--max-age", str(max_age))

    assert found == code, report
    assert ("NO CHECKPOINT in the last" in report) == bool(code)


def test_max_age_fails_a_clinic_never_signed(stocked):
    code, report = verify_ledger("--clinic", "oslo", "--max-age", "1")

    assert code == 1
    assert "oslo: no signed checkpoint yet" in report


def test_the_checkpoints_refuse_update_and_delete(signed):
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM stock_ledgercheckpoint")
